"""The live lab uses only the public API of what it builds on (asyncio, and aiosmtpd if it ever comes back).

A private member (``_create_server``, ``_factory_invoker``, ``_trigger_server``...)
may change in any release of the library that has it; these tests fail as
soon as ``simlab/live`` touches one again, by reading its source (private
attributes read, aiosmtpd classes subclassed) and by looking at its classes
(private members of a library base class overridden).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import simlab.live

LIVE = Path(simlab.live.__file__).parent
SOURCES = sorted(LIVE.glob("*.py"))
#: Names whose private attributes are simlab's own: the object itself and the lab (``LiveLab``).
OWN = {"self", "lab", "self.lab", "cls"}


def _modules():
    return [importlib.import_module(f"simlab.live.{info.name}") for info in pkgutil.iter_modules([str(LIVE)])]


def test_the_scan_sees_every_module():
    assert {path.stem for path in SOURCES} >= {"__init__", "cli", "pop3", "runner", "server", "smtp", "wire"}


def _annotations(node: ast.AST) -> list[ast.AST]:
    if isinstance(node, ast.arg):
        return [node.annotation] if node.annotation is not None else []
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return [node.returns] if node.returns is not None else []
    if isinstance(node, ast.AnnAssign):
        return [node.annotation]
    return []


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_private_attribute_of_another_library_is_read(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    annotations = set()  # only read by type checkers (``argparse._SubParsersAction`` has no public name)
    for node in ast.walk(tree):
        for annotation in _annotations(node):
            annotations |= {id(sub) for sub in ast.walk(annotation)}
    found = []
    for node in ast.walk(tree):
        if id(node) in annotations:
            continue
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            owner = ast.unparse(node.value)
            if owner not in OWN:
                found.append(f"{path.name}:{node.lineno}: {owner}.{node.attr}")
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{path.name}:{node.lineno}: imports {name}" for name in names
                      if name and any(part.startswith("_") and not part.startswith("__") for part in name.split("."))]
    assert found == [], "private API used:\n" + "\n".join(found)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_no_aiosmtpd_controller_or_subclass(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    from_aiosmtpd = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "aiosmtpd":
            from_aiosmtpd |= {alias.asname or alias.name for alias in node.names}
        elif isinstance(node, ast.Import):
            from_aiosmtpd |= {alias.asname or alias.name for alias in node.names if alias.name.startswith("aiosmtpd")}
    assert "Controller" not in from_aiosmtpd  # its start() and stop() need private overrides to serve our sockets
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = {ast.unparse(base).split(".")[0] for base in node.bases}
            assert not bases & from_aiosmtpd, f"{path.name}: class {node.name} subclasses aiosmtpd's {bases}"


def test_no_class_overrides_a_private_member_of_a_library_base():
    overridden = []
    for module in _modules():
        for cls_name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ != module.__name__:
                continue
            foreign = [base for base in cls.__mro__[1:] if not base.__module__.startswith("simlab")
                       and base is not object]
            for name in vars(cls):
                if name.startswith("_") and not name.startswith("__"):
                    owners = [base.__qualname__ for base in foreign if name in vars(base)]
                    if owners:
                        overridden.append(f"{module.__name__}.{cls_name}.{name} (private in {owners})")
    assert overridden == []


def test_the_class_check_would_see_the_old_controller():
    """The check above is not vacuous: aiosmtpd's Controller has the private members the lab once overrode."""
    controller = pytest.importorskip("aiosmtpd.controller")
    assert {"_create_server", "_factory_invoker", "_trigger_server"} <= set(dir(controller.Controller))

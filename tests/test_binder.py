"""The Binder set-up (repo2docker) installs everything the lessons import.

With a ``binder/`` directory, repo2docker reads only the files in it - not the
root ``pyproject.toml`` - so ``binder/requirements.txt`` must install simlab
itself with the extras the notebooks need, and ``binder/runtime.txt`` pins the
Python the project supports. The imports are read statically from the
notebooks' jupytext ``.py`` twins and followed through the simlab modules they
load (without importing anything), since a lesson that imports ``simlab.ui.relay``
needs ipywidgets too.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path

from helpers import load_script

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
PACKAGE_LINE = re.compile(r"^(?:-e\s+)?\.(?:/)?\[(?P<extras>[^\]]*)\]$")


def _name(requirement: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group(0)).lower()


def _requirement_lines() -> list[str]:
    text = (BINDER / "requirements.txt").read_text()
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


def _binder_extras() -> set[str]:
    for line in _requirement_lines():
        match = PACKAGE_LINE.match(line)
        if match:
            return {extra.strip() for extra in match.group("extras").split(",") if extra.strip()}
    raise AssertionError(f"binder/requirements.txt does not install the package with extras: {_requirement_lines()}")


def _imports(path: Path) -> set[str]:
    """Absolute module names imported anywhere in the file (inside functions too)."""
    try:
        tree = ast.parse(path.read_text(), filename=str(path))
    except SyntaxError as exc:
        version = f"{sys.version_info.major}.{sys.version_info.minor}"
        raise AssertionError(f"{path.relative_to(ROOT)} does not parse under Python {version}, "
                             f"the Python Binder runs: {exc}") from None
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def _lesson_imports() -> dict[str, set[str]]:
    """Top-level modules outside simlab that each lesson needs, following simlab's own modules."""
    needed: dict[str, set[str]] = {}
    for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        seen: set[str] = set()
        todo = list(_imports(notebook))
        outside: set[str] = set()
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            top = name.split(".")[0]
            if top != "simlab":
                outside.add(top)
                continue
            source = _source_of(name)
            if source is not None:
                todo += _imports(source)
        needed[notebook.name] = outside
    return needed


def _source_of(name: str) -> Path | None:
    """The file of simlab module ``name`` in this checkout (``None``: an attribute, e.g. ``simlab.plots.timeline``)."""
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _lock_script():
    """scripts/lock_binder.py, the one place that knows what simlab[lab] installs."""
    return load_script("lock_binder")


def _with_their_requirements(names: set[str]) -> set[str]:
    """``names`` and every distribution they require, as installed here (extras they do not ask for left out)."""
    return _lock_script().closure(sorted(names))


def test_runtime_pins_python_3_11():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"


def test_requirements_install_the_package_with_the_lab_extra():
    extras = _binder_extras()
    assert "lab" in extras
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras <= set(declared), f"extras not in pyproject.toml: {sorted(extras - set(declared))}"


def test_every_module_the_lessons_import_is_installed_by_binder():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = _binder_extras()
    allowed = {_name(r) for r in project["dependencies"]}
    for extra in extras & {"lab"}:
        allowed |= {_name(r) for r in project["optional-dependencies"][extra]}
    allowed = _with_their_requirements(allowed)  # e.g. numpy, which pandas and matplotlib require
    providers = importlib.metadata.packages_distributions()
    needed = _lesson_imports()
    assert "07_today.py" in needed and "08_sandbox.py" in needed
    missing = []
    for notebook, modules in needed.items():
        for module in sorted(modules):
            if module in sys.stdlib_module_names or module == "__future__":
                continue
            dists = {_name(d) for d in providers.get(module, [])}
            if not dists & allowed:
                missing.append(f"{notebook} imports {module} (from {sorted(dists) or 'no installed distribution'}),"
                               f" which binder/requirements.txt does not install")
    assert not missing, "\n".join(missing)


def test_the_check_sees_the_widget_and_plot_libraries():
    """The import walk reaches the third-party modules behind the panels (else the test above proves nothing)."""
    needed = _lesson_imports()
    assert {"ipywidgets", "matplotlib", "pandas"} <= needed["08_sandbox.py"]
    assert "networkx" in set().union(*needed.values())  # reached through simlab.scenarios, not imported directly


def test_readme_has_a_binder_badge_for_every_lesson():
    readme = (ROOT / "README.md").read_text()
    linked = set(re.findall(r"https://mybinder\.org/v2/gh/simlab-project/simlab/HEAD\?urlpath=lab/tree/notebooks/"
                            r"(\d\d_\w+\.ipynb)", readme))
    lessons = {path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")}
    assert linked == lessons, f"badges without a lesson: {sorted(linked - lessons)}; " \
                              f"lessons without a badge: {sorted(lessons - linked)}"


def test_constraints_pin_every_lab_package_at_the_tested_version():
    """binder/constraints.txt holds each package simlab[lab] installs, at the version installed here."""
    pins = {}
    for line in (BINDER / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"not pinned: {line}"
            pins[_name(name)] = version.strip()
    installed = _lock_script().lab_packages()
    assert set(installed) <= set(pins), f"missing from the lock: {sorted(set(installed) - set(pins))}"
    wrong = {name: (pins[name], version) for name, version in installed.items() if pins[name] != version}
    assert not wrong, f"pinned (lock, installed) differ - run scripts/lock_binder.py: {wrong}"
    assert "-c constraints.txt" in _requirement_lines()


def test_apt_txt_brings_the_live_lab_tools():
    packages = {line.partition("#")[0].strip() for line in (BINDER / "apt.txt").read_text().splitlines()} - {""}
    assert packages == {"swaks", "nmap", "telnet", "netcat-openbsd"}


def test_make_lab_allows_root_only_for_root():
    dry_run = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    command = next(line for line in dry_run.splitlines() if "jupyter lab" in line)
    import os

    assert ("--allow-root" in command) == (os.geteuid() == 0)
    assert "open the http://127.0.0.1:8888/lab?token=... address" in dry_run

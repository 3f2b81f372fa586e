"""Write binder/constraints.txt: every package that ``simlab[lab]`` installs, pinned at the version installed here.

    .venv/bin/python scripts/lock_binder.py

Run it in the environment ``make test`` built (it installs with these constraints, so the lessons
on Binder run with exactly the versions the tests ran with). After a change of dependencies in
pyproject.toml: delete binder/constraints.txt, run ``make clean test`` to resolve afresh, then run
this script and commit the new file. ``tests/test_binder.py`` checks the file is complete and
matches what is installed.
"""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "binder" / "constraints.txt"
HEADER = ("# Every package simlab[lab] installs, pinned at the versions the test suite ran with.\n"
          "# Made by scripts/lock_binder.py; binder/requirements.txt and `make test` install with it.\n")


def name_of(requirement: str) -> str:
    """The normalised distribution name of a requirement string (PEP 503)."""
    return canonicalize_name(Requirement(requirement).name)


def closure(requirements: list[str], extras: set[str] = frozenset()) -> set[str]:
    """The distributions ``requirements`` bring in, as installed here, with the extras each one asks for."""
    found: set[tuple[str, frozenset[str]]] = set()
    todo = [Requirement(r) for r in requirements if _wanted(r, extras)]
    while todo:
        requirement = todo.pop()
        key = (canonicalize_name(requirement.name), frozenset(requirement.extras))
        if key in found:
            continue
        found.add(key)
        try:
            requires = importlib.metadata.distribution(key[0]).requires or []
        except importlib.metadata.PackageNotFoundError:
            continue
        todo += [Requirement(r) for r in requires if _wanted(r, set(key[1]))]
    return {name for name, _extras in found}


def _wanted(requirement: str, extras: set[str]) -> bool:
    """Whether pip installs ``requirement`` here: its marker holds on this platform, for one of ``extras``."""
    marker = Requirement(requirement).marker
    if marker is None:
        return True
    return any(marker.evaluate({"extra": extra}) for extra in (extras or {""}))


def lab_packages() -> dict[str, str]:
    """``{name: installed version}`` for simlab's dependencies with the ``lab`` extra."""
    requires = importlib.metadata.distribution("simlab").requires or []
    names = closure(requires, {"lab"}) - {"simlab"}
    return {name: importlib.metadata.version(name) for name in sorted(names)}


def main() -> int:
    pins = lab_packages()
    LOCK.write_text(HEADER + "".join(f"{name}=={version}\n" for name, version in pins.items()))
    print(f"{LOCK.relative_to(ROOT)}: {len(pins)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())

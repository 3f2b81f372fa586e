"""Start-up: ``import simlab`` in a fresh interpreter, what it loads, and each lesson's first panel.

    python benchmarks/bench_startup.py [--runs 7] [--panel-runs 3] [--no-lessons]

Each run is a new interpreter that times ``import simlab`` with ``time.perf_counter`` around
the import (Python's own start-up is not counted), with Python's bytecode cache as after
``pip install`` (a warm-up run writes it, even where ``PYTHONDONTWRITEBYTECODE`` is set; compiling
simlab's modules from source adds about 60 ms on this machine). Each run also reports which of
the heavy packages the import loaded: none should be.

The first panel of each lesson, from calling its panel function to the panel holding its first
result with every view drawn (target < 0.5 s, the issue "Panels that keep up"), two ways:

* **in its lesson** (the issue's "warm kernel"): a fresh interpreter runs the lesson's code cells
  (``notebooks/NN_*.py``) up to the panel's cell, then the panel's cell is timed;
* **cold**: a fresh interpreter that has only run ``import simlab`` (a Voila app, or a student who
  opens the lesson and runs the panel's cell first): the panel's own imports are counted too.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from benchlib import Figure, median, report, runs_text

TARGET_MS = 150.0
PANEL_TARGET_MS = 500.0
HEAVY = ("ipywidgets", "matplotlib", "pandas", "networkx")
NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


def panel_names() -> list[str]:
    """The lessons' panel functions, as :mod:`simlab.ui` lists them (lesson 09's starts no server until asked)."""
    import simlab.ui

    return [name for name in simlab.ui.__all__ if name not in ("Panel", "solution_button")]

#: The cell that shows a lesson's panel: ``rotation_lab()``, ``simlab.ui.relay_lab()``, ``box = sandbox()``.
PANEL_CELL = re.compile(r"^(?:\w+ = )?(?:simlab\.ui\.)?(?:\w+_lab|sandbox)\(", re.MULTILINE)

PANEL_CHILD = f"""
import json, sys, time
import simlab
name = sys.argv[1]
start = time.perf_counter()
import simlab.ui
panel = getattr(simlab.ui, name)()
seconds = time.perf_counter() - start
getattr(panel, "close", lambda: None)()
print(json.dumps({{"seconds": seconds, "heavy": [m for m in {HEAVY!r} if m in sys.modules],
                  "error": panel.error}}))
"""

LESSON_CHILD = f"""
import json, re, sys, time
path, pattern = sys.argv[1], re.compile(sys.argv[2], re.MULTILINE)
cells = re.split(r"^# %%.*$", open(path, encoding="utf-8").read(), flags=re.MULTILINE)
kinds = re.findall(r"^# %%(.*)$", open(path, encoding="utf-8").read(), flags=re.MULTILINE)
namespace = {{"__name__": "__main__"}}
before = time.perf_counter()
for n, (kind, code) in enumerate(zip(kinds, cells[1:])):
    if "[markdown]" in kind:
        continue
    if pattern.search(code):
        loaded = [m for m in {HEAVY!r} if m in sys.modules]
        start = time.perf_counter()
        exec(compile(code, f"{{path}}:cell {{n}}", "exec"), namespace)
        seconds = time.perf_counter() - start
        print(json.dumps({{"seconds": seconds, "cell": code.strip().splitlines()[0], "loaded": loaded,
                          "before": start - before}}))
        break
    exec(compile(code, f"{{path}}:cell {{n}}", "exec"), namespace)
else:
    print(json.dumps({{"seconds": None}}))
for value in namespace.values():
    if type(value).__name__ == "LiveLabPanel":
        value.close()
"""

CHILD = f"""
import json, sys, time
start = time.perf_counter()
import simlab
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def one_run() -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, env=_env())
    return json.loads(out.stdout.strip().splitlines()[-1])


def _env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}


def cold_panel(name: str, runs: int) -> Figure:
    """``simlab.ui.<name>()`` in fresh interpreters that have run ``import simlab`` only."""
    measured = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", PANEL_CHILD, name], capture_output=True, text=True, env=_env(),
                             timeout=300)
        if out.returncode != 0:
            tail = " | ".join(out.stderr.strip().splitlines()[-2:])
            return Figure(f"first panel, cold: {name}", "failed", f"< {PANEL_TARGET_MS:g} ms", False, tail)
        measured.append(json.loads(out.stdout.strip().splitlines()[-1]))
    seconds = [m["seconds"] for m in measured]
    ms = median(seconds) * 1000
    note = f"median of {runs}: {runs_text(seconds, 'ms', 1000, 0)}; loaded: {', '.join(measured[0]['heavy'])}"
    if measured[0]["error"]:
        note += f"; the panel says: {measured[0]['error']}"
    return Figure(f"first panel, cold: {name}", f"{ms:.0f} ms", f"< {PANEL_TARGET_MS:g} ms", ms < PANEL_TARGET_MS,
                  note)


def lesson_panels() -> list[Figure]:
    """Each lesson's panel cell, timed after the lesson's cells before it have run (one fresh interpreter each)."""
    figures = []
    for notebook in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.py")):
        label = f"first panel in its lesson: {notebook.stem}"
        try:
            out = subprocess.run([sys.executable, "-c", LESSON_CHILD, str(notebook), PANEL_CELL.pattern],
                                 capture_output=True, text=True, env=_env(), timeout=600, cwd=NOTEBOOKS)
        except subprocess.TimeoutExpired:
            figures.append(Figure(label, "timed out", f"< {PANEL_TARGET_MS:g} ms", False, "the lesson ran 10 min"))
            continue
        if out.returncode != 0:
            tail = " | ".join(out.stderr.strip().splitlines()[-2:])
            figures.append(Figure(label, "failed", f"< {PANEL_TARGET_MS:g} ms", False, tail))
            continue
        found = json.loads(out.stdout.strip().splitlines()[-1])
        if found["seconds"] is None:
            figures.append(Figure(label, "no panel cell", f"< {PANEL_TARGET_MS:g} ms", None, "no cell shows a panel"))
            continue
        ms = found["seconds"] * 1000
        figures.append(Figure(label, f"{ms:.0f} ms", f"< {PANEL_TARGET_MS:g} ms", ms < PANEL_TARGET_MS,
                              f"cell `{found['cell']}` after {found['before']:.1f} s of the lesson's cells; already "
                              f"loaded: {', '.join(found['loaded']) or 'none of ' + ', '.join(HEAVY)}"))
    return figures


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs, at least 5 (default 7)")
    parser.add_argument("--panel-runs", type=int, default=3, help="fresh interpreters per cold panel (default 3)")
    parser.add_argument("--no-lessons", action="store_true", help="skip running the lessons up to their panels")
    args = parser.parse_args(argv)
    runs = max(5, args.runs)
    one_run()  # warm-up: writes the bytecode cache
    measured = [one_run() for _ in range(runs)]
    seconds = [r["seconds"] for r in measured]
    heavy = sorted({m for r in measured for m in r["heavy"]})
    figures = [
        Figure("import simlab", f"{median(seconds) * 1000:.0f} ms", f"< {TARGET_MS:g} ms",
               median(seconds) * 1000 < TARGET_MS, f"median of {runs} fresh interpreters: "
                                                   f"{runs_text(seconds, 'ms', 1000, 0)}"),
        Figure("heavy packages loaded by import simlab", ", ".join(heavy) or "none", "none", not heavy,
               "looked for: " + ", ".join(HEAVY)),
    ]
    figures += [cold_panel(name, max(1, args.panel_runs)) for name in panel_names()]
    if not args.no_lessons:
        figures += lesson_panels()
    report("4. Start-up", figures)
    return figures


if __name__ == "__main__":
    main()

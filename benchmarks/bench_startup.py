"""Start-up: ``import simlab`` in a fresh interpreter, and what it loads.

    python benchmarks/bench_startup.py [--runs 7]

Each run is a new interpreter that times ``import simlab`` with ``time.perf_counter`` around
the import (Python's own start-up is not counted), with Python's bytecode cache as after
``pip install`` (a warm-up run writes it, even where ``PYTHONDONTWRITEBYTECODE`` is set; compiling
simlab's modules from source adds about 60 ms on this machine). Each run also reports which of
the heavy packages the import loaded: none should be.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from benchlib import Figure, median, report, runs_text

TARGET_MS = 150.0
HEAVY = ("ipywidgets", "matplotlib", "pandas", "networkx")

CHILD = f"""
import json, sys, time
start = time.perf_counter()
import simlab
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "heavy": [m for m in {HEAVY!r} if m in sys.modules]}}))
"""


def one_run() -> dict:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs, at least 5 (default 7)")
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
    report("4. Start-up", figures)
    return figures


if __name__ == "__main__":
    main()

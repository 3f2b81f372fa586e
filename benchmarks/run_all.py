"""``make bench``: every benchmark of the issue "Speed and scale", each figure beside its target.

    python benchmarks/run_all.py [--quick]

1. engine vs SimPy (bench_engine.py)    2. counts-only growth and memory (bench_growth.py)
3. lesson panels: every control and tab (bench_panels.py)
4. start-up, and each lesson's first panel (bench_startup.py)
5. the live lab (bench_live.py, when it exists: it belongs to the live lab)
6. lesson 10's botnet (bench_spraying.py)    7. lesson 11's sender checks (bench_sender_auth.py)

``--quick`` runs smaller sizes and fewer runs, for trying the benchmarks out; its figures are not
the issue's (the sizes are printed with each figure).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import traceback
from pathlib import Path

import bench_engine
import bench_growth
import bench_panels
import bench_sender_auth
import bench_spraying
import bench_startup
from benchlib import Figure, report

HERE = Path(__file__).resolve().parent
LIVE_TARGET = 0.85  # simlab's live server within 15 % of a bare aiosmtpd server


def live(quick: bool) -> list[Figure]:
    """Run the live lab's own benchmark, if it has been written, and read its ratio."""
    script = HERE / "bench_live.py"
    if not script.exists():
        return [Figure("live: simlab / aiosmtpd sessions per second", "not measured", f">= {LIVE_TARGET:g}x", None,
                       "benchmarks/bench_live.py does not exist yet")]
    args = ["--sessions", "50", "--runs", "5"] if quick else []
    try:
        out = subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, timeout=900)
    except subprocess.TimeoutExpired:
        return [Figure("live: simlab / aiosmtpd sessions per second", "timed out", f">= {LIVE_TARGET:g}x", False,
                       "bench_live.py ran longer than 15 minutes")]
    print(out.stdout, end="")
    match = re.search(r"ratio simlab/aiosmtpd:\s*([0-9.]+)", out.stdout)
    if out.returncode != 0 or match is None:
        tail = " | ".join((out.stdout + out.stderr).strip().splitlines()[-3:])
        return [Figure("live: simlab / aiosmtpd sessions per second", "no figure", f">= {LIVE_TARGET:g}x", False,
                       f"bench_live.py exited {out.returncode}: {tail}")]
    ratio = float(match.group(1))
    return [Figure("live: simlab / aiosmtpd sessions per second", f"{ratio:.2f}x", f">= {LIVE_TARGET:g}x",
                   ratio >= LIVE_TARGET, "from benchmarks/bench_live.py (the live lab's own benchmark)")]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and few runs (not the issue's figures)")
    args = parser.parse_args(argv)
    quick = args.quick
    steps = [
        ("1. engine vs SimPy", lambda: bench_engine.main(["--sessions", "10000", "--runs", "3"] if quick else [])),
        ("2. growth", lambda: bench_growth.main(["--largest", "100000", "--runs", "3"] if quick else [])),
        ("3. panels", lambda: bench_panels.main(["--rounds", "1"] if quick else [])),
        ("4. start-up", lambda: bench_startup.main(["--runs", "5", "--panel-runs", "1"] if quick else [])),
        ("5. live lab", lambda: live(quick)),
        ("6. password spraying", lambda: bench_spraying.main(["--runs", "2"] if quick else [])),
        ("7. sender authentication", lambda: bench_sender_auth.main(["--runs", "2"] if quick else [])),
    ]
    started = time.perf_counter()
    figures: list[Figure] = []
    for title, step in steps:
        print(f"\n-- {title} ...", flush=True)
        try:
            figures += step()
        except Exception as exc:  # one broken benchmark must not hide the others' figures
            traceback.print_exc()
            figures.append(Figure(title, "failed", "", False, f"{type(exc).__name__}: {exc}"))
    report(f"Summary ({'quick: not the issue sizes; ' if quick else ''}"
           f"{(time.perf_counter() - started) / 60:.1f} min)", figures)
    missed = [f.name for f in figures if f.met is False]
    print(f"\n{len(missed)} target(s) not met" + (": " + "; ".join(missed) if missed else ""))
    return 1 if any(f.value == "failed" for f in figures) else 0  # a missed target is a figure, a crash is not


if __name__ == "__main__":
    sys.exit(main())

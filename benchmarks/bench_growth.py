"""Counts-only runs at 10^4, 10^5 and 10^6 sessions: time grows linearly, memory stays small.

    python benchmarks/bench_growth.py [--runs 5] [--runs-largest 1] [--largest 1000000]

Each run is ``simlab.run(mixed_traffic(sessions=N), seed=1, counts_only=True)`` in a fresh
subprocess, which reports the run's wall-clock time. Its peak resident memory is
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` read by a small launcher process whose only
child the run is. (Read in the run's own process, or by this one, the figure would include the
resident size of the process that forked it: Linux carries it over through fork and exec.) The
peak includes the interpreter and simlab itself, about 35 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

from benchlib import Figure, median, report, runs_text

TARGET_GROWTH = 12.0
TARGET_LARGEST_S = 60.0  # the issue: counts-only 10^6 sessions under 60 s
TARGET_MB = 500.0

RUN = """
import json, sys, time
import simlab
n = int(sys.argv[1])
scenario = simlab.scenarios.mixed_traffic(sessions=n)
start = time.perf_counter()
result = simlab.run(scenario, seed=1, counts_only=True)
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "sessions": result.summary["sessions"]}))
"""

LAUNCHER = """
import json, resource, subprocess, sys
out = subprocess.run([sys.executable, "-c", sys.argv[1], sys.argv[2]], capture_output=True, text=True, check=True)
figures = json.loads(out.stdout.strip().splitlines()[-1])
figures["peak_mb"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kilobytes on Linux
print(json.dumps(figures))
"""


def one_run(sessions: int) -> dict:
    out = subprocess.run([sys.executable, "-c", LAUNCHER, RUN, str(sessions)], capture_output=True, text=True,
                         check=True)
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    if figures["sessions"] != sessions:
        raise RuntimeError(f"the run served {figures['sessions']} sessions, not {sessions}")
    return figures


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs at 10^4 and 10^5 (default 5)")
    parser.add_argument("--runs-largest", type=int, default=1, help="runs at the largest size (default 1)")
    parser.add_argument("--largest", type=int, default=1_000_000, help="the largest size (default 10^6)")
    args = parser.parse_args(argv)
    sizes = [args.largest // 100, args.largest // 10, args.largest]
    measured: dict[int, list[dict]] = {}
    for size in sizes:
        runs = args.runs_largest if size == args.largest else args.runs
        measured[size] = [one_run(size) for _ in range(runs)]
    seconds = {size: median([r["seconds"] for r in runs]) for size, runs in measured.items()}
    peak = {size: max(r["peak_mb"] for r in runs) for size, runs in measured.items()}
    small, middle, large = sizes
    figures = []
    for size in sizes:
        times = [r["seconds"] for r in measured[size]]
        few = (" (fewer runs: the slowest size)" if size == large else " (fewer than 5)") if len(times) < 5 else ""
        issue_size = size == 1_000_000
        figures.append(Figure(f"counts-only N={size:,}", f"{seconds[size]:.2f} s",
                              f"< {TARGET_LARGEST_S:g} s" if issue_size else "",
                              seconds[size] < TARGET_LARGEST_S if issue_size else None,
                              f"{size / seconds[size]:,.0f} sessions/s; peak {peak[size]:.0f} MB; "
                              f"median of {len(times)} run(s){few}: {runs_text(times)}"))
    figures.append(Figure(f"growth: time({middle:,}) / time({small:,})", f"{seconds[middle] / seconds[small]:.1f}x",
                          "(10x is linear)", None))
    growth = seconds[large] / seconds[middle]
    figures.append(Figure(f"growth: time({large:,}) / time({middle:,})", f"{growth:.1f}x",
                          f"<= {TARGET_GROWTH:g}x", growth <= TARGET_GROWTH))
    figures.append(Figure(f"peak memory at N={large:,}", f"{peak[large]:.0f} MB", f"< {TARGET_MB:g} MB",
                          peak[large] < TARGET_MB, "RUSAGE_CHILDREN ru_maxrss of the run's own launcher"))
    report("2. Growth: counts-only runs", figures)
    return figures


if __name__ == "__main__":
    main()

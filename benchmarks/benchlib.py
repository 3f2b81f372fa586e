"""What the benchmarks share: medians of repeated runs, and figures printed beside their targets.

Every figure is measured in the same run as its reference (a ratio, where there is one), as the
median of several runs; the run counts are printed with it. Wall-clock time is what a student or
an instructor waits for, so that is what is measured; on a shared machine it is noisy, which is
why references are measured alternately with what they are compared against.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Figure:
    """One measured figure and its target."""

    name: str
    value: str
    target: str
    met: bool | None  # None: no target to meet (information only)
    note: str = ""

    def line(self) -> str:
        verdict = {True: "met", False: "NOT MET", None: "-"}[self.met]
        note = f"  ({self.note})" if self.note else ""
        return f"{self.name:<58} {self.value:>20}   target {self.target:<16} {verdict}{note}"


def timed(action: Callable[[], object]) -> float:
    """Seconds ``action()`` took on the wall clock, after a garbage collection."""
    gc.collect()
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``share`` % of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 100))  # ceil(n * share / 100), at least the first
    return ordered[int(rank) - 1]


def runs_text(values: list[float], unit: str = "s", scale: float = 1.0, digits: int = 2) -> str:
    return ", ".join(f"{v * scale:.{digits}f}" for v in values) + f" {unit}"


def report(title: str, figures: list[Figure]) -> None:
    print(f"\n== {title}")
    for figure in figures:
        print(figure.line())

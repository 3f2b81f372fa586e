"""A deterministic discrete-event loop, in the manner of SimPy's core.

Events sit in a heap ordered by ``(time, priority, serial)``; the serial
comes from :func:`itertools.count`, so two events at the same time and
priority run in the order they were scheduled and every run with the same
seed is the same run. Reading :meth:`EventLoop.step` tells the whole
semantics: pop the earliest event, move the clock there, call it.

The loop owns the clock every simulated server reads, so nothing in a run
depends on the wall clock; random choices come from the world's per-actor
streams (:meth:`simlab.engine.world.World.stream`), never from global state.
"""

from __future__ import annotations

import gc
import heapq
import itertools
from collections.abc import Callable
from typing import Any

from simlab.clock import ManualClock

__all__ = ["EventLoop"]


class EventLoop:
    """Simulated time and a heap of pending calls.

    Args:
        seed: the run's seed (kept for reference; the world derives its random streams from it).
        clock: the clock servers read (a new :class:`ManualClock` by default).
    """

    def __init__(self, seed: int = 0, clock: ManualClock | None = None) -> None:
        self.clock = clock or ManualClock()
        self.seed = seed
        self._heap: list[tuple[float, int, int, Callable[..., Any], tuple]] = []
        self._serial = itertools.count()
        self.steps = 0

    @property
    def now(self) -> float:
        return self.clock.now

    def at(self, time: float, action: Callable[..., Any], *args: Any, priority: int = 0) -> None:
        """Call ``action(*args)`` at simulated ``time`` (not before now)."""
        when = float(max(time, self.clock.now))
        heapq.heappush(self._heap, (when, priority, next(self._serial), action, args))

    def after(self, delay: float, action: Callable[..., Any], *args: Any, priority: int = 0) -> None:
        """Call ``action(*args)`` ``delay`` seconds from now."""
        # the engine's most frequent call: ``at(now + max(0, delay))`` without the second call
        when = float(self.clock.now + (delay if delay > 0.0 else 0.0))  # a float, as ``clock.set`` would make it
        heapq.heappush(self._heap, (when, priority, next(self._serial), action, args))

    def step(self) -> None:
        """Run the earliest pending call."""
        when, _priority, _serial, action, args = heapq.heappop(self._heap)
        if when > self.clock.now:
            self.clock.set(when)
        self.steps += 1
        action(*args)

    def run(self, until: float) -> None:
        """Run every call scheduled before ``until`` seconds, then stop the clock there.

        The body of :meth:`step`, inlined: this loop runs once per event. Python's cyclic
        garbage collector is paused meanwhile: a run makes next to no reference cycles
        (reference counting frees its sessions), while the collector would walk the growing
        results - events, transcripts, mailboxes - again and again: about 40 % of a
        100,000-session run. It is resumed when the run stops.
        """
        collecting = gc.isenabled()
        gc.disable()
        heap, clock, pop = self._heap, self.clock, heapq.heappop
        steps = 0
        try:
            # the clock is moved by assignment, not ``clock.set``: every time in the heap is a float
            # (``at`` and ``after`` make it one) and none is in the past, which is all ``set`` checks
            while heap and heap[0][0] < until:
                when, _priority, _serial, action, args = pop(heap)
                if when > clock.now:
                    clock.now = when
                steps += 1
                action(*args)
        finally:
            self.steps += steps
            if collecting:
                gc.enable()
        if until > clock.now:
            clock.set(until)

    def __len__(self) -> int:
        return len(self._heap)

"""simlab's engine against SimPy, doing the same work: sessions per second, measured in the same run.

    python benchmarks/bench_engine.py [--sessions 100000] [--runs 5]

Both sides run ``simlab.run(simlab.scenarios.mixed_traffic(sessions=N, preset="postfix"), seed=1)``
with everything on: simlab's own ``World``, network, Postfix servers and ``QueueManager``; each
command answered by the SMTP session (parsing, Postfix's restriction lists, log lines), event rows
and transcripts recorded, mail stored, and mail accepted for relaying delivered onward to the next
simulated server. The one difference is what schedules the work:

* simlab: its own :class:`simlab.engine.loop.EventLoop` (a heap of ``(time, priority, serial)``);
* SimPy: :class:`SimpyLoop` below, the same interface (``now``, ``after``, ``at``, ``run``) backed by
  a ``simpy.Environment``: every call the engine schedules is a SimPy ``Timeout`` with the call as
  its callback - SimPy's own mechanism, and its cheapest (a process per call would add a generator
  and an ``Initialize`` event each, and change the order of same-time events). SimPy's run is
  ``env.run(until=...)``; its stop event is URGENT, so, as in simlab, nothing scheduled at the end
  time runs. Both pause the cyclic garbage collector while they run (simlab's loop does; without
  it the SimPy side would spend ~40 % of its time walking the growing results, which is not the
  engine's work).

So both runs do identical work, and the benchmark checks it: the summaries, the logs and the event
rows of the two runs must be equal (same order of events, same seed), or it stops. The ratio then
measures the engine - the loop, the scheduling, the conversations' stepping - and not the protocol
work, which is the same code on both sides. Runs alternate, SimPy then simlab; each figure is the
median of ``--runs`` runs.

For information, the previous reference is still printed: a SimPy model written as a SimPy user
would write it, where the server is a function returning one reply code per command (no parsing,
restrictions, logs, events, transcripts or onward delivery). It shows what the protocol work costs.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import ipaddress
import math
import random
import sys
from collections.abc import Callable
from typing import Any

from benchlib import Figure, median, report, runs_text, timed

TARGET_RATIO = 1.0
AIM_RATIO = 1.5


class SimpyLoop:
    """:class:`simlab.engine.loop.EventLoop`'s interface on a ``simpy.Environment``.

    Every call scheduled with :meth:`after` or :meth:`at` is a SimPy ``Timeout`` whose callback
    moves the servers' clock to SimPy's time and makes the call. SimPy orders its queue by
    ``(time, priority, event id)``; all timeouts have SimPy's NORMAL priority and ids in the order
    they were made, so same-time calls run in the order they were scheduled, exactly as in simlab.
    """

    def __init__(self, seed: int = 0, clock=None) -> None:
        import simpy

        from simlab.clock import ManualClock

        self.env = simpy.Environment()
        self.clock = clock or ManualClock()
        self.seed = seed
        self.steps = 0

    @property
    def now(self) -> float:
        return self.clock.now

    def _timeout(self, delay: float, action: Callable[..., Any], args: tuple) -> None:
        clock, env = self.clock, self.env

        def fire(_event) -> None:
            when = env.now
            if when > clock.now:
                clock.set(when)
            self.steps += 1
            action(*args)

        self.env.timeout(delay).callbacks.append(fire)

    def after(self, delay: float, action: Callable[..., Any], *args: Any, priority: int = 0) -> None:
        """Call ``action(*args)`` ``delay`` seconds from now."""
        self._timeout(delay if delay > 0.0 else 0.0, action, args)

    def at(self, time: float, action: Callable[..., Any], *args: Any, priority: int = 0) -> None:
        """Call ``action(*args)`` at simulated ``time`` (not before now)."""
        now = self.env.now
        when = max(time, now)
        delay = when - now
        while now + delay < when:  # SimPy adds the delay to now: make that sum ``when`` to the last bit
            delay = math.nextafter(delay, math.inf)
        while now + delay > when:
            delay = math.nextafter(delay, -math.inf)
        self._timeout(delay, action, args)

    def run(self, until: float) -> None:
        collecting = gc.isenabled()
        gc.disable()
        try:
            if until > self.env.now:
                self.env.run(until=until)
        finally:
            if collecting:
                gc.enable()
        if until > self.clock.now:
            self.clock.set(until)

    def __len__(self) -> int:
        return len(self.env._queue)


@contextlib.contextmanager
def simpy_engine():
    """Worlds made meanwhile run on :class:`SimpyLoop` instead of simlab's own loop."""
    import simlab.engine.world as world_module

    original = world_module.EventLoop
    world_module.EventLoop = SimpyLoop
    try:
        yield
    finally:
        world_module.EventLoop = original


def simlab_run(sessions: int, seed: int = 1):
    import simlab

    return simlab.run(simlab.scenarios.mixed_traffic(sessions=sessions, preset="postfix"), seed=seed)


def simpy_engine_run(sessions: int, seed: int = 1):
    """The same run as :func:`simlab_run`, every call scheduled by SimPy."""
    with simpy_engine():
        result = simlab_run(sessions, seed)
    if not isinstance(result.world.loop, SimpyLoop):
        raise RuntimeError("the SimPy run did not run on SimPy")
    return result


def fingerprint(result) -> tuple:
    """What must be the same in both runs: the summary, the log, the event rows, the transcripts."""
    digest = hashlib.sha256()
    for row in result._events:
        digest.update(repr(row).encode())
    for line in result.log:
        digest.update(line.encode())
    return (result.summary, len(result.log), len(result._events), len(result.transcripts),
            sum(len(t.lines) for t in result.transcripts), digest.hexdigest())


class SimpyServer:
    """The server side of the information-only SimPy model: one reply code per command, and the relay rule."""

    LOCAL_DOMAINS = frozenset({"example.com"})
    TRUSTED = ipaddress.ip_network("192.0.2.0/24")

    def __init__(self) -> None:
        self.accepted = 0
        self.refused = 0

    def answer(self, client_ip: str, command: str, recipient: str) -> int:
        if command == "RCPT":
            domain = recipient.rpartition("@")[2].lower()
            if domain in self.LOCAL_DOMAINS or ipaddress.ip_address(client_ip) in self.TRUSTED:
                return 250
            self.refused += 1
            return 554
        if command == "body":
            self.accepted += 1
        return {"banner": 220, "EHLO": 250, "MAIL": 250, "DATA": 354, "body": 250, "QUIT": 221}[command]


def simpy_run(sessions: int, seed: int = 1) -> SimpyServer:
    """The SimPy model: ``sessions`` clients, one every 0.5 ms."""
    import simpy

    env = simpy.Environment()
    rng = random.Random(seed)
    server = SimpyServer()

    def client(n: int):
        trusted = rng.random() < 0.5
        local = rng.random() < 0.5
        ip = f"192.0.2.{100 + n % 150}" if trusted else f"198.51.100.{100 + n % 100}"
        rcpt = rng.choice(("bob@example.com", "alice@example.com") if local else ("carol@remote.test",
                                                                                  "dave@remote.test"))
        for command in ("banner", "EHLO", "MAIL", "RCPT", "DATA", "body", "QUIT"):
            yield env.timeout(0.001)  # the server answers after 1 ms
            code = server.answer(ip, command, rcpt)
            if code >= 400:  # recipient refused: say QUIT
                yield env.timeout(0.001)
                server.answer(ip, "QUIT", rcpt)
                return

    def arrivals():
        for n in range(sessions):
            env.process(client(n))
            yield env.timeout(0.0005)

    env.process(arrivals())
    env.run()
    return server


#: What counts as the engine in a profile of simlab's run: the loop and the conversations' stepping (their
#: own time, not the protocol work they call), and the heap operations they make.
ENGINE_FUNCTIONS = {("loop.py", "run"), ("loop.py", "after"), ("loop.py", "at"), ("loop.py", "step"),
                    ("conversation.py", "start"), ("conversation.py", "_open"), ("conversation.py", "_advance"),
                    ("conversation.py", "_deliver"), ("conversation.py", "_finish"),
                    ("conversation.py", "_idle_timeout"), ("conversation.py", "script"),
                    ("~", "<built-in method _heapq.heappush>"), ("~", "<built-in method _heapq.heappop>")}


def engine_share(sessions: int) -> float:
    """The engine's share of simlab's run, from a profile (:data:`ENGINE_FUNCTIONS`' own time over the total).

    A profile slows small functions more than big ones, so this is an estimate; it is what says how far a
    faster loop alone could take the ratio: the rest of the run is the same code on both sides."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.runcall(simlab_run, sessions)
    stats = pstats.Stats(profile).stats  # {(file, line, name): (calls, primitive calls, tottime, cumtime, callers)}
    total = sum(entry[2] for entry in stats.values())
    engine = sum(entry[2] for (file, _line, name), entry in stats.items()
                 if (file.rpartition("/")[2], name) in ENGINE_FUNCTIONS)
    return engine / total


def measure(sessions: int, runs: int) -> list[Figure]:
    simpy_times, simlab_times = [], []
    checks: dict[str, object] = {}
    for _ in range(runs):
        simpy_times.append(timed(lambda: checks.__setitem__("simpy", simpy_engine_run(sessions))))
        simpy_print = fingerprint(checks.pop("simpy"))  # free the big result before the next run
        simlab_times.append(timed(lambda: checks.__setitem__("simlab", simlab_run(sessions))))
        simlab_print = fingerprint(checks.pop("simlab"))
        if simpy_print != simlab_print:
            raise RuntimeError(f"the two runs differ: SimPy {simpy_print[:5]}, simlab {simlab_print[:5]}")
    simpy_rate, simlab_rate = sessions / median(simpy_times), sessions / median(simlab_times)
    ratio = simlab_rate / simpy_rate
    fewer = f"; {runs} runs" if runs < 5 else ""
    model_times = [timed(lambda: simpy_run(sessions)) for _ in range(runs)]
    model_rate = sessions / median(model_times)
    log_lines, events, transcripts = simlab_print[1:4]
    share = engine_share(min(sessions, 20_000))
    # ratio = (W + E_simpy) / (W + E): W the work both sides do (protocol, servers, world), E each engine's own
    shared = median(simlab_times) * (1 - share)
    own, simpy_own = median(simlab_times) - shared, median(simpy_times) - shared
    ceiling = median(simpy_times) / shared
    engine_cut = 1 - max(0.0, median(simpy_times) / AIM_RATIO - shared) / own  # E' = (W + E_simpy) / aim - W
    shared_cut = 1 - max(0.0, (simpy_own - AIM_RATIO * own) / (AIM_RATIO - 1)) / shared  # W' from the same
    return [
        Figure(f"SimPy engine, simlab's world and servers, N={sessions:,}", f"{simpy_rate:,.0f} sessions/s",
               "(reference)", None, f"runs {runs_text(simpy_times)}"),
        Figure(f"simlab engine, the same world and servers, N={sessions:,}", f"{simlab_rate:,.0f} sessions/s", "",
               None, f"runs {runs_text(simlab_times)}"),
        Figure("engine: simlab / SimPy sessions per second (same work)", f"{ratio:.3f}x",
               f">= {TARGET_RATIO:g}x (aim {AIM_RATIO:g}x)", ratio >= TARGET_RATIO,
               f"median of {runs} runs each{fewer}; identical summary, {log_lines:,} log lines, "
               f"{events:,} events, {transcripts:,} transcripts"),
        Figure("engine's own share of simlab's run (profile)", f"{share:.0%}", "(information)", None,
               f"the other {1 - share:.0%} is the same code on both sides; an engine that cost nothing would make "
               f"the ratio {ceiling:.2f}x; {AIM_RATIO:g}x needs simlab's engine {max(0.0, engine_cut):.0%} cheaper, "
               f"or the shared work {max(0.0, shared_cut):.0%} cheaper"),
        Figure(f"SimPy model without the protocol work, N={sessions:,}", f"{model_rate:,.0f} sessions/s",
               "(information)", None, f"simlab / it {simlab_rate / model_rate:.3f}x; runs {runs_text(model_times)}"),
    ]


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=100_000, help="sessions per run (default 100,000)")
    parser.add_argument("--runs", type=int, default=5, help="runs of each (default 5)")
    args = parser.parse_args(argv)
    figures = measure(args.sessions, args.runs)
    report("1. Engine vs SimPy", figures)
    return figures


if __name__ == "__main__":
    main()
    sys.exit(0)

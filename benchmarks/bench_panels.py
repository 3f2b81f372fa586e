"""Lesson panels: the time from a widget change to the new result drawn, for every control and every tab.

    python benchmarks/bench_panels.py [--rounds 2]

Every module in ``simlab/ui/`` is imported and every public function of it that takes no
required argument and returns a :class:`simlab.ui.common.Panel` is called, so panels written
after this benchmark are measured too. With the lesson's defaults, each control a student can
reach (shown and enabled; the seed too) is set to another value - the next choice, the other
side of a checkbox, one slider step, a trailing space in a text field - and then set back:

* **first visits**: a value the panel has not run yet (the simulation runs); those the panel runs in
  its busy state (a heavier choice: controls disabled, progress shown) are reported on their own,
  against the heavier choices' target;
* **toggle backs**: the value it had, which a panel with a cache shows without running again;
* **tabs**: each tab opened, and the first control changed and set back while that tab is open (a tab
  whose drawing runs in the busy state is reported with the heavier choices).

Each change is timed from setting the control's value to the panel holding the new result with
every view drawn (observers run synchronously, as in a kernel). Each round is a new panel, so its
caches start empty. matplotlib and pandas are imported first, as the lessons' cells before a
panel have (``bench_startup.py`` times a lesson's first panel, and a panel in a fresh interpreter).
Targets (the issue "Panels that keep up"): median < 50 ms and p95 < 100 ms per panel for each
kind of change. Heavier choices (a 24-hour sandbox, big floods and botnets)
must finish under 1 s and, if they take more than 100 ms, show the busy state while they run: the
controls disabled and the progress bar shown, both undone after.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import time
from collections import defaultdict
from dataclasses import dataclass, field

from benchlib import Figure, median, percentile, report

MEDIAN_MS, P95_MS, HEAVY_MS = 50.0, 100.0, 1000.0
TARGET = f"median < {MEDIAN_MS:g}, p95 < {P95_MS:g} ms"

#: Heavier choices: (panel, what, settings made first without a run, the change that is timed).
HEAVY = [
    ("sandbox.sandbox", "24 hours, then the flooder", {"duration_hours": 24}, ("flooder", True)),
    ("sandbox.sandbox", "24 hours, every attacker, 250 addresses, then the flooder",
     {"duration_hours": 24, "relay_scanner": True, "rotating_per_day": 500, "pool_size": 250, "guesser_ips": 50},
     ("flooder", True)),
    ("flood.flood_lab", "a flood of 400 connections from 50 addresses", {"flooder_ips": 50}, ("connections", 400)),
    ("rotation.rotation_lab", "a pool of 250 addresses", {}, ("pool_size", 250)),
    ("password.password_lab", "a guess every 10 s from 50 addresses", {"pace": 10}, ("guesser_ips", 50)),
    ("sender_auth.sender_auth_lab", "Postfix, then DKIM signing (every signature new)", {"preset": "postfix"},
     ("dkim", True)),
]


def discover() -> tuple[list[tuple[str, object]], list[str]]:
    """``(name, function)`` for every panel function in ``simlab/ui/``, and what could not be loaded."""
    import simlab.ui
    from simlab.ui.common import Panel

    found, problems = [], []
    for info in sorted(pkgutil.iter_modules(simlab.ui.__path__), key=lambda i: i.name):
        if info.name == "common":
            continue
        try:
            module = importlib.import_module(f"simlab.ui.{info.name}")
        except Exception as exc:  # another lesson being written: say so and go on
            problems.append(f"simlab.ui.{info.name}: cannot import ({type(exc).__name__}: {exc})")
            continue
        for name, function in vars(module).items():
            if name.startswith("_") or not inspect.isfunction(function) or function.__module__ != module.__name__:
                continue
            signature = inspect.signature(function)
            required = [p for p in signature.parameters.values()
                        if p.default is p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
            returns = signature.return_annotation
            if required or not (returns is Panel or "Panel" in str(returns)):
                continue
            found.append((f"{info.name}.{name}", function))
    return found, problems


def other_value(control) -> object | None:
    """Another value the control can take, as a student would pick it; ``None`` if there is none."""
    kind = type(control).__name__
    value = control.value
    if kind == "Checkbox":
        return not value
    if kind in ("Dropdown", "ToggleButtons"):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return next((o for o in options if o != value), None)
    if kind in ("IntSlider", "FloatSlider"):
        step = control.step or 1
        other = value + step if value + step <= control.max else value - step
        return None if other < control.min else other
    if kind in ("Text", "Textarea"):
        return value + " "  # the same entry, typed again: a value the panel has not run
    if kind == "SelectMultiple":
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        return tuple(options[:1]) if tuple(value) != tuple(options[:1]) else tuple(options[1:2])
    return None


def reachable(panel) -> list[str]:
    """The controls a student can change now: shown and enabled."""
    return [name for name, control in panel.controls.items()
            if not control.disabled and control.layout.display != "none" and other_value(control) is not None]


@dataclass
class Timings:
    first: list[tuple[str, float]] = field(default_factory=list)
    #: First visits the panel ran in its busy state (a heavier choice): their time, and whether it was undone.
    busy: list[tuple[str, float, bool]] = field(default_factory=list)
    busy_seen: list[bool] = field(default_factory=list)  # for the change under way: busy at each run
    counting: list[bool] = field(default_factory=lambda: [False])  # whether ``spent`` takes the calls now
    back: list[tuple[str, float]] = field(default_factory=list)
    tabs: list[tuple[str, float]] = field(default_factory=list)
    spent: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    problems: list[str] = field(default_factory=list)


def _timed_change(panel, name: str, value: object) -> float:
    control = panel.controls[name]
    runs = panel.runs
    start = time.perf_counter()
    control.value = value
    seconds = time.perf_counter() - start
    if panel.runs == runs and panel.error is None and control.value == value:
        raise RuntimeError(f"changing {name} to {value!r} did not refresh the panel")
    return seconds


def _instrument(panel, timings: Timings) -> None:
    """Time the panel's simulation and render during first visits (this benchmark's panel only)."""
    def timing(label, wrapped):
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return wrapped(*args, **kwargs)
            finally:
                if timings.counting[0]:
                    timings.spent[label].append(time.perf_counter() - start)
        return call

    compute = timing("simulation", panel.compute)

    def watched(values):
        timings.busy_seen.append(panel.is_busy)
        return compute(values)

    panel.compute = watched
    panel.render = timing("render", panel.render)


def one_round(function, timings: Timings) -> None:
    """A new panel; every reachable control there and back; every tab, and a change while it is open."""
    import simlab.ui.common as common

    to_png = common.to_png

    def png(*args, **kwargs):
        start = time.perf_counter()
        try:
            return to_png(*args, **kwargs)
        finally:
            timings.spent["png (tabs)"].append(time.perf_counter() - start)

    common.to_png = png
    try:
        panel = function()
        _instrument(panel, timings)
        for name in reachable(panel):
            if name not in reachable(panel):  # an earlier change hid or disabled it
                continue
            control = panel.controls[name]
            before, other = control.value, other_value(control)
            timings.counting[0] = True
            timings.busy_seen.clear()
            seconds = _timed_change(panel, name, other)
            timings.counting[0] = False
            if timings.busy_seen and all(timings.busy_seen):  # a heavier choice: the 1 s target, with its busy state
                undone = not panel.is_busy and panel.progress.layout.display == "none"
                timings.busy.append((name, seconds, undone))
            else:
                timings.first.append((name, seconds))
            timings.back.append((name, _timed_change(panel, name, before)))
            if panel.error:
                timings.problems.append(f"{name}={other!r}: {panel.error}")
        titles = list(panel.views)
        probe = next(iter(reachable(panel)), None)
        shown: list[bool] = []
        panel.progress.layout.observe(lambda change: shown.append(change["new"] != "none"), names="display")
        for index in range(1, len(titles)):
            shown.clear()
            start = time.perf_counter()
            panel.tabs.selected_index = index
            seconds = time.perf_counter() - start
            if any(shown):  # the tab's drawing ran in the busy state: a heavier choice
                undone = not panel.is_busy and panel.progress.layout.display == "none"
                timings.busy.append((f"open '{titles[index]}'", seconds, undone))
            else:
                timings.tabs.append((f"open '{titles[index]}'", seconds))
            if probe is not None:
                before = panel.controls[probe].value
                timings.tabs.append((f"{probe} with '{titles[index]}' open",
                                     _timed_change(panel, probe, other_value(panel.controls[probe]))))
                timings.tabs.append((f"{probe} back with '{titles[index]}' open", _timed_change(panel, probe, before)))
        panel.tabs.selected_index = 0
    finally:
        common.to_png = to_png


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _figure(name: str, what: str, samples: list[tuple[str, float]], note: str = "") -> Figure:
    if not samples:
        return Figure(f"panel {name}: {what}", "none", TARGET, None, note or "nothing to change")
    ms = [seconds * 1000 for _label, seconds in samples]
    middle, p95 = median(ms), percentile(ms, 95)
    slowest = max(samples, key=lambda item: item[1])
    text = f"{len(ms)} changes; slowest: {slowest[0]} {_ms(slowest[1] * 1000)} ms" + (f"; {note}" if note else "")
    return Figure(f"panel {name}: {what}", f"{_ms(middle)} / {_ms(p95)} ms", TARGET,
                  middle < MEDIAN_MS and p95 < P95_MS, text)


def measure_panel(name: str, function, rounds: int) -> list[Figure]:
    timings = Timings()
    for _ in range(rounds):
        one_round(function, timings)
    parts = ", ".join(f"{label} {_ms(median(values) * 1000)}" for label, values in timings.spent.items() if values)
    notes = f"median ms per call in first visits: {parts}" if parts else ""
    if timings.problems:
        notes += f"; the panel said: {timings.problems[0]}"
    figures = [_figure(name, "first visits", timings.first, notes)]
    if timings.busy:
        slowest = max(timings.busy, key=lambda item: item[1])
        undone = all(item[2] for item in timings.busy)
        figures.append(Figure(f"panel {name}: first visits in the busy state", f"{_ms(slowest[1] * 1000)} ms",
                              f"< {HEAVY_MS:g} ms", slowest[1] * 1000 < HEAVY_MS and undone,
                              f"slowest of {len(timings.busy)} heavier choices and tabs ({slowest[0]}); busy state "
                              f"{'undone' if undone else 'NOT undone'} after each"))
    return [*figures, _figure(name, "toggle backs", timings.back), _figure(name, "tabs", timings.tabs)]


def measure_heavy(panels: dict[str, object]) -> list[Figure]:
    """Each heavy choice: its time, and whether the busy state was shown while it ran and undone after."""
    figures = []
    for panel_name, what, settings, (name, value) in HEAVY:
        label = f"heavy: {panel_name} {what}"
        target = f"< {HEAVY_MS:g} ms, busy if > {P95_MS:g}"
        if panel_name not in panels:
            figures.append(Figure(label, "not measured", target, None, "no such panel"))
            continue
        panel = panels[panel_name]()
        with panel.quietly():
            for key, setting in settings.items():
                panel.controls[key].value = setting
        seen: list[tuple[bool, bool, bool]] = []
        compute = panel.compute

        def watched(values, compute=compute, panel=panel, seen=seen):
            seen.append((panel.is_busy, all(c.disabled for c in panel.controls.values()),
                         panel.progress.layout.display != "none"))
            return compute(values)

        panel.compute = watched
        moves: list[float] = []
        panel.progress.observe(lambda change, moves=moves: moves.append(change["new"]), names="value")
        enabled = {key: control.disabled for key, control in panel.controls.items()}
        start = time.perf_counter()
        panel.controls[name].value = value
        ms = (time.perf_counter() - start) * 1000
        busy = bool(seen) and all(all(state) for state in seen)
        restored = {key: control.disabled for key, control in panel.controls.items()} == enabled \
            and panel.progress.layout.display == "none" and not panel.is_busy
        met = ms < HEAVY_MS and restored and (busy or ms < P95_MS)
        note = (f"busy state {'shown' if busy else 'not shown'} ({len(moves)} progress steps), "
                f"{'undone' if restored else 'NOT undone'} after")
        if panel.error:
            note += f"; the panel said: {panel.error}"
        figures.append(Figure(label, f"{ms:.0f} ms", target, met, note))
    return figures


def chart_costs(repeats: int = 11) -> list[Figure]:
    """What a panel's pictures cost: the outcome chart as matplotlib drew it and as HTML bars, and lesson 06's
    timeline as a new figure each time, as one figure updated in place, and as the SVG the panel now shows."""
    from simlab.exercises.flood import flood_day
    from simlab.plots import flood_timeline, outcome_bars, to_png
    from simlab.scenarios import run
    from simlab.ui.common import bars_html
    from simlab.ui.flood import flood_timeline_svg

    keys = ("spam_relayed", "spam_refused", "bounces_to_postmaster", "legit_delivered", "legit_refused")
    summary = dict(zip(keys, (0, 12, 0, 31, 2), strict=True))
    days = [run(flood_day("eims-2.1", 150, 1, None, 20), seed=1), run(flood_day("postfix", 150, 1, 50, 100), seed=1)]
    figure = flood_timeline(days[0], "flooder")
    turn = iter(range(10**9))

    def in_place() -> bytes:
        return to_png(flood_timeline(days[next(turn) % 2], "flooder", figure=figure))

    ways = [("outcome chart: outcome_bars + to_png (matplotlib)", lambda: to_png(outcome_bars(summary, keys))),
            ("outcome chart: bars_html (the browser draws it)", lambda: bars_html(summary, keys, title="one day")),
            ("lesson 06 timeline: a new figure each time", lambda: to_png(flood_timeline(days[0], "flooder"))),
            ("lesson 06 timeline: one figure updated in place", in_place),
            ("lesson 06 timeline: flood_timeline_svg (the browser draws it)", lambda: flood_timeline_svg(days[0]))]
    figures = []
    for label, draw in ways:
        draw()  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            draw()
            times.append(time.perf_counter() - start)
        figures.append(Figure(f"chart: {label}", f"{_ms(median(times) * 1000)} ms", "(information)", None,
                              f"median of {repeats}"))
    return figures


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="new panels per panel function (default 2)")
    args = parser.parse_args(argv)
    import matplotlib.backends.backend_agg  # noqa: F401  (as a lesson's cells before its panel have)
    import pandas  # noqa: F401
    panels, problems = discover()
    figures = []
    for name, function in panels:
        try:
            figures += measure_panel(name, function, max(1, args.rounds))
        except Exception as exc:
            figures.append(Figure(f"panel {name}", "failed", TARGET, False, f"{type(exc).__name__}: {exc}"))
    figures += [Figure(problem.split(":")[0], "not measured", TARGET, None, problem) for problem in problems]
    if not panels:
        figures.append(Figure("panels", "none found", TARGET, None, "no panel functions in simlab/ui"))
    report("3. Panels: widget change to new result drawn, median / p95 (with the lesson's defaults)", figures)
    heavy = measure_heavy(dict(panels))
    report("3b. Panels: heavier choices (time, and the busy state)", heavy)
    report("3c. Where a panel's time goes: its pictures", chart_costs())
    return figures + heavy


if __name__ == "__main__":
    main()

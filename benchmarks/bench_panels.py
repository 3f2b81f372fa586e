"""Lesson panels: the time from a widget change to a new result, with each lesson's defaults.

    python benchmarks/bench_panels.py [--toggles 5]

Every module in ``simlab/ui/`` is imported and every public function of it that takes no
required argument and returns a :class:`simlab.ui.common.Panel` is called, so panels written
after this benchmark are measured too. For each panel one control is toggled back and forth
(a checkbox if it has one, else a drop-down, else a slider) and the time from setting the
control's value to the panel holding a new result is taken: the simulation, the tables and the
chart (matplotlib to PNG) together. The simulation, the render and the PNG are also timed on
their own, to show where the time goes.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import time
from collections import defaultdict

from benchlib import Figure, median, report

TARGET_MS = 100.0
PREFERRED = ("Checkbox", "Dropdown", "ToggleButtons", "IntSlider", "FloatSlider")


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


def toggle_values(control) -> tuple[object, object] | None:
    """The control's value and another one it can take."""
    kind = type(control).__name__
    value = control.value
    if kind == "Checkbox":
        return value, not value
    if kind in ("Dropdown", "ToggleButtons"):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        other = next((o for o in options if o != value), None)
        return None if other is None else (value, other)
    if kind in ("IntSlider", "FloatSlider"):
        step = control.step or 1
        other = value + step if value + step <= control.max else value - step
        return None if other < control.min else (value, other)
    return None


def pick_control(panel) -> tuple[str, tuple[object, object]] | None:
    for kind in PREFERRED:
        for name, control in panel.controls.items():
            if type(control).__name__ == kind and name != "seed":
                values = toggle_values(control)
                if values is not None:
                    return name, values
    return None


def measure_panel(name: str, function, toggles: int) -> tuple[Figure, dict[str, float]]:
    import simlab.ui.common as common

    spent: dict[str, list[float]] = defaultdict(list)

    def timing(label, wrapped):
        def call(*args, **kwargs):
            start = time.perf_counter()
            try:
                return wrapped(*args, **kwargs)
            finally:
                spent[label].append(time.perf_counter() - start)
        return call

    to_png = common.to_png
    common.to_png = timing("png", to_png)  # this benchmark's process only: how long the chart takes
    try:
        panel = function()
        panel.compute = timing("simulation", panel.compute)
        panel.render = timing("render", panel.render)
        chosen = pick_control(panel)
        if chosen is None:
            return Figure(f"panel {name}", "no control to toggle", f"< {TARGET_MS:g} ms", None), {}
        control_name, (first, second) = chosen
        control = panel.controls[control_name]
        times = []
        spent.clear()
        for _ in range(toggles):
            for value in (second, first):
                runs = panel.runs
                start = time.perf_counter()
                control.value = value
                times.append(time.perf_counter() - start)
                if panel.runs == runs and panel.error is None:
                    raise RuntimeError(f"{name}: changing {control_name} did not refresh the panel")
    finally:
        common.to_png = to_png
    middle = median(times) * 1000
    parts = {label: median(values) * 1000 for label, values in spent.items()}
    shown = ", ".join(f"{label} {_ms(ms)}" for label, ms in parts.items())
    note = f"{control_name}: {first!r}<->{second!r}; {len(times)} changes; median ms: {shown}"
    if panel.error:
        note += f"; the panel says: {panel.error}"
    return Figure(f"panel {name}", f"{_ms(middle)} ms", f"< {TARGET_MS:g} ms", middle < TARGET_MS, note), parts


def _ms(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def chart_costs(repeats: int = 11) -> list[Figure]:
    """What one outcome chart costs as simlab.plots draws it now, and with two cheaper layouts.

    For the owner of ``simlab/plots/``: the figures say what a change there would save.
    """
    import io

    from simlab.plots import outcome_bars, to_png

    keys = ("spam_relayed", "spam_refused", "bounces_to_postmaster", "legit_delivered", "legit_refused")
    summary = dict(zip(keys, (0, 12, 0, 31, 2), strict=True))

    def png(figure, dpi: int = 90) -> bytes:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        return buffer.getvalue()

    reused = outcome_bars(summary, keys, title="postfix: one day")
    png(reused)  # the constrained layout is worked out once ...
    reused.set_layout_engine("none")  # ... and kept (a no-op now that outcome_bars uses fixed margins)

    def reuse() -> bytes:
        axes = reused.axes[0]
        for bar, value in zip(axes.patches, summary.values(), strict=True):
            bar.set_width(value)
        return png(reused)

    ways = [("as now: outcome_bars + to_png (fixed margins)", lambda: to_png(outcome_bars(summary, keys))),
            ("one Figure per view, laid out once, bars updated", reuse),
            ("as now at dpi 72", lambda: png(outcome_bars(summary, keys), dpi=72))]
    figures = []
    for label, draw in ways:
        draw()  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            draw()
            times.append(time.perf_counter() - start)
        figures.append(Figure(f"chart: {label}", f"{median(times) * 1000:.0f} ms", "(information)", None,
                              f"median of {repeats}"))
    return figures


def main(argv: list[str] | None = None) -> list[Figure]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--toggles", type=int, default=5, help="round trips per panel (default 5: 10 changes)")
    args = parser.parse_args(argv)
    panels, problems = discover()
    figures = []
    for name, function in panels:
        try:
            figure, _parts = measure_panel(name, function, args.toggles)
        except Exception as exc:
            figure = Figure(f"panel {name}", "failed", f"< {TARGET_MS:g} ms", False, f"{type(exc).__name__}: {exc}")
        figures.append(figure)
    figures += [Figure(problem.split(":")[0], "not measured", f"< {TARGET_MS:g} ms", None, problem)
                for problem in problems]
    if not panels:
        figures.append(Figure("panels", "none found", f"< {TARGET_MS:g} ms", None, "no panel functions in simlab/ui"))
    report("3. Panels: widget change to new result (with the lesson's defaults)", figures)
    report("3b. Where a panel's time goes: one outcome chart (simlab.plots)", chart_costs())
    return figures


if __name__ == "__main__":
    main()

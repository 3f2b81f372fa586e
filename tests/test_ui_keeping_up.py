"""Panels that keep up (the issue "Panels that keep up ..."): caches, the busy state, figures updated in place.

Behaviour, not time: runs are counted, states are looked at while a run is under way, and figure
objects are compared. Speed itself is measured in ``benchmarks/bench_panels.py``.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest

import simlab.ui.flood as flood_module
from simlab import plots
from simlab.errors import ConfigError
from simlab.exercises.flood import FLOODER, flood_day
from simlab.exercises.rotation import SPAMMER
from simlab.plots import TIMELINE_LABELS
from simlab.scenarios import relay_probe, run
from simlab.scenarios.run import PROGRESS_SLICES, reporting_progress
from simlab.ui.charts import Mark, Rule, Steps, nice_ticks, sequence_svg, steps_svg, svg_texts
from simlab.ui.common import FigureView, Panel, bars_html, event_rows, values_key
from simlab.ui.flood import flood_lab, flood_log_html, flood_timeline_svg
from simlab.ui.password import guessing_series, guessing_timeline, password_lab
from simlab.ui.relay import relay_lab
from simlab.ui.rotation import rotation_lab, spammer_sessions_html
from simlab.ui.sandbox import heavy_run, readable_timeline_svg, sandbox

# --- the simulation reports progress without changing the run ---------------------------------------------


def test_a_run_reports_progress_in_slices_and_is_the_same_run():
    plain = run(relay_probe(preset="eims-1.2"), seed=3)
    heard: list[float] = []
    with reporting_progress(heard.append):
        sliced = run(relay_probe(preset="eims-1.2"), seed=3)
    assert heard == [n / PROGRESS_SLICES for n in range(1, PROGRESS_SLICES + 1)]
    assert sliced.summary == plain.summary and sliced.log == plain.log and sliced._events == plain._events
    assert [t.lines for t in sliced.transcripts] == [t.lines for t in plain.transcripts]
    assert sliced.timeline == plain.timeline and sliced.world.loop.now == plain.world.loop.now
    run(relay_probe(preset="eims-1.2"), seed=3)  # outside the block nobody hears
    assert len(heard) == PROGRESS_SLICES


# --- caches: a toggle back is not run again -----------------------------------------------------------------


def test_a_toggle_back_shows_the_kept_outcome_without_a_run():
    lab = rotation_lab()
    first, computed = lab.outcome, lab.computed
    lab.controls["pool_size"].value = 60
    assert lab.computed == computed + 1
    sixty = lab.outcome
    lab.controls["pool_size"].value = 50  # back: the starting outcome, kept
    assert lab.computed == computed + 1 and lab.outcome is first
    lab.controls["pool_size"].value = 60  # and forth again
    assert lab.computed == computed + 1 and lab.outcome is sixty
    assert lab.runs == 4  # every change was drawn


def test_the_comparison_baseline_comes_from_the_same_cache():
    lab = relay_lab()
    assert lab.computed == 1
    lab.controls["relay_restriction"].value = True  # new run; the baseline (the start) is kept already
    assert lab.computed == 2 and "on the same traffic" in lab.comparison.value
    lab.controls["seed"].value = 2  # a new seed: the run and its baseline with that seed
    assert lab.computed == 4
    lab.controls["seed"].value = 1
    lab.controls["relay_restriction"].value = False
    assert lab.computed == 4


def test_the_cache_keeps_only_its_size():
    calls: list[dict] = []

    def compute(values: dict) -> int:
        calls.append(values)
        return values["n"] * 2

    panel = Panel("cache", [{"name": "n", "type": "IntSlider", "value": 0, "min": 0, "max": 10}], compute,
                  lambda p, outcome: None, {}, cache=2)
    for n in (1, 2, 1, 3, 1, 2):
        panel.controls["n"].value = n
    # kept: 0 then {0,1} {1,2} {2,1} -> 3 drops 2 -> 1 kept -> 2 runs again
    assert [c["n"] for c in calls] == [0, 1, 2, 3, 2]
    assert panel.outcome == 4 and panel.cached({"n": 1}) and not panel.cached({"n": 0})
    assert values_key({"a": 1, "b": 2}) == values_key({"b": 2, "a": 1})


def test_a_panel_without_a_cache_runs_every_time():
    calls = []
    panel = Panel("no cache", [{"name": "on", "type": "Checkbox", "value": False}],
                  lambda v: calls.append(v) or v["on"], lambda p, outcome: None, {})
    panel.controls["on"].value = True
    panel.controls["on"].value = False
    assert len(calls) == 3 and panel.computed == 3


def test_a_view_only_control_redraws_the_kept_outcome_without_a_run():
    calls, drawn = [], []
    controls = [{"name": "n", "type": "IntSlider", "value": 0, "min": 0, "max": 10},
                {"name": "shown", "type": "Dropdown", "options": ["a", "b"], "value": "a"}]
    panel = Panel("view only", controls, lambda v: calls.append(v) or v["n"] * 2,
                  lambda p, outcome: drawn.append((outcome, p.values()["shown"])), {}, cache=4, view_only=("shown",))
    panel.controls["shown"].value = "b"
    assert len(calls) == 1 and drawn[-1] == (0, "b") and panel.runs == 2
    panel.controls["n"].value = 1
    panel.controls["shown"].value = "a"
    assert [c["n"] for c in calls] == [0, 1] and drawn[-1] == (2, "a")
    assert panel.cached({"n": 1, "shown": "b"})


def _slow_run_panel(busy_after):
    """A panel whose run reports progress, as ``simlab.scenarios.run`` does, and watches the busy state."""
    from simlab.scenarios.run import _PROGRESS

    seen: list[tuple[bool, bool]] = []

    def compute(values: dict) -> int:
        report = _PROGRESS.get()
        for part in range(1, PROGRESS_SLICES + 1):
            if report is not None:
                report(part / PROGRESS_SLICES)
            seen.append((panel.is_busy, panel.controls["n"].disabled) if panel_made else (False, False))
        return values["n"]

    panel_made = False
    panel = Panel("slow", [{"name": "n", "type": "IntSlider", "value": 0, "min": 0, "max": 10}], compute,
                  lambda p, outcome: None, {}, cache=4, busy_after=busy_after)
    panel_made = True
    seen.clear()
    return panel, seen


def test_a_run_past_busy_after_shows_the_busy_state_for_the_rest_of_it():
    panel, seen = _slow_run_panel(busy_after=0.0)  # every run is past it at its first report
    moves = []
    panel.progress.observe(lambda change: moves.append(change["new"]), names="value")
    panel.controls["n"].value = 1
    assert seen and all(busy and disabled for busy, disabled in seen)
    assert moves[-1] == 1.0 and not panel.is_busy and not panel.controls["n"].disabled
    assert panel.progress.layout.display == "none"
    seen.clear()
    panel.controls["n"].value = 0  # kept: no run, no busy state
    assert seen == [] and not panel.is_busy


def test_a_run_about_to_end_does_not_flash_the_busy_state(monkeypatch):
    import simlab.ui.common as common

    panel, seen = _slow_run_panel(busy_after=0.1)
    clock = iter([0.0, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.101])  # the start, then each report
    now = [0.0]

    def ticking() -> float:  # the wall clock as the panel reads it: one tick per progress report
        now[0] = next(clock, now[0])
        return now[0]

    monkeypatch.setattr(common.time, "perf_counter", ticking)
    panel.controls["n"].value = 1  # past 0.1 s only at 90 % done, about 11 ms to go: no busy state
    assert seen and not any(busy for busy, _disabled in seen)
    clock = iter([0.0, 0.05, 0.11])
    seen.clear()
    panel.controls["n"].value = 2  # past 0.1 s at 20 % done, with about 0.4 s to go: busy from there on
    assert [busy for busy, _disabled in seen] == [False, True, True, True, True, True, True, True, True, True]
    assert not panel.is_busy


def test_a_quick_run_never_shows_the_busy_state():
    panel, seen = _slow_run_panel(busy_after=3600.0)
    shown = []
    panel.progress.layout.observe(lambda change: shown.append(change["new"]), names="display")
    panel.controls["n"].value = 1
    assert seen and not any(busy for busy, _disabled in seen) and shown == []


def test_the_flood_panel_keeps_its_runs_by_what_they_ran_with(monkeypatch):
    made = []

    def counted(scenario, seed=0, **kwargs):
        made.append(seed)
        return run(scenario, seed=seed, **kwargs)

    monkeypatch.setattr(flood_module, "run", counted)
    lab = flood_lab()
    assert len(made) == 1
    lab.controls["connections"].value = 160
    lab.controls["connections"].value = 150
    lab.controls["connections"].value = 160
    assert len(made) == 2
    lab.controls["connection_limit"].value = 10  # not a setting of EIMS: the same run, kept
    assert len(made) == 2
    lab.controls["preset"].value = "postfix"  # Postfix with its own process limit, and its baseline: two runs
    assert len(made) == 4 and lab.outcome[3] == 100 and lab.controls["process_limit"].value == 100
    lab.controls["preset"].value = "eims-2.1"  # back to EIMS with its limit of 20: kept, and so is its baseline
    assert len(made) == 4 and lab.controls["process_limit"].value == 20 and lab.outcome[3] == 20


# --- the busy state -----------------------------------------------------------------------------------------


@pytest.fixture
def watched(box, monkeypatch):
    """Record, at each run of the sandbox, whether it is busy, which controls are disabled and whether the bar
    shows."""
    seen: list[tuple[bool, dict[str, bool], object]] = []
    compute = box.compute

    def watching(values):
        seen.append((box.is_busy, {n: c.disabled for n, c in box.controls.items()}, box.progress.layout.display))
        return compute(values)

    monkeypatch.setattr(box, "compute", watching)
    return seen


@pytest.fixture(scope="module")
def box():
    return sandbox()


def test_a_long_day_runs_with_the_controls_disabled_and_a_progress_bar(box, watched):
    assert not heavy_run(box.values()) and box.progress.layout.display == "none"
    enabled = {n: c.disabled for n, c in box.controls.items()}
    seen = watched
    moves: list[float] = []
    box.progress.observe(lambda change: moves.append(change["new"]), names="value")
    with box.quietly():
        box.controls["duration_hours"].value = 24
    box.controls["flooder"].value = True
    assert len(seen) == 1
    busy, disabled, bar = seen[0]
    assert busy and all(disabled.values()) and bar is None
    assert moves[-PROGRESS_SLICES:] == [n / PROGRESS_SLICES for n in range(1, PROGRESS_SLICES + 1)]
    assert {n: c.disabled for n, c in box.controls.items()} == enabled  # all undone after
    assert not box.is_busy and box.progress.layout.display == "none" and box.error is None
    assert box.outcome.hours == 24
    box.controls["flooder"].value = False  # 24 hours without the flooder: still a long day, a new run
    assert len(seen) == 2 and seen[-1][0]
    box.controls["flooder"].value = True  # kept: shown at once, with no run and no busy state
    assert len(seen) == 2 and not box.is_busy and box.outcome.hours == 24
    with box.quietly():
        box.controls["duration_hours"].value = 6
    box.controls["flooder"].value = False  # the lesson's six hours: kept from the start
    box.controls["seed"].value = 2  # six hours, a new seed: a run, not a busy one
    assert len(seen) == 3 and not seen[-1][0] and seen[-1][1] == enabled
    box.controls["seed"].value = 1


def test_the_busy_state_is_undone_after_a_bad_entry_and_after_a_failure(box):
    enabled = {n: c.disabled for n, c in box.controls.items()}
    with box.quietly():
        box.controls["duration_hours"].value = 24
        box.controls["router_filter"].value = "192.0.2.0/33"
    box.controls["flooder"].value = True  # heavy, and the entry is bad: a message, controls back
    assert "router_filter" in box.error and "Traceback" not in box.message.value
    assert {n: c.disabled for n, c in box.controls.items()} == enabled and not box.is_busy
    assert box.progress.layout.display == "none"
    with box.quietly():
        box.controls["router_filter"].value = ""
    compute = box.compute

    def broken(values):
        if values["flood_connections"] == 160:
            raise RuntimeError("the machine ran out of memory")
        return compute(values)

    box.compute = broken
    box.controls["flood_connections"].value = 160
    assert "simlab could not run these settings" in box.error
    assert {n: c.disabled for n, c in box.controls.items()} == enabled and not box.is_busy
    box.compute = compute
    with box.quietly():
        for name, value in (("flood_connections", 150), ("duration_hours", 6)):
            box.controls[name].value = value
    box.controls["flooder"].value = False
    assert box.error is None


def test_busy_keeps_what_the_product_disabled():
    lab = flood_lab()
    assert lab.controls["connection_limit"].disabled  # EIMS has no per-client limit
    with lab.busy("drawing"):
        assert all(c.disabled for c in lab.controls.values()) and lab.progress.description == "drawing"
        with lab.busy():  # nested: the outer block owns the state
            assert lab.is_busy
        assert lab.is_busy and all(c.disabled for c in lab.controls.values())
    assert lab.controls["connection_limit"].disabled and not lab.controls["connections"].disabled
    with pytest.raises(ConfigError), lab.busy():
        raise ConfigError("x", 1, "is bad", "good")
    assert not lab.controls["connections"].disabled and not lab.is_busy


# --- figures updated in place -------------------------------------------------------------------------------


def test_a_figure_view_keeps_one_figure_and_updates_it_in_place():
    days = {n: run(flood_day("eims-2.1", n, 1, None, 20), seed=1) for n in (150, 50)}
    view = FigureView(lambda figure, n: plots.flood_timeline(days[n], "flooder", figure=figure))
    view.show(150, key=150)
    figure, first = view.figure, bytes(view.widget.value)
    assert figure is not None and view.drawn == 1 and first[:8] == b"\x89PNG\r\n\x1a\n"
    view.show(50, key=50)  # new data on the same artists: the same Figure object
    assert view.figure is figure and view.drawn == 2 and bytes(view.widget.value) != first
    assert figure.get_layout_engine() is None  # fixed margins: no layout pass on a redraw
    view.show(150, key=150)  # back: the picture drawn before, not drawn again
    assert bytes(view.widget.value) == first and view.drawn == 2 and view.has(50) and not view.has(10)


def test_a_timeline_updated_in_place_shows_what_a_new_one_shows():
    eims = run(flood_day("eims-2.1", 150, 1, None, 20), seed=1)
    postfix = run(flood_day("postfix", 150, 1, 1, 100), seed=1)
    figure = plots.flood_timeline(eims, "flooder")
    again = plots.flood_timeline(postfix, "flooder", figure=figure)
    fresh = plots.flood_timeline(postfix, "flooder")
    assert again is figure and fresh is not figure

    def drawn(fig):
        ax, right = fig._simlab_flood["ax"], fig._simlab_flood["right"]
        return ([[bar.get_height() for bar in container] for container in ax.containers],
                [bar.get_x() for container in ax.containers for bar in container],
                list(right.get_lines()[0].get_ydata()), ax.get_ylim(), right.get_ylim(),
                ax.get_legend_handles_labels()[1], ax.get_title(loc="left"))

    assert drawn(again) == drawn(fresh)
    assert drawn(again)[6] == "postfix: what the flood cost, 10 minutes at a time"


def test_figure_view_draws_each_key_once():
    made = []

    def draw(figure, data):
        from matplotlib.figure import Figure

        figure = figure or Figure(figsize=(2, 1))
        made.append(data)
        figure.clear()
        figure.add_subplot().plot([0, data])
        return figure

    view = FigureView(draw)
    view.show(1, key="one")
    figure = view.figure
    view.show(2, key="two")
    view.show(1, key="one")
    assert made == [1, 2] and view.figure is figure and view.drawn == 2
    assert bytes(view.widget.value[:8]) == b"\x89PNG\r\n\x1a\n"


def test_show_picture_makes_each_picture_once():
    import ipywidgets as widgets
    from matplotlib.figure import Figure

    made = []
    panel = Panel("pictures", [{"name": "on", "type": "Checkbox", "value": False}], lambda v: v["on"],
                  lambda p, outcome: p.show_picture("chart", outcome, lambda: made.append(outcome) or Figure((1, 1))),
                  {"chart": widgets.Image(format="png")})
    panel.controls["on"].value = True
    panel.controls["on"].value = False
    assert made == [False, True] and bytes(panel.views["chart"].value[:4]) == b"\x89PNG"


# --- HTML bars ----------------------------------------------------------------------------------------------


def test_bars_html_has_one_bar_per_key_in_order_with_its_count():
    text = bars_html({"spam_relayed": 12, "legit_refused": 0, "x<y": 3}, ["spam_relayed", "legit_refused", "x<y"],
                     title="eims-2.1: one day & more")
    keys = [part.split("'")[0] for part in text.split("data-key='")[1:]]
    assert keys == ["spam_relayed", "legit_refused", html.escape("x<y")]
    assert "spam relayed" in text and "legitimate mail lost" in text  # the lessons' words for the keys
    assert ">12</span>" in text and ">0</span>" in text and "width:83.33%" in text  # the longest at 5/6
    assert "width:0.00%" in text and "eims-2.1: one day &amp; more" in text and "<y" not in text
    assert "class='simlab-summary'" not in text  # the browser tests read the summary table, not the bars
    empty = bars_html({}, ["spam_relayed"])
    assert ">0</span>" in empty and "width:0.00%" in empty


# --- the first view needs no events table -------------------------------------------------------------------


def test_event_rows_are_the_events_tables_rows():
    day = run(flood_day("postfix", 150, 3, 1, 100), seed=2)
    events = day.events
    chosen = events[(events.actor == "flooder") & events.command.isin(["CONNECT", "QUIT"])]
    rows = event_rows(day, actor="flooder", command=("CONNECT", "QUIT"))
    assert len(rows) == len(chosen) > 0
    assert [day.start + timedelta(seconds=row.time) for row in rows] == list(chosen.time)
    assert [(r.host, r.client_ip, r.outcome) for r in rows] == list(zip(chosen.host, chosen.client_ip,
                                                                       chosen.outcome, strict=True))
    assert len(event_rows(day)) == len(events) and event_rows(day, actor="nobody") == []


def test_the_spammers_sessions_and_the_flood_log_count_as_the_table_does():
    lab = rotation_lab()
    result = lab.outcome
    events = result.events
    connects = events[(events.actor == SPAMMER) & (events.command == "CONNECT")]
    sent = int(((events.actor == SPAMMER) & (events.command == ".") & (events.reply_code == 250)).sum())
    dropped = int(connects.outcome.isin(["filtered", "dropped", "refused"]).sum())
    text = spammer_sessions_html(result)
    assert (f"connected {len(connects)} times from {connects.client_ip.nunique()} addresses: {sent} messages "
            f"accepted, {len(connects) - dropped - sent} refused in the dialogue, {dropped} connections") in text
    day = run(flood_day("postfix", 150, 1, 50, 100), seed=1)
    attack = day.events[day.events.actor == FLOODER].time
    end = f"{attack.max():%H:%M}"
    assert f"to {end})" in flood_log_html(day)


# --- charts the browser draws (SVG) ------------------------------------------------------------------------


def test_nice_ticks_are_whole_numbers_from_zero_past_the_top():
    assert nice_ticks(0) == [0, 1] and nice_ticks(5) == [0, 1, 2, 3, 4, 5]
    assert nice_ticks(13) == [0, 5, 10, 15] and nice_ticks(141) == [0, 50, 100, 150]
    assert all(len(nice_ticks(n)) <= 7 and nice_ticks(n)[-1] >= n for n in range(0, 5000, 7))


def test_steps_svg_steps_after_each_value_and_says_what_it_shows():
    series = [Steps("spam relayed", [0, 1, 2], [3, 0, 1], "#edae49"), Steps("nothing", [0, 1, 2], [0, 0, 0], "#000")]
    svg = steps_svg(series, (0, 2), [(0, "01:00"), (2, "03:00")], ylabel="per hour", title="a day",
                    rules=[Rule(1.5, "#66a182", "fail2ban ban")],
                    marks=[Mark(1, 0, "#8f2d56", "bob 02:00", "broken into")])
    texts = svg_texts(svg)
    assert texts[0] == "a day" and {"01:00", "03:00", "per hour", "spam relayed", "fail2ban ban", "broken into",
                                    "bob 02:00"} <= set(texts)
    assert "nothing" not in texts  # a series that is 0 all along is left out, as the matplotlib figure does
    path = re.search(r"<path d='(M[^']*)' fill='none' stroke='#edae49'", svg)[1]
    assert re.fullmatch(r"M[\d.]+,[\d.]+ H[\d.]+ V[\d.]+ H[\d.]+ V[\d.]+", path)  # across, down, across, up
    empty = steps_svg([], (0, 1), [])
    assert empty.startswith("<svg") and empty.endswith("</svg>")


def test_sequence_svg_draws_one_arrow_per_line_in_the_lessons_colours():
    lines = ["S: 220 mail.example.com ESMTP", "C: MAIL FROM:<a@b.test>", "S: 554 5.7.1 Relay access denied",
             "(the connection closed)", "C: " + "X" * 80]
    svg = sequence_svg(lines, client="203.0.113.50", server="Postfix 3.7", title="a & b")
    assert svg.count("marker-end=") == 4 and "(the connection closed)" not in svg
    assert "stroke='#d1495b' stroke-width='1.2' marker-end='url(#simlab-arrow-no)'" in svg  # the refusal in red
    assert "X" * 67 + "..." in svg and "a &amp; b" in svg and "MAIL FROM:&lt;a@b.test&gt;" in svg


def test_the_flood_timeline_svg_draws_the_figures_counts():
    day = run(flood_day("eims-2.1", 150, 1, None, 20), seed=1)
    data = plots.flood_series(day, FLOODER, 10)
    svg = flood_timeline_svg(day)
    bars = sum(int(value > 0) for values in data["series"].values() for value in values)
    assert svg.count("<rect") == bars + 1 + 4  # the bars, the shaded flood, four legend keys (shade and bars)
    assert svg.count("fill='#edae49'") == 1 + int((data["series"]["legitimate connections refused"] > 0).sum())
    assert {"02:30", "04:00", "the flood", "flooder refused", "per 10 minutes"} <= set(svg_texts(svg))


def test_the_guessing_timeline_svg_counts_what_the_figure_draws():
    lab = password_lab()
    lab.controls["fail2ban"].value = True
    result = lab.outcome
    figure = guessing_timeline(result)
    drawn = {line.get_label(): list(line.get_ydata()) for line in figure.axes[0].get_lines()
             if line.get_label().startswith(("guesser", "staff"))}
    counted = {s.label: list(s.values) for s in guessing_series(result) if any(s.values)}
    assert counted == drawn and len(drawn) == 3


def test_the_sandbox_timeline_svg_bins_by_clock_hour_as_the_table_does(box):
    result = box.outcome.result
    table = result.series("1h")
    svg = readable_timeline_svg(result, title="t")
    hours = [f"{moment:%H:%M}" for moment in table.index]
    assert [t for t in svg_texts(svg) if re.fullmatch(r"\d\d:\d\d", t)] == hours[::max(1, -(-len(hours) // 8))]
    shown = [key for key in ("spam_relayed", "spam_refused", "legit_refused", "bans", "log_lines") if key in table]
    assert [t for t in svg_texts(svg) if t in TIMELINE_LABELS.values()] == [TIMELINE_LABELS[k] for k in shown]


def test_the_first_panel_leaves_what_is_loaded_out_of_later_collections(monkeypatch):
    import gc

    import simlab.ui.common as common

    monkeypatch.setattr(common, "_frozen", False)
    gc.unfreeze()
    assert gc.get_freeze_count() == 0
    try:
        Panel("first", [{"name": "on", "type": "Checkbox", "value": False}], lambda v: v["on"],
              lambda p, outcome: None, {})
        frozen = gc.get_freeze_count()
        assert frozen > 1000  # the libraries imported, at least
        Panel("second", [{"name": "on", "type": "Checkbox", "value": False}], lambda v: v["on"],
              lambda p, outcome: None, {})
        assert gc.get_freeze_count() == frozen  # once per kernel
    finally:
        gc.unfreeze()

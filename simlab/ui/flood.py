"""Lesson 06 panel: a connection flood against each product's process limit and Postfix's per-client limit.

The thread's remark that being knocked offline is scarier than an intrusion,
played out: a flooder holds silent SMTP connections open until the server's
process limit is full, and staff and correspondents are refused with it.
Postfix's ``smtpd_client_connection_count_limit`` caps one address, not many;
set too low, it refuses the provider's parallel deliveries too.
"""

from __future__ import annotations

import html
from datetime import timedelta
from typing import NamedTuple

import ipywidgets as widgets

from simlab import plots, products
from simlab.engine.result import Result
from simlab.exercises.flood import (
    ATTACK_START,
    FLOODER,
    POSTFIX_CONNECTION_LIMIT,
    FloodTally,
    flood_day,
    flood_tally,
)
from simlab.i18n import t, tn
from simlab.plots import costs_figure
from simlab.scenarios import run
from simlab.ui.charts import Bars, Steps, binned_svg
from simlab.ui.common import (
    Panel,
    bars_html,
    enable_by_product,
    log_html,
    product_menu,
    summary_html,
)

__all__ = ["flood_lab", "costs_figure", "flood_timeline", "flood_timeline_svg", "flood_log_html", "outcome_counts",
           "outcome_line", "KEYS", "FloodRun", "BUSY_FROM_CONNECTIONS",
           "BUSY_FROM_ANSWERED", "heavy_flood"]

#: What the outcome chart shows: three of the run's summary keys, and two counts of refused connections.
KEYS = ("legit_delivered", "legit_refused", "legit_logins_refused", "legitimate connections refused",
        "flooder's connections refused")


def outcome_counts(result, tally: FloodTally | None = None) -> dict[str, int]:
    """The counts the lesson charts: mail delivered and lost, logins and connections refused (``tally``: the
    run's :func:`~simlab.exercises.flood.flood_tally`, if counted already)."""
    refused = (tally or flood_tally(result)).refused
    s = result.summary
    return {"legit_delivered": s["legit_delivered"], "legit_refused": s["legit_refused"],
            "legit_logins_refused": s["legit_logins_refused"],
            "legitimate connections refused": sum(n for who, n in refused.items() if who != FLOODER),
            "flooder's connections refused": refused.get(FLOODER, 0)}


def outcome_line(result) -> str:
    """The counts in one line of words."""
    c = outcome_counts(result)
    flooder = c["flooder's connections refused"]
    return t("ui.flood.outcome_line", delivered=c["legit_delivered"], lost=c["legit_refused"],
             logins=c["legit_logins_refused"], connections=c["legitimate connections refused"], flooder=flooder)


def flood_timeline(result, minutes: int = 10, title: str = "", figure=None):
    """What the flood cost, ``minutes`` at a time: :func:`simlab.plots.flood_timeline` with lesson 06's flooder
    (``figure``: one it drew before, updated in place)."""
    return plots.flood_timeline(result, flooder=FLOODER, minutes=minutes, title=title, figure=figure)

def flood_timeline_svg(result, minutes: int = 10, title: str = "") -> str:
    """:func:`flood_timeline` as the browser draws it (SVG, for the panel): the same bars, colours, right-hand
    axis, shaded attack and legend, made in a millisecond or two instead of a quarter of a second."""
    data = plots.flood_series(result, FLOODER, minutes)
    start, step, count = result.start, data["step"], data["count"]
    half_hour = start.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=30)
    while half_hour < start:
        half_hour += timedelta(minutes=30)
    ticks = []
    while (half_hour - start).total_seconds() <= count * step:
        ticks.append(((half_hour - start).total_seconds() / step, f"{half_hour:%H:%M}"))
        half_hour += timedelta(minutes=30)
    attack = data["attack"]
    shade = tuple((moment - start).total_seconds() / step for moment in attack) if attack else None
    bars = [Bars(plots.LABELS.get(name, name), values, plots.FLOOD_COLOURS[name])
            for name, values in data["series"].items()]
    right = Steps(t("plots.flood.flooder_refused_right"), list(range(count)), list(data["flooded"]), "#7d7d7d")
    return binned_svg(bars, count, ticks, ylabel=t("plots.per_minutes", minutes=minutes), right=right,
                      right_label=t("plots.flood.flooder_refused"), shade=shade,
                      shade_label=t("plots.flood.the_flood"),
                      title=title or t("plots.flood.title", preset=result.preset, minutes=minutes))


class FloodRun(NamedTuple):
    """One run of the panel: the day, the limits it ran with, and its events counted once for every view."""

    result: Result
    limit_used: bool  # whether the product has the per-client limit (else the slider was not applied)
    connection_limit: int
    process_limit: int
    tally: FloodTally


#: Runs the panel keeps, by their settings: a toggle back is not run again.
KEPT_RUNS = 32
#: From this many flooder's connections a run takes a tenth of a second or more: the panel shows its busy state.
BUSY_FROM_CONNECTIONS = 250
#: ... and so it does from this many of them answered at once (the smaller of the flood and the process limit):
#: each answered connection is a new session every idle timeout (Postfix's defaults: 100 answered, some 2,500
#: sessions in the four hours, about 0.13 s on the reference machine, against 0.04 s for EIMS 2.1's 20).
BUSY_FROM_ANSWERED = 60


def heavy_flood(values: dict) -> bool:
    """Whether the panel's ``values`` make a run long enough to show its busy state for (a cost estimate)."""
    connections = values["connections"]
    return connections >= BUSY_FROM_CONNECTIONS or min(connections, values["process_limit"]) >= BUSY_FROM_ANSWERED


def flood_log_html(result, lines: int = 200, tally: FloodTally | None = None) -> str:
    """The server log from the moment the flood began, as the admin would scroll to it.

    When the server wrote nothing during the flood (EIMS, SIMS), says so and shows the first
    lines after it ended, with their clock time, so that they are not taken for the flood's.
    ``tally``: the run's :func:`~simlab.exercises.flood.flood_tally`, if counted already.
    """
    records = result.server.log_records
    last = (tally or flood_tally(result)).flooder_last
    # in whole microseconds, as the events table's clock times have it
    end = timedelta(seconds=last).total_seconds() if last is not None else ATTACK_START
    begin_clock = (result.start + timedelta(seconds=ATTACK_START)).strftime("%H:%M")
    end_clock = (result.start + timedelta(seconds=end)).strftime("%H:%M")
    during = [line for moment, line in records if ATTACK_START - 1.0 <= moment <= end]
    counts = t("ui.flood.log_counts", lines=len(records), start=result.start.strftime("%H:%M"), during=len(during),
               begin=begin_clock, end=end_clock)
    head = "<p style='font-size:12px;margin:2px 0'>" + html.escape(counts)
    if during:
        shown = during[:lines]
        head += html.escape(t("ui.flood.log_first_of_flood", count=len(shown))) + "</p>"
    else:
        shown = [line for moment, line in records if moment > end][:lines]
        head += html.escape(t("ui.flood.log_end")) + "</p>"
        head += ("<p style='font-size:12px;margin:2px 0;color:#b00020'>" + t("ui.flood.log_silent")
                 + "</p>")
        if shown:
            after = "<b>" + t("ui.flood.after") + "</b>"
            head += ("<p style='font-size:12px;margin:2px 0'>"
                     + tn("ui.flood.log_after", len(shown), after=after, end=end_clock) + "</p>")
    return head + log_html(shown, highlight=r"too many connections|refused|[Ll]imit", limit=lines)


def _details_html(result, limit_used: bool, connection_limit: int, process_limit: int, tally: FloodTally) -> str:
    refused, burst_refused, minutes = tally.refused, tally.burst_refused, tally.burst_minutes
    if limit_used:
        none = t("ui.flood.no_client_limit")
        limit = t("ui.flood.client_limit", limit=connection_limit or none)
    else:
        limit = t("ui.flood.client_limit_not_setting", product=result.preset)
    rows = ["<li>" + html.escape(t("ui.flood.process_limit_row", limit=process_limit)) + "</li>",
            "<li>" + html.escape(limit) + "</li>"]
    rows += ["<li>" + html.escape(tn("ui.flood.refused_row", n, who=who)) + "</li>"
             for who, n in sorted(refused.items()) if who not in (FLOODER,)]
    if burst_refused:
        late = tn("ui.flood.burst_refused", burst_refused)
        rows.append("<li>" + t("ui.flood.burst_late", refused="<b style='color:#b00020'>" + late + "</b>",
                               minutes=round(minutes)) + "</li>")
    else:
        rows.append("<li>" + t("ui.flood.burst_ok") + "</li>")
    return f"<ul style='font-size:12px;margin:6px 0 0;padding-left:18px'>{''.join(rows)}</ul>"


def flood_lab(preset: str = "eims-2.1", seed: int = 1) -> Panel:
    """A connection flood against the server you choose (four hours; the flood runs from one to three hours in).

    Controls: the product, the flooder's connections and addresses, the per-client
    connection limit (Postfix's ``smtpd_client_connection_count_limit``; the slider is disabled
    for the products without one; 0 means no limit), the process limit (reset to the product's own
    when you change the product),
    and the seed. Views: the outcome chart, the timeline of the attack (drawn when its tab
    is opened, as an SVG the browser draws), and the server log. Runs are kept by
    their settings (a toggle back is not run again), each with its events counted once for
    every view (:func:`~simlab.exercises.flood.flood_tally`); a run of many connections shows the
    busy state meanwhile (:func:`heavy_flood`).
    """
    limited = products.CLIENT_CONNECTION_LIMIT

    def process_limit_of(name: str) -> int:
        return products.get(name).smtp_process_limit

    # a preset the menu lacks: the panel says so (Panel refuses it) and starts on its default
    start = preset if preset in products.names() else "eims-2.1"
    owners = "; ".join(f"{p.label} {p.setting_label(p.connection_limit_setting)}"
                       for p in products.with_capability(limited))

    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(), "value": preset,
         "description": t("ui.common.server"), "fallback": "eims-2.1"},
        {"name": "connections", "type": "IntSlider", "value": 150, "min": 10, "max": 400, "step": 10,
         "description": t("ui.flood.connections")},
        {"name": "flooder_ips", "type": "IntSlider", "value": 1, "min": 1, "max": 50,
         "description": t("ui.flood.flooder_ips")},
        {"name": "connection_limit", "type": "IntSlider", "value": POSTFIX_CONNECTION_LIMIT, "min": 0, "max": 200,
         "description": t("ui.flood.connection_limit", settings=owners)},
        {"name": "process_limit", "type": "IntSlider", "value": process_limit_of(start), "min": 1, "max": 300,
         "description": t("ui.flood.process_limit")},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20, "description": t("ui.common.seed")},
    ]
    shown = {"result": None}
    runs: dict[tuple, FloodRun] = {}

    def compute(v: dict):
        name = v["preset"]
        process_limit = v["process_limit"]  # a new product has set it to its own already (preset_changed below)
        limit_used = products.get(name).can(limited)
        key = (name, v["connections"], v["flooder_ips"], v["connection_limit"] if limit_used else None,
               process_limit, v["seed"])
        # the runs are kept by what they ran with (the process limit as used): a toggle back is not run again
        if key not in runs:
            result = run(flood_day(*key[:5]), seed=v["seed"])
            runs[key] = FloodRun(result, limit_used, v["connection_limit"], process_limit, flood_tally(result))
            while len(runs) > KEPT_RUNS:
                runs.pop(next(iter(runs)))
        return runs[key]

    views = {"outcome": widgets.HBox([widgets.HTML(), widgets.HTML()]),
             "timeline": widgets.HTML(), "server log": widgets.HTML()}
    titles = {"outcome": t("ui.common.tab.outcome"), "timeline": t("ui.flood.tab.timeline"),
              "server log": t("ui.common.tab.server_log")}
    timeline_tab = list(views).index("timeline")

    def draw_timeline(panel: Panel) -> None:
        if shown["result"] is not None:  # drawn by the browser: a millisecond or two, not a quarter of a second
            panel.views["timeline"].value = flood_timeline_svg(shown["result"])
            shown["result"] = None

    def render(panel: Panel, outcome: FloodRun) -> None:
        result, limit_used, connection_limit, process_limit, tally = outcome
        counts = outcome_counts(result, tally)
        chart, table = panel.views["outcome"].children
        chart.value = bars_html(counts, KEYS, title=t("ui.flood.chart_title", preset=result.preset,
                                                      connections=panel.controls["connections"].value))
        table.value = (summary_html(counts, KEYS)
                       + _details_html(result, limit_used, connection_limit, process_limit, tally))
        panel.views["server log"].value = flood_log_html(result, tally=tally)
        shown["result"] = result
        if panel.tabs.selected_index == timeline_tab:
            draw_timeline(panel)

    # the process limit follows the product, so the comparison keeps it too: it shows what the attack's size and
    # the per-client limit change on the same server
    panel = Panel(t("ui.flood.title"), controls, compute, render, views,
                  compare_keep=("preset", "seed", "process_limit"),
                  heavy=heavy_flood, titles=titles)

    def preset_changed(change) -> None:  # before the panel's run: a new product brings its own process limit
        panel.controls["process_limit"].value = process_limit_of(change["new"])

    def tab_opened(change) -> None:
        if change["new"] == timeline_tab:
            draw_timeline(panel)

    enable_by_product(panel, {"connection_limit": lambda p: p.can(limited)})
    panel.follow("preset", preset_changed)
    panel.tabs.observe(tab_opened, names="selected_index")
    return panel

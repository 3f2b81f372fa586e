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

import ipywidgets as widgets

from simlab import plots, products
from simlab.exercises.flood import (
    ATTACK_START,
    FLOODER,
    POSTFIX_CONNECTION_LIMIT,
    burst_delivery,
    flood_day,
    refused_connections,
)
from simlab.plots import costs_figure, outcome_bars
from simlab.scenarios import run
from simlab.ui.common import Panel, enable_by_product, log_html, product_menu, summary_html

__all__ = ["flood_lab", "costs_figure", "flood_timeline", "flood_log_html", "outcome_counts", "outcome_line", "KEYS"]

#: What the outcome chart shows: three of the run's summary keys, and two counts of refused connections.
KEYS = ("legit_delivered", "legit_refused", "legit_logins_refused", "legitimate connections refused",
        "flooder's connections refused")


def outcome_counts(result) -> dict[str, int]:
    """The counts the lesson charts: mail delivered and lost, logins and connections refused."""
    refused = refused_connections(result)
    s = result.summary
    return {"legit_delivered": s["legit_delivered"], "legit_refused": s["legit_refused"],
            "legit_logins_refused": s["legit_logins_refused"],
            "legitimate connections refused": sum(n for who, n in refused.items() if who != FLOODER),
            "flooder's connections refused": refused.get(FLOODER, 0)}


def outcome_line(result) -> str:
    """The counts in one line of words."""
    c = outcome_counts(result)
    flooder = c["flooder's connections refused"]
    return (f"mail delivered {c['legit_delivered']}, lost {c['legit_refused']}; staff logins refused "
            f"{c['legit_logins_refused']}; legitimate connections refused {c['legitimate connections refused']}, "
            f"the flooder's {flooder}")


def flood_timeline(result, minutes: int = 10, title: str = ""):
    """What the flood cost, ``minutes`` at a time: :func:`simlab.plots.flood_timeline` with lesson 06's flooder."""
    return plots.flood_timeline(result, flooder=FLOODER, minutes=minutes, title=title)


def flood_log_html(result, lines: int = 200) -> str:
    """The server log from the moment the flood began, as the admin would scroll to it.

    When the server wrote nothing during the flood (EIMS, SIMS), says so and shows the first
    lines after it ended, with their clock time, so that they are not taken for the flood's.
    """
    records = result.server.log_records
    attack = result.events[result.events.actor == FLOODER].time
    end = (attack.max() - result.start).total_seconds() if len(attack) else ATTACK_START
    begin_clock = f"{result.start + timedelta(seconds=ATTACK_START):%H:%M}"
    end_clock = f"{result.start + timedelta(seconds=end):%H:%M}"
    during = [line for t, line in records if ATTACK_START - 1.0 <= t <= end]
    head = (f"<p style='font-size:12px;margin:2px 0'>{len(records)} log lines in four hours (the run starts at "
            f"{result.start:%H:%M}), {len(during)} of them during the flood ({begin_clock} to {end_clock})")
    if during:
        shown = during[:lines]
        head += f"; here the first {len(shown)} from its start.</p>"
    else:
        shown = [line for t, line in records if t > end][:lines]
        head += ".</p>"
        head += ("<p style='font-size:12px;margin:2px 0;color:#b00020'>The server wrote nothing while it was "
                 "flooded: silent connections and connections refused at the process limit leave no line in "
                 "this product's log. The admin hears about it from the users.</p>")
        if shown:
            head += (f"<p style='font-size:12px;margin:2px 0'>Below: the first {len(shown)} lines <b>after</b> the "
                     f"flood ended ({end_clock}).</p>")
    return head + log_html(shown, highlight=r"too many connections|refused|[Ll]imit", limit=lines)


def _details_html(result, limit_used: bool, connection_limit: int, process_limit: int) -> str:
    refused = refused_connections(result)
    burst_refused, minutes = burst_delivery(result)
    rows = [f"<li>process limit: {process_limit} connections at once</li>",
            f"<li>per-client limit: {connection_limit or 'none (0)'}</li>" if limit_used else
            f"<li>per-client limit: not a setting of {html.escape(result.preset)}</li>"]
    rows += [f"<li>{html.escape(who)}: {n} connection(s) refused</li>" for who, n in sorted(refused.items())
             if who not in (FLOODER,)]
    if burst_refused:
        rows.append(f"<li><b style='color:#b00020'>the provider's 10 parallel deliveries were refused "
                    f"{burst_refused} time(s)</b>; its last message arrived {minutes:.0f} min late</li>")
    else:
        rows.append("<li>the provider's 10 parallel deliveries went straight in</li>")
    return f"<ul style='font-size:12px;margin:6px 0 0;padding-left:18px'>{''.join(rows)}</ul>"


def flood_lab(preset: str = "eims-2.1", seed: int = 1) -> Panel:
    """A connection flood against the server you choose (four hours; the flood runs from one to three hours in).

    Controls: the product, the flooder's connections and addresses, the per-client
    connection limit (Postfix's ``smtpd_client_connection_count_limit``; the slider is disabled
    for the products without one; 0 means no limit), the process limit (reset to the product's own
    when you change the product),
    and the seed. Views: the outcome chart, the timeline of the attack (drawn when its tab
    is opened), and the server log.
    """
    limited = products.CLIENT_CONNECTION_LIMIT

    def process_limit_of(name: str) -> int:
        return products.get(name).smtp_process_limit

    # a preset the menu lacks: the panel says so (Panel refuses it) and starts on its default
    start = preset if preset in products.names() else "eims-2.1"

    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(), "value": preset, "description": "server",
         "fallback": "eims-2.1"},
        {"name": "connections", "type": "IntSlider", "value": 150, "min": 10, "max": 400, "step": 10,
         "description": "flooder's connections"},
        {"name": "flooder_ips", "type": "IntSlider", "value": 1, "min": 1, "max": 50,
         "description": "flooder's addresses"},
        {"name": "connection_limit", "type": "IntSlider", "value": POSTFIX_CONNECTION_LIMIT, "min": 0, "max": 200,
         "description": "per-client limit (" + "; ".join(
             f"{p.label} {p.setting_label(p.connection_limit_setting)}" for p in products.with_capability(limited))
                        + ")"},
        {"name": "process_limit", "type": "IntSlider", "value": process_limit_of(start), "min": 1, "max": 300,
         "description": "process limit (connections at once)"},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20},
    ]
    shown = {"preset": start, "result": None}

    def compute(v: dict):
        name = v["preset"]
        process_limit = v["process_limit"]
        if name != shown["preset"]:  # a new product brings its own process limit (the slider follows below)
            process_limit = process_limit_of(name)
            shown["preset"] = name
        limit_used = products.get(name).can(limited)
        key = (name, v["connections"], v["flooder_ips"], v["connection_limit"] if limit_used else None,
               process_limit, v["seed"])
        if shown.get("key") != key:
            scenario = flood_day(*key[:5])
            shown["key"], shown["last"] = key, (run(scenario, seed=v["seed"]), limit_used, v["connection_limit"],
                                                process_limit)
        return shown["last"]

    views = {"outcome": widgets.HBox([widgets.Image(format="png"), widgets.HTML()]),
             "timeline": widgets.Image(format="png"), "server log": widgets.HTML()}
    timeline_tab = list(views).index("timeline")

    def draw_timeline(panel: Panel) -> None:
        if shown["result"] is not None:
            panel.set_figure(panel.views["timeline"], flood_timeline(shown["result"]))
            shown["result"] = None

    def render(panel: Panel, outcome) -> None:
        result, limit_used, connection_limit, process_limit = outcome
        counts = outcome_counts(result)
        chart, table = panel.views["outcome"].children
        panel.set_figure(chart, outcome_bars(counts, KEYS, title=f"{result.preset}: four hours, a flood of "
                                                                  f"{panel.controls['connections'].value}"))
        table.value = (summary_html(counts, KEYS)
                       + _details_html(result, limit_used, connection_limit, process_limit))
        panel.views["server log"].value = flood_log_html(result)
        shown["result"] = result
        if panel.tabs.selected_index == timeline_tab:
            draw_timeline(panel)

    # the process limit follows the product, so the comparison keeps it too: it shows what the attack's size and
    # the per-client limit change on the same server
    panel = Panel("Knocked offline: a connection flood", controls, compute, render, views,
                  compare_keep=("preset", "seed", "process_limit"))

    def preset_changed(change) -> None:
        with panel.quietly():  # the run above already used the product's own process limit
            panel.controls["process_limit"].value = process_limit_of(change["new"])

    def tab_opened(change) -> None:
        if change["new"] == timeline_tab:
            draw_timeline(panel)

    enable_by_product(panel, {"connection_limit": lambda p: p.can(limited)})
    panel.controls["preset"].observe(preset_changed, names="value")
    panel.tabs.observe(tab_opened, names="selected_index")
    return panel

"""Lesson 02 panel (S2, S3): the open-relay probe against each product and its relay settings."""

from __future__ import annotations

import re

import ipywidgets as widgets

from simlab.plots import outcome_bars, to_png
from simlab.scenarios import relay_probe, run
from simlab.ui.common import Panel, log_html, summary_html, transcript_html

__all__ = ["relay_lab", "PRESET_CHOICES", "split_list", "probe_log_lines", "probe_lines_per_hour"]

PRESET_CHOICES = [("EIMS 1.2", "eims-1.2"), ("EIMS 2.1", "eims-2.1"), ("SIMS", "sims"), ("Postfix 3.7", "postfix")]
KEYS = ("spam_relayed", "spam_refused", "bounces_to_postmaster", "legit_delivered", "legit_refused")


def split_list(text: str) -> list[str]:
    """``"a, b c"`` -> ``["a", "b", "c"]``: what a student types in a list field."""
    return [item for item in text.replace(",", " ").split() if item]


#: Log lines that belong to the probe: its domain, and the returns it caused.
PROBE_LINE = re.compile(r"survey\.test|returning to sender|Returned message")


def probe_log_lines(result) -> list[str]:
    """The server's log lines the probe cost: those naming ``survey.test``, and the returns it caused."""
    return [line for line in result.log if PROBE_LINE.search(line)]


def probe_lines_per_hour(result, title: str = ""):
    """Log lines per hour, the probe's apart from everyone else's, on a y-axis that starts at 0."""
    from matplotlib.figure import Figure

    class _Shown(Figure):
        def _repr_png_(self) -> bytes:
            return to_png(self)

    start = result.start.replace(minute=0, second=0, microsecond=0)
    offset = (result.start - start).total_seconds()
    records = [(int((seconds + offset) // 3600), line) for seconds, line in result.server.log_records]
    hours = max((hour for hour, _line in records), default=0) + 1
    probe, other = [0] * hours, [0] * hours
    for hour, line in records:
        (probe if PROBE_LINE.search(line) else other)[hour] += 1
    fig = _Shown(figsize=(7.0, 3.0), layout="constrained")
    ax = fig.add_subplot()
    xs = list(range(hours))
    ax.bar(xs, other, color="#9bb1c4", label="everyone else's lines")
    ax.bar(xs, probe, bottom=other, color="#d1495b", label="the probe's lines")
    ax.set_xticks(xs[::2], [f"{(start.hour + h) % 24}:00" for h in xs[::2]], rotation=45, ha="right", fontsize=8)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("log lines per hour")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    return fig


def relay_lab(preset: str = "eims-1.2", seed: int = 1) -> Panel:
    """The relay probe of the thread against a server you configure.

    Controls: the product, EIMS 2.1's Relay Restriction and its domain list, SIMS's Client
    Hosts, Postfix's mynetworks, how long the server keeps retrying, and the seed. Views: a
    chart of what got through, the server log as the admin saw it, the probe's dialogue, and
    postmaster's mailbox.
    """
    controls = [
        {"name": "preset", "type": "Dropdown", "options": PRESET_CHOICES, "value": preset,
         "description": "server"},
        {"name": "relay_restriction", "type": "Checkbox", "value": False,
         "description": "Relay Restriction (EIMS 2.1)"},
        {"name": "relay_domains", "type": "Text", "value": "", "placeholder": "partner.test",
         "description": "...and the following domains (EIMS 2.1)"},
        {"name": "client_hosts", "type": "Text", "value": "192.0.2.0/24", "description": "Client Hosts (SIMS)"},
        {"name": "mynetworks", "type": "Text", "value": "192.0.2.0/24", "description": "mynetworks (Postfix)"},
        {"name": "queue_hours", "type": "IntSlider", "value": 4, "min": 1, "max": 12,
         "description": "hours before mail is returned"},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20},
    ]

    def compute(v: dict):
        name = v["preset"]
        scenario = relay_probe(preset=name, relay_restriction=v["relay_restriction"] and name == "eims-2.1",
                               queue_lifetime=v["queue_hours"] * 3600.0)
        if name == "eims-2.1":
            scenario.settings["relay_domains"] = split_list(v["relay_domains"])
        elif name == "sims":
            scenario.settings["client_hosts"] = split_list(v["client_hosts"])
        elif name == "postfix":
            scenario.settings["mynetworks"] = split_list(v["mynetworks"])
        return run(scenario, seed=v["seed"])

    views = {"outcome": widgets.HBox([widgets.Image(format="png"), widgets.HTML()]),
             "server log": widgets.HTML(), "the probe's dialogue": widgets.HTML(),
             "postmaster's mailbox": widgets.HTML()}

    def render(panel: Panel, result) -> None:
        chart, table = panel.views["outcome"].children
        panel.set_figure(chart, outcome_bars(result.summary, KEYS, title=f"{result.preset}: one day"))
        table.value = summary_html(result.summary, KEYS)
        panel.views["server log"].value = log_html(result.log, highlight=r"timed out|[Rr]elay|survey|returned")
        panel.views["the probe's dialogue"].value = transcript_html(result.transcript("relay survey"))
        box = result.server.mailboxes.get("postmaster", [])
        panel.views["postmaster's mailbox"].value = (
            transcript_html([f"   {line}" for line in box[0].lines[:60]]) if box else
            "<p>postmaster's mailbox is empty: no bounce came back.</p>")

    return Panel("The open-relay probe (S2, S3)", controls, compute, render, views)

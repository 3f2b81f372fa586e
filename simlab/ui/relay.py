"""Lesson 02 panel (S2, S3): the open-relay probe against each product and its relay settings."""

from __future__ import annotations

import html

import ipywidgets as widgets

from simlab import products
from simlab.addresses.networks import parse_networks
from simlab.exercises.common import split_list
from simlab.i18n import t
from simlab.plots import PROBE_LINE, probe_lines_per_hour
from simlab.scenarios import relay_probe, run
from simlab.ui.common import (
    Panel,
    allowlist_controls,
    bars_html,
    enable_by_product,
    log_html,
    product_menu,
    setting_description,
    summary_html,
    transcript_html,
)

__all__ = ["relay_lab", "split_list", "probe_log_lines", "probe_lines_per_hour", "PROBE_LINE"]

KEYS = ("spam_relayed", "spam_refused", "bounces_to_postmaster", "legit_delivered", "legit_refused")


def probe_log_lines(result) -> list[str]:
    """The server's log lines the probe cost: those naming ``survey.test``, and the returns it caused."""
    return [line for line in result.log if PROBE_LINE.search(line)]


def relay_lab(preset: str = "eims-1.2", seed: int = 1) -> Panel:
    """The relay probe of the thread against a server you configure.

    Controls: the product (every registered one), the relay rule on the sender's domain and its
    domain list (EIMS 2.1's Relay Restriction), the allow-list of each product that relays by the
    client's address (SIMS's Client Hosts, Postfix's mynetworks), how long the server keeps
    retrying, and the seed; a control is enabled only for the products it applies to. Views: a
    chart of what got through, the server log as the admin saw it, the probe's dialogue, and
    postmaster's mailbox.
    """
    by_sender = products.RELAY_BY_SENDER_DOMAIN
    allowlists = allowlist_controls("192.0.2.0/24")
    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(), "value": preset,
         "description": t("ui.common.server"), "fallback": "eims-1.2"},
        {"name": "relay_restriction", "type": "Checkbox", "value": False,
         "description": setting_description(by_sender, lambda p: "relay_restriction")},
        {"name": "relay_domains", "type": "Text", "value": "", "placeholder": "partner.test",
         "description": setting_description(by_sender, lambda p: "relay_domains")},
        *allowlists,
        {"name": "queue_hours", "type": "IntSlider", "value": 4, "min": 1, "max": 12,
         "description": t("ui.relay.queue_hours")},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20, "description": t("ui.common.seed")},
    ]

    def compute(v: dict):
        product = products.get(v["preset"])
        by_domain = product.can(by_sender)
        scenario = relay_probe(preset=product.name, relay_restriction=v["relay_restriction"] and by_domain,
                               queue_lifetime=v["queue_hours"] * 3600.0)
        if by_domain:
            scenario.settings.update(product.relay_restriction(v["relay_restriction"], split_list(v["relay_domains"])))
        elif product.relay_allowlist_by_default:
            setting = product.relay_allowlist_setting
            scenario.settings.update(product.relay_allowlist(parse_networks(v[setting], setting)))
        return run(scenario, seed=v["seed"])

    views = {"outcome": widgets.HBox([widgets.HTML(), widgets.HTML()]),
             "server log": widgets.HTML(), "the probe's dialogue": widgets.HTML(),
             "postmaster's mailbox": widgets.HTML()}
    titles = {"outcome": t("ui.common.tab.outcome"), "server log": t("ui.common.tab.server_log"),
              "the probe's dialogue": t("ui.relay.tab.dialogue"), "postmaster's mailbox": t("ui.relay.tab.postmaster")}

    def render(panel: Panel, result) -> None:
        chart, table = panel.views["outcome"].children
        chart.value = bars_html(result.summary, KEYS, title=t("ui.relay.chart_title", preset=result.preset))
        table.value = summary_html(result.summary, KEYS)
        panel.views["server log"].value = log_html(result.log, highlight=r"timed out|[Rr]elay|survey|returned")
        panel.views["the probe's dialogue"].value = transcript_html(result.transcript("relay survey"))
        box = result.server.mailboxes.get("postmaster", [])
        panel.views["postmaster's mailbox"].value = (
            transcript_html([f"   {line}" for line in box[0].lines[:60]]) if box else
            "<p>" + html.escape(t("ui.relay.postmaster_empty"), quote=False) + "</p>")

    panel = Panel(t("ui.relay.title"), controls, compute, render, views, compare_keep=("preset", "seed"),
                  cache=32, titles=titles)
    enable_by_product(panel, {"relay_restriction": lambda p: p.can(by_sender),
                              "relay_domains": lambda p: p.can(by_sender),
                              **{c["name"]: (lambda p, s=c["name"]: p.relay_allowlist_setting == s
                                             and p.relay_allowlist_by_default) for c in allowlists}})
    return panel

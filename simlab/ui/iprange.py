"""Lesson 04 panel (S5): EIMS 2.1's IP Range Restriction on SMTP, the MX record, and who gets refused.

The student types the allowed ranges in EIMS's from-to form, chooses where
the domain's MX record points (the site's server or the provider) and
whether Relay Restriction is on; the panel replays the day and shows what
got in, what was refused at connect (`554 mail.example.com Access denied`),
and what the DNS tells correspondents.
"""

from __future__ import annotations

import html
from datetime import timedelta

import ipywidgets as widgets

from simlab.addresses.networks import ClientNetworks
from simlab.exercises.iprange import ip_range_day, parse_ip_ranges, refused_at_connect
from simlab.i18n import t
from simlab.plots import mail_paths_figure
from simlab.scenarios import run
from simlab.scenarios.site import DOMAIN, HOSTNAME
from simlab.ui.common import Panel, bars_html, log_html, summary_html, transcript_html

__all__ = ["ip_range_lab", "mail_paths_figure", "mx_answer_html", "refused_dialogue_html", "KEYS"]

KEYS = ("spam_relayed", "spam_refused", "legit_delivered", "legit_refused")

def mx_answer_html(result, ranges: list[str]) -> str:
    """The DNS answer for the site's MX, in words, and whether the range lets that path in."""
    world = result.world
    mx_host = world.dns.mx[DOMAIN][0]
    mx_ip = world.dns.address(mx_host)
    allowed = ClientNetworks(ranges, setting="ranges")
    restricted = bool(ranges)

    def verdict(ip: str) -> str:
        if not restricted or ip in allowed:
            return "<span style='color:#2e7d32'>" + html.escape(t("ui.iprange.allowed"), quote=False) + "</span>"
        return "<b style='color:#b00020'>" + html.escape(t("ui.iprange.refused"), quote=False) + "</b>"

    address = html.escape(t("ui.iprange.mx_address", host=mx_host, ip=mx_ip), quote=False)
    parts = [f"<p><code>{DOMAIN}. IN MX 10 {mx_host}.</code> &nbsp; {address}</p>"]
    correspondents = [h for h in world.network.hosts.values() if h.role == "remote MTA"]
    if mx_host == HOSTNAME:
        rows = "".join("<li>" + t("ui.iprange.connects_from", name=html.escape(h.name), ip=h.ip, verdict=verdict(h.ip))
                       + "</li>" for h in correspondents)
        parts.append("<p>" + t("ui.iprange.mx_at_site", domain=DOMAIN) + f"</p><ul>{rows}</ul>")
    else:
        names = ", ".join(html.escape(h.name) for h in correspondents)
        parts.append("<p>" + t("ui.iprange.mx_at_provider", names=names, host=HOSTNAME, ip=mx_ip,
                               verdict=verdict(mx_ip)) + "</p>")
    state = (t("ui.iprange.state_on", ranges=str(allowed)) if restricted else t("ui.iprange.state_off"))
    parts.append(f"<p>{html.escape(state, quote=False)}</p>")
    return "".join(parts)


def refused_dialogue_html(result, refused_list: list[tuple[str, str, int]] | None = None) -> str:
    """The first session of a correspondent (or the provider) that was refused at connect, else a delivery."""
    if refused_list is None:
        refused_list = refused_at_connect(result)
    refused = {ip for actor, ip, _n in refused_list if actor != "spoofing spammer"}
    sessions = [t for t in result.transcripts if t.host == HOSTNAME and t.service == "smtp"
                and ("MTA" in t.actor or t.actor.endswith("(relay)"))]
    chosen = [t for t in sessions if t.client_ip in refused]
    delivered = not chosen
    if chosen:
        head = t("ui.iprange.head_refused")
    else:
        chosen, head = sessions, t("ui.iprange.head_delivered")
    if not chosen:
        return "<p>" + html.escape(t("ui.iprange.no_correspondent"), quote=False) + "</p>"
    first = chosen[0]
    when = result.start + timedelta(seconds=first.start)
    stamp = f"{when.hour % 12 or 12}:{when:%M:%S %p}"
    actor = "<b>" + html.escape(first.actor) + "</b>"
    title = "<p>" + t("ui.iprange.session_title", actor=actor, ip=first.client_ip, host=HOSTNAME, time=stamp,
                      verdict=html.escape(head, quote=False)) + "</p>"
    if delivered and refused:
        title += "<p>" + html.escape(t("ui.iprange.only_spammer"), quote=False) + "</p>"
    return title + transcript_html(first.lines)


def ip_range_lab(seed: int = 1) -> Panel:
    """EIMS 2.1 with an IP Range Restriction on SMTP: who can still deliver to the site?

    Controls: the allowed ranges (EIMS from-to form, e.g. ``192.0.2.1-192.0.2.254``; several
    separated by commas; empty means no restriction), whether the MX record points at the
    provider, Relay Restriction, and the seed. Views: spam relayed vs legitimate mail lost,
    the server log, a refused correspondent's dialogue, and the DNS MX answer in words.
    """
    controls = [
        {"name": "ranges", "type": "Text", "value": "192.0.2.1-192.0.2.254",
         "placeholder": "192.0.2.1-192.0.2.254, 198.51.100.25-198.51.100.25",
         "description": t("ui.iprange.ranges")},
        {"name": "mx_via_provider", "type": "Checkbox", "value": False,
         "description": t("ui.iprange.mx_via_provider")},
        {"name": "relay_restriction", "type": "Checkbox", "value": True, "description": "Relay Restriction"},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20, "description": t("ui.common.seed")},
    ]

    def compute(v: dict):
        ranges = parse_ip_ranges(v["ranges"])
        result = run(ip_range_day(ranges, v["mx_via_provider"], v["relay_restriction"]), seed=v["seed"])
        return result, ranges, refused_at_connect(result)

    views = {"outcome": widgets.HBox([widgets.HTML(), widgets.HTML()]),
             "server log": widgets.HTML(), "a refused correspondent": widgets.HTML(),
             "DNS MX answer": widgets.HTML()}
    titles = {"outcome": t("ui.common.tab.outcome"), "server log": t("ui.common.tab.server_log"),
              "a refused correspondent": t("ui.iprange.tab.refused"), "DNS MX answer": t("ui.iprange.tab.mx")}

    def render(panel: Panel, outcome) -> None:
        result, ranges, refused_list = outcome
        chart, table = panel.views["outcome"].children
        at_provider = result.world.dns.mx[DOMAIN][0] != HOSTNAME
        mx = t("ui.iprange.mx_provider") if at_provider else t("ui.iprange.mx_site")
        chart.value = bars_html(result.summary, KEYS, title=t("ui.iprange.chart_title", mx=mx))
        refused = [f"<li>{html.escape(actor)} ({ip}): {n}</li>" for actor, ip, n in refused_list]
        heading = html.escape(t("ui.iprange.refused_at_connect"), quote=False)
        nobody = html.escape(t("ui.iprange.nobody"), quote=False)
        table.value = (summary_html(result.summary, KEYS) + f"<p style='font-size:12px;margin:6px 0 0'>{heading}"
                       f"</p><ul style='font-size:12px;margin:0'>{''.join(refused) or f'<li>{nobody}</li>'}</ul>")
        panel.views["server log"].value = log_html(result.log, highlight=r"refused|[Rr]elay")
        panel.views["a refused correspondent"].value = refused_dialogue_html(result, refused_list)
        panel.views["DNS MX answer"].value = mx_answer_html(result, ranges)

    return Panel(t("ui.iprange.title"), controls, compute, render, views, compare_keep=("seed",),
                 cache=32, titles=titles)

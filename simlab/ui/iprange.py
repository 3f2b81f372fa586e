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
from simlab.plots import mail_paths_figure, outcome_bars
from simlab.scenarios import run
from simlab.scenarios.site import DOMAIN, HOSTNAME
from simlab.ui.common import Panel, log_html, summary_html, transcript_html

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
            return "<span style='color:#2e7d32'>allowed by your range</span>"
        return "<b style='color:#b00020'>refused by your range (554 at connect)</b>"

    parts = [f"<p><code>{DOMAIN}. IN MX 10 {mx_host}.</code> &nbsp; ({mx_host} is {mx_ip})</p>"]
    correspondents = [h for h in world.network.hosts.values() if h.role == "remote MTA"]
    if mx_host == HOSTNAME:
        rows = "".join(f"<li>{html.escape(h.name)} connects from {h.ip}: {verdict(h.ip)}</li>" for h in correspondents)
        parts.append("<p>Every server with mail for example.com looks up this record and connects <b>straight to "
                     f"the site's server</b>, from its own address:</p><ul>{rows}</ul>")
    else:
        names = ", ".join(html.escape(h.name) for h in correspondents)
        parts.append(f"<p>Correspondents ({names}) hand their mail to <b>the provider</b>, which spools it and "
                     f"passes it on to {HOSTNAME} from {mx_ip}: {verdict(mx_ip)}.</p>")
    state = f"allows {html.escape(str(allowed))}" if restricted else "is off (no range typed)"
    parts.append(f"<p>IP Range Restriction on SMTP {state}.</p>")
    return "".join(parts)


def refused_dialogue_html(result, refused_list: list[tuple[str, str, int]] | None = None) -> str:
    """The first session of a correspondent (or the provider) that was refused at connect, else a delivery."""
    if refused_list is None:
        refused_list = refused_at_connect(result)
    refused = {ip for actor, ip, _n in refused_list if actor != "spoofing spammer"}
    sessions = [t for t in result.transcripts if t.host == HOSTNAME and t.service == "smtp"
                and ("MTA" in t.actor or t.actor.endswith("(relay)"))]
    chosen = [t for t in sessions if t.client_ip in refused]
    if chosen:
        head = "refused"
    else:
        chosen, head = sessions, "delivered"
    if not chosen:
        return "<p>No correspondent connected to the site's server.</p>"
    first = chosen[0]
    when = result.start + timedelta(seconds=first.start)
    stamp = f"{when.hour % 12 or 12}:{when:%M:%S %p}"
    title = (f"<p><b>{html.escape(first.actor)}</b> from {first.client_ip} to {HOSTNAME}:25 at {stamp} - "
             f"{head}.</p>")
    if head == "delivered" and refused:
        title += "<p>(only the spammer was refused)</p>"
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
         "description": "IP Range Restriction on SMTP: allowed ranges"},
        {"name": "mx_via_provider", "type": "Checkbox", "value": False,
         "description": "MX record points at the provider (mx.provider.test)"},
        {"name": "relay_restriction", "type": "Checkbox", "value": True, "description": "Relay Restriction"},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20},
    ]

    def compute(v: dict):
        ranges = parse_ip_ranges(v["ranges"])
        result = run(ip_range_day(ranges, v["mx_via_provider"], v["relay_restriction"]), seed=v["seed"])
        return result, ranges, refused_at_connect(result)

    views = {"outcome": widgets.HBox([widgets.Image(format="png"), widgets.HTML()]),
             "server log": widgets.HTML(), "a refused correspondent": widgets.HTML(),
             "DNS MX answer": widgets.HTML()}

    def render(panel: Panel, outcome) -> None:
        result, ranges, refused_list = outcome
        chart, table = panel.views["outcome"].children
        mx = "MX at the provider" if result.world.dns.mx[DOMAIN][0] != HOSTNAME else "MX at the site"
        panel.set_figure(chart, outcome_bars(result.summary, KEYS, title=f"EIMS 2.1, one day, {mx}"))
        refused = [f"<li>{html.escape(actor)} ({ip}): {n}</li>" for actor, ip, n in refused_list]
        table.value = (summary_html(result.summary, KEYS) + "<p style='font-size:12px;margin:6px 0 0'>refused at "
                       f"connect:</p><ul style='font-size:12px;margin:0'>{''.join(refused) or '<li>nobody</li>'}</ul>")
        panel.views["server log"].value = log_html(result.log, highlight=r"refused|[Rr]elay")
        panel.views["a refused correspondent"].value = refused_dialogue_html(result, refused_list)
        panel.views["DNS MX answer"].value = mx_answer_html(result, ranges)

    return Panel("IP Range Restriction on SMTP (S5)", controls, compute, render, views, compare_keep=("seed",))

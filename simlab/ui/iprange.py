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
from simlab.plots import outcome_bars
from simlab.scenarios import run
from simlab.scenarios.site import DOMAIN, HOSTNAME, PROVIDER, PROVIDER_IP, SERVER_IP, SPOOFER_IP
from simlab.ui.common import Panel, log_html, summary_html, transcript_html

__all__ = ["ip_range_lab", "mail_paths_figure", "mx_answer_html", "refused_dialogue_html", "KEYS"]

KEYS = ("spam_relayed", "spam_refused", "legit_delivered", "legit_refused")

#: Where each sender sits in :func:`mail_paths_figure` (x, y), by address.
_PLACES = {"198.51.100.90": (0.0, 2.0), "198.51.100.80": (0.0, 1.0), SPOOFER_IP: (0.0, 0.0),
           PROVIDER_IP: (1.0, 1.5), "192.0.2.101": (2.0, -0.1), SERVER_IP: (2.0, 1.0)}


def _edge(centre: tuple[float, float], towards: tuple[float, float]) -> tuple[float, float]:
    """Where a line from ``centre`` to ``towards`` leaves a node's box (0.36 wide, 0.22 high, in data units)."""
    dx, dy = towards[0] - centre[0], towards[1] - centre[1]
    scale = min(0.36 / abs(dx) if dx else float("inf"), 0.22 / abs(dy) if dy else float("inf"))
    return centre[0] + dx * scale, centre[1] + dy * scale


def mail_paths_figure(result, title: str = ""):
    """Who connected to the site's server (and to the provider) over SMTP, with the greetings they got.

    One arrow per path, labelled with how many connections got ``220`` (welcome, green) and
    ``554`` (refused at connect, red). Drawn from the run's events.
    """
    from matplotlib.figure import Figure

    events = result.events
    smtp = events[(events.command == "CONNECT") & events.host.isin([HOSTNAME, PROVIDER])
                  & events.reply_code.isin([220, 554])]
    names = {SERVER_IP: f"{HOSTNAME}\n{SERVER_IP}"}
    paths: dict[tuple[str, str], dict[int, int]] = {}
    for actor, ip, host, code in zip(smtp.actor, smtp.client_ip, smtp.host, smtp.reply_code, strict=True):
        who = "provider" if actor.endswith("(relay)") else actor
        names.setdefault(ip, f"{who}\n{ip}")
        target = SERVER_IP if host == HOSTNAME else PROVIDER_IP
        names.setdefault(target, f"{PROVIDER}\n{PROVIDER_IP}" if target == PROVIDER_IP else names[SERVER_IP])
        paths.setdefault((ip, target), {220: 0, 554: 0})[int(code)] += 1
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xlim(-0.45, 2.45)
    ax.set_ylim(-0.55, 2.45)
    ax.set_axis_off()
    for (src, dst), codes in paths.items():
        if src not in _PLACES:
            continue
        refused = codes[554] > codes[220]
        colour = "#b00020" if refused else "#2e7d32"
        (x0, y0), (x1, y1) = _PLACES[src], _PLACES[dst]
        ax.annotate("", xy=_edge((x1, y1), (x0, y0)), xytext=_edge((x0, y0), (x1, y1)),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.6, "shrinkA": 0, "shrinkB": 0})
        label = "  ".join(f"{n}× {code}" for code, n in codes.items() if n)
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.08, label, ha="center", fontsize=8, color=colour,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"})
    for ip, (x, y) in _PLACES.items():
        if ip in names:
            colour = "#edae49" if ip == SERVER_IP else "#8fc9cf" if ip == PROVIDER_IP else "#9bb1c4"
            ax.text(x, y, names[ip], ha="center", va="center", fontsize=8,
                    bbox={"boxstyle": "round,pad=0.35", "fc": colour, "ec": "#333333"})
    mx = result.world.dns.mx[DOMAIN][0]
    ax.set_title(title or f"SMTP connections of the day (MX: {mx}); 220 = welcome, 554 = Access denied", loc="left",
                 fontsize=10)
    return fig


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

    return Panel("IP Range Restriction on SMTP (S5)", controls, compute, render, views)

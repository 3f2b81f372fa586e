"""Lesson 05 panel: a spammer rotating IP addresses against per-address blocking and an allow-list.

The thread's moderator once watched one person relay spam through a server
while changing IP address at random. The panel pits the defences of
:func:`simlab.scenarios.ip_rotation` against a pool of addresses and shows
what each costs: spam still relayed, and legitimate mail lost when the
blocks catch alice, who works from outside.
"""

from __future__ import annotations

import html
from datetime import timedelta

import ipywidgets as widgets

from simlab import plots, products
from simlab.addresses.networks import parse_networks
from simlab.exercises.rotation import DEFENCES, SPAMMER, allowlist_used, bans_in_order, lost_by_sender, rotation_day
from simlab.plots import outcome_bars
from simlab.scenarios import HOUR, run
from simlab.ui.common import Panel, choice_label, log_html, product_menu, summary_html, transcript_html

__all__ = ["rotation_lab", "pool_sweep_figure", "bans_figure", "spammer_sessions_html", "KEYS", "LAB_HOURS"]
KEYS = ("spam_relayed", "spam_refused", "legit_refused", "legit_logins_refused", "bans")
#: The panel replays half a day, so that it answers quickly; the notebook runs whole days.
LAB_HOURS = 12


def pool_sweep_figure(sweep, sent: int | None = None, title: str = ""):
    """Spam relayed against the pool size, one line per defence: :func:`simlab.plots.pool_sweep_figure` with
    lesson 05's names for the defences. ``sweep`` is what :func:`simlab.exercises.rotation.pool_sweep` returns."""
    return plots.pool_sweep_figure(sweep, sent=sent, title=title, labels=DEFENCES)


def bans_figure(result, title: str = ""):
    """Spam relayed and bans over the day: :func:`simlab.plots.bans_figure` with the run's bans in order."""
    return plots.bans_figure(result, bans=bans_in_order(result), title=title)


def spammer_sessions_html(result) -> str:
    """How the spammer's connections went, and the dialogue of its first and of its last session."""
    events = result.events
    connects = events[(events.actor == SPAMMER) & (events.command == "CONNECT")]
    ended = events[(events.actor == SPAMMER) & (events.command == ".")]
    dropped = int(connects.outcome.isin(["filtered", "dropped", "refused"]).sum())
    addresses = connects.client_ip.nunique()
    sent = int((ended.reply_code == 250).sum())
    parts = [f"<p>The spammer connected {len(connects)} times from {addresses} addresses: {sent} messages "
             f"accepted, {len(connects) - dropped - sent} refused in the dialogue, {dropped} connections dropped "
             "by a ban before any banner.</p>"]
    sessions = [t for t in result.transcripts if t.actor == SPAMMER]
    for label, record in (("first", sessions[:1]), ("last", sessions[-1:] if len(sessions) > 1 else [])):
        for t in record:
            when = result.start + timedelta(seconds=t.start)
            parts.append(f"<p><b>The {label} session</b>, from {t.client_ip} at {when:%H:%M:%S}:</p>")
            parts.append(transcript_html(t.lines, height=200))
    return "".join(parts)


def _costs_html(result) -> str:
    lost = lost_by_sender(result)
    staff_bans = [(t, ip, by) for t, ip, by in bans_in_order(result) if not ip.startswith("203.0.113.")]
    items = [f"<li>{html.escape(who)}: {n} message(s) lost</li>" for who, n in lost.items()]
    items += [f"<li><b style='color:#b00020'>{ip} banned by {by}</b> at "
              f"{result.start + timedelta(seconds=t):%H:%M} - not the spammer</li>" for t, ip, by in staff_bans]
    return ("<p style='font-size:12px;margin:6px 0 0'>what it cost:</p><ul style='font-size:12px;margin:0'>"
            f"{''.join(items) or '<li>nothing</li>'}</ul>")


def _menu_label(product: products.Product) -> str:
    """The product as the day runs it: a rule on the sender's domain is switched on (EIMS 2.1 Relay Restriction)."""
    on = product.relay_restriction(True) if product.can(products.RELAY_BY_SENDER_DOMAIN) else {}
    return choice_label(product, on)


def _allowlist_names() -> str:
    """The products' own names for their relay allow-lists: ``valid IPs / Client Hosts / mynetworks``."""
    names = [p.setting_label(p.relay_allowlist_setting) for p in products.with_capability(products.RELAY_BY_CLIENT_IP)]
    return " / ".join(dict.fromkeys(names))


def rotation_lab(preset: str = "eims-2.1", seed: int = 1) -> Panel:
    """A spammer changing address at random, against the defence you choose.

    Controls: the server, the defence, the spammer's pool size, the per-address ban threshold
    (fail2ban ``maxretry``, or the admin's count), how the spammer switches addresses, who may
    relay (the product's allow-list), and the seed. Views: spam relayed vs legitimate mail lost
    and bans (with who else was banned), the server log, and the spammer's sessions. It replays
    the first 12 hours of the day.
    """
    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(label=_menu_label), "value": preset,
         "description": "server", "fallback": "eims-2.1"},
        {"name": "defence", "type": "Dropdown", "options": [(label, key) for key, label in DEFENCES.items()],
         "value": "per_ip_ban"},
        {"name": "pool_size", "type": "IntSlider", "value": 50, "min": 1, "max": 250,
         "description": "spammer's addresses (pool size)"},
        {"name": "ban_after", "type": "IntSlider", "value": 3, "min": 1, "max": 10,
         "description": "ban after this many relayed messages"},
        {"name": "switch", "type": "Dropdown", "value": "session",
         "options": [("new address for every message", "session"), ("new address only when refused", "refusal")],
         "description": "the spammer switches"},
        {"name": "relay_networks", "type": "Text", "value": "192.0.2.0/24",
         "description": f"may relay ({_allowlist_names()})"},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20},
    ]

    def compute(v: dict):
        networks = parse_networks(v["relay_networks"], "may relay")
        scenario = rotation_day(v["preset"], v["defence"], v["pool_size"], v["ban_after"], v["switch"],
                                relay_networks=networks if allowlist_used(v["preset"], v["defence"]) else None,
                                duration=LAB_HOURS * HOUR)
        return run(scenario, seed=v["seed"])

    views = {"outcome": widgets.HBox([widgets.Image(format="png"), widgets.HTML()]),
             "server log": widgets.HTML(), "the spammer's sessions": widgets.HTML()}

    def render(panel: Panel, result) -> None:
        chart, table = panel.views["outcome"].children
        defence = DEFENCES[panel.controls["defence"].value]
        panel.set_figure(chart, outcome_bars(result.summary, KEYS, title=f"{result.preset}, {defence}: 12 hours"))
        table.value = summary_html(result.summary, KEYS) + _costs_html(result)
        if not allowlist_used(result.preset, panel.controls["defence"].value):
            table.value += ("<p style='font-size:12px;color:#777'>The 'may relay' list is not used here: EIMS "
                            "checks it only with the allow-list defence (EIMS 1.2 has none).</p>")
        panel.views["server log"].value = log_html(result.log, highlight=r"198\.51\.100\.77|refused|prohibited|reject")
        panel.views["the spammer's sessions"].value = spammer_sessions_html(result)

    return Panel("A spammer rotating IP addresses", controls, compute, render, views, compare_keep=("preset", "seed"))

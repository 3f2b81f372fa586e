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
from simlab.i18n import t, tn
from simlab.scenarios import HOUR, run
from simlab.ui.common import (
    Panel,
    bars_html,
    choice_label,
    event_rows,
    log_html,
    product_menu,
    summary_html,
    transcript_html,
)

__all__ = ["rotation_lab", "pool_sweep_figure", "bans_figure", "spammer_sessions_html", "KEYS", "LAB_HOURS"]
KEYS = ("spam_relayed", "spam_refused", "legit_refused", "legit_logins_refused", "bans")
#: The panel replays half a day, so that it answers quickly; the notebook runs whole days.
LAB_HOURS = 12
#: From this pool size a run takes a tenth of a second or more: the panel shows its busy state meanwhile.
BUSY_FROM_POOL = 150


def pool_sweep_figure(sweep, sent: int | None = None, title: str = ""):
    """Spam relayed against the pool size, one line per defence: :func:`simlab.plots.pool_sweep_figure` with
    lesson 05's names for the defences. ``sweep`` is what :func:`simlab.exercises.rotation.pool_sweep` returns."""
    return plots.pool_sweep_figure(sweep, sent=sent, title=title, labels=DEFENCES)


def bans_figure(result, title: str = ""):
    """Spam relayed and bans over the day: :func:`simlab.plots.bans_figure` with the run's bans in order."""
    return plots.bans_figure(result, bans=bans_in_order(result), title=title)


def spammer_sessions_html(result) -> str:
    """How the spammer's connections went, and the dialogue of its first and of its last session."""
    connects = event_rows(result, actor=SPAMMER, command="CONNECT")  # no events table: no pandas to import
    dropped = sum(row.outcome in ("filtered", "dropped", "refused") for row in connects)
    addresses = len({row.client_ip for row in connects})
    sent = sum(row.reply_code == 250 for row in event_rows(result, actor=SPAMMER, command="."))
    parts = ["<p>" + html.escape(t("ui.rotation.spammer_connected", connections=len(connects), addresses=addresses,
                                   sent=sent, refused=len(connects) - dropped - sent, dropped=dropped)) + "</p>"]
    sessions = [s for s in result.transcripts if s.actor == SPAMMER]
    for heading, record in ((t("ui.rotation.first_session"), sessions[:1]),
                            (t("ui.rotation.last_session"), sessions[-1:] if len(sessions) > 1 else [])):
        for s in record:
            when = result.start + timedelta(seconds=s.start)
            bold = "<b>" + html.escape(heading) + "</b>"
            parts.append("<p>" + t("ui.rotation.session_from", session=bold, ip=s.client_ip,
                                   time=when.strftime("%H:%M:%S")) + "</p>")
            parts.append(transcript_html(s.lines, height=200))
    return "".join(parts)


def _costs_html(result) -> str:
    lost = lost_by_sender(result)
    staff_bans = [(moment, ip, by) for moment, ip, by in bans_in_order(result) if not ip.startswith("203.0.113.")]
    items = ["<li>" + html.escape(tn("ui.rotation.lost", n, who=who)) + "</li>" for who, n in lost.items()]
    for moment, ip, by in staff_bans:
        banned = "<b style='color:#b00020'>" + html.escape(t("ui.rotation.banned_by", ip=ip, by=by)) + "</b>"
        when = (result.start + timedelta(seconds=moment)).strftime("%H:%M")
        items.append("<li>" + t("ui.rotation.staff_banned", banned=banned, time=when) + "</li>")
    nothing = "<li>" + html.escape(t("ui.rotation.nothing")) + "</li>"
    cost = html.escape(t("ui.rotation.what_it_cost"))
    return (f"<p style='font-size:12px;margin:6px 0 0'>{cost}</p>"
            f"<ul style='font-size:12px;margin:0'>{''.join(items) or nothing}</ul>")


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
         "description": t("ui.common.server"), "fallback": "eims-2.1"},
        {"name": "defence", "type": "Dropdown", "options": [(label, key) for key, label in DEFENCES.items()],
         "value": "per_ip_ban", "description": t("ui.rotation.defence")},
        {"name": "pool_size", "type": "IntSlider", "value": 50, "min": 1, "max": 250,
         "description": t("ui.rotation.pool_size")},
        {"name": "ban_after", "type": "IntSlider", "value": 3, "min": 1, "max": 10,
         "description": t("ui.rotation.ban_after")},
        {"name": "switch", "type": "Dropdown", "value": "session",
         "options": [(t("ui.rotation.switch.session"), "session"), (t("ui.rotation.switch.refusal"), "refusal")],
         "description": t("ui.rotation.switch")},
        {"name": "relay_networks", "type": "Text", "value": "192.0.2.0/24",
         "description": t("ui.rotation.may_relay_from", names=_allowlist_names())},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20, "description": t("ui.common.seed")},
    ]

    def compute(v: dict):
        networks = parse_networks(v["relay_networks"], t("ui.rotation.may_relay"))
        scenario = rotation_day(v["preset"], v["defence"], v["pool_size"], v["ban_after"], v["switch"],
                                relay_networks=networks if allowlist_used(v["preset"], v["defence"]) else None,
                                duration=LAB_HOURS * HOUR)
        return run(scenario, seed=v["seed"])

    views = {"outcome": widgets.HBox([widgets.HTML(), widgets.HTML()]),
             "server log": widgets.HTML(), "the spammer's sessions": widgets.HTML()}
    titles = {"outcome": t("ui.common.tab.outcome"), "server log": t("ui.common.tab.server_log"),
              "the spammer's sessions": t("ui.rotation.tab.sessions")}

    def render(panel: Panel, result) -> None:
        chart, table = panel.views["outcome"].children
        defence = DEFENCES[panel.controls["defence"].value]
        chart.value = bars_html(result.summary, KEYS, title=tn("ui.rotation.chart_title", LAB_HOURS,
                                                                  preset=result.preset, defence=defence))
        table.value = summary_html(result.summary, KEYS) + _costs_html(result)
        if not allowlist_used(result.preset, panel.controls["defence"].value):
            table.value += ("<p style='font-size:12px;color:#777'>"
                            + t("ui.rotation.may_relay_unused") + "</p>")
        panel.views["server log"].value = log_html(result.log, highlight=r"198\.51\.100\.77|refused|prohibited|reject")
        panel.views["the spammer's sessions"].value = spammer_sessions_html(result)

    return Panel(t("ui.rotation.title"), controls, compute, render, views, compare_keep=("preset", "seed"),
                 cache=32, heavy=lambda v: v["pool_size"] >= BUSY_FROM_POOL, titles=titles)

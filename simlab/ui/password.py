"""Lesson 01 panel (S1): a POP3 password guesser against the site, and the defences against it.

The thread's admin found ``POP3 wrong password for webmaster from ...`` in
the EIMS 2.1 log. The panel replays a day of it
(:func:`simlab.exercises.password.guessing_day`): a guesser tries, account
after account, the account's own name and then a few common passwords,
while bob reads mail from the LAN and alice from 198.51.100.77. Defences
are the thread's (EIMS 2.1 IP Range Restriction on POP3, a router filter)
and today's (account lockout, fail2ban with short or long bans, Dovecot's
failure delay); the guesser's pool of addresses and pace are sliders.
"""

from __future__ import annotations

import html
from collections import Counter

import ipywidgets as widgets

from simlab import plots, products
from simlab.engine.result import Result
from simlab.exercises.password import STAFF, break_ins, guessing_day, staff_refusals
from simlab.plots import outcome_bars, to_png
from simlab.scenarios import run
from simlab.ui.common import (
    Panel,
    enable_by_product,
    log_html,
    product_menu,
    setting_description,
    summary_html,
    transcript_html,
)
from simlab.ui.start import draw_when_shown

__all__ = ["password_lab", "guessing_timeline", "WRONG_PASSWORD_LINES"]

_IP_RANGE = products.IP_RANGE_RESTRICTION
KEYS = ("accounts_compromised", "login_failures", "legit_logins_refused", "bans")
#: The log lines of a refused login in each product, and of a refused or locked connection.
WRONG_PASSWORD_LINES = (r"wrong password|auth failed|failed: incorrect|refused by IP Range|connection refused|locked"
                        r"|blocked")


def guessing_timeline(result: Result, title: str = ""):
    """Failed logins per hour, bans and break-ins: :func:`simlab.plots.guessing_timeline` with lesson 01's staff."""
    return plots.guessing_timeline(result, staff=STAFF, breaches=break_ins(result), title=title)


def _guess_sessions_html(result: Result) -> str:
    """One refused guess and, if there was one, the guess that worked - side by side with what the log kept."""
    guesses = [t for t in result.transcripts if t.actor == "guesser" and t.service == "pop3"]
    parts = []
    failed = next((t for t in guesses if any(line.startswith("S: -ERR") for line in t.lines)), None)
    worked = next((t for t in guesses if any(line.startswith("C: PASS") for line in t.lines)
                   and not any(line.startswith("S: -ERR") for line in t.lines)), None)
    for record, caption in ((failed, "a guess the server refused"), (worked, "a guess that worked")):
        if record is None:
            continue
        parts.append(f"<p style='margin:6px 0 2px'><b>{caption}</b> (from {html.escape(record.client_ip)})</p>"
                     + transcript_html(record.lines, height=160))
    if not parts:
        return "<p>The guesser never got a POP3 banner: every connection was refused or dropped.</p>"
    if worked is None:
        parts.append("<p>No guess worked.</p>")
    return "".join(parts)


def _notes(values: dict, result: Result) -> str:
    notes = []
    product = products.get(values["preset"])
    if values["ip_range_restriction"] and not product.can(_IP_RANGE):
        owners = ", ".join(p.label for p in products.with_capability(_IP_RANGE))
        notes.append(f"IP Range Restriction is a setting of {owners}: not applied here (use the router filter).")
    fell = break_ins(result)
    if fell:
        notes.append("Broken into: " + ", ".join(str(b) for b in fell) + ".")
    refused: Counter[str] = staff_refusals(result)
    for actor, count in sorted(refused.items()):
        notes.append(f"{actor} could not read mail {count} time(s).")
    if not fell and not refused:
        notes.append("No account fell, and staff read their mail all day.")
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    return f"<ul style='font-size:12px;margin:4px 0;padding-left:16px'>{items}</ul>"


def password_lab(preset: str = "eims-2.1", seed: int = 1) -> Panel:
    """The S1 guesser against a server and defences you choose.

    Controls: the product (those with POP3); IP Range Restriction on POP3 (EIMS 2.1; disabled for the
    products without it) and a router filter, both
    allowing the addresses in "POP3 allowed from"; account lockout and its threshold; fail2ban
    and its ban time; Dovecot's failure delay; strong passwords; the guesser's pool of addresses
    and pace; the seed. Views: a chart of break-ins, failed logins, staff refused and bans, failed
    logins per hour, the server log with the refused logins in red, and the guesser's dialogue.
    """
    controls = [
        {"name": "preset", "type": "Dropdown", "value": preset, "description": "server",
         "options": product_menu(products.POP3, label=lambda p: f"{p.label} + {p.pop3_label}" if p.pop3_label
                                 else p.label), "fallback": "eims-2.1"},
        {"name": "allowed", "type": "Text", "value": "192.0.2.1-192.0.2.254",
         "description": "POP3 allowed from", "placeholder": "192.0.2.1-192.0.2.254, 198.51.100.77"},
        {"name": "ip_range_restriction", "type": "Checkbox", "value": False,
         "description": setting_description(_IP_RANGE, lambda p: "ip_range_restriction", "on POP3")},
        {"name": "router_filter", "type": "Checkbox", "value": False, "description": "router filter on POP3"},
        {"name": "lockout", "type": "Checkbox", "value": False, "description": "account lockout"},
        {"name": "lockout_after", "type": "IntSlider", "value": 5, "min": 1, "max": 10,
         "description": "lock after failures"},
        {"name": "fail2ban", "type": "Checkbox", "value": False, "description": "fail2ban (5 failures in 10 min)"},
        {"name": "ban_minutes", "type": "IntSlider", "value": 10, "min": 10, "max": 1440, "step": 10,
         "description": "ban time (minutes)"},
        {"name": "failure_delay", "type": "Checkbox", "value": False, "description": "failure delay (Dovecot)"},
        {"name": "strong_passwords", "type": "Checkbox", "value": False,
         "description": "no password equals its account name"},
        {"name": "guesser_ips", "type": "IntSlider", "value": 1, "min": 1, "max": 50,
         "description": "guesser's addresses"},
        {"name": "pace", "type": "IntSlider", "value": 120, "min": 10, "max": 600, "step": 10,
         "description": "seconds between guesses"},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20},
    ]

    def compute(v: dict) -> Result:
        allowed = v["allowed"]
        ranged = v["ip_range_restriction"] and products.get(v["preset"]).can(_IP_RANGE)
        scenario = guessing_day(
            v["preset"], ip_range_restriction=allowed if ranged else None,
            router_filter=allowed if v["router_filter"] else None,
            lockout=v["lockout_after"] if v["lockout"] else 0, fail2ban=v["fail2ban"], bantime=v["ban_minutes"] * 60.0,
            failure_delay=v["failure_delay"], strong_passwords=v["strong_passwords"], guesser_ips=v["guesser_ips"],
            pace=float(v["pace"]))
        return run(scenario, seed=v["seed"])

    views = {"outcome": widgets.HBox([widgets.Image(format="png"), widgets.HTML()]),
             "failed logins per hour": widgets.Image(format="png"),
             "server log": widgets.HTML(), "the guesser's dialogue": widgets.HTML()}

    charts: dict[tuple, bytes] = {}  # the same counts draw the same chart: draw it once

    def render(panel: Panel, result: Result) -> None:
        chart, table = panel.views["outcome"].children
        key = (result.preset, *(result.summary[k] for k in KEYS))
        if key not in charts:
            if len(charts) > 64:
                charts.clear()
            charts[key] = to_png(outcome_bars(result.summary, KEYS, title=f"{result.preset}: one day of guessing"))
        chart.value = charts[key]
        table.value = summary_html(result.summary, KEYS) + _notes(panel.values(), result)
        draw_when_shown(panel, "failed logins per hour",
                        lambda: panel.set_figure(panel.views["failed logins per hour"], guessing_timeline(result)))
        panel.views["server log"].value = log_html(result.log, highlight=WRONG_PASSWORD_LINES, limit=400)
        panel.views["the guesser's dialogue"].value = _guess_sessions_html(result)

    panel = Panel("Wrong passwords in the POP3 log (S1)", controls, compute, render, views,
                  compare_keep=("preset", "seed"))
    enable_by_product(panel, {"ip_range_restriction": lambda p: p.can(_IP_RANGE)})
    return panel

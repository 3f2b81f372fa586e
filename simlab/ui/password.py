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
from datetime import timedelta

import ipywidgets as widgets

from simlab import plots, products
from simlab.engine.result import Result
from simlab.exercises.password import STAFF, break_ins, guessing_day, staff_refusals
from simlab.i18n import t, tn
from simlab.scenarios import run
from simlab.scenarios.site import HOSTNAME
from simlab.ui.charts import Mark, Rule, Steps, steps_svg
from simlab.ui.common import (
    Panel,
    bars_html,
    enable_by_product,
    event_rows,
    log_html,
    product_menu,
    setting_description,
    summary_html,
    transcript_html,
)
from simlab.ui.start import draw_when_shown

__all__ = ["password_lab", "guessing_timeline", "guessing_timeline_svg", "guessing_series", "WRONG_PASSWORD_LINES"]

_IP_RANGE = products.IP_RANGE_RESTRICTION
KEYS = ("accounts_compromised", "login_failures", "legit_logins_refused", "bans")
#: The log lines of a refused login in each product, and of a refused or locked connection.
WRONG_PASSWORD_LINES = (r"wrong password|auth failed|failed: incorrect|refused by IP Range|connection refused|locked"
                        r"|blocked")


def guessing_timeline(result: Result, title: str = ""):
    """Failed logins per hour, bans and break-ins: :func:`simlab.plots.guessing_timeline` with lesson 01's staff."""
    return plots.guessing_timeline(result, staff=STAFF, breaches=break_ins(result), title=title)


def guessing_timeline_svg(result: Result, title: str = "") -> str:
    """:func:`guessing_timeline` as the browser draws it (SVG, for the panel): the same series, colours and marks.

    Counted from the run's raw events (:func:`simlab.ui.common.event_rows`), each at its clock time.
    """
    start = result.start
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    edges = list(range(start.hour, start.hour + 26))
    offset = (start - midnight).total_seconds() / 3600
    ban, broken = t("plots.guessing.ban"), t("plots.guessing.broken_into")
    rules = [Rule(offset + ban_of.time / 3600, plots.COLOURS["bans"], ban)
             for restriction in result.server.restrictions for ban_of in getattr(restriction, "bans", ())]
    marks = [Mark((breach.time - midnight).total_seconds() / 3600, 0, plots.COLOURS["accounts_compromised"],
                  f"{breach.account} {breach.time:%H:%M}", broken) for breach in break_ins(result)]
    ticks = [(h, f"{h % 24:02d}:00") for h in edges[::3]]
    return steps_svg(guessing_series(result), (edges[0], edges[-1]), ticks, ylabel=t("plots.per_hour"), title=title,
                     rules=rules, marks=marks, height=252, y_floor=-0.6)


def guessing_series(result: Result) -> list[Steps]:
    """The timeline's three series per clock hour (hours since midnight, 26 of them from the run's start hour):
    the guesser's wrong passwords, its connections refused before login, and the staff's refusals."""
    start = result.start
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    edges = list(range(start.hour, start.hour + 26))

    def hour_of(seconds: float) -> float:
        return ((start + timedelta(seconds=seconds)) - midnight).total_seconds() / 3600

    counted: dict[str, Counter[int]] = {name: Counter() for name in _SERIES}
    for row in event_rows(result, host=HOSTNAME):
        failed = row.command == "PASS" and row.reply_code == "-ERR"
        stopped = row.command == "CONNECT" and (row.outcome != "greeting" or row.reply_code == "-ERR")
        hour = int(hour_of(row.time))
        if row.actor == "guesser":
            if failed:
                counted["guesser_wrong"][hour] += 1
            if stopped:
                counted["guesser_refused"][hour] += 1
        elif row.actor in STAFF and (failed or stopped):
            counted["staff_refused"][hour] += 1
    # the figure's legend words (simlab.plots.guessing_timeline), in the learner's language
    labels = {"guesser_wrong": t("plots.guessing.guesser_wrong"),
              "guesser_refused": t("plots.guessing.guesser_refused"),
              "staff_refused": t("plots.guessing.staff_refused")}
    return [Steps(labels[name], edges, [counted[name].get(h, 0) for h in edges], colour)
            for name, colour in _SERIES.items()]


#: The series of the guessing timeline and their colours (as :func:`simlab.plots.guessing_timeline` draws them).
_SERIES = {"guesser_wrong": "#30638e", "guesser_refused": "#66a182", "staff_refused": "#d1495b"}


def _guess_sessions_html(result: Result) -> str:
    """One refused guess and, if there was one, the guess that worked - side by side with what the log kept."""
    guesses = [t for t in result.transcripts if t.actor == "guesser" and t.service == "pop3"]
    parts = []
    failed = next((t for t in guesses if any(line.startswith("S: -ERR") for line in t.lines)), None)
    worked = next((t for t in guesses if any(line.startswith("C: PASS") for line in t.lines)
                   and not any(line.startswith("S: -ERR") for line in t.lines)), None)
    for record, caption in ((failed, t("ui.password.guess_refused")), (worked, t("ui.password.guess_worked"))):
        if record is None:
            continue
        bold = "<b>" + html.escape(caption, quote=False) + "</b>"
        said = t("ui.password.guess_from", caption=bold, ip=html.escape(record.client_ip))
        parts.append(f"<p style='margin:6px 0 2px'>{said}</p>" + transcript_html(record.lines, height=160))
    if not parts:
        return "<p>" + html.escape(t("ui.password.no_banner"), quote=False) + "</p>"
    if worked is None:
        parts.append("<p>" + html.escape(t("ui.password.no_guess_worked"), quote=False) + "</p>")
    return "".join(parts)


def _notes(values: dict, result: Result) -> str:
    notes = []
    product = products.get(values["preset"])
    if values["ip_range_restriction"] and not product.can(_IP_RANGE):
        owners = t("ui.common.list_separator").join(p.label for p in products.with_capability(_IP_RANGE))
        notes.append(t("ui.password.ip_range_not_here", owners=owners))
    fell = break_ins(result)
    if fell:
        accounts = t("ui.common.list_separator").join(str(b) for b in fell)
        notes.append(t("ui.password.broken_into", accounts=accounts))
    refused: Counter[str] = staff_refusals(result)
    for actor, count in sorted(refused.items()):
        notes.append(tn("ui.password.could_not_read", count, actor=actor))
    if not fell and not refused:
        notes.append(t("ui.password.all_well"))
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
        {"name": "preset", "type": "Dropdown", "value": preset, "description": t("ui.common.server"),
         "options": product_menu(products.POP3, label=lambda p: f"{p.label} + {p.pop3_label}" if p.pop3_label
                                 else p.label), "fallback": "eims-2.1"},
        {"name": "allowed", "type": "Text", "value": "192.0.2.1-192.0.2.254",
         "description": t("ui.password.allowed"), "placeholder": "192.0.2.1-192.0.2.254, 198.51.100.77"},
        {"name": "ip_range_restriction", "type": "Checkbox", "value": False,
         "description": setting_description(_IP_RANGE, lambda p: "ip_range_restriction",
                                            t("ui.password.on_pop3"))},
        {"name": "router_filter", "type": "Checkbox", "value": False, "description": t("ui.password.router_filter")},
        {"name": "lockout", "type": "Checkbox", "value": False, "description": t("ui.password.lockout")},
        {"name": "lockout_after", "type": "IntSlider", "value": 5, "min": 1, "max": 10,
         "description": t("ui.password.lockout_after")},
        {"name": "fail2ban", "type": "Checkbox", "value": False, "description": t("ui.password.fail2ban")},
        {"name": "ban_minutes", "type": "IntSlider", "value": 10, "min": 10, "max": 1440, "step": 10,
         "description": t("ui.password.ban_minutes")},
        {"name": "failure_delay", "type": "Checkbox", "value": False, "description": t("ui.password.failure_delay")},
        {"name": "strong_passwords", "type": "Checkbox", "value": False,
         "description": t("ui.password.strong_passwords")},
        {"name": "guesser_ips", "type": "IntSlider", "value": 1, "min": 1, "max": 50,
         "description": t("ui.password.guesser_ips")},
        {"name": "pace", "type": "IntSlider", "value": 120, "min": 10, "max": 600, "step": 10,
         "description": t("ui.password.pace")},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20, "description": t("ui.common.seed")},
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

    views = {"outcome": widgets.HBox([widgets.HTML(), widgets.HTML()]),
             "failed logins per hour": widgets.HTML(),
             "server log": widgets.HTML(), "the guesser's dialogue": widgets.HTML()}
    titles = {"outcome": t("ui.common.tab.outcome"), "failed logins per hour": t("ui.password.tab.per_hour"),
              "server log": t("ui.common.tab.server_log"), "the guesser's dialogue": t("ui.password.tab.dialogue")}

    def render(panel: Panel, result: Result) -> None:
        chart, table = panel.views["outcome"].children
        chart.value = bars_html(result.summary, KEYS, title=t("ui.password.chart_title", preset=result.preset))
        values = panel.values()
        table.value = summary_html(result.summary, KEYS) + _notes(values, result)
        # drawn by the browser (SVG): a millisecond or two, where the matplotlib picture took a tenth of a second
        draw_when_shown(panel, "failed logins per hour", lambda: setattr(
            panel.views["failed logins per hour"], "value", guessing_timeline_svg(result)))
        panel.views["server log"].value = log_html(result.log, highlight=WRONG_PASSWORD_LINES, limit=400)
        panel.views["the guesser's dialogue"].value = _guess_sessions_html(result)

    panel = Panel(t("ui.password.title"), controls, compute, render, views,
                  compare_keep=("preset", "seed"), cache=32, titles=titles)
    enable_by_product(panel, {"ip_range_restriction": lambda p: p.can(_IP_RANGE)})
    return panel

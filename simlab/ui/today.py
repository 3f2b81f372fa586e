"""Lesson 07 panel: each 1998 problem of the thread, and the Postfix settings that answer it today.

The 1998 fixes map to today's ``main.cf`` (Postfix 3.7, ``postconf(5)``):

* relay by the client's address (SIMS Client Hosts) -> ``mynetworks`` + ``permit_mynetworks``;
* anti-relay -> ``reject_unauth_destination`` (``554 5.7.1``), or the default
  ``defer_unauth_destination`` (``454 4.7.1``, a temporary refusal);
* roaming users -> port 587, master.cf's ``submission`` entry as Debian 12 ships it, uncommented:
  SMTP AUTH (RFC 4954), and its ``-o smtpd_recipient_restrictions=permit_sasl_authenticated,reject``
  in place of main.cf's lists. Before AUTH, MAIL gets ``250 2.1.0 Ok`` and RCPT ``554 5.7.1 <rcpt>:
  Recipient address rejected: Access denied`` (as recorded from a real Postfix 3.7.11; RFC 6409 asks
  for ``530`` at MAIL, which Postfix does not send);
* the spoofed sender (S4) -> ``smtpd_sender_login_maps`` + ``reject_sender_login_mismatch``
  (``553 5.7.1 ... not logged in`` / ``not owned by user``): in main.cf for port 25, and as
  ``-o smtpd_sender_restrictions=reject_sender_login_mismatch`` on the submission entry for 587,
  which empties main.cf's list;
* password guessing (S1) -> fail2ban's dovecot and postfix-sasl jails, Dovecot's failure delay;
* DNS blocklists (RFC 5782) -> ``reject_rbl_client``, and why a list that answers "listed" for
  everything must fail the self-test.

The panel runs the matching scenario on the ``postfix`` preset and the problem's dialogues (plus
one the student types) against a server built from the ticked settings; the problems, settings and
the runs are :mod:`simlab.exercises.today`'s, re-exported here.
"""

from __future__ import annotations

import html
from collections import OrderedDict
from collections.abc import Sequence

import ipywidgets as widgets

from simlab.engine.result import Result
from simlab.exercises.common import auth_plain, lazy_constants
from simlab.exercises.today import (
    ALWAYS,
    BLOCKLIST,
    DEFAULTS,
    LISTED_SPAMMERS,
    PROBLEMS,
    SENDER_LOGIN_MAPS,
    Dialogue,
    Problem,
    TodayOutcome,
    day_log,
    day_values,
    effective_values,
    main_cf,
    postfix_settings,
    run_dialogue,
    today_day,
    today_outcome,
)
from simlab.i18n import t, tn
from simlab.plots import tidy_counts
from simlab.scenarios.site import ROAMING_IP, SPOOFER_IP
from simlab.ui.common import Panel, bars_html, log_html, summary_html, transcript_html, values_key

__all__ = ["today_lab", "today_outcome", "effective_values", "PROBLEMS", "Problem", "Dialogue", "postfix_settings",
           "main_cf", "run_dialogue", "auth_plain", "DEFAULTS", "SENDER_LOGIN_MAPS", "BLOCKLIST", "LISTED_SPAMMERS",
           "CLIENTS", "SENDER_CHOICES", "SUBMISSION_SENDER_CHOICES", "join_multiline_replies", "tidy_counts"]

def join_multiline_replies(transcript: Sequence[str], keep: str = "AUTH") -> list[str]:
    """The transcript with each multi-line reply (``250-...`` lines, then ``250 ...``) as one line.

    For a sequence diagram, which draws one arrow per line: the joined line names the first line,
    any line containing ``keep`` (the ``250-AUTH`` line of an EHLO reply) and the last, and says
    how many lines the reply had (RFC 5321 §4.2.1: ``code-`` continues a reply, ``code `` ends it).
    """
    joined: list[str] = []
    pending: list[str] = []
    for line in transcript:
        text = line[3:]
        if line.startswith("S: ") and len(text) > 3 and text[:3].isdigit() and text[3] == "-":
            pending.append(line)
            continue
        if pending and line.startswith("S: ") and text[:3].isdigit():
            texts = [p[7:] for p in pending]
            parts = [texts[0], *[other for other in texts[1:] if keep and keep in other], text[4:]]
            count = tn("ui.today.reply_lines", len(pending) + 1)
            joined.append(f"S: {text[:3]} {' … '.join(parts)} ({count})")
            pending = []
            continue
        joined.extend(pending)
        pending = []
        joined.append(line)
    return joined + pending


#: Who a typed dialogue comes from (labels in the language current at each access: the module's ``__getattr__``).
CLIENTS: list[tuple[str, str]]
#: main.cf's ``smtpd_sender_restrictions`` choices (port 25).
SENDER_CHOICES: list[tuple[str, str]]
#: The submission entry's ``-o smtpd_sender_restrictions=`` (port 587; Debian's entry leaves it empty).
SUBMISSION_SENDER_CHOICES: list[tuple[str, str]]


def _clients() -> list[tuple[str, str]]:
    return [(t("ui.today.client.outsider", ip=SPOOFER_IP), SPOOFER_IP),
            (t("ui.today.client.bob", ip="192.0.2.101"), "192.0.2.101"),
            (t("ui.today.client.alice", ip=ROAMING_IP), ROAMING_IP),
            (t("ui.today.client.carol", ip="198.51.100.90"), "198.51.100.90"),
            (t("ui.today.client.listed", ip="203.0.113.121"), "203.0.113.121")]


def _sender_choices() -> list[tuple[str, str]]:
    return [(t("ui.today.sender.none"), ""), ("reject_sender_login_mismatch", "reject_sender_login_mismatch"),
            ("permit_mynetworks, reject_sender_login_mismatch", "permit_mynetworks, reject_sender_login_mismatch"),
            ("reject_authenticated_sender_login_mismatch", "reject_authenticated_sender_login_mismatch")]


def _submission_sender_choices() -> list[tuple[str, str]]:
    return [(t("ui.today.sender.debian"), ""), ("reject_sender_login_mismatch", "reject_sender_login_mismatch")]


def _rbl_choices() -> list[tuple[str, str]]:
    return [(t("ui.today.rbl.none"), "none"), (t("ui.today.rbl.good", list=BLOCKLIST), "good"),
            (t("ui.today.rbl.broken", list=BLOCKLIST), "broken")]


def _bantimes() -> list[tuple[str, int]]:
    return [(t("ui.bantime.default"), 600), (t("ui.bantime.hour"), 3600), (t("ui.bantime.day"), 86400)]


__getattr__ = lazy_constants(__name__, {"CLIENTS": _clients, "SENDER_CHOICES": _sender_choices,
                                        "SUBMISSION_SENDER_CHOICES": _submission_sender_choices})


#: Outcomes the panel keeps by its values, and days by what they depend on (:func:`day_values`).
KEPT_RUNS = 32
KEPT_DAYS = 32


def _transcripts(outcome: TodayOutcome) -> list[str]:
    lines: list[str] = []
    items = [*outcome.dialogues, *([outcome.own] if outcome.own else [])]
    for dialogue, transcript, _log in items:
        heading = t("ui.today.dialogue_heading", label=dialogue.label, ip=dialogue.client_ip, port=dialogue.port)
        lines += ["## " + heading, *transcript, ""]
    return lines


def today_lab(problem: str = "open_relay", seed: int = 1) -> Panel:
    """From 1998 to today: pick a problem of the thread, tick the Postfix settings that answer it.

    Controls: the problem; the matching Postfix settings (only those are shown); your own dialogue
    (who, which port, which lines); the seed. Views: a chart of the day, the dialogues' transcripts,
    the Postfix log (``NOQUEUE: reject`` and warning lines of the day), the settings as ``main.cf`` and
    master.cf's submission entry, and what changed since 1998. Outcomes are kept by the values, and each
    day by what it depends on (:func:`~simlab.exercises.today.day_values`): changing who types, on which
    port and what, runs only the typed dialogue.
    """
    controls = [
        {"name": "problem", "type": "Dropdown", "options": [(p.label, p.key) for p in PROBLEMS.values()],
         "value": problem, "description": t("ui.today.problem")},
        {"name": "mynetworks", "type": "Text", "value": DEFAULTS["mynetworks"], "description": "mynetworks"},
        {"name": "permit_mynetworks", "type": "Checkbox", "value": True, "description": "permit_mynetworks"},
        {"name": "permit_sasl_authenticated", "type": "Checkbox", "value": True,
         "description": "permit_sasl_authenticated"},
        {"name": "relay_refusal", "type": "ToggleButtons", "value": "defer_unauth_destination",
         "options": [("defer_unauth_destination (454)", "defer_unauth_destination"),
                     ("reject_unauth_destination (554)", "reject_unauth_destination")],
         "description": t("ui.today.relay_refusal")},
        {"name": "submission", "type": "Checkbox", "value": True,
         "description": t("ui.today.submission")},
        {"name": "smtpd_sasl_auth_enable", "type": "Checkbox", "value": False,
         "description": t("ui.today.sasl_auth_enable")},
        {"name": "sender_restrictions", "type": "Dropdown", "options": _sender_choices(), "value": "",
         "description": t("ui.today.sender_restrictions")},
        {"name": "submission_sender_restrictions", "type": "Dropdown", "options": _submission_sender_choices(),
         "value": "", "description": t("ui.today.submission_sender_restrictions")},
        {"name": "fail2ban", "type": "Checkbox", "value": False, "description": t("ui.today.fail2ban")},
        {"name": "bantime", "type": "Dropdown", "options": _bantimes(), "value": 600, "description": "bantime"},
        {"name": "guesser_ips", "type": "IntSlider", "value": 1, "min": 1, "max": 50,
         "description": t("ui.today.guesser_ips")},
        {"name": "rbl", "type": "Dropdown", "options": _rbl_choices(), "value": "none",
         "description": t("ui.today.rbl")},
        {"name": "client", "type": "Dropdown", "options": _clients(), "value": SPOOFER_IP,
         "description": t("ui.today.client")},
        {"name": "port", "type": "Dropdown", "options": [("25 (SMTP)", 25), (t("ui.today.port.submission"), 587),
                                                         ("110 (POP3)", 110)], "value": 25,
         "description": t("ui.today.port")},
        {"name": "my_dialogue", "type": "Textarea", "value": "",
         "placeholder": "EHLO outside.test\nMAIL FROM:<Postmaster@example.com>\nRCPT TO:<bob@example.com>\nQUIT",
         "description": t("ui.today.my_dialogue")},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20, "description": t("ui.common.seed")},
    ]

    days: OrderedDict[str, Result] = OrderedDict()

    def compute(values: dict) -> TodayOutcome:
        # the day is kept by what it depends on: a change of the typed dialogue (who, port, lines) runs only that
        key = values_key(day_values(values))
        day = days.get(key)
        if day is None:
            day = days[key] = today_day(values)
            while len(days) > KEPT_DAYS:
                days.popitem(last=False)
        days.move_to_end(key)
        return today_outcome(values, day=day)

    views = {"chart": widgets.HBox([widgets.HTML(), widgets.HTML()]),
             "transcript": widgets.HTML(), "Postfix log": widgets.HTML(), "main.cf": widgets.HTML(),
             "1998 → today": widgets.HTML()}
    titles = {"chart": t("ui.today.tab.chart"), "transcript": t("ui.today.tab.transcript"),
              "Postfix log": t("ui.today.tab.log"), "1998 → today": t("ui.today.tab.then_today")}

    def render(panel: Panel, outcome: TodayOutcome) -> None:
        problem_ = outcome.problem
        result = outcome.result
        chart, table = panel.views["chart"].children
        chart.value = bars_html(result.summary, problem_.keys, title=t("ui.today.chart_title", problem=problem_.label))
        table.value = summary_html(result.summary, problem_.keys)
        panel.views["transcript"].value = transcript_html(_transcripts(outcome), height=360)
        dialogue_log = [line for _d, _t, log in [*outcome.dialogues, *([outcome.own] if outcome.own else [])]
                        for line in log]
        day, total = day_log(result, problem_.highlight)
        day_heading = "<b>" + t("ui.today.log_day", shown=len(day), total=total) + "</b>"
        panel.views["Postfix log"].value = (
            "<p style='margin:2px 0'><b>" + t("ui.today.log_dialogues") + "</b></p>"
            + log_html(dialogue_log, highlight=r"reject|warning|auth failed", height=160)
            + "<p style='margin:6px 0 2px'>" + t("ui.today.log_day_more", day=day_heading) + "</p>"
            + log_html(day, highlight=r"reject|warning|Ban", height=220))
        panel.views["main.cf"].value = f"<pre style='font-size:12px'>{html.escape(outcome.main_cf)}</pre>"
        then_word, today_word = t("ui.today.then"), t("ui.today.today")
        panel.views["1998 → today"].value = (
            f"<p><b>{html.escape(problem_.label)}</b></p><p><b>{then_word}</b> {html.escape(problem_.then)}</p>"
            f"<p><b>{today_word}</b> {html.escape(problem_.today)}</p>")

    panel = Panel(t("ui.today.title"), controls, compute, render, views, cache=KEPT_RUNS, titles=titles)
    def show_relevant(_change: dict | None = None) -> None:
        shown = set(ALWAYS) | set(PROBLEMS[panel.controls["problem"].value].controls)
        for name, control in panel.controls.items():
            control.layout.display = None if name in shown else "none"

    panel.controls["problem"].observe(show_relevant, names="value")
    show_relevant()
    return panel


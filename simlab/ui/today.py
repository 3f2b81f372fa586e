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
from collections.abc import Sequence

import ipywidgets as widgets

from simlab.exercises.common import auth_plain
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
    effective_values,
    main_cf,
    postfix_settings,
    run_dialogue,
    today_outcome,
)
from simlab.plots import outcome_bars, tidy_counts
from simlab.scenarios.site import ROAMING_IP, SPOOFER_IP
from simlab.ui.common import Panel, log_html, summary_html, transcript_html

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
            parts = [texts[0], *[t for t in texts[1:] if keep and keep in t], text[4:]]
            joined.append(f"S: {text[:3]} {' … '.join(parts)} ({len(pending) + 1} lines)")
            pending = []
            continue
        joined.extend(pending)
        pending = []
        joined.append(line)
    return joined + pending


#: Who a typed dialogue comes from.
CLIENTS = [("an outsider (203.0.113.50)", SPOOFER_IP), ("bob's PC on the LAN (192.0.2.101)", "192.0.2.101"),
           ("alice, roaming (198.51.100.77)", ROAMING_IP), ("carol's mail server (198.51.100.90)", "198.51.100.90"),
           ("a listed spammer (203.0.113.121)", "203.0.113.121")]

SENDER_CHOICES = [("(none: the default)", ""), ("reject_sender_login_mismatch", "reject_sender_login_mismatch"),
                  ("permit_mynetworks, reject_sender_login_mismatch",
                   "permit_mynetworks, reject_sender_login_mismatch"),
                  ("reject_authenticated_sender_login_mismatch", "reject_authenticated_sender_login_mismatch")]
#: The submission entry's ``-o smtpd_sender_restrictions=`` (port 587; Debian's entry leaves it empty).
SUBMISSION_SENDER_CHOICES = [("(empty: Debian's entry)", ""),
                             ("reject_sender_login_mismatch", "reject_sender_login_mismatch")]
RBL_CHOICES = [("none", "none"), (f"reject_rbl_client {BLOCKLIST} (a working list)", "good"),
               (f"reject_rbl_client {BLOCKLIST} (a broken list: 'listed' for everything)", "broken")]
BANTIMES = [("10 minutes (fail2ban's default)", 600), ("1 hour", 3600), ("1 day", 86400)]


def _transcripts(outcome: TodayOutcome) -> list[str]:
    lines: list[str] = []
    items = [*outcome.dialogues, *([outcome.own] if outcome.own else [])]
    for dialogue, transcript, _log in items:
        lines += [f"## {dialogue.label} ({dialogue.client_ip}, port {dialogue.port})", *transcript, ""]
    return lines


def today_lab(problem: str = "open_relay", seed: int = 1) -> Panel:
    """From 1998 to today: pick a problem of the thread, tick the Postfix settings that answer it.

    Controls: the problem; the matching Postfix settings (only those are shown); your own dialogue
    (who, which port, which lines); the seed. Views: a chart of the day, the dialogues' transcripts,
    the Postfix log (``NOQUEUE: reject`` and warning lines of the day), the settings as ``main.cf`` and
    master.cf's submission entry, and what changed since 1998.
    """
    controls = [
        {"name": "problem", "type": "Dropdown", "options": [(p.label, p.key) for p in PROBLEMS.values()],
         "value": problem, "description": "1998 problem"},
        {"name": "mynetworks", "type": "Text", "value": DEFAULTS["mynetworks"], "description": "mynetworks"},
        {"name": "permit_mynetworks", "type": "Checkbox", "value": True, "description": "permit_mynetworks"},
        {"name": "permit_sasl_authenticated", "type": "Checkbox", "value": True,
         "description": "permit_sasl_authenticated"},
        {"name": "relay_refusal", "type": "ToggleButtons", "value": "defer_unauth_destination",
         "options": [("defer_unauth_destination (454)", "defer_unauth_destination"),
                     ("reject_unauth_destination (554)", "reject_unauth_destination")],
         "description": "then refuse with"},
        {"name": "submission", "type": "Checkbox", "value": True,
         "description": "master.cf: submission entry uncommented (port 587, AUTH)"},
        {"name": "smtpd_sasl_auth_enable", "type": "Checkbox", "value": False,
         "description": "smtpd_sasl_auth_enable (AUTH on port 25 too)"},
        {"name": "sender_restrictions", "type": "Dropdown", "options": SENDER_CHOICES, "value": "",
         "description": "main.cf smtpd_sender_restrictions (port 25, with sender_login_maps)"},
        {"name": "submission_sender_restrictions", "type": "Dropdown", "options": SUBMISSION_SENDER_CHOICES,
         "value": "", "description": "master.cf submission: -o smtpd_sender_restrictions= (port 587)"},
        {"name": "fail2ban", "type": "Checkbox", "value": False, "description": "fail2ban [dovecot] jail"},
        {"name": "bantime", "type": "Dropdown", "options": BANTIMES, "value": 600, "description": "bantime"},
        {"name": "guesser_ips", "type": "IntSlider", "value": 1, "min": 1, "max": 50,
         "description": "guesser's addresses"},
        {"name": "rbl", "type": "Dropdown", "options": RBL_CHOICES, "value": "none", "description": "blocklist"},
        {"name": "client", "type": "Dropdown", "options": CLIENTS, "value": SPOOFER_IP,
         "description": "your dialogue from"},
        {"name": "port", "type": "Dropdown", "options": [("25 (SMTP)", 25), ("587 (submission)", 587),
                                                         ("110 (POP3)", 110)], "value": 25, "description": "port"},
        {"name": "my_dialogue", "type": "Textarea", "value": "",
         "placeholder": "EHLO outside.test\nMAIL FROM:<Postmaster@example.com>\nRCPT TO:<bob@example.com>\nQUIT",
         "description": "your dialogue (one command a line)"},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20},
    ]

    def compute(values: dict) -> TodayOutcome:
        return today_outcome(values)

    views = {"chart": widgets.HBox([widgets.Image(format="png"), widgets.HTML()]),
             "transcript": widgets.HTML(), "Postfix log": widgets.HTML(), "main.cf": widgets.HTML(),
             "1998 → today": widgets.HTML()}

    def render(panel: Panel, outcome: TodayOutcome) -> None:
        problem_ = outcome.problem
        result = outcome.result
        chart, table = panel.views["chart"].children
        panel.set_figure(chart, outcome_bars(result.summary, problem_.keys, title=f"Postfix, one day: "
                                                                                  f"{problem_.label}"))
        table.value = summary_html(result.summary, problem_.keys)
        panel.views["transcript"].value = transcript_html(_transcripts(outcome), height=360)
        dialogue_log = [line for _d, _t, log in [*outcome.dialogues, *([outcome.own] if outcome.own else [])]
                        for line in log]
        day, total = day_log(result, problem_.highlight)
        panel.views["Postfix log"].value = (
            "<p style='margin:2px 0'><b>The dialogues above</b></p>"
            + log_html(dialogue_log, highlight=r"reject|warning|auth failed", height=160)
            + f"<p style='margin:6px 0 2px'><b>The day: {len(day)} of {total} lines</b> - refusals, warnings, "
              f"bans and the attackers' lines</p>"
            + log_html(day, highlight=r"reject|warning|Ban", height=220))
        panel.views["main.cf"].value = f"<pre style='font-size:12px'>{html.escape(outcome.main_cf)}</pre>"
        panel.views["1998 → today"].value = (
            f"<p><b>{html.escape(problem_.label)}</b></p><p><b>1998:</b> {html.escape(problem_.then)}</p>"
            f"<p><b>Today:</b> {html.escape(problem_.today)}</p>")

    panel = Panel("From 1998 to today: Postfix settings for each problem", controls, compute, render, views)
    def show_relevant(_change: dict | None = None) -> None:
        shown = set(ALWAYS) | set(PROBLEMS[panel.controls["problem"].value].controls)
        for name, control in panel.controls.items():
            control.layout.display = None if name in shown else "none"

    panel.controls["problem"].observe(show_relevant, names="value")
    show_relevant()
    return panel


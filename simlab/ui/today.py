"""Lesson 07 panel: each 1998 problem of the thread, and the Postfix settings that answer it today.

The 1998 fixes map to today's ``main.cf`` (Postfix 3.7, ``postconf(5)``):

* relay by the client's address (SIMS Client Hosts) -> ``mynetworks`` + ``permit_mynetworks``;
* anti-relay -> ``reject_unauth_destination`` (``554 5.7.1``), or the default
  ``defer_unauth_destination`` (``454 4.7.1``, a temporary refusal);
* roaming users -> submission on port 587 with SMTP AUTH (RFC 6409, RFC 4954:
  ``530 5.7.0 Authentication required`` before AUTH) and ``permit_sasl_authenticated``;
* the spoofed sender (S4) -> ``smtpd_sender_login_maps`` + ``reject_sender_login_mismatch``
  (``553 5.7.1 ... not logged in`` / ``not owned by user``);
* password guessing (S1) -> fail2ban's dovecot and postfix-sasl jails, Dovecot's failure delay;
* DNS blocklists (RFC 5782) -> ``reject_rbl_client``, and why a list that answers "listed" for
  everything must fail the self-test.

The panel runs the matching scenario on the ``postfix`` preset and the problem's dialogues (plus
one the student types) against a server built from the ticked settings.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from simlab.engine.actors import RotatingSpammer, SpoofingSpammer
from simlab.engine.result import Result
from simlab.errors import ConfigError
from simlab.plots import outcome_bars
from simlab.restrictions.dnsbl import BlocklistZone, Dns
from simlab.restrictions.guards import Fail2Ban
from simlab.scenarios import HOUR, Scenario, ip_rotation, relay_probe, run, spoofed_postmaster, wrong_password
from simlab.scenarios.site import (
    ACCOUNTS,
    DOMAIN,
    GUESSER_IP,
    HOSTNAME,
    LAN,
    ROAMING_IP,
    SCANNER_IP,
    SPOOFER_IP,
    site_server,
)
from simlab.ui.common import Panel, log_html, summary_html, transcript_html
from simlab.ui.relay import split_list

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["today_lab", "today_outcome", "effective_values", "PROBLEMS", "Problem", "Dialogue", "postfix_settings",
           "main_cf", "run_dialogue", "auth_plain", "DEFAULTS", "SENDER_LOGIN_MAPS", "BLOCKLIST", "LISTED_SPAMMERS",
           "CLIENTS", "join_multiline_replies", "tidy_counts"]

#: The blocklist zone the lesson's Postfix consults.
BLOCKLIST = "bl.example.test"
#: The spammers the working blocklist lists (the broken one lists everyone).
LISTED_SPAMMERS = tuple(f"203.0.113.{n}" for n in range(120, 130))
#: ``smtpd_sender_login_maps``: which login may use which sender address.
SENDER_LOGIN_MAPS = {f"{name}@{DOMAIN}": name for name in ACCOUNTS} | {f"postmaster@{DOMAIN}": "webmaster"}


def auth_plain(user: str, password: str) -> str:
    """The ``AUTH PLAIN`` argument for ``user`` (RFC 4616: base64 of ``\\0user\\0password``)."""
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


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


def tidy_counts(figure: Figure) -> Figure:
    """Make a bar chart of counts readable: whole-number ticks, and the legend in a row above the bars.

    :func:`simlab.plots.compare_bars` leaves matplotlib's defaults, which can put a legend on a bar
    and ticks at 0.5 when the counts are small.
    """
    from matplotlib.ticker import MaxNLocator

    for ax in figure.axes:
        top = max([patch.get_height() for patch in ax.patches] + [1])
        ax.set_ylim(0, top * 1.45 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(handles, labels, frameon=False, loc="upper left", ncols=len(handles))
    return figure


@dataclass(frozen=True)
class Dialogue:
    """A session typed against the lesson's Postfix: who, from where, on which port, which lines."""

    label: str
    client_ip: str
    port: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """One problem of the thread and today's answer to it."""

    key: str
    label: str
    then: str
    today: str
    controls: tuple[str, ...]
    keys: tuple[str, ...]
    dialogues: tuple[Dialogue, ...]
    highlight: str = r"NOQUEUE: reject|warning:|Ban "


_ALICE = auth_plain("alice", ACCOUNTS["alice"])
_RELAY_KEYS = ("spam_relayed", "spam_refused", "bounces_to_postmaster", "legit_delivered", "legit_refused")
_LOCAL_SPAM_KEYS = ("spam_delivered_local", "spam_relayed", "spam_refused", "legit_delivered", "legit_refused")

PROBLEMS: dict[str, Problem] = {p.key: p for p in (
    Problem(
        "open_relay", "S2/S3: an open relay - who may relay?",
        "EIMS 1.2 relayed for anyone; SIMS relayed only for its Client Hosts list.",
        "mynetworks lists the site's own networks; permit_mynetworks lets them relay.",
        ("mynetworks", "permit_mynetworks", "relay_refusal"), _RELAY_KEYS,
        (Dialogue("the relay survey, from outside", SCANNER_IP, 25,
                  ("EHLO scanner.survey.test", "MAIL FROM:<sender@survey.test>", "RCPT TO:<rtest@survey.test>",
                   "QUIT")),
         Dialogue("bob, on the LAN", "192.0.2.101", 25,
                  ("EHLO pc-bob.example.com", "MAIL FROM:<bob@example.com>", "RCPT TO:<carol@remote.test>",
                   "QUIT"))),
        highlight=r"NOQUEUE: reject|survey"),
    Problem(
        "refuse_relay", "S3/S6: anti-relay - refuse at RCPT, for good or for now?",
        "EIMS 2.1's Relay Restriction was off as installed, and then trusted the sender's domain.",
        "smtpd_relay_restrictions ends in reject_unauth_destination (554, permanent) or the default "
        "defer_unauth_destination (454, try again later).",
        ("mynetworks", "permit_mynetworks", "permit_sasl_authenticated", "relay_refusal"), _RELAY_KEYS,
        (Dialogue("the rotating spammer, from one of its 50 addresses", "203.0.113.17", 25,
                  ("EHLO [203.0.113.17]", "MAIL FROM:<Postmaster@example.com>",
                   "RCPT TO:<user_name@yourcompany.test>", "QUIT")),
         Dialogue("carol's mail server, delivering to bob", "198.51.100.90", 25,
                  ("EHLO mta.remote.test", "MAIL FROM:<carol@remote.test>", "RCPT TO:<bob@example.com>", "QUIT"))),
        highlight=r"NOQUEUE: reject"),
    Problem(
        "roaming", "Roaming users - staff sending from outside",
        "EIMS let alice relay because her sender address was local (so did any spoofer); SIMS refused her.",
        "Submission on port 587 requires SMTP AUTH (530 5.7.0 before AUTH); permit_sasl_authenticated "
        "lets a logged-in user relay from anywhere.",
        ("submission", "smtpd_sasl_auth_enable", "permit_sasl_authenticated", "relay_refusal"),
        ("legit_delivered", "legit_refused", "spam_relayed", "spam_refused"),
        (Dialogue("alice, away, on the submission port 587", ROAMING_IP, 587,
                  ("EHLO alice-laptop.example.com", "MAIL FROM:<alice@example.com>", f"AUTH PLAIN {_ALICE}",
                   "MAIL FROM:<alice@example.com>", "RCPT TO:<carol@remote.test>", "QUIT")),
         Dialogue("alice on port 25, not logged in", ROAMING_IP, 25,
                  ("EHLO alice-laptop.example.com", "MAIL FROM:<alice@example.com>", "RCPT TO:<carol@remote.test>",
                   "QUIT"))),
        highlight=r"NOQUEUE: reject|sasl_username"),
    Problem(
        "spoofed_sender", "S4: the spoofed Postmaster sender",
        "EIMS 2.1 relayed for MAIL FROM:<Postmaster@...> because it trusted the sender's domain.",
        "The sender never grants relay; smtpd_sender_login_maps + reject_sender_login_mismatch also refuse a "
        "local sender address from a client that is not logged in as its owner (553 5.7.1).",
        ("sender_restrictions", "mynetworks"), _LOCAL_SPAM_KEYS,
        (Dialogue("the spoofer, from outside", SPOOFER_IP, 25,
                  ("EHLO [203.0.113.50]", "MAIL FROM:<Postmaster@example.com>", "RCPT TO:<bob@example.com>",
                   "RCPT TO:<user_name@yourcompany.test>", "QUIT")),
         Dialogue("alice, logged in, writing as bob", ROAMING_IP, 587,
                  ("EHLO alice-laptop.example.com", f"AUTH PLAIN {_ALICE}", "MAIL FROM:<bob@example.com>",
                   "RCPT TO:<carol@remote.test>", "QUIT")),
         Dialogue("bob on the LAN, not logged in", "192.0.2.101", 25,
                  ("EHLO pc-bob.example.com", "MAIL FROM:<bob@example.com>", "RCPT TO:<carol@remote.test>",
                   "QUIT"))),
        highlight=r"NOQUEUE: reject"),
    Problem(
        "guessing", "S1: password guessing over POP3",
        "'POP3 wrong password' lines; the advice was to restrict POP3 by client address.",
        "fail2ban (dovecot and postfix-sasl jails) bans an address after 5 failures in 10 minutes; Dovecot "
        "delays each failure (2 s, doubling to 15 s). Neither fixes a weak password.",
        ("fail2ban", "bantime", "guesser_ips"),
        ("login_failures", "accounts_compromised", "bans", "legit_logins_refused"),
        (Dialogue("the guesser, over POP3", GUESSER_IP, 110, ("USER webmaster", "PASS webmaster", "QUIT")),
         Dialogue("the guesser, over SMTP AUTH on port 587", GUESSER_IP, 587,
                  ("EHLO [203.0.113.226]", f"AUTH PLAIN {auth_plain('webmaster', 'password')}", "QUIT"))),
        highlight=r"auth failed|SASL|Ban |Login: .*rip=203\.0\.113\."),
    Problem(
        "blocklist", "DNS blocklists (SIMS 1.6 had one)",
        "SIMS 1.6 could refuse clients listed in a DNS blocklist.",
        "reject_rbl_client bl.example.test in smtpd_recipient_restrictions (RFC 5782). Postfix does not "
        "self-test the list: a broken list that answers 'listed' for everything refuses all mail.",
        ("rbl",), ("spam_delivered_local", "spam_refused", "legit_delivered", "legit_refused"),
        (Dialogue("a spammer the list names", "203.0.113.121", 25,
                  ("EHLO [203.0.113.121]", "MAIL FROM:<deals1@bulk.test>", "RCPT TO:<bob@example.com>", "QUIT")),
         Dialogue("carol's mail server, delivering to bob", "198.51.100.90", 25,
                  ("EHLO mta.remote.test", "MAIL FROM:<carol@remote.test>", "RCPT TO:<bob@example.com>", "QUIT"))),
        highlight=r"NOQUEUE: reject"),
)}

#: Who a typed dialogue comes from.
CLIENTS = [("an outsider (203.0.113.50)", SPOOFER_IP), ("bob's PC on the LAN (192.0.2.101)", "192.0.2.101"),
           ("alice, roaming (198.51.100.77)", ROAMING_IP), ("carol's mail server (198.51.100.90)", "198.51.100.90"),
           ("a listed spammer (203.0.113.121)", "203.0.113.121")]

SENDER_CHOICES = [("(none: the default)", ""), ("reject_sender_login_mismatch", "reject_sender_login_mismatch"),
                  ("permit_mynetworks, reject_sender_login_mismatch",
                   "permit_mynetworks, reject_sender_login_mismatch"),
                  ("reject_authenticated_sender_login_mismatch", "reject_authenticated_sender_login_mismatch")]
RBL_CHOICES = [("none", "none"), (f"reject_rbl_client {BLOCKLIST} (a working list)", "good"),
               (f"reject_rbl_client {BLOCKLIST} (a broken list: 'listed' for everything)", "broken")]
BANTIMES = [("10 minutes (fail2ban's default)", 600), ("1 hour", 3600), ("1 day", 86400)]
#: Postfix's (and fail2ban's) defaults at this site: what a setting is when its problem is not chosen.
DEFAULTS: dict[str, Any] = {
    "mynetworks": LAN, "permit_mynetworks": True, "permit_sasl_authenticated": True,
    "relay_refusal": "defer_unauth_destination", "submission": True, "smtpd_sasl_auth_enable": False,
    "sender_restrictions": "", "fail2ban": False, "bantime": 600, "guesser_ips": 1, "rbl": "none",
}
_ALWAYS = ("problem", "client", "port", "my_dialogue", "seed")


def effective_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that apply: the chosen problem's own settings; every other setting at its default."""
    problem = PROBLEMS.get(values.get("problem", ""))
    if problem is None:
        raise ConfigError("problem", values.get("problem"), "is not a problem of the lesson",
                          f"one of {', '.join(PROBLEMS)}")
    own = {k: values[k] for k in (*problem.controls, *_ALWAYS) if k in values}
    return DEFAULTS | own


def postfix_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """The Postfix settings (``main.cf`` names) that the panel's values stand for.

    Keys read: ``mynetworks`` (text), ``permit_mynetworks``, ``permit_sasl_authenticated`` (bools),
    ``relay_refusal`` (``reject_unauth_destination`` or ``defer_unauth_destination``), ``submission``,
    ``smtpd_sasl_auth_enable`` (bools), ``sender_restrictions`` (text), ``rbl`` (``none``, ``good``,
    ``broken``). Missing keys take Postfix's defaults.
    """
    relay = [word for word in ("permit_mynetworks", "permit_sasl_authenticated") if values.get(word, True)]
    relay.append(values.get("relay_refusal", "defer_unauth_destination"))
    settings: dict[str, Any] = {
        "mynetworks": split_list(values.get("mynetworks", LAN)),
        "smtpd_relay_restrictions": ", ".join(relay),
        "submission": bool(values.get("submission", True)),
        "smtpd_sasl_auth_enable": bool(values.get("smtpd_sasl_auth_enable", False)),
    }
    sender = values.get("sender_restrictions", "")
    if sender:
        settings["smtpd_sender_login_maps"] = dict(SENDER_LOGIN_MAPS)
        settings["smtpd_sender_restrictions"] = sender
    rbl = values.get("rbl", "none")
    if rbl not in ("none", "good", "broken"):
        raise ConfigError("rbl", rbl, "is not a blocklist choice", "'none', 'good' or 'broken'")
    if rbl != "none":
        zone = BlocklistZone(BLOCKLIST, listed=LISTED_SPAMMERS, answers_everything=rbl == "broken")
        settings["dns"] = Dns([zone])
        settings["smtpd_recipient_restrictions"] = f"permit_mynetworks, permit_sasl_authenticated, " \
                                                   f"reject_rbl_client {BLOCKLIST}"
    return settings


def main_cf(values: Mapping[str, Any]) -> str:
    """The settings as an admin would write them in ``main.cf`` (and ``master.cf``, ``jail.local``)."""
    s = postfix_settings(values)
    yes = {True: "yes", False: "no"}
    lines = ["# main.cf", f"myhostname = {HOSTNAME}", f"mydestination = $myhostname, {DOMAIN}",
             f"mynetworks = {', '.join(s['mynetworks'])}",
             f"smtpd_relay_restrictions = {s['smtpd_relay_restrictions']}",
             f"smtpd_sasl_auth_enable = {yes[s['smtpd_sasl_auth_enable']]}"]
    if "smtpd_sender_restrictions" in s:
        lines += ["smtpd_sender_login_maps = hash:/etc/postfix/sender_login",
                  f"smtpd_sender_restrictions = {s['smtpd_sender_restrictions']}"]
    if "smtpd_recipient_restrictions" in s:
        lines.append(f"smtpd_recipient_restrictions = {s['smtpd_recipient_restrictions']}")
    lines += ["", "# master.cf"]
    if s["submission"]:
        lines += ["# port 587: MAIL before AUTH gets 530 5.7.0 Authentication required (RFC 6409)",
                  "submission inet n - y - - smtpd", "  -o smtpd_sasl_auth_enable=yes"]
    else:
        lines += ["# port 587 closed", "#submission inet n - y - - smtpd"]
    if "smtpd_sender_restrictions" in s:
        lines += ["", "# /etc/postfix/sender_login", *(f"{k:<24} {v}" for k, v in SENDER_LOGIN_MAPS.items())]
    if values.get("fail2ban"):
        lines += ["", "# /etc/fail2ban/jail.local", "[dovecot]", "enabled = true", "maxretry = 5", "findtime = 10m",
                  f"bantime = {int(values.get('bantime', 600)) // 60}m"]
    return "\n".join(lines)


def run_dialogue(settings: Mapping[str, Any], dialogue: Dialogue) -> tuple[list[str], list[str]]:
    """Send ``dialogue`` to a fresh site Postfix with ``settings``; return (transcript, log).

    Lines after the server closed the connection are not sent; a note says so.
    """
    server = site_server("postfix", settings)
    notes: list[str] = []
    if dialogue.port == 110:
        session: Any = server.pop3_session(client_ip=dialogue.client_ip)
        closed = lambda: session.state == "CLOSED"  # noqa: E731
    else:
        session = server.smtp_session(client_ip=dialogue.client_ip, port=dialogue.port)
        closed = lambda: session.closed  # noqa: E731
    for line in dialogue.lines:
        if closed():
            notes.append(f"   (the server has closed the connection: '{line}' and what follows were not sent)")
            break
        session.send(line)
    return list(session.transcript) + notes, list(server.log)


def _problem_scenario(problem: Problem, values: Mapping[str, Any], settings: dict[str, Any]) -> Scenario:
    """The day that goes with ``problem``, on Postfix with ``settings``."""
    key = problem.key
    if key == "open_relay":
        scenario = relay_probe(preset="postfix")
    elif key == "refuse_relay":
        scenario = ip_rotation(preset="postfix", pool_size=50, messages=100, every=600)
    elif key == "roaming":
        scenario = spoofed_postmaster(preset="postfix")
    elif key == "spoofed_sender":
        scenario = spoofed_postmaster(preset="postfix")
        for actor in scenario.actors:
            if isinstance(actor, SpoofingSpammer):
                actor.victims = ("bob@example.com", "webmaster@example.com", "user_name@yourcompany.test")
    elif key == "guessing":
        scenario = wrong_password(preset="postfix", guesser_ips=int(values.get("guesser_ips", 1)))
        if values.get("fail2ban"):
            scenario.restrictions.append(Fail2Ban(jail="dovecot", failregex="dovecot", maxretry=5, findtime=600,
                                                  bantime=float(values.get("bantime", 600)), ignoreip=[LAN]))
    elif key == "blocklist":
        scenario = spoofed_postmaster(preset="postfix")
        scenario.actors = [a for a in scenario.actors if not isinstance(a, SpoofingSpammer)]
        scenario.actors.append(RotatingSpammer("listed spammer", "attacker", ips=LISTED_SPAMMERS, server=HOSTNAME,
                                               local_domain=DOMAIN, victims=("bob@example.com", "alice@example.com"),
                                               messages=20, every=HOUR, sender_mode="bulk"))
    else:  # pragma: no cover - the dropdown offers only PROBLEMS
        raise ConfigError("problem", key, "is not a problem of the lesson", f"one of {', '.join(PROBLEMS)}")
    scenario.settings.update(settings)
    return scenario


@dataclass
class TodayOutcome:
    """What the panel shows: the day's result, the dialogues' transcripts and their log."""

    problem: Problem
    result: Result
    dialogues: list[tuple[Dialogue, list[str], list[str]]]
    own: tuple[Dialogue, list[str], list[str]] | None
    main_cf: str


def _own_dialogue(values: Mapping[str, Any]) -> Dialogue | None:
    text = str(values.get("my_dialogue", "")).strip()
    if not text:
        return None
    lines = tuple(line.strip() for line in text.splitlines() if line.strip())
    return Dialogue("your dialogue", values.get("client", SPOOFER_IP), int(values.get("port", 25)), lines)


def today_outcome(values: Mapping[str, Any]) -> TodayOutcome:
    """Everything the panel needs for ``values``; pure (no widgets). Bad settings raise :class:`ConfigError`."""
    values = effective_values(values)
    problem = PROBLEMS[values["problem"]]
    settings = postfix_settings(values)
    site_server("postfix", settings)  # validate once, before the day runs
    result = run(_problem_scenario(problem, values, settings), seed=int(values.get("seed", 1)))
    dialogues = [(d, *run_dialogue(postfix_settings(values), d)) for d in problem.dialogues]
    own = _own_dialogue(values)
    return TodayOutcome(problem, result, dialogues,
                        (own, *run_dialogue(postfix_settings(values), own)) if own else None, main_cf(values))


def _transcripts(outcome: TodayOutcome) -> list[str]:
    lines: list[str] = []
    items = [*outcome.dialogues, *([outcome.own] if outcome.own else [])]
    for dialogue, transcript, _log in items:
        lines += [f"## {dialogue.label} ({dialogue.client_ip}, port {dialogue.port})", *transcript, ""]
    return lines


def _day_log(result: Result, pattern: str) -> tuple[list[str], int]:
    regex = re.compile(pattern)
    chosen = [line for line in result.log if regex.search(line)]
    for restriction in result.server.restrictions:
        chosen += list(getattr(restriction, "log", ()))
    return chosen, len(result.log)


def today_lab(problem: str = "open_relay", seed: int = 1) -> Panel:
    """From 1998 to today: pick a problem of the thread, tick the Postfix settings that answer it.

    Controls: the problem; the matching Postfix settings (only those are shown); your own dialogue
    (who, which port, which lines); the seed. Views: a chart of the day, the dialogues' transcripts,
    the Postfix log (``NOQUEUE: reject`` and warning lines of the day), the settings as ``main.cf``,
    and what changed since 1998.
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
        {"name": "submission", "type": "Checkbox", "value": True, "description": "submission on port 587 (AUTH)"},
        {"name": "smtpd_sasl_auth_enable", "type": "Checkbox", "value": False,
         "description": "smtpd_sasl_auth_enable (AUTH on port 25 too)"},
        {"name": "sender_restrictions", "type": "Dropdown", "options": SENDER_CHOICES, "value": "",
         "description": "smtpd_sender_restrictions (with sender_login_maps)"},
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
        day, total = _day_log(result, problem_.highlight)
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
        shown = set(_ALWAYS) | set(PROBLEMS[panel.controls["problem"].value].controls)
        for name, control in panel.controls.items():
            control.layout.display = None if name in shown else "none"

    panel.controls["problem"].observe(show_relevant, names="value")
    show_relevant()
    return panel


"""Lesson 07: write today's ``smtpd_relay_restrictions`` for the 1998 site.

The list is checked at ``RCPT TO``, first match wins (``postconf(5)``). In
``main.cf`` it serves port 25: it must let the LAN (``mynetworks``) relay,
still take mail *for* the site from anyone, and refuse everyone else with a
permanent ``554 5.7.1 ... Relay access denied`` (``reject_unauth_destination``)
rather than the default's temporary ``454 4.7.1`` (``defer_unauth_destination``).

Port 587 is master.cf's ``submission`` entry as Debian 12 ships it, uncommented
(:mod:`simlab.restrictions.submission`): its ``-o`` lines empty main.cf's
client, HELO, sender and relay lists and set ``smtpd_recipient_restrictions =
permit_sasl_authenticated,reject``. A logged-in roaming user (RFC 4954 SMTP
AUTH) relays there whatever main.cf's relay list says; an unauthenticated
client gets ``250 2.1.0 Ok`` to MAIL and ``554 5.7.1 <rcpt>: Recipient address
rejected: Access denied`` to each RCPT, logged as ``postfix/submission/smtpd``
(recorded from a real Postfix 3.7.11, ``tests/data/postfix_reference.json``,
config C) - not RFC 6409's ``530`` at MAIL. A check meant for port 587, such
as a sender login check, goes on that entry (``-o smtpd_sender_restrictions=
reject_sender_login_mismatch``), with ``smtpd_sender_login_maps`` in main.cf.

The problems' and dialogues' words, the feedback, the comments of the configuration files shown and
:data:`SOLUTION` come from the message catalogs (ids ``exercise.today.*``) in the language current when they
are read (:class:`~simlab.exercises.common.LearnerText` fields); setting names, restriction words, SMTP lines
and Postfix's replies stay as Postfix spells them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from simlab import products
from simlab.addresses.networks import parse_networks
from simlab.engine.actors import RotatingSpammer, SpoofingSpammer
from simlab.engine.result import Result
from simlab.errors import ConfigError
from simlab.exercises.common import (
    Feedback,
    LearnerText,
    auth_plain,
    checker,
    lazy_constants,
    parse_switch,
    send_until_closed,
    split_list,
)
from simlab.i18n import t
from simlab.restrictions.dnsbl import BlocklistZone, Dns
from simlab.restrictions.guards import Fail2Ban
from simlab.restrictions.postfix import parse_restrictions
from simlab.restrictions.submission import DEBIAN_SUBMISSION
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

__all__ = ["check_relay_restrictions", "PROBES", "SOLUTION", "today_outcome", "TodayOutcome", "effective_values",
           "PROBLEMS", "Problem", "Dialogue", "postfix_settings", "main_cf", "run_dialogue", "DEFAULTS",
           "SENDER_LOGIN_MAPS", "BLOCKLIST", "LISTED_SPAMMERS", "day_log", "ALWAYS", "update_exim4_conf",
           "exim_settings", "submission_entry", "DIALOGUE_CONTROLS", "day_values", "today_day"]

# --- the lesson's model: each 1998 problem, today's settings for it, and the day that goes with it ------------

BLOCKLIST = "bl.example.test"
#: The spammers the working blocklist lists (the broken one lists everyone).
LISTED_SPAMMERS = tuple(f"203.0.113.{n}" for n in range(120, 130))
#: ``smtpd_sender_login_maps``: which login may use which sender address.
SENDER_LOGIN_MAPS = {f"{name}@{DOMAIN}": name for name in ACCOUNTS} | {f"postmaster@{DOMAIN}": "webmaster"}


@dataclass(frozen=True)
class Dialogue:
    """A session typed against the lesson's Postfix: who, from where, on which port, which lines.

    ``label`` is text, or a look-up (``lambda: t("id")``) made each time it is read.
    """

    label: str = LearnerText()
    client_ip: str
    port: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Problem:
    """One problem of the thread and today's answer to it.

    ``label``, ``then`` and ``today`` are text, or look-ups (``lambda: t("id")``) made each time they are read.
    """

    key: str
    label: str = LearnerText()
    then: str = LearnerText()
    today: str = LearnerText()
    controls: tuple[str, ...]
    keys: tuple[str, ...]
    dialogues: tuple[Dialogue, ...]
    highlight: str = r"NOQUEUE: reject|warning:|Ban "


_ALICE = auth_plain("alice", ACCOUNTS["alice"])
_RELAY_KEYS = ("spam_relayed", "spam_refused", "bounces_to_postmaster", "legit_delivered", "legit_refused")
_LOCAL_SPAM_KEYS = ("spam_delivered_local", "spam_relayed", "spam_refused", "legit_delivered", "legit_refused")

PROBLEMS: dict[str, Problem] = {p.key: p for p in (
    Problem(
        "open_relay", lambda: t("exercise.today.problem.open_relay.label"),
        lambda: t("exercise.today.problem.open_relay.then"),
        lambda: t("exercise.today.problem.open_relay.today"),
        ("mynetworks", "permit_mynetworks", "relay_refusal"), _RELAY_KEYS,
        (Dialogue(lambda: t("exercise.today.dialogue.survey_outside"), SCANNER_IP, 25,
                  ("EHLO scanner.survey.test", "MAIL FROM:<sender@survey.test>", "RCPT TO:<rtest@survey.test>",
                   "QUIT")),
         Dialogue(lambda: t("exercise.today.dialogue.bob_lan"), "192.0.2.101", 25,
                  ("EHLO pc-bob.example.com", "MAIL FROM:<bob@example.com>", "RCPT TO:<carol@remote.test>",
                   "QUIT"))),
        highlight=r"NOQUEUE: reject|survey"),
    Problem(
        "refuse_relay", lambda: t("exercise.today.problem.refuse_relay.label"),
        lambda: t("exercise.today.problem.refuse_relay.then"),
        lambda: t("exercise.today.problem.refuse_relay.today"),
        ("mynetworks", "permit_mynetworks", "permit_sasl_authenticated", "relay_refusal"), _RELAY_KEYS,
        (Dialogue(lambda: t("exercise.today.dialogue.rotating_spammer"), "203.0.113.17", 25,
                  ("EHLO [203.0.113.17]", "MAIL FROM:<Postmaster@example.com>",
                   "RCPT TO:<user_name@yourcompany.test>", "QUIT")),
         Dialogue(lambda: t("exercise.today.dialogue.carol_server"), "198.51.100.90", 25,
                  ("EHLO mta.remote.test", "MAIL FROM:<carol@remote.test>", "RCPT TO:<bob@example.com>", "QUIT"))),
        highlight=r"NOQUEUE: reject"),
    Problem(
        "roaming", lambda: t("exercise.today.problem.roaming.label"),
        lambda: t("exercise.today.problem.roaming.then"),
        lambda: t("exercise.today.problem.roaming.today"),
        ("submission", "smtpd_sasl_auth_enable", "permit_sasl_authenticated", "relay_refusal"),
        ("legit_delivered", "legit_refused", "spam_relayed", "spam_refused"),
        (Dialogue(lambda: t("exercise.today.dialogue.alice_587_anonymous"), ROAMING_IP, 587,
                  ("EHLO alice-laptop.example.com", "MAIL FROM:<alice@example.com>", "RCPT TO:<carol@remote.test>",
                   "QUIT")),
         Dialogue(lambda: t("exercise.today.dialogue.alice_587_logged_in"), ROAMING_IP, 587,
                  ("EHLO alice-laptop.example.com", f"AUTH PLAIN {_ALICE}", "MAIL FROM:<alice@example.com>",
                   "RCPT TO:<carol@remote.test>", "QUIT")),
         Dialogue(lambda: t("exercise.today.dialogue.alice_25"), ROAMING_IP, 25,
                  ("EHLO alice-laptop.example.com", "MAIL FROM:<alice@example.com>", "RCPT TO:<carol@remote.test>",
                   "QUIT"))),
        highlight=r"NOQUEUE: reject|sasl_username"),
    Problem(
        "spoofed_sender", lambda: t("exercise.today.problem.spoofed_sender.label"),
        lambda: t("exercise.today.problem.spoofed_sender.then"),
        lambda: t("exercise.today.problem.spoofed_sender.today"),
        ("sender_restrictions", "submission_sender_restrictions", "mynetworks"), _LOCAL_SPAM_KEYS,
        (Dialogue(lambda: t("exercise.today.dialogue.spoofer_outside"), SPOOFER_IP, 25,
                  ("EHLO [203.0.113.50]", "MAIL FROM:<Postmaster@example.com>", "RCPT TO:<bob@example.com>",
                   "RCPT TO:<user_name@yourcompany.test>", "QUIT")),
         Dialogue(lambda: t("exercise.today.dialogue.alice_as_bob"), ROAMING_IP, 587,
                  ("EHLO alice-laptop.example.com", f"AUTH PLAIN {_ALICE}", "MAIL FROM:<bob@example.com>",
                   "RCPT TO:<carol@remote.test>", "QUIT")),
         Dialogue(lambda: t("exercise.today.dialogue.bob_lan_anonymous"), "192.0.2.101", 25,
                  ("EHLO pc-bob.example.com", "MAIL FROM:<bob@example.com>", "RCPT TO:<carol@remote.test>",
                   "QUIT"))),
        highlight=r"NOQUEUE: reject"),
    Problem(
        "guessing", lambda: t("exercise.today.problem.guessing.label"),
        lambda: t("exercise.today.problem.guessing.then"),
        lambda: t("exercise.today.problem.guessing.today"),
        ("fail2ban", "bantime", "guesser_ips"),
        ("login_failures", "accounts_compromised", "bans", "legit_logins_refused"),
        (Dialogue(lambda: t("exercise.today.dialogue.guesser_pop3"), GUESSER_IP, 110,
                  ("USER webmaster", "PASS webmaster", "QUIT")),
         Dialogue(lambda: t("exercise.today.dialogue.guesser_auth"), GUESSER_IP, 587,
                  ("EHLO [203.0.113.226]", f"AUTH PLAIN {auth_plain('webmaster', 'password')}", "QUIT"))),
        highlight=r"auth failed|SASL|Ban |Login: .*rip=203\.0\.113\."),
    Problem(
        "blocklist", lambda: t("exercise.today.problem.blocklist.label"),
        lambda: t("exercise.today.problem.blocklist.then"),
        lambda: t("exercise.today.problem.blocklist.today"),
        ("rbl",), ("spam_delivered_local", "spam_refused", "legit_delivered", "legit_refused"),
        (Dialogue(lambda: t("exercise.today.dialogue.listed_spammer"), "203.0.113.121", 25,
                  ("EHLO [203.0.113.121]", "MAIL FROM:<deals1@bulk.test>", "RCPT TO:<bob@example.com>", "QUIT")),
         Dialogue(lambda: t("exercise.today.dialogue.carol_server"), "198.51.100.90", 25,
                  ("EHLO mta.remote.test", "MAIL FROM:<carol@remote.test>", "RCPT TO:<bob@example.com>", "QUIT"))),
        highlight=r"NOQUEUE: reject"),
)}

DEFAULTS: dict[str, Any] = {
    "mynetworks": LAN, "permit_mynetworks": True, "permit_sasl_authenticated": True,
    "relay_refusal": "defer_unauth_destination", "submission": True, "smtpd_sasl_auth_enable": False,
    "sender_restrictions": "", "submission_sender_restrictions": "", "fail2ban": False, "bantime": 600,
    "guesser_ips": 1, "rbl": "none",
}
#: The controls every problem shows.
ALWAYS = ("problem", "client", "port", "my_dialogue", "seed")
#: The controls of the dialogue the student types: they change that dialogue, never the day.
DIALOGUE_CONTROLS = ("client", "port", "my_dialogue")


def effective_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that apply: the chosen problem's own settings; every other setting at its default."""
    problem = PROBLEMS.get(values.get("problem", ""))
    if problem is None:
        raise ConfigError("problem", values.get("problem"), t("exercise.today.not_a_problem"),
                          t("expected.one_of", choices=", ".join(PROBLEMS)))
    own = {k: values[k] for k in (*problem.controls, *ALWAYS) if k in values}
    return DEFAULTS | own


def postfix_settings(values: Mapping[str, Any]) -> dict[str, Any]:
    """The Postfix settings (the preset's ``main.cf`` names, and ``master_cf_submission``) the panel's values stand for.

    Keys read: ``mynetworks`` (addresses, read by :func:`~simlab.addresses.networks.parse_networks`),
    ``permit_mynetworks``, ``permit_sasl_authenticated`` (switches, :func:`parse_switch`), ``relay_refusal``
    (``reject_unauth_destination`` or ``defer_unauth_destination``), ``submission``, ``smtpd_sasl_auth_enable``
    (switches), ``sender_restrictions`` (main.cf's ``smtpd_sender_restrictions``: port 25),
    ``submission_sender_restrictions`` (the ``-o smtpd_sender_restrictions=`` of master.cf's submission entry:
    port 587), ``rbl`` (``none``, ``good``, ``broken``). Missing keys take Postfix's defaults. A bad value
    raises :class:`ConfigError` naming the setting.
    """
    relay = [word for word in ("permit_mynetworks", "permit_sasl_authenticated")
             if parse_switch(values.get(word, True), word)]
    relay.append(values.get("relay_refusal", "defer_unauth_destination"))
    settings: dict[str, Any] = {
        "mynetworks": parse_networks(values.get("mynetworks", LAN), "mynetworks"),
        "smtpd_relay_restrictions": ", ".join(relay),
        "submission": parse_switch(values.get("submission", True), "submission"),
        "smtpd_sasl_auth_enable": parse_switch(values.get("smtpd_sasl_auth_enable", False), "smtpd_sasl_auth_enable"),
    }
    sender = values.get("sender_restrictions", "")
    submission_sender = values.get("submission_sender_restrictions", "")
    if submission_sender:
        # the login check on the submission entry (and the maps in main.cf): Product.sender_login_check's settings,
        # with main.cf's own smtpd_sender_restrictions (port 25) as the panel has it
        settings.update(products.get("postfix").sender_login_check(submission_sender, SENDER_LOGIN_MAPS))
        settings["smtpd_sender_restrictions"] = sender
    elif sender:  # main.cf only: port 25; Debian's submission entry keeps -o smtpd_sender_restrictions= (empty)
        settings["smtpd_sender_login_maps"] = dict(SENDER_LOGIN_MAPS)
        settings["smtpd_sender_restrictions"] = sender
    rbl = values.get("rbl", "none")
    if rbl not in ("none", "good", "broken"):
        raise ConfigError("rbl", rbl, t("exercise.today.not_a_blocklist"),
                          t("exercise.today.expected_blocklist"))
    if rbl != "none":
        zone = BlocklistZone(BLOCKLIST, listed=LISTED_SPAMMERS, answers_everything=rbl == "broken")
        settings["dns"] = Dns([zone])
        settings["smtpd_recipient_restrictions"] = f"permit_mynetworks, permit_sasl_authenticated, " \
                                                   f"reject_rbl_client {BLOCKLIST}"
    return settings


def _words(value: Any, setting: str) -> str:
    """A restriction list as one line of words (``"a, b"``), checked."""
    return ", ".join(str(word) for word in parse_restrictions(value, setting))


def submission_entry(overrides: Mapping[str, Any] | None = None) -> list[str]:
    """master.cf's ``submission`` entry as Debian 12 ships it, uncommented, with the admin's ``-o`` changes.

    The TLS lines are left out (simlab simulates no TLS). A list value is written with commas and no
    spaces, as a ``-o`` value must be; a changed line is marked.
    """
    overrides = dict(overrides or {})
    lines = ["submission inet n       -       y       -       -       smtpd"]
    for name, value in DEBIAN_SUBMISSION.items():
        if name in overrides:
            text = _words(overrides.pop(name), f"master_cf_submission[{name!r}]").replace(", ", ",")
            debian = f"{name}={value}"
            note = t("exercise.today.debian_entry", setting=debian)
            lines.append(f"  -o {name}={text}" + ("" if text == value else f"    # {note}"))
        else:
            lines.append(f"  -o {name}={value}")
    for name, value in overrides.items():
        lines.append(f"  -o {name}={_words(value, f'master_cf_submission[{name!r}]').replace(', ', ',')}")
    return lines


def main_cf(values: Mapping[str, Any]) -> str:
    """The settings as an admin would write them in ``main.cf``, ``master.cf`` (and ``jail.local``)."""
    s = postfix_settings(values)
    yes = {True: "yes", False: "no"}
    lines = ["# " + t("exercise.today.main_cf_heading"),
             f"myhostname = {HOSTNAME}", f"mydestination = $myhostname, {DOMAIN}",
             f"mynetworks = {', '.join(s['mynetworks'])}",
             f"smtpd_relay_restrictions = {s['smtpd_relay_restrictions']}",
             f"smtpd_sasl_auth_enable = {yes[s['smtpd_sasl_auth_enable']]}"]
    if "smtpd_sender_login_maps" in s:
        lines.append("smtpd_sender_login_maps = hash:/etc/postfix/sender_login")
        if s.get("smtpd_sender_restrictions"):
            words = _words(s["smtpd_sender_restrictions"], "smtpd_sender_restrictions")
            lines.append(f"smtpd_sender_restrictions = {words}")
    if "smtpd_recipient_restrictions" in s:
        lines.append(f"smtpd_recipient_restrictions = {s['smtpd_recipient_restrictions']}")
    lines += ["", "# master.cf"]
    if s["submission"]:
        lines += [*(f"# {line}" for line in t("exercise.today.submission_open").splitlines()),
                  *submission_entry(s.get("master_cf_submission"))]
    else:
        lines += ["# " + t("exercise.today.submission_closed"),
                  "#submission inet n       -       y       -       -       smtpd"]
    if "smtpd_sender_login_maps" in s:
        lines += ["", "# " + t("exercise.today.sender_login_file", file="/etc/postfix/sender_login",
                                command="postmap /etc/postfix/sender_login"),
                  *(f"{k:<24} {v}" for k, v in SENDER_LOGIN_MAPS.items())]
    if values.get("fail2ban"):
        lines += ["", "# /etc/fail2ban/jail.local", "[dovecot]", "enabled = true", "maxretry = 5", "findtime = 10m",
                  f"bantime = {int(values.get('bantime', 600)) // 60}m"]
    return "\n".join(lines)


def update_exim4_conf(relay_nets: str | list[str] = LAN, other_hostnames: str | list[str] = DOMAIN,
                      relay_domains: str | list[str] = "") -> str:
    """The same site for Exim, as a Debian admin writes it, and the lists Debian generates from it.

    ``/etc/exim4/update-exim4.conf.conf`` (Debian's exim4-config) holds ``dc_relay_nets``,
    ``dc_other_hostnames`` and ``dc_relay_domains``; ``update-exim4.conf`` turns them into Exim's
    ``hostlist relay_from_hosts`` (with 127.0.0.1 and ::1 added), ``domainlist local_domains``
    (``@:localhost:`` first) and ``domainlist relay_to_domains``, as the recording's configuration shows.
    The server built from them is ``site_server("exim", exim_settings(...))``.
    """
    def items(value: str | list[str]) -> list[str]:
        return list(value) if isinstance(value, list) else split_list(value)

    nets, names, relays = parse_networks(relay_nets, "dc_relay_nets"), items(other_hostnames), items(relay_domains)
    return "\n".join([
        *(f"# {line}" for line in t("exercise.today.exim_heading", file="/etc/exim4/update-exim4.conf.conf",
                                    command="update-exim4.conf").splitlines()),
        "dc_eximconfig_configtype='internet'", f"dc_other_hostnames='{';'.join(names)}'",
        f"dc_relay_nets='{';'.join(nets)}'", f"dc_relay_domains='{';'.join(relays)}'", "",
        "# " + t("exercise.today.exim_generated", command="update-exim4.conf"),
        f"domainlist local_domains = {':'.join(['@', 'localhost', *names])}",
        f"domainlist relay_to_domains = {':'.join(relays)}".rstrip(),
        f"hostlist relay_from_hosts = {' : '.join([*nets, '127.0.0.1', '::1'])}"])


def exim_settings(relay_nets: str | list[str] = LAN, relay_domains: str | list[str] = "") -> dict[str, Any]:
    """simlab's Exim settings (the preset's names) for ``dc_relay_nets`` and ``dc_relay_domains``."""
    return {"relay_from_hosts": parse_networks(relay_nets, "dc_relay_nets"),
            "relay_to_domains": split_list(relay_domains) if not isinstance(relay_domains, list)
            else list(relay_domains)}


def run_dialogue(settings: Mapping[str, Any], dialogue: Dialogue, preset: str = "postfix"
                 ) -> tuple[list[str], list[str]]:
    """Send ``dialogue`` to a fresh site server (the lesson's Postfix) with ``settings``; return (transcript, log).

    Port 110 opens a POP3 session, any other port SMTP. Lines after the server closed the
    connection are not sent; a note says so.
    """
    server = site_server(preset, settings)
    if dialogue.port == 110:
        session: Any = server.pop3_session(client_ip=dialogue.client_ip)
    else:
        session = server.smtp_session(client_ip=dialogue.client_ip, port=dialogue.port)
    unsent = send_until_closed(session, dialogue.lines)
    notes = []
    if unsent:
        quoted = f"'{unsent[0]}'"
        notes.append("   (" + t("exercise.today.not_sent", line=quoted) + ")")
    return list(session.transcript) + notes, list(server.log)


def _problem_scenario(problem: Problem, values: Mapping[str, Any], settings: dict[str, Any],
                      preset: str) -> Scenario:
    """The day that goes with ``problem``, on ``preset`` (the lesson's Postfix) with ``settings``."""
    key = problem.key
    if key == "open_relay":
        scenario = relay_probe(preset=preset)
    elif key == "refuse_relay":
        scenario = ip_rotation(preset=preset, pool_size=50, messages=100, every=600)
    elif key == "roaming":
        scenario = spoofed_postmaster(preset=preset)
    elif key == "spoofed_sender":
        scenario = spoofed_postmaster(preset=preset)
        for actor in scenario.actors:
            if isinstance(actor, SpoofingSpammer):
                actor.victims = ("bob@example.com", "webmaster@example.com", "user_name@yourcompany.test")
    elif key == "guessing":
        scenario = wrong_password(preset=preset, guesser_ips=int(values.get("guesser_ips", 1)))
        if values.get("fail2ban"):
            scenario.restrictions.append(Fail2Ban(jail="dovecot", failregex=products.get(preset).pop3_filter(),
                                                  maxretry=5, findtime=600,
                                                  bantime=float(values.get("bantime", 600)), ignoreip=[LAN]))
    elif key == "blocklist":
        scenario = spoofed_postmaster(preset=preset)
        scenario.actors = [a for a in scenario.actors if not isinstance(a, SpoofingSpammer)]
        scenario.actors.append(RotatingSpammer("listed spammer", "attacker", ips=LISTED_SPAMMERS, server=HOSTNAME,
                                               local_domain=DOMAIN, victims=("bob@example.com", "alice@example.com"),
                                               messages=20, every=HOUR, sender_mode="bulk"))
    else:  # pragma: no cover - the dropdown offers only PROBLEMS
        raise ConfigError("problem", key, t("exercise.today.not_a_problem"),
                          t("expected.one_of", choices=", ".join(PROBLEMS)))
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
    return Dialogue(t("exercise.today.dialogue.yours"), values.get("client", SPOOFER_IP), int(values.get("port", 25)),
                    lines)


def day_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """What the problem's day depends on: the values that apply (:func:`effective_values`) but the typed
    dialogue's (:data:`DIALOGUE_CONTROLS`). Two sets of values with the same ``day_values`` have the same day."""
    return {k: v for k, v in effective_values(values).items() if k not in DIALOGUE_CONTROLS}


def today_day(values: Mapping[str, Any], preset: str = "postfix") -> Result:
    """The day of the problem ``values`` choose, run with its settings and seed (pure; bad settings raise
    :class:`ConfigError`). It depends only on :func:`day_values`: a panel may keep it by them, so that a
    change of the typed dialogue does not run the day again."""
    values = effective_values(values)
    problem = PROBLEMS[values["problem"]]
    settings = postfix_settings(values)
    site_server(preset, settings)  # validate once, before the day runs
    return run(_problem_scenario(problem, values, settings, preset), seed=int(values.get("seed", 1)))


def today_outcome(values: Mapping[str, Any], preset: str = "postfix", day: Result | None = None) -> TodayOutcome:
    """Everything the panel needs for ``values``; pure (no widgets). Bad settings raise :class:`ConfigError`.

    ``preset`` is the server the settings are for: the lesson's Postfix (``main.cf`` names). ``day``: the
    problem's day for these values, if it was run before (:func:`today_day` of values with the same
    :func:`day_values`); else it is run here.
    """
    values = effective_values(values)
    problem = PROBLEMS[values["problem"]]
    postfix_settings(values)  # a bad setting raises before anything runs
    result = day if day is not None else today_day(values, preset)
    dialogues = [(d, *run_dialogue(postfix_settings(values), d, preset)) for d in problem.dialogues]
    own = _own_dialogue(values)
    return TodayOutcome(problem, result, dialogues,
                        (own, *run_dialogue(postfix_settings(values), own, preset)) if own else None, main_cf(values))


def day_log(result: Result, pattern: str) -> tuple[list[str], int]:
    """The day's log lines that match ``pattern``, and the defences' own lines; and how many lines the day had."""
    regex = re.compile(pattern)
    chosen = [line for line in result.log if regex.search(line)]
    for restriction in result.server.restrictions:
        chosen += list(getattr(restriction, "log", ()))
    return chosen, len(result.log)


# --- the exercise ------------------------------------------------------------------------------------------------

#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.today.solution")



@dataclass(frozen=True)
class Probe:
    """One client the checker sends, and what it should get at RCPT: ``"relay"`` (2xx) or ``"refuse"`` (5xx).

    ``who`` is text, or a look-up (``lambda: t("id")``) made each time it is read.
    """

    who: str = LearnerText()
    dialogue: Dialogue
    want: str


def _smtp(helo: str, ip: str, port: int, sender: str, rcpt: str, login: tuple[str, str] | None = None) -> Dialogue:
    lines = [f"EHLO {helo}"]
    if login:
        lines.append(f"AUTH PLAIN {auth_plain(*login)}")
    lines += [f"MAIL FROM:<{sender}>", f"RCPT TO:<{rcpt}>", "QUIT"]
    return Dialogue(helo, ip, port, tuple(lines))


PROBES = (
    Probe(lambda: t("exercise.today.probe.survey"),
          _smtp("scanner.survey.test", SCANNER_IP, 25, "sender@survey.test", "rtest@survey.test"), "refuse"),
    Probe(lambda: t("exercise.today.probe.spoofer"),
          _smtp("[203.0.113.50]", SPOOFER_IP, 25, "Postmaster@example.com", "user_name@yourcompany.test"), "refuse"),
    Probe(lambda: t("exercise.today.probe.bob"),
          _smtp("pc-bob.example.com", "192.0.2.101", 25, "bob@example.com", "carol@remote.test"), "relay"),
    Probe(lambda: t("exercise.today.probe.alice_logged_in"),
          _smtp("alice-laptop.example.com", ROAMING_IP, 587, "alice@example.com", "carol@remote.test",
                ("alice", "wonderland42")), "relay"),
    Probe(lambda: t("exercise.today.probe.alice_anonymous"),
          _smtp("alice-laptop.example.com", ROAMING_IP, 587, "alice@example.com", "carol@remote.test"), "refuse"),
    Probe(lambda: t("exercise.today.probe.carol"),
          _smtp("mta.remote.test", "198.51.100.90", 25, "carol@remote.test", "bob@example.com"), "relay"),
)

#: The file each setting of the answer belongs in, in the feedback's words (``SUBMISSION_ENTRY``: in the
#: language current when read, :func:`_submission_entry_words`).
MAIN_CF = "main.cf"
_ASKED = "smtpd_relay_restrictions"
SUBMISSION_ENTRY: str


def _submission_entry_words() -> str:
    return t("exercise.today.submission_entry")


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution, "SUBMISSION_ENTRY": _submission_entry_words})


def _rcpt_reply(transcript: list[str]) -> str | None:
    for i, line in enumerate(transcript):
        if line.startswith("C: RCPT TO:"):
            return transcript[i + 1][3:] if i + 1 < len(transcript) else None
    return None


def _expected_answer() -> str:
    line = f"'{_ASKED} = <words>'"
    return t("exercise.today.expected_answer", main_cf=MAIN_CF, line=line)


def _read_answer(answer: str) -> tuple[str | None, dict[str, str]]:
    """The answer as (main.cf's ``smtpd_relay_restrictions``, the submission entry's ``-o`` lines).

    One list of words is main.cf's relay list; so is a ``smtpd_relay_restrictions = ...`` line (an indented
    line continues it, as in main.cf). A ``-o name=value`` line is one of master.cf's submission entry.
    Another main.cf setting raises :class:`ConfigError`: the exercise asks for the relay list only.
    """
    main: list[str] = []
    entry: dict[str, str] = {}
    last: str | None = None
    for raw in answer.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        text = line.strip()
        if text.startswith("-o"):
            name, equals, value = text[2:].strip().partition("=")
            if not equals or not name.strip():
                raise ConfigError("master.cf", text, t("exercise.today.not_an_o_line"), "'-o name=value'")
            entry[name.strip()] = value.strip()
            last = None
        elif raw[:1].isspace() and last == "main":
            main.append(text)
        elif "=" in text:
            name, _, value = text.partition("=")
            name = name.strip()
            if name in DEBIAN_SUBMISSION and name != _ASKED:  # a list the submission entry sets for itself
                raise ConfigError(name, value.strip(), t("exercise.today.submission_list", main_cf=MAIN_CF,
                                                         entry=_submission_entry_words(), setting=name),
                                  _expected_answer())
            if name != _ASKED:
                raise ConfigError(name, value.strip(), t("exercise.today.not_asked"), _expected_answer())
            main.append(value.strip())
            last = "main"
        else:
            main.append(text)
            last = "main"
    return (", ".join(main) if main else None), entry


@checker
def check_relay_restrictions(restrictions: str, preset: str = "postfix") -> Feedback:
    """Run six clients against the site's Postfix with main.cf's ``smtpd_relay_restrictions = <restrictions>``.

    ``restrictions`` is the list of words (or the main.cf line ``smtpd_relay_restrictions = ...``); a
    ``-o name=value`` line in it changes master.cf's submission entry (port 587) instead. Passes when
    outsiders get a permanent 5xx at RCPT for foreign recipients, the LAN, a logged-in roaming user on
    port 587 and a correspondent delivering to us get 250, and a roaming user who has not logged in is
    refused. When a setting is in the wrong file for what it should do, the feedback says which file
    it goes in. Bad input is a failed verdict naming the setting.
    """
    if not isinstance(restrictions, str):
        raise ConfigError(_ASKED, restrictions, t("exercise.today.not_a_list"),
                          t("exercise.today.expected_text", example="'permit_mynetworks, ...'"))
    main, entry = _read_answer(restrictions)
    if main is None and not entry:
        raise ConfigError(_ASKED, restrictions, t("exercise.today.no_restriction"),
                          t("exercise.today.expected_words", example="'permit_mynetworks, ...'"))
    settings: dict[str, Any] = {"mynetworks": [LAN]}
    if main is not None:
        settings[_ASKED] = main
    if entry:
        settings["master_cf_submission"] = entry
    site_server(preset, settings)  # a ConfigError names the word or the -o line
    problems: list[str] = []
    report: list[str] = []
    refused_ours = False
    for probe in PROBES:
        transcript, _log = run_dialogue(settings, probe.dialogue, preset)
        reply = _rcpt_reply(transcript) or "(" + t("exercise.today.no_reply") + ")"
        rcpt = next(line for line in probe.dialogue.lines if line.startswith("RCPT"))
        where = t("exercise.today.probe_result", who=probe.who, ip=probe.dialogue.client_ip, port=probe.dialogue.port,
                  rcpt=rcpt, reply=reply)
        if probe.dialogue.port == 587:
            where = t("exercise.today.port_587_decides", line=where, entry=_submission_entry_words(), main_cf=MAIN_CF)
        code = reply[:3]
        if probe.want == "relay" and not code.startswith("2"):
            problems.append(t("exercise.today.should_accept", line=where))
            refused_ours = refused_ours or probe.dialogue.port == 25
        elif probe.want == "refuse" and code.startswith("2"):
            problems.append(t("exercise.today.open_relay", line=where))
        elif probe.want == "refuse" and code.startswith("4"):
            problems.append(t("exercise.today.temporary", line=where))
        else:
            report.append(where)
    problems += _wrong_place(main, entry, refused_ours)
    if problems:
        return Feedback(False, problems)
    return Feedback(True, report)


def _wrong_place(main: str | None, entry: Mapping[str, str], refused_ours: bool) -> list[str]:
    """Which file a setting of the answer goes in, when the answer put it in the other one."""
    notes = []
    if _ASKED in entry:
        line, main_line = f"'-o {_ASKED}={entry[_ASKED]}'", f"'{_ASKED} = ...'"
        if main is not None:
            notes.append(t("exercise.today.o_line_for_587", line=line, entry=_submission_entry_words(),
                           main_cf=MAIN_CF, main_line=main_line))
        else:
            notes.append(t("exercise.today.o_line_for_587_only", line=line, entry=_submission_entry_words(),
                           main_cf=MAIN_CF, main_line=main_line))
    if main is not None and refused_ours and any(word.name == "reject" for word in parse_restrictions(main, _ASKED)):
        notes.append(t("exercise.today.plain_reject", entry=_submission_entry_words(), main_cf=MAIN_CF))
    return notes

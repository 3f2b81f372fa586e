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
from simlab.exercises.common import Feedback, auth_plain, checker, parse_switch, send_until_closed, split_list
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
           "exim_settings", "submission_entry"]

# --- the lesson's model: each 1998 problem, today's settings for it, and the day that goes with it ------------

BLOCKLIST = "bl.example.test"
#: The spammers the working blocklist lists (the broken one lists everyone).
LISTED_SPAMMERS = tuple(f"203.0.113.{n}" for n in range(120, 130))
#: ``smtpd_sender_login_maps``: which login may use which sender address.
SENDER_LOGIN_MAPS = {f"{name}@{DOMAIN}": name for name in ACCOUNTS} | {f"postmaster@{DOMAIN}": "webmaster"}


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
        "Port 587 is master.cf's submission entry (Debian ships it commented out; the admin uncomments it): "
        "its -o lines switch AUTH on and replace main.cf's relay list with smtpd_recipient_restrictions="
        "permit_sasl_authenticated,reject. Not logged in, MAIL gets 250 and every RCPT 554 5.7.1 Recipient "
        "address rejected: Access denied (RFC 6409 asks for 530 at MAIL; Debian's Postfix does not do that); "
        "logged in, alice relays from anywhere.",
        ("submission", "smtpd_sasl_auth_enable", "permit_sasl_authenticated", "relay_refusal"),
        ("legit_delivered", "legit_refused", "spam_relayed", "spam_refused"),
        (Dialogue("alice, away, on the submission port 587, not logged in", ROAMING_IP, 587,
                  ("EHLO alice-laptop.example.com", "MAIL FROM:<alice@example.com>", "RCPT TO:<carol@remote.test>",
                   "QUIT")),
         Dialogue("alice, away, on the submission port 587, logged in", ROAMING_IP, 587,
                  ("EHLO alice-laptop.example.com", f"AUTH PLAIN {_ALICE}", "MAIL FROM:<alice@example.com>",
                   "RCPT TO:<carol@remote.test>", "QUIT")),
         Dialogue("alice on port 25, not logged in", ROAMING_IP, 25,
                  ("EHLO alice-laptop.example.com", "MAIL FROM:<alice@example.com>", "RCPT TO:<carol@remote.test>",
                   "QUIT"))),
        highlight=r"NOQUEUE: reject|sasl_username"),
    Problem(
        "spoofed_sender", "S4: the spoofed Postmaster sender",
        "EIMS 2.1 relayed for MAIL FROM:<Postmaster@...> because it trusted the sender's domain.",
        "The sender never grants relay; smtpd_sender_login_maps (main.cf) + reject_sender_login_mismatch also "
        "refuse a local sender address from a client that is not logged in as its owner (553 5.7.1). main.cf's "
        "smtpd_sender_restrictions serves port 25 only: Debian's submission entry empties it on 587, so the "
        "check for logged-in users goes on that entry too (-o smtpd_sender_restrictions=...).",
        ("sender_restrictions", "submission_sender_restrictions", "mynetworks"), _LOCAL_SPAM_KEYS,
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

DEFAULTS: dict[str, Any] = {
    "mynetworks": LAN, "permit_mynetworks": True, "permit_sasl_authenticated": True,
    "relay_refusal": "defer_unauth_destination", "submission": True, "smtpd_sasl_auth_enable": False,
    "sender_restrictions": "", "submission_sender_restrictions": "", "fail2ban": False, "bantime": 600,
    "guesser_ips": 1, "rbl": "none",
}
#: The controls every problem shows.
ALWAYS = ("problem", "client", "port", "my_dialogue", "seed")


def effective_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values that apply: the chosen problem's own settings; every other setting at its default."""
    problem = PROBLEMS.get(values.get("problem", ""))
    if problem is None:
        raise ConfigError("problem", values.get("problem"), "is not a problem of the lesson",
                          f"one of {', '.join(PROBLEMS)}")
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
        raise ConfigError("rbl", rbl, "is not a blocklist choice", "'none', 'good' or 'broken'")
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
            lines.append(f"  -o {name}={text}" + ("" if text == value else f"    # Debian's entry: {name}={value}"))
        else:
            lines.append(f"  -o {name}={value}")
    for name, value in overrides.items():
        lines.append(f"  -o {name}={_words(value, f'master_cf_submission[{name!r}]').replace(', ', ',')}")
    return lines


def main_cf(values: Mapping[str, Any]) -> str:
    """The settings as an admin would write them in ``main.cf``, ``master.cf`` (and ``jail.local``)."""
    s = postfix_settings(values)
    yes = {True: "yes", False: "no"}
    lines = ["# main.cf (port 25; and every list the submission entry does not override)",
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
        lines += ["# port 587: Debian's submission entry, uncommented (its TLS lines left out). Its -o lines override",
                  "# main.cf for this port; its recipient list refuses every RCPT from a client not logged in",
                  *submission_entry(s.get("master_cf_submission"))]
    else:
        lines += ["# port 587 closed: Debian's submission entry left commented out",
                  "#submission inet n       -       y       -       -       smtpd"]
    if "smtpd_sender_login_maps" in s:
        lines += ["", "# /etc/postfix/sender_login (then: postmap /etc/postfix/sender_login)",
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
        "# /etc/exim4/update-exim4.conf.conf (Debian; several values are separated by ';'),",
        "# then run update-exim4.conf and reload exim4",
        "dc_eximconfig_configtype='internet'", f"dc_other_hostnames='{';'.join(names)}'",
        f"dc_relay_nets='{';'.join(nets)}'", f"dc_relay_domains='{';'.join(relays)}'", "",
        "# what update-exim4.conf generates (Exim's own names)",
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
    notes = [f"   (the server has closed the connection: '{unsent[0]}' and what follows were not sent)"] if unsent \
        else []
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


def today_outcome(values: Mapping[str, Any], preset: str = "postfix") -> TodayOutcome:
    """Everything the panel needs for ``values``; pure (no widgets). Bad settings raise :class:`ConfigError`.

    ``preset`` is the server the settings are for: the lesson's Postfix (``main.cf`` names).
    """
    values = effective_values(values)
    problem = PROBLEMS[values["problem"]]
    settings = postfix_settings(values)
    site_server(preset, settings)  # validate once, before the day runs
    result = run(_problem_scenario(problem, values, settings, preset), seed=int(values.get("seed", 1)))
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

SOLUTION = """smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination

    check_relay_restrictions("permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination")

In main.cf. Read it left to right, first match wins, at RCPT TO on port 25:
* permit_mynetworks - the client's address is in mynetworks (192.0.2.0/24): bob on the LAN relays.
* permit_sasl_authenticated - the client logged in with SMTP AUTH on port 25. Nobody can here
  (smtpd_sasl_auth_enable = no in main.cf), so the answer passes without it too; it is the word of
  Postfix's default and lets logged-in users relay the day AUTH is switched on for port 25.
* reject_unauth_destination - everyone else may only write to us (mydestination, relay_domains);
  anything else gets 554 5.7.1 <...>: Relay access denied, a permanent refusal.
Postfix's default ends in defer_unauth_destination instead (454 4.7.1): a safety net while you
test, since a wrongly refused client retries instead of bouncing. The sender address (MAIL FROM)
appears nowhere: it never grants relay, which is what closes the thread's Postmaster trick.

alice, logged in on port 587, relays whatever this list says: master.cf's submission entry empties
it there (-o smtpd_relay_restrictions=) and decides with its own
-o smtpd_recipient_restrictions=permit_sasl_authenticated,reject, which also refuses her
(554 5.7.1 <...>: Recipient address rejected: Access denied) until she logs in."""


@dataclass(frozen=True)
class Probe:
    """One client the checker sends, and what it should get at RCPT: ``"relay"`` (2xx) or ``"refuse"`` (5xx)."""

    who: str
    dialogue: Dialogue
    want: str


def _smtp(helo: str, ip: str, port: int, sender: str, rcpt: str, login: tuple[str, str] | None = None) -> Dialogue:
    lines = [f"EHLO {helo}"]
    if login:
        lines.append(f"AUTH PLAIN {auth_plain(*login)}")
    lines += [f"MAIL FROM:<{sender}>", f"RCPT TO:<{rcpt}>", "QUIT"]
    return Dialogue(helo, ip, port, tuple(lines))


PROBES = (
    Probe("the relay survey from outside",
          _smtp("scanner.survey.test", SCANNER_IP, 25, "sender@survey.test", "rtest@survey.test"), "refuse"),
    Probe("the spoofer from outside",
          _smtp("[203.0.113.50]", SPOOFER_IP, 25, "Postmaster@example.com", "user_name@yourcompany.test"), "refuse"),
    Probe("bob on the LAN",
          _smtp("pc-bob.example.com", "192.0.2.101", 25, "bob@example.com", "carol@remote.test"), "relay"),
    Probe("alice, roaming, logged in",
          _smtp("alice-laptop.example.com", ROAMING_IP, 587, "alice@example.com", "carol@remote.test",
                ("alice", "wonderland42")), "relay"),
    Probe("alice, roaming, not logged in",
          _smtp("alice-laptop.example.com", ROAMING_IP, 587, "alice@example.com", "carol@remote.test"), "refuse"),
    Probe("carol's mail server delivering to bob",
          _smtp("mta.remote.test", "198.51.100.90", 25, "carol@remote.test", "bob@example.com"), "relay"),
)

#: The file each setting of the answer belongs in, in the feedback's words.
MAIN_CF = "main.cf"
SUBMISSION_ENTRY = "master.cf's submission entry"
_ASKED = "smtpd_relay_restrictions"


def _rcpt_reply(transcript: list[str]) -> str | None:
    for i, line in enumerate(transcript):
        if line.startswith("C: RCPT TO:"):
            return transcript[i + 1][3:] if i + 1 < len(transcript) else None
    return None


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
                raise ConfigError("master.cf", text, "is not a -o line", "'-o name=value'")
            entry[name.strip()] = value.strip()
            last = None
        elif raw[:1].isspace() and last == "main":
            main.append(text)
        elif "=" in text:
            name, _, value = text.partition("=")
            name = name.strip()
            if name in DEBIAN_SUBMISSION and name != _ASKED:  # a list the submission entry sets for itself
                raise ConfigError(name, value.strip(), f"is not the setting this exercise asks for (in {MAIN_CF} it "
                                  f"serves port 25 only: {SUBMISSION_ENTRY} sets its own -o {name}=... for port 587)",
                                  f"{MAIN_CF}'s '{_ASKED} = <words>' (or just the words)")
            if name != _ASKED:
                raise ConfigError(name, value.strip(), "is not the setting this exercise asks for",
                                  f"{MAIN_CF}'s '{_ASKED} = <words>' (or just the words)")
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
        raise ConfigError(_ASKED, restrictions, "is not a restriction list",
                          "the words as text, as in main.cf: 'permit_mynetworks, ...'")
    main, entry = _read_answer(restrictions)
    if main is None and not entry:
        raise ConfigError(_ASKED, restrictions, "lists no restriction", "words such as 'permit_mynetworks, ...'")
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
        reply = _rcpt_reply(transcript) or "(no reply: the session ended before RCPT)"
        rcpt = next(line for line in probe.dialogue.lines if line.startswith("RCPT"))
        where = f"{probe.who} ({probe.dialogue.client_ip}, port {probe.dialogue.port}): {rcpt} got {reply}"
        if probe.dialogue.port == 587:
            where += f" - on port 587 {SUBMISSION_ENTRY} decides, not {MAIN_CF}'s list"
        code = reply[:3]
        if probe.want == "relay" and not code.startswith("2"):
            problems.append(f"{where} - it should be accepted")
            refused_ours = refused_ours or probe.dialogue.port == 25
        elif probe.want == "refuse" and code.startswith("2"):
            problems.append(f"{where} - an open relay: outsiders must be refused")
        elif probe.want == "refuse" and code.startswith("4"):
            problems.append(f"{where} - a temporary refusal (4xx): the client will retry. Which word of your list "
                            "refused it, and which word says the same thing as a permanent 5xx?")
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
        notes.append(f"'-o {_ASKED}={entry[_ASKED]}' is a line of {SUBMISSION_ENTRY}: it changes port 587 only. "
                     f"The survey, the spoofer, bob and carol's server come on port 25, which reads {MAIN_CF}: "
                     f"write the list there, as '{_ASKED} = ...' (no -o)"
                     + ("" if main is not None else f"; without it {MAIN_CF} keeps Postfix's default list"))
    if main is not None and refused_ours and any(word.name == "reject" for word in parse_restrictions(main, _ASKED)):
        notes.append(f"a plain 'reject' refuses everyone the list has not permitted. 'permit_sasl_authenticated,"
                     f"reject' is the list of {SUBMISSION_ENTRY} (-o smtpd_recipient_restrictions=...), for port 587, "
                     f"where everyone logs in; {MAIN_CF}'s list serves port 25, where bob's PC and other mail servers "
                     "do not log in")
    return notes

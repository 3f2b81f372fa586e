"""Lesson 07: write today's ``smtpd_relay_restrictions`` for the 1998 site.

The list is checked at ``RCPT TO``, first match wins (``postconf(5)``). It
must let the LAN (``mynetworks``) and logged-in roaming users (RFC 4954 SMTP
AUTH on the submission port, RFC 6409) relay, still take mail *for* the site
from anyone, and refuse everyone else with a permanent ``554 5.7.1 ...
Relay access denied`` (``reject_unauth_destination``) rather than the
default's temporary ``454 4.7.1`` (``defer_unauth_destination``).
"""

from __future__ import annotations

from dataclasses import dataclass

from simlab.errors import ConfigError
from simlab.exercises.common import Feedback
from simlab.scenarios.site import LAN, ROAMING_IP, SCANNER_IP, SPOOFER_IP, site_server
from simlab.ui.today import Dialogue, auth_plain, run_dialogue

__all__ = ["check_relay_restrictions", "PROBES", "SOLUTION"]

SOLUTION = """smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination

    check_relay_restrictions("permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination")

Read it left to right, first match wins, at RCPT TO:
* permit_mynetworks - the client's address is in mynetworks (192.0.2.0/24): bob on the LAN relays.
* permit_sasl_authenticated - the client logged in with SMTP AUTH: alice relays from anywhere.
* reject_unauth_destination - everyone else may only write to us (mydestination, relay_domains);
  anything else gets 554 5.7.1 <...>: Relay access denied, a permanent refusal.
Postfix's default ends in defer_unauth_destination instead (454 4.7.1): a safety net while you
test, since a wrongly refused client retries instead of bouncing. The sender address (MAIL FROM)
appears nowhere: it never grants relay, which is what closes the thread's Postmaster trick."""


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
    Probe("carol's mail server delivering to bob",
          _smtp("mta.remote.test", "198.51.100.90", 25, "carol@remote.test", "bob@example.com"), "relay"),
)


def _rcpt_reply(transcript: list[str]) -> str | None:
    for i, line in enumerate(transcript):
        if line.startswith("C: RCPT TO:"):
            return transcript[i + 1][3:] if i + 1 < len(transcript) else None
    return None


def check_relay_restrictions(restrictions: str) -> Feedback:
    """Run five clients against the site's Postfix with ``smtpd_relay_restrictions = <restrictions>``.

    Passes when outsiders get a permanent 5xx at RCPT for foreign recipients, and the LAN, a
    logged-in roaming user and a correspondent delivering to us get 250.
    """
    if not isinstance(restrictions, str):
        return Feedback(False, [f"write the list as text, as in main.cf: got {restrictions!r}"])
    settings = {"smtpd_relay_restrictions": restrictions, "mynetworks": [LAN]}
    try:
        site_server("postfix", settings)
    except ConfigError as exc:
        return Feedback(False, [str(exc)])
    problems: list[str] = []
    report: list[str] = []
    for probe in PROBES:
        transcript, _log = run_dialogue(settings, probe.dialogue)
        reply = _rcpt_reply(transcript) or "(no reply: the session ended before RCPT)"
        rcpt = next(line for line in probe.dialogue.lines if line.startswith("RCPT"))
        where = f"{probe.who} ({probe.dialogue.client_ip}, port {probe.dialogue.port}): {rcpt} got {reply}"
        code = reply[:3]
        if probe.want == "relay" and not code.startswith("2"):
            problems.append(f"{where} - it should be accepted")
        elif probe.want == "refuse" and code.startswith("2"):
            problems.append(f"{where} - an open relay: outsiders must be refused")
        elif probe.want == "refuse" and code.startswith("4"):
            problems.append(f"{where} - a temporary refusal (4xx): the client will retry. Which word of your list "
                            "refused it, and which word says the same thing as a permanent 5xx?")
        else:
            report.append(where)
    if problems:
        return Feedback(False, problems)
    return Feedback(True, report)

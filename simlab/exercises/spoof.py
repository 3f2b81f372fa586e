"""Lesson 03 (S4): the spoofed ``Postmaster@`` sender, and a relay rule the client cannot forge.

In the thread a participant connected to an EIMS 2.x server from outside
and typed ``MAIL FROM:<Postmaster@...>`` with the server's own domain, a
foreign ``RCPT TO``, ``data``, ``.`` and ``quit``: the message was relayed,
because EIMS's Relay Restriction trusts the *sender's* domain, which the
client writes freely (RFC 2505 §2.1: HELO and MAIL FROM are easily forged;
decide by the client's address). SIMS decides by the client's address
("Client Hosts") and refuses at RCPT; so does Postfix (``mynetworks``).
The later EIMS option "AND if from a valid IP" (``require_valid_ip``) adds
the client's address to the rule.

Here the site is the thread's own: ``mycompany.test`` stands for
mail.mycompany.co.jp and ``yourcompany.test`` for mail.yourcompany.co.jp.
:func:`mycompany_server` builds any preset for it; :func:`spoof_day` is the
day-long :func:`simlab.scenarios.spoofed_postmaster` run at the simlab site
(example.com) with the same settings.

The feedback and :data:`SOLUTION` come from the message catalogs (ids ``exercise.spoof.*``) in the
language current when they are shown; the replies they quote stay as each product wrote them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from simlab import products
from simlab.addresses.networks import parse_networks
from simlab.exercises.common import (
    Feedback,
    checked_settings,
    checker,
    lazy_constants,
    ok_line,
    parse_switch,
    problem_line,
    send_until_closed,
)
from simlab.i18n import t, tn
from simlab.products.base import SiteNames
from simlab.scenarios import spoofed_postmaster
from simlab.scenarios.base import DAY, Scenario
from simlab.scenarios.site import ACCOUNTS, DOMAIN, LAN, SERVER_IP, SPOOFER_IP, site_server

__all__ = ["MY_DOMAIN", "MY_HOSTNAME", "THREAD_DIALOGUE", "STAFF_DIALOGUE", "STAFF_IP", "INBOUND_DIALOGUE",
           "INBOUND_IP", "MY_SITE", "mycompany_server",
           "sender_login_map", "replay", "reply_to", "spoof_day", "check_spoof_refused", "SOLUTION"]

MY_DOMAIN = "mycompany.test"
MY_HOSTNAME = "mail.mycompany.test"
#: A member of staff's PC on the site's LAN.
STAFF_IP = "192.0.2.101"

#: The thread's dialogue, line for line (lower-case ``data`` and ``quit`` as typed there), in our addresses.
THREAD_DIALOGUE = ("MAIL FROM:<Postmaster@mycompany.test>", "RCPT TO:<user_name@yourcompany.test>", "data", ".",
                   "quit")
#: A correspondent's mail server delivering to a local user: mail that must never be refused.
INBOUND_IP = "198.51.100.90"
INBOUND_DIALOGUE = ("EHLO mail.remote.test", "MAIL FROM:<carol@remote.test>", "RCPT TO:<bob@mycompany.test>", "DATA",
                    "Subject: quote for June", "", "Prices attached.", ".", "QUIT")
#: bob on the LAN sending a message out, as his mail program would.
STAFF_DIALOGUE = ("HELO pc-bob.mycompany.test", "MAIL FROM:<bob@mycompany.test>", "RCPT TO:<carol@remote.test>",
                  "DATA", "Subject: the order", "", "See you Monday.", ".", "QUIT")


def sender_login_map(domain: str = MY_DOMAIN, accounts: Iterable[str] = tuple(ACCOUNTS)) -> dict[str, str]:
    """Postfix ``smtpd_sender_login_maps``: each account owns its own address; webmaster also owns postmaster."""
    owners = {f"{account}@{domain}": account for account in accounts}
    owners[f"postmaster@{domain}"] = "webmaster"
    return owners


#: The thread's site: mail.mycompany.test for mycompany.test, at the simlab site's address and LAN.
MY_SITE = SiteNames(domain=MY_DOMAIN, hostname=MY_HOSTNAME, address=SERVER_IP, lan=LAN)


def mycompany_server(preset: str = "eims-2.1", **settings: Any):
    """The thread's site as ``preset``: ``mail.mycompany.test`` for ``mycompany.test``, the site's accounts.

    ``settings`` use the product's names (``relay_restriction``, ``client_hosts``, ``mynetworks`` ...)
    and override the site's (SIMS Client Hosts and Postfix ``mynetworks`` are the LAN, 192.0.2.0/24).
    """
    product = products.get(preset)
    return site_server(product.name, product.site_settings(MY_SITE, ACCOUNTS) | settings)


def replay(server, client_ip: str, lines: Sequence[str], port: int = 25):
    """Send ``lines`` from ``client_ip``, stopping if the server hangs up; returns the session."""
    session = server.smtp_session(client_ip=client_ip, port=port)
    send_until_closed(session, lines)
    session.close()
    return session


def reply_to(session, verb: str = "RCPT") -> str | None:
    """The server's (last) reply line to the first ``verb`` command of the session, or ``None``."""
    lines = session.transcript
    for n, line in enumerate(lines):
        if line.startswith("C: ") and line[3:].upper().startswith(verb):
            answer = None
            for following in lines[n + 1:]:
                if following.startswith("C: "):
                    break
                answer = following[3:]
            return answer
    return None


def spoof_day(preset: str = "eims-2.1", *, relay_restriction: bool = True, relay_domains: Iterable[str] = (),
              require_valid_ip: bool = False, valid_ips: Iterable[str] | str = (LAN,),
              client_hosts: Iterable[str] | str = (LAN,), smtp_auth: bool = False,
              sender_login_check: str | None = None, duration: float = DAY) -> Scenario:
    """The S4 day at the simlab site, with the product settings named as in the lesson.

    Args:
        relay_restriction, relay_domains, require_valid_ip, valid_ips: EIMS 2.1's Relay Restriction.
        client_hosts: the allow-list of a product that relays by the client's address (SIMS Client
            Hosts, Postfix ``mynetworks``).
        smtp_auth: EIMS 2.1 SMTP AUTH, or Postfix ``smtpd_sasl_auth_enable`` (AUTH on port 25 too);
            the roaming user then sends on port 587 with AUTH.
        sender_login_check: a Postfix restriction such as ``"reject_sender_login_mismatch"`` with
            :func:`sender_login_map` as ``smtpd_sender_login_maps``.
    """
    product = products.get(preset)
    by_sender = product.can(products.RELAY_BY_SENDER_DOMAIN)
    relay_restriction = parse_switch(relay_restriction, "relay_restriction")
    require_valid_ip = parse_switch(require_valid_ip, "require_valid_ip")
    smtp_auth = parse_switch(smtp_auth, "smtp_auth")
    valid_ips = parse_networks(valid_ips, "valid_ips")
    hosts = parse_networks(client_hosts, "client_hosts")
    scenario = spoofed_postmaster(preset=preset, duration=duration,
                                  relay_restriction=relay_restriction if by_sender else None,
                                  client_hosts=hosts if product.relay_allowlist_by_default else None)
    if product.can(products.RELAY_BY_SENDER_DOMAIN):
        scenario.settings.update(product.relay_restriction(relay_restriction, relay_domains))
        if product.can(products.RELAY_BY_CLIENT_IP):
            scenario.settings.update({"require_valid_ip": require_valid_ip,
                                      product.relay_allowlist_setting: valid_ips})
    if product.can(products.SMTP_AUTH):
        scenario.settings.update(product.smtp_auth(smtp_auth))
    if sender_login_check and product.can(products.SENDER_LOGIN_CHECK):
        scenario.settings.update(product.sender_login_check(sender_login_check, sender_login_map(DOMAIN)))
    if smtp_auth and product.can(products.SMTP_AUTH):
        for actor in scenario.actors:
            if actor.name == "alice (roaming)":
                actor.use_auth = True
    return scenario


def _verdict(who: str, session, relayed_words: str) -> tuple[bool, str]:
    """Did RCPT get a 2xx? And a sentence that says what happened."""
    if session.greeting is None or session.greeting.code >= 400:
        shown = t("exercise.spoof.no_banner") if session.greeting is None else f"'{session.greeting.text}'"
        return False, t("exercise.spoof.refused_at_connect", who=who, banner=shown)
    mail = reply_to(session, "MAIL")
    if mail is None or mail[:1] != "2":
        quoted = f"'{mail}'"
        return False, t("exercise.spoof.mail_refused", who=who, reply=quoted)
    answer = reply_to(session, "RCPT")
    if answer is None:
        return False, t("exercise.spoof.no_rcpt", who=who)
    accepted, quoted = answer[:1] == "2", f"'{answer}'"
    return accepted, t("exercise.spoof.rcpt_reply", who=who, reply=quoted,
                       verdict=relayed_words if accepted else t("exercise.spoof.refused"))


@checker
def check_spoof_refused(preset: str = "eims-2.1", **settings: Any) -> Feedback:
    """Replay the thread's dialogue from outside and a staff message from the LAN against your settings.

    ``settings`` are the product's own (for EIMS 2.1: ``relay_restriction``, ``relay_domains``,
    ``require_valid_ip``, ``valid_ips``, ``smtp_auth``). ``require_valid_ip=True`` without
    ``valid_ips`` means the site's LAN (192.0.2.0/24), as in the lesson's panel and day chart.
    Passes when the spoofed message from 203.0.113.50 is refused at RCPT, bob's message from
    192.0.2.101 is accepted for relaying, and a correspondent's server (198.51.100.90) can still
    deliver to bob. Each line of the feedback is marked "ok" or "problem". Switches take
    ``True``/``False`` or yes/no, true/false, on/off, 1/0, address lists CIDR blocks, addresses or
    ``A-B`` ranges; a bad value is a failed verdict naming the setting.
    """
    product = products.get(preset)
    settings = checked_settings(product.name, settings)
    listed = product.relay_allowlist_setting
    if settings.get("require_valid_ip") and product.can(products.RELAY_BY_SENDER_DOMAIN) and listed \
            and listed not in settings:
        settings[listed] = [LAN]
    servers = [mycompany_server(preset, **settings) for _ in range(3)]
    spoof = replay(servers[0], SPOOFER_IP, THREAD_DIALOGUE)
    staff = replay(servers[1], STAFF_IP, STAFF_DIALOGUE)
    inbound = replay(servers[2], INBOUND_IP, INBOUND_DIALOGUE)
    spoof_relayed, spoof_line = _verdict(t("exercise.spoof.who_spoofer", ip=SPOOFER_IP), spoof,
                                         t("exercise.spoof.relayed_to", domain="yourcompany.test"))
    staff_ok, staff_line = _verdict(t("exercise.spoof.who_staff", ip=STAFF_IP), staff,
                                    t("exercise.spoof.accepted_for", rcpt="carol@remote.test"))
    inbound_ok, inbound_line = _verdict(t("exercise.spoof.who_inbound", ip=INBOUND_IP), inbound,
                                        t("exercise.spoof.accepted_for", rcpt="bob"))
    problems, facts = [], []
    if spoof_relayed:
        problems.append(problem_line(tn("exercise.spoof.queued", len(servers[0].queue), line=spoof_line)))
    else:
        facts.append(ok_line(spoof_line))
    if staff_ok:
        facts.append(ok_line(staff_line))
    else:
        problems.append(problem_line(t("exercise.spoof.staff_cannot_send", line=staff_line)))
    if inbound_ok:
        facts.append(ok_line(inbound_line))
    else:
        problems.append(problem_line(t("exercise.spoof.no_inbound", line=inbound_line)))
    return Feedback(not problems, problems + facts)


#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.spoof.solution")


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution})

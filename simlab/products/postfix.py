"""Postfix 3.7 (``compatibility_level = 3.6``) with Dovecot 2.3 for POP3: today's reference.

Replies to MAIL and RCPT - code, enhanced code and text - follow Postfix's
``smtpd.c`` and ``smtpd_check.c`` and were compared with a real Postfix 3.7
given the same ``main.cf`` (``tests/data/postfix_reference.json``, recorded
by ``scripts/postfix_reference/``). Log lines follow Postfix's formats
(``connect from``, ``NOQUEUE: reject: RCPT from ...``, ``client=``,
``disconnect from ... commands=``). Settings keep their ``main.cf`` names
and defaults, including ``$myhostname`` / ``$mydomain`` expansion in
``mydestination``.

Modelling choices:

* The EHLO reply leaves out CHUNKING (BDAT), which simlab does not
  simulate; STARTTLS is neither offered nor accepted (no TLS is simulated,
  as with ``smtpd_tls_security_level = none``).
* ``smtpd_error_sleep_time`` is applied as a reply delay for the traffic
  engine, never as a real sleep.
* SMTP AUTH is PLAIN and LOGIN against ``accounts`` (Dovecot SASL in real
  life). Port 587 is the ``submission inet`` entry of Debian 12's
  ``master.cf``, uncommented (TLS aside): its own ``smtpd`` with AUTH,
  ``smtpd_reject_unlisted_recipient=no`` and ``smtpd_recipient_restrictions
  = permit_sasl_authenticated,reject`` (see
  :mod:`simlab.restrictions.submission`). Without AUTH, MAIL is accepted and
  every RCPT but the bare ``<postmaster>`` gets ``554 5.7.1 <rcpt>: Recipient
  address rejected: Access denied``, logged by ``postfix/submission/smtpd``
  - as recorded from a real Postfix (config C of the reference file). RFC
  6409's ``530 5.7.0 Authentication required`` at MAIL is what the RFC asks,
  not what Postfix answers.
* POP3 speaks as Dovecot 2.3 (:mod:`simlab.products.dovecot`: its replies and
  its log lines) with ``disable_plaintext_auth = no`` (simlab simulates no
  TLS) and ``auth_failure_delay = 2s`` with its per-address penalty.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from simlab.addresses.networks import ClientNetworks, parse_ip
from simlab.addresses.routing import PostfixResolver, domain_list
from simlab.clock import MONTH_ABBREVIATIONS, ManualClock
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.base import (
    CLIENT_CONNECTION_LIMIT,
    DKIM_SIGNING,
    DNSBL,
    POP3,
    RELAY_BY_CLIENT_IP,
    RELAY_CONTROL,
    SENDER_LOGIN_CHECK,
    SMTP_AUTH,
    SUBMISSION,
    Product,
    QueueSchedule,
    RetryPhase,
    SiteNames,
    records_origin,
)
from simlab.products.common import extra_restrictions
from simlab.products.dovecot import DOVECOT_FILTER, DovecotMailServer, DovecotPop3
from simlab.protocol.persona import DeliveryEvent, Persona
from simlab.protocol.policy import Recipient, Restriction, SmtpContext
from simlab.protocol.reply import Reply
from simlab.protocol.server import MailServer
from simlab.restrictions.dnsbl import Dns
from simlab.restrictions.fail2ban_filters import StockFilter
from simlab.restrictions.guards import FailureDelay
from simlab.restrictions.postfix import DEFAULT_RELAY_RESTRICTIONS, PostfixRestrictions
from simlab.restrictions.rates import Anvil
from simlab.restrictions.submission import DEBIAN_SUBMISSION, ClosedPorts, MasterServices

__all__ = ["PRODUCTS", "PostfixPersona", "PostfixProduct", "postfix"]

_COMMAND_ORDER = ("helo", "ehlo", "starttls", "auth", "mail", "rcpt", "data", "bdat", "rset", "noop", "vrfy",
                  "etrn", "quit", "unknown")


class PostfixPersona(DovecotPop3, Persona):
    """Postfix 3.7 ``smtpd`` replies and log lines; Dovecot 2.3 for POP3 (:class:`DovecotPop3`)."""

    product = "Postfix 3.7"
    enhanced = True
    max_command_line = 2048  # line_length_limit
    verbs = ("HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "VRFY", "QUIT", "AUTH", "STARTTLS", "ETRN")
    recipient_limit = 1000  # smtpd_recipient_limit
    truncate_long_commands = True  # smtp_get() with line_length_limit, the rest is skipped
    vrfy_checks_recipient = True  # vrfy_cmd() runs smtpd_check_rcpt()

    def __init__(self, hard_error_limit: int = 20, soft_error_limit: int = 10, error_sleep: float = 1.0,
                 server_ip: str = "192.0.2.25", submission_ports: tuple[int, ...] = ()) -> None:
        self.hard_error_limit = hard_error_limit
        self.soft_error_limit = soft_error_limit
        self.error_sleep = error_sleep
        self.server_ip = server_ip
        #: ports served by master.cf's submission entry (``syslog_name=postfix/submission``,
        #: ``smtpd_reject_unlisted_recipient=no``)
        self.submission_ports = frozenset(submission_ports)
        # the smtpd "processes" (one per session) of submission sessions, for the log's syslog name; one number
        # per session on port 587, kept for the server's life (its lines may be written after the session ended)
        self._submission_pids: set[int] = set()
        self._submissions_pids: set[int] = set()

    def rejects_unlisted_recipient(self, ctx: SmtpContext) -> bool:
        """``smtpd_reject_unlisted_recipient``: yes (main.cf's default), no on the submission port."""
        return ctx.port not in self.submission_ports

    # --- SMTP -----------------------------------------------------------------------
    def banner(self, server: MailServer) -> Reply:
        return Reply.of(220, f"{server.hostname} ESMTP Postfix")

    def ehlo_keywords(self, server: MailServer, ctx: SmtpContext) -> list[str]:
        keywords = ["PIPELINING"]
        if server.message_size_limit:
            keywords.append(f"SIZE {server.message_size_limit}")
        keywords += ["VRFY", "ETRN"]
        if server.auth_offered(ctx):
            keywords.append("AUTH PLAIN LOGIN")
        keywords += ["ENHANCEDSTATUSCODES", "8BITMIME", "DSN", "SMTPUTF8"]
        return keywords

    def helo_syntax(self, verb: str) -> Reply:
        return Reply.of(501, f"Syntax: {verb} hostname")

    def mail_ok(self, address: str) -> Reply:
        return Reply.of(250, "2.1.0 Ok")

    def rcpt_ok(self, address: str) -> Reply:
        return Reply.of(250, "2.1.5 Ok")

    def data_go(self) -> Reply:
        return Reply.of(354, "End data with <CR><LF>.<CR><LF>")

    def queued(self, queue_id: str) -> Reply:
        return Reply.of(250, f"2.0.0 Ok: queued as {queue_id}")

    def rset(self) -> Reply:
        return Reply.of(250, "2.0.0 Ok")

    def noop(self) -> Reply:
        return Reply.of(250, "2.0.0 Ok")

    def quit(self, server: MailServer) -> Reply:
        return Reply.of(221, "2.0.0 Bye", close=True)

    def address_text(self, path) -> str:
        return path.internal

    def log_address_text(self, path) -> str:
        return "" if path.address is None else path.address.external

    def vrfy(self, server: MailServer, argument: str) -> Reply:
        if not argument.strip():
            return Reply.of(501, "5.5.4 Syntax: VRFY address")
        return Reply.of(252, f"2.0.0 {argument.strip()}")

    def unknown_command(self, line: str) -> Reply:
        return Reply.of(500, "5.5.2 Error: command not recognized")

    def etrn(self, server: MailServer, domain: str) -> Reply:
        """``fast_flush_domains = $relay_domains``: only those may be flushed."""
        name = domain.lstrip("@#").lower()
        if server.resolver.is_relay_domain(name):
            return Reply.of(250, "Queuing started")
        return Reply.of(459, f"<{domain}>: service unavailable")

    def log_etrn_refused(self, ctx: SmtpContext, domain: str) -> str:
        return f"warning: reject: ETRN {domain}... from {ctx.client}"

    def non_smtp_command(self, line: str) -> Reply | None:
        """``smtpd_forbidden_commands`` (CONNECT, GET, POST, and anything not starting with a letter)
        and lines that look like a message header: Postfix hangs up."""
        first = line.strip().split(" ")[0]
        if (first.upper() in ("CONNECT", "GET", "POST") or not first[:1].isascii() or not first[:1].isalpha()
                or re.fullmatch(r"[!-9;-~]+:", first)):
            return Reply.of(221, "2.7.0 Error: I can break rules, too. Goodbye.", close=True)
        return None

    def empty_command(self) -> Reply:
        return Reply.of(500, "5.5.2 Error: bad syntax")

    def line_too_long(self) -> Reply:
        return Reply.of(500, "5.5.2 Error: bad syntax")

    def need_helo(self) -> Reply:
        return Reply.of(503, "5.5.1 Error: send HELO/EHLO first")

    def need_mail(self) -> Reply:
        return Reply.of(503, "5.5.1 Error: need MAIL command")

    def need_rcpt(self) -> Reply:
        return Reply.of(503, "5.5.1 Error: need RCPT command")

    def nested_mail(self) -> Reply:
        return Reply.of(503, "5.5.1 Error: nested MAIL command")

    def no_valid_recipients(self) -> Reply:
        return Reply.of(554, "5.5.1 Error: no valid recipients")

    def data_without_recipients(self, in_transaction: bool) -> Reply:
        return self.no_valid_recipients() if in_transaction else self.need_rcpt()

    def too_many_recipients(self) -> Reply:
        return Reply.of(452, "4.5.3 Error: too many recipients")

    def unknown_local_user(self, text: str) -> Reply:
        return Reply.of(550, f"5.1.1 <{text}>: Recipient address rejected: User unknown in local recipient table")

    def relay_denied(self, text: str, defer: bool = False) -> Reply:
        if defer:
            return Reply.of(454, f"4.7.1 <{text}>: Relay access denied")
        return Reply.of(554, f"5.7.1 <{text}>: Relay access denied")

    def auth_not_enabled(self) -> Reply:
        return Reply.of(503, "5.5.1 Error: authentication not enabled")

    def auth_needs_ehlo(self) -> Reply:
        return Reply.of(503, "5.5.1 Error: send HELO/EHLO first")

    def auth_unsupported(self, mechanism: str) -> Reply:
        return Reply.of(535, "5.7.8 Error: authentication failed: Invalid authentication mechanism")

    def auth_failed(self, mechanism: str) -> Reply:
        return Reply.of(535, "5.7.8 Error: authentication failed: (reason unavailable)")

    def too_many_errors(self, server: MailServer) -> Reply:
        return Reply.of(421, f"4.7.0 {server.hostname} Error: too many errors", close=True)

    def queue_id(self, serial: int) -> str:
        return f"{(0x4A3C10B000 + serial * 0x2F5B3) & 0xFFFFFFFFFF:010X}"

    # --- log ---------------------------------------------------------------------------
    def format_log(self, when: datetime, process: str, pid: int, text: str, server: MailServer) -> str:
        if process == "smtpd" and pid in self._submission_pids:
            process = "submissions/smtpd" if pid in self._submissions_pids else "submission/smtpd"  # syslog_name
        prefix = "dovecot" if process.startswith("dovecot") or process == "pop3" else f"postfix/{process}[{pid}]"
        return f"{_syslog_stamp(when, when.tzinfo, server.hostname)} {prefix}: {text}"

    def log_connect(self, ctx: SmtpContext) -> str:
        if ctx.port in self.submission_ports:
            self._submission_pids.add(ctx.server.smtpd_pid(ctx))
            if ctx.port == 465:  # master.cf's submissions entry: syslog_name=postfix/submissions
                self._submissions_pids.add(ctx.server.smtpd_pid(ctx))
        return f"connect from {ctx.client}"

    def log_disconnect(self, ctx: SmtpContext, counts: dict[str, list[int]]) -> str:
        parts = []
        total_ok = total = 0
        for name in _COMMAND_ORDER:
            if name not in counts:
                continue
            ok, n = counts[name]
            total_ok += ok
            total += n
            parts.append(f"{name}={ok}" if ok == n else f"{name}={ok}/{n}")
        parts.append(f"commands={total_ok}" if total_ok == total else f"commands={total_ok}/{total}")
        return f"disconnect from {ctx.client} {' '.join(parts)}"

    def log_lost_connection(self, ctx: SmtpContext, after: str) -> str:
        return f"lost connection after {after} from {ctx.client}"

    def log_refused_connect(self, ctx: SmtpContext, reply: Reply) -> str:
        return f"NOQUEUE: reject: CONNECT from {ctx.client}: {reply.code} {reply.text}; proto=SMTP"

    def _envelope(self, ctx: SmtpContext, recipient: str | None, sender=None) -> str:
        path = sender if sender is not None else ctx.sender
        parts = []
        if path is not None:
            parts.append(f"from=<{self.log_address_text(path)}>")
        if recipient is not None:
            parts.append(f"to=<{recipient}>")
        parts.append(f"proto={'ESMTP' if ctx.esmtp else 'SMTP'}")
        if ctx.helo is not None:
            parts.append(f"helo=<{ctx.helo}>")
        return " ".join(parts)

    def log_reject(self, ctx: SmtpContext, stage: str, reply: Reply, recipient: str | None, sender=None) -> str:
        qid = ctx.queue_id or "NOQUEUE"
        return (f"{qid}: reject: {stage} from {ctx.client}: {reply.code} {reply.text}; "
                f"{self._envelope(ctx, recipient, sender)}")

    def log_transaction_start(self, ctx: SmtpContext, queue_id: str) -> str:
        method = getattr(ctx, "sasl_method", "PLAIN")  # noted by MasterServices.check_auth
        sasl = f", sasl_method={method}, sasl_username={ctx.user}" if ctx.user else ""
        return f"{queue_id}: client={ctx.client}{sasl}"

    def log_accepted(self, ctx: SmtpContext, message, recipients: list[Recipient]) -> list[tuple[str, int, str]]:
        qid = message.queue_id
        lines: list[tuple[str, int, str]] = []
        message_id = message.header_field("message-id")
        if message_id:
            lines.append(("cleanup", 1501, f"{qid}: message-id={message_id}"))
        lines.append(("qmgr", 1100, f"{qid}: from=<{message.sender}>, size={message.size}, "
                                    f"nrcpt={len(recipients)} (queue active)"))
        relayed = False
        for rcpt in recipients:
            if rcpt.account is not None:
                lines.append(("local", 1502, f"{qid}: to=<{rcpt.resolution.address}>, relay=local, delay=0, "
                                             "delays=0/0/0/0, dsn=2.0.0, status=sent (delivered to mailbox)"))
            else:
                relayed = True
        if not relayed:
            lines.append(("qmgr", 1100, f"{qid}: removed"))
        return lines

    def log_auth_failed(self, ctx: SmtpContext, mechanism: str, username: str | None) -> str:
        return (f"warning: {ctx.client}: SASL {mechanism} authentication failed: (reason unavailable), "
                f"sasl_username={username or '(unavailable)'}")

    def log_bad_address(self, ctx: SmtpContext, verb: str, argument: str) -> str | None:
        if not argument.endswith(">"):
            return None  # an unclosed "<" is refused before the address parser that warns
        return f"warning: Illegal address syntax from {ctx.client} in {verb} command: {argument}"

    def log_auth_aborted(self, ctx: SmtpContext, mechanism: str) -> str:
        return f"warning: {ctx.client}: SASL {mechanism} authentication aborted"

    def log_auth_unsupported(self, ctx: SmtpContext, mechanism: str) -> str:
        return (f"warning: {ctx.client}: SASL {mechanism} authentication failed: Invalid authentication "
                "mechanism, sasl_username=(unavailable)")

    def log_long_command(self, ctx: SmtpContext, line: str) -> str:
        return f"warning: {ctx.client}: request longer than {self.max_command_line}: {line[:30]}..."

    def log_non_smtp_command(self, ctx: SmtpContext, line: str) -> str:
        return f"warning: non-SMTP command from {ctx.client}: {line}"

    def log_too_many_errors(self, ctx: SmtpContext, after: str) -> str:
        return f"too many errors after {after} from {ctx.client}"

    # --- outbound: the smtp client and bounce daemon ------------------------------------------
    def log_delivery(self, server: MailServer, event: DeliveryEvent) -> list[tuple[str, int, str]]:
        qid, delay = event.queue_id, f"{event.delay:.0f}"
        to = ", ".join(f"to=<{r}>" for r in event.recipients)
        head = f"{qid}: {to}, relay=none, delay={delay}, delays=0/0/{delay}/0"
        if event.kind == "dns-timeout":
            return [("smtp", 3001, f"{head}, dsn=4.4.3, status=deferred (Host or domain name not found. Name service "
                                   f"error for name={event.domain} type=MX: Host not found, try again)")]
        if event.kind == "no-such-domain":
            return [("smtp", 3001, f"{head}, dsn=5.4.4, status=bounced (Host or domain name not found. Name service "
                                   f"error for name={event.domain} type=A: Host not found)")]
        if event.kind == "connect-timeout":
            where = f"{event.host}[{event.ip}]:25"
            return [("smtp", 3001, f"connect to {where}: Connection timed out"),
                    ("smtp", 3001, f"{head}, dsn=4.4.1, status=deferred (connect to {where}: Connection timed out)")]
        relay = f"{qid}: {to}, relay={event.host}[{event.ip}]:25, delay={delay}, delays=0/0/0/{delay}"
        if event.kind == "sent":
            return [("smtp", 3001, f"{relay}, dsn=2.0.0, status=sent ({event.reply})")]
        if event.kind == "rejected":
            return [("smtp", 3001, f"{relay}, dsn=5.0.0, status=bounced (host {event.host}[{event.ip}] said: "
                                   f"{event.reply} (in reply to RCPT TO command))")]
        if event.kind == "deferred":
            return [("smtp", 3001, f"{relay}, dsn=4.0.0, status=deferred (host {event.host}[{event.ip}] said: "
                                   f"{event.reply})")]
        if event.kind == "expired":
            return [("qmgr", 1100, f"{head}, dsn=4.4.7, status=expired, returned to sender")]
        if event.sender:
            return [("bounce", 3002, f"{qid}: sender non-delivery notification: {event.new_queue_id}")]
        return [("bounce", 3002, f"{qid}: postmaster non-delivery notification: {event.new_queue_id}")]

    # --- POP3: Dovecot 2.3 (simlab.products.dovecot) ------------------------------------------


# A busy server writes many lines a second, all with the same stamp: each is formatted once.
@functools.lru_cache(maxsize=256)
def _syslog_stamp(when: datetime, _zone: object, hostname: str) -> str:
    """``Jun 11 01:25:32 mail``: the syslog time and the short host name (the zone is part of the key:
    one instant reads differently in two zones)."""
    return (f"{MONTH_ABBREVIATIONS[when.month - 1]} {when.day:>2} {when.hour:02d}:{when.minute:02d}:{when.second:02d} "
            f"{hostname.split('.')[0]}")


def _expand(value: str, variables: Mapping[str, str]) -> str:
    for name, replacement in variables.items():
        value = value.replace(f"${{{name}}}", replacement).replace(f"${name}", replacement)
    return value


def _names(value: Iterable[str] | str | None, setting: str, variables: Mapping[str, str]) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    expanded = []
    for item in items:
        if not isinstance(item, str):
            raise ConfigError(setting, item, t("setting.error.not_domain"), t("setting.expected.domain"))
        expanded.append(_expand(item, variables))
    return domain_list(expanded, setting)


@records_origin("postfix")
def postfix(myhostname: str = "mail.example.com",
            mydestination: Iterable[str] | str = ("$myhostname", "localhost.$mydomain", "localhost"),
            mynetworks: Iterable[str] | str | None = None, relay_domains: Iterable[str] | str = (),
            smtpd_relay_restrictions: Iterable[str] | str = DEFAULT_RELAY_RESTRICTIONS,
            smtpd_recipient_restrictions: Iterable[str] | str = (),
            smtpd_client_restrictions: Iterable[str] | str = (),
            smtpd_helo_restrictions: Iterable[str] | str = (),
            smtpd_sender_restrictions: Iterable[str] | str = (),
            smtpd_data_restrictions: Iterable[str] | str = (),
            smtpd_sender_login_maps: Mapping[str, str] | None = None,
            access_maps: Mapping[str, Mapping[str, str]] | None = None,
            accounts: Mapping[str, str] | None = None, aliases: Mapping[str, str] | None = None,
            inet_interfaces: Iterable[str] | str = ("192.0.2.25",), mydomain: str | None = None,
            myorigin: str = "$myhostname", smtpd_sasl_auth_enable: bool = False, submission: bool = True,
            submissions: bool = False,
            master_cf_submission: Mapping[str, Iterable[str] | str] | None = None,
            smtpd_client_connection_count_limit: int = 50, smtpd_client_connection_rate_limit: int = 0,
            smtpd_client_message_rate_limit: int = 0, smtpd_client_recipient_rate_limit: int = 0,
            smtpd_client_auth_rate_limit: int = 0,
            smtpd_client_event_limit_exceptions: Iterable[str] | str | None = None,
            smtpd_hard_error_limit: int = 20, smtpd_soft_error_limit: int = 10, smtpd_error_sleep_time: float = 1.0,
            message_size_limit: int = 10_240_000, dns: Dns | None = None, auth_failure_delay: float = 2.0,
            login_trusted_networks: Iterable[str] | str = (), clock: ManualClock | None = None,
            restrictions: Iterable[Restriction] | None = None,
            policyd_spf: Mapping[str, str] | bool | None = None, smtpd_milters: Iterable[str] | str = (),
            opendkim: Mapping[str, object] | None = None, opendmarc: Mapping[str, object] | None = None,
            virtual_alias_maps: Mapping[str, str] | None = None, auth_dns: object = None) -> MailServer:
    """Postfix 3.7 with its defaults, settings named as in ``main.cf``.

    ``submission`` uncomments the submission entry of Debian 12's ``master.cf`` (port 587, see
    :mod:`simlab.restrictions.submission`); ``submissions`` uncomments the ``submissions`` entry too (port 465,
    RFC 8314 implicit TLS - TLS itself not simulated - with ``syslog_name=postfix/submissions`` and the same
    ``-o`` lists as 587 in Postfix 3.7's ``master.cf``); ``master_cf_submission`` changes that entry's ``-o``
    restriction lists (``{"smtpd_sender_restrictions": "reject_sender_login_mismatch"}``: Debian's entry
    empties main.cf's client, HELO, sender and relay lists on 587).
    ``mynetworks`` defaults to ``mynetworks_style = host``: loopback and the
    server's own addresses. ``accounts`` are the mailbox users (``local_recipient_maps``)
    and their passwords (Dovecot, SASL). ``restrictions`` adds defences outside
    Postfix (fail2ban, a router filter), checked before Postfix's own.
    Sender checks as Debian 12 packages them (:mod:`simlab.products.milters`): ``policyd_spf`` (True, or
    policyd-spf.conf lines) adds ``check_policy_service unix:private/policyd-spf``; ``smtpd_milters``
    (``["opendkim", "opendmarc"]``) with ``opendkim``/``opendmarc`` (their .conf lines); ``auth_dns`` is the
    DNS they ask (a mapping, or the world's); ``virtual_alias_maps`` forwards an address elsewhere.
    """
    if not isinstance(myhostname, str) or "." not in myhostname:
        raise ConfigError("myhostname", myhostname, t("setting.error.not_fqdn"), t("setting.expected.host_example"))
    mydomain = mydomain or myhostname.split(".", 1)[1]
    variables = {"myhostname": myhostname.lower(), "mydomain": mydomain.lower()}
    origin = _expand(myorigin, variables)
    domain_list([origin], "myorigin")
    interfaces = tuple(str(parse_ip(i, "inet_interfaces")) for i in (
        inet_interfaces.replace(",", " ").split() if isinstance(inet_interfaces, str) else inet_interfaces))
    if not interfaces:
        raise ConfigError("inet_interfaces", inet_interfaces, t("product.postfix.error.no_interface"),
                          t("product.postfix.expected.interface"))
    destinations = _names(mydestination, "mydestination", variables)
    relays = _names(relay_domains, "relay_domains", variables)
    if mynetworks is None:
        mynetworks = ("127.0.0.0/8", *(f"{i}/32" for i in interfaces))
    networks = ClientNetworks(mynetworks, setting="mynetworks")
    exceptions = networks if smtpd_client_event_limit_exceptions is None else ClientNetworks(
        smtpd_client_event_limit_exceptions, setting="smtpd_client_event_limit_exceptions")
    for name, value in (("smtpd_hard_error_limit", smtpd_hard_error_limit),
                        ("smtpd_soft_error_limit", smtpd_soft_error_limit)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(name, value, t("setting.error.not_limit"), t("setting.expected.limit"))
    resolver = PostfixResolver(destinations, origin, relays, interfaces)
    chain = extra_restrictions(restrictions)
    anvil = Anvil(smtpd_client_connection_count_limit, smtpd_client_connection_rate_limit,
                  smtpd_client_message_rate_limit, smtpd_client_recipient_rate_limit, smtpd_client_auth_rate_limit,
                  exceptions=[str(r) for r in exceptions])
    lists = {
        "smtpd_client_restrictions": smtpd_client_restrictions, "smtpd_helo_restrictions": smtpd_helo_restrictions,
        "smtpd_sender_restrictions": smtpd_sender_restrictions, "smtpd_relay_restrictions": smtpd_relay_restrictions,
        "smtpd_recipient_restrictions": smtpd_recipient_restrictions,
        "smtpd_data_restrictions": smtpd_data_restrictions,
    }
    smtpd = PostfixRestrictions(networks, lists, smtpd_sender_login_maps=smtpd_sender_login_maps,
                                access_maps=access_maps, dns=dns)
    entry_ports = (*((587,) if submission else ()), *((465,) if submissions else ()))
    if entry_ports:  # master.cf's submission entry as Debian 12 ships it, uncommented: its -o lines override main.cf
        overrides = {k: v for k, v in DEBIAN_SUBMISSION.items() if k in lists}
        for key, value in (master_cf_submission or {}).items():  # the admin's own -o lines on that entry
            if key not in lists:
                raise ConfigError("master_cf_submission", key, t("product.postfix.error.not_submission_list"),
                                  t("expected.one_of", choices=", ".join(lists)))
            overrides[key] = value
        submission_smtpd = PostfixRestrictions(networks, lists | overrides,
                                               smtpd_sender_login_maps=smtpd_sender_login_maps,
                                               access_maps=access_maps, dns=dns)
        chain.append(anvil)
        if not submission:
            chain.append(ClosedPorts((587,)))
        if not submissions:
            chain.append(ClosedPorts((465,)))  # the submissions entry stays commented out: nothing listens
        chain.append(MasterServices(smtpd, {port: submission_smtpd for port in entry_ports}))
    else:
        chain.append(ClosedPorts((587, 465)))  # no submission entry in master.cf: nothing listens
        chain.append(anvil)
        chain.append(smtpd)
    chain.append(FailureDelay(base=auth_failure_delay, trusted=login_trusted_networks))
    ports = set(entry_ports)
    if smtpd_sasl_auth_enable:
        ports.add(25)
    persona = PostfixPersona(smtpd_hard_error_limit, smtpd_soft_error_limit, smtpd_error_sleep_time, interfaces[0],
                             submission_ports=entry_ports)
    settings = {"myhostname": myhostname, "mydestination": destinations, "mynetworks": str(networks),
                "relay_domains": relays, "myorigin": origin, "inet_interfaces": interfaces,
                "smtpd_relay_restrictions": smtpd_relay_restrictions, "smtpd_sasl_auth_enable": smtpd_sasl_auth_enable}
    server_class, extra = DovecotMailServer, {}
    if policyd_spf or smtpd_milters or virtual_alias_maps or opendkim is not None or opendmarc is not None:
        from simlab.products.milters import sender_checks  # sender authentication (lesson 11)

        server_class, extra = sender_checks(persona, chain, networks, policyd_spf=policyd_spf,
                                            smtpd_milters=smtpd_milters, opendkim=opendkim, opendmarc=opendmarc,
                                            virtual_alias_maps=virtual_alias_maps, auth_dns=auth_dns,
                                            submission_ports=persona.submission_ports)
    return server_class(persona=persona, hostname=myhostname, resolver=resolver, accounts=accounts,
                             aliases=aliases, restrictions=chain, clock=clock, message_size_limit=message_size_limit,
                             auth_ports=ports, settings=settings, **extra)


# --- what simlab knows about Postfix, for the registry --------------------------------------------

#: fail2ban's stock filters for the lines simlab's Postfix and Dovecot write (simlab/data/fail2ban/filter.d), by
#: the jail names of fail2ban's jail.conf: [dovecot], [postfix-sasl] (filter = postfix[mode=auth]) and
#: [postfix] (mode more: the relay and recipient rejects); "postfix-relay" is simlab's older name for the last.
POSTFIX_FILTERS = {
    "dovecot": DOVECOT_FILTER,
    "postfix-sasl": StockFilter("postfix", "auth"),
    "postfix": StockFilter("postfix"),
    "postfix-relay": StockFilter("postfix"),
}


@dataclass(frozen=True)
class PostfixProduct(Product):
    """Postfix: main.cf names for the site, mynetworks and SASL for relaying."""

    def site_settings(self, site: SiteNames, accounts):
        return {"myhostname": site.hostname, "mydestination": ["$myhostname", site.domain], "mynetworks": [site.lan],
                "inet_interfaces": [site.address], "accounts": dict(accounts)}

    def site_names(self, server):
        settings = server.settings
        skip = {server.hostname, "localhost"}
        domains = [d for d in settings.get("mydestination", ()) if d not in skip and not d.startswith("localhost.")]
        domain = domains[0] if domains else server.hostname  # mydestination = $myhostname, ...: mail to the host
        return SiteNames(domain=domain, hostname=server.hostname, address=settings["inet_interfaces"][0])

    def auth_submission_port(self):
        return 587

    def sender_login_check(self, restriction, owners):
        self.require(SENDER_LOGIN_CHECK, "sender_login_check")
        # on port 25 in main.cf, and on 587 in the submission entry, whose -o smtpd_sender_restrictions= empties it
        return {"smtpd_sender_login_maps": dict(owners), "smtpd_sender_restrictions": [restriction],
                "master_cf_submission": {"smtpd_sender_restrictions": [restriction]}}

    def idle_timeout_reply(self, server):
        return Reply.of(421, f"4.4.2 {server.hostname} Error: timeout exceeded", close=True)

    def dkim_signing(self, domain, selector, networks):
        self.require(DKIM_SIGNING, "dkim")
        # the opendkim milter in smtpd_milters, signing for InternalHosts (simlab.products.opendkim)
        return {"smtpd_milters": ["opendkim"],
                "opendkim": {"Domain": [domain], "Selector": selector, "InternalHosts": list(networks)}}

    def why_relayed(self, server, client_ip, sender):
        return (t("product.postfix.why_relayed", client_ip=client_ip, mynetworks=server.settings.get("mynetworks")),
                t("product.why_relayed.trusted.short"))

    def why_refused(self, server, client_ip, sender, reply):
        rules = server.settings.get("smtpd_relay_restrictions")
        rules = rules if isinstance(rules, str) else ", ".join(rules)
        word = "defer_unauth_destination" if reply.code == 454 else "reject_unauth_destination"
        kind = t("product.postfix.refusal.temporary") if reply.code < 500 else t("product.postfix.refusal.permanent")
        said = f"{reply.code} {reply.text}"
        return t("product.postfix.why_refused", client_ip=client_ip, word=word, rules=rules, said=said, kind=kind)


#: Postfix's queue defaults (postconf(5) of 3.7): ``maximal_queue_lifetime = 5d``, ``bounce_queue_lifetime = 5d``,
#: ``minimal_backoff_time = 300s``, ``maximal_backoff_time = 4000s``, ``queue_run_delay = 300s``. qmgr(8): "The
#: queue manager implements exponential backoff by doubling the time between delivery attempts" - modelled as
#: documented: 300 s, 600 s, 1200 s, 2400 s, then 4000 s, each attempt at the next deferred-queue scan
#: (every 300 s). (qmgr's code derives the wait from the message's age, clamped to the same bounds: nearly
#: the same times.)
POSTFIX_QUEUE = QueueSchedule(
    lifetime=5 * 86400.0, bounce_lifetime=5 * 86400.0, phases=(RetryPhase("G", float("inf"), 300.0, 2.0),),
    max_interval=4000.0, queue_run_interval=300.0,
    settings={"maximal_queue_lifetime": "5d", "bounce_queue_lifetime": "5d", "minimal_backoff_time": "300s",
              "maximal_backoff_time": "4000s", "queue_run_delay": "300s"},
    source="postconf(5), Postfix 3.7 defaults; the backoff doubles between attempts as qmgr(8) documents.")

#: Dovecot 2.3's pop3-login service (``doveconf -d`` of Debian 12's dovecot-core 2.3.19.1): ``process_limit = 0``,
#: i.e. ``default_process_limit = 100``, with ``service_count = 1`` (one connection per login process, so
#: ``client_limit``/``default_client_limit = 1000`` does not come into play). A program apart from Postfix's smtpd.
DOVECOT_POP3_LOGIN_LIMIT = 100
DOVECOT_POP3_LIMIT_SOURCE = ("Dovecot 2.3 service pop3-login: process_limit = default_process_limit = 100, "
                             "service_count = 1 (doveconf -d). simlab counts a whole POP3 session against it "
                             "(modelling choice: after login Dovecot hands the connection to a pop3 process, "
                             "process_limit 1024).")

PRODUCTS = (
    PostfixProduct(
        name="postfix", label="Postfix 3.7", factory=postfix, year=2023,
        capabilities=frozenset({POP3, RELAY_CONTROL, RELAY_BY_CLIENT_IP, SMTP_AUTH, SUBMISSION, DNSBL,
                                CLIENT_CONNECTION_LIMIT, SENDER_LOGIN_CHECK, DKIM_SIGNING}),
        smtp_process_limit=100, pop3_label="Dovecot", relay_allowlist_setting="mynetworks",
        connection_limit_setting="smtpd_client_connection_count_limit", smtp_auth_setting="smtpd_sasl_auth_enable",
        log_patterns={"pop3_failure": POSTFIX_FILTERS["dovecot"], "auth_failure": POSTFIX_FILTERS["postfix-sasl"],
                      "relay_refused": POSTFIX_FILTERS["postfix"], "relay_abuse": POSTFIX_FILTERS["postfix"]},
        fail2ban_filters=POSTFIX_FILTERS, panel_choices=(("Postfix 3.7", {}),),
        panel_hidden_settings=frozenset({
            "myhostname", "mydomain", "myorigin", "mydestination", "inet_interfaces", "accounts", "aliases", "dns",
            "access_maps", "smtpd_sender_login_maps", "message_size_limit", "smtpd_error_sleep_time",
            "auth_failure_delay", "smtpd_helo_restrictions", "smtpd_data_restrictions",
            "smtpd_client_event_limit_exceptions", "login_trusted_networks", "smtpd_hard_error_limit",
            "smtpd_soft_error_limit", "master_cf_submission", "policyd_spf", "smtpd_milters", "opendkim",
            "opendmarc", "virtual_alias_maps", "auth_dns"}),
        notes="default_process_limit = 100 (postconf(5)); Postfix 3.7 as Debian 12 ships it (2023).",
        pop3_limit=DOVECOT_POP3_LOGIN_LIMIT, pop3_limit_source=DOVECOT_POP3_LIMIT_SOURCE, queue=POSTFIX_QUEUE),
)

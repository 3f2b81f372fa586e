"""Exim 4.96 as Debian 12 ships it (``exim4-daemon-light``, ``exim4-config``): today's other MTA.

Sources of the facts here:

* **The recording** ``tests/data/exim_reference.json`` (made by
  ``scripts/exim_reference/``): a real Exim 4.96 (Debian package
  ``4.96-15+deb12u11``) driven with ``exim4 -bh`` under Debian's generated
  configuration (``dc_eximconfig_configtype='internet'``, ``dc_relay_nets``,
  ``dc_relay_domains``). Every reply text below that a recorded case shows -
  banner, EHLO, ``250 OK``, ``250 Accepted``, ``550 relay not permitted``,
  ``550 Unrouteable address``, ``550 restricted characters in address``,
  ``501 <...>: domain literals not allowed``, ``501 <...>: recipient address
  must contain a domain``, ``malformed address: ... may not follow ...``,
  ``503 sender not yet given``, the ``503-All RCPT commands were rejected``
  reply to DATA, ``354``, ``250 OK id=...``, ``501 unexpected argument data``
  (RSET or DATA with an argument), ``252``/``550 Administrative prohibition``
  (VRFY, EXPN), the ``Too many syntax or protocol errors`` and ``Too many
  unrecognized commands`` endings - and every log line format
  (``H=(helo) [ip] F=<sender> rejected RCPT <rcpt>: ...``, ``SMTP syntax
  error in "..."``, ``SMTP protocol error in "..."``, ``unqualified ...
  rejected``, ``<=`` for an accepted message) was copied from it.
  ``tests/test_exim_reference.py`` replays every case here.
* **Exim's specification** (``spec.txt`` of 4.96): no enhanced status codes
  unless configured; ``allow_domain_literals`` false by default (chapter
  "Main configuration"); the percent hack only for ``percent_hack_domains``
  (unset); source routes are stripped from addresses (RFC 5321 App. C,
  section "Address rewriting"/"Domain literals and source routes");
  ``hosts_require_helo = *`` ("503 HELO or EHLO required");
  ``smtp_max_synprot_errors = 3`` and ``smtp_max_unknown_commands = 3``
  (the fourth error ends the session); ``message_size_limit`` 50M in Debian;
  main log lines ``YYYY-MM-DD HH:MM:SS text`` with no pid by default; a bare
  ``RCPT TO:<postmaster>`` is accepted and qualified with the primary host
  name (RFC 5321 section 4.5.1); after a refused MAIL, the RCPTs that follow
  it in a PIPELINING session get ``503 sender not yet given`` without a log
  line or an error count;
  message ids of 4.96 ``tttttt-pppppp-ff`` in base 62; the DATA reply after
  rejected recipients (``Valid`` with a capital when PIPELINING was offered
  and the previous command was RCPT; then it is not counted as an error).
* **Debian's exim4-config** (``/etc/exim4/exim4.conf.template``):
  ``domainlist local_domains = @:localhost:<dc_other_hostnames>``,
  ``domainlist relay_to_domains = <dc_relay_domains>``, ``hostlist
  relay_from_hosts = <dc_relay_nets> : 127.0.0.1 : ::1``;
  ``acl_check_mail`` accepts everything; ``acl_check_rcpt`` in this order:
  deny ``CHECK_RCPT_LOCAL_LOCALPARTS`` (``^[.] : ^.*[@%!/|`#&?]``) for local
  domains and ``CHECK_RCPT_REMOTE_LOCALPARTS`` (``^[./|] : ^.*[@%!`#&?] :
  ^.*/\\.\\./``) for the others with "restricted characters in address";
  accept ``postmaster`` at a local or relay domain; deny "Rejected for too
  many bad recipients" (more than 10 RCPTs, fewer than half accepted); accept
  ``relay_from_hosts`` (before any verification: an unknown local user is
  accepted from inside); accept authenticated clients; require a local or
  relay domain ("relay not permitted"); require ``verify = recipient``
  (routing: aliases and local accounts for local domains, an MX record for
  relay domains; "Unrouteable address").

Modelling choices (say so when teaching with them):

* The EHLO reply leaves out PIPECONNECT, CHUNKING, STARTTLS and PRDR, which
  simlab does not simulate; STARTTLS is answered ``454 TLS currently
  unavailable`` (Exim's words when it cannot start TLS). AUTH is not offered,
  as in Debian's default configuration (no authenticator is enabled).
* Reverse DNS of clients is not simulated: a client is logged ``H=(helo)
  [ip]`` as Exim logs one without a verified name, and the ``no host name
  found for IP address`` line Exim writes at connect is left out.
* ``dns`` maps a relay domain to its MX host names; a relay domain without
  an entry is unroutable, as the recording's resolver (NXDOMAIN for
  everything) made it. DNS deferrals (451) are not simulated.
* A message accepted from a relay host for an unknown local user would
  bounce at delivery in real Exim; here it stays in the queue (it has no
  mailbox). Delivery log lines (``=>``, ``Completed``) are not written: the
  ``<=`` line is, with ``S=`` the size simlab counts (Exim adds its own
  headers first, so its sizes are larger).
* Message ids come from a counter, not from the time and a process id.
* POP3: Exim has none. Debian admins pair Exim with Dovecot as they pair
  Postfix with it, so POP3 here is Dovecot 2.3 (:mod:`simlab.products.dovecot`,
  the same words and log lines as the Postfix preset's). Dovecot's lines go
  to syslog (``Jun 11 01:25:32 mail dovecot: ...``, ``/var/log/mail.log``),
  Exim's to its main log (``2023-06-11 01:25:32 ...``); simlab keeps both in
  one log, each line in its own format, so fail2ban's ``dovecot`` and
  ``exim`` filters each find theirs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from simlab.addresses.mail import MailAddress, MailPath, is_valid_domain
from simlab.addresses.networks import ClientNetworks, ip_text
from simlab.addresses.routing import Destination, Resolution, domain_list
from simlab.clock import ManualClock, mail_date
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.base import (
    POP3,
    RELAY_BY_CLIENT_IP,
    RELAY_CONTROL,
    Product,
    QueueSchedule,
    RetryPhase,
    SiteNames,
    records_origin,
)
from simlab.products.common import extra_restrictions, server_address
from simlab.products.dovecot import DOVECOT_FILTER, DovecotPop3, DovecotPop3Server
from simlab.products.postfix import DOVECOT_POP3_LIMIT_SOURCE, DOVECOT_POP3_LOGIN_LIMIT
from simlab.protocol.message import Message
from simlab.protocol.persona import Persona
from simlab.protocol.policy import Recipient, Restriction, SmtpContext
from simlab.protocol.reply import Reply
from simlab.protocol.server import MailServer
from simlab.protocol.smtp import SmtpSession
from simlab.restrictions.fail2ban_filters import StockFilter

__all__ = ["PRODUCTS", "EximPersona", "EximProduct", "EximResolver", "EximRcptAcl", "EximMailAcl", "EximServer",
           "EximSmtpSession", "exim", "parse_exim_address", "EximAddressError"]

VERSION = "4.96"
MESSAGE_SIZE_LIMIT = 52_428_800  # Debian: MESSAGE_SIZE_LIMIT = 50M
MAX_SYNPROT_ERRORS = 3  # smtp_max_synprot_errors
MAX_UNKNOWN_COMMANDS = 3  # smtp_max_unknown_commands
#: Debian's CHECK_RCPT_LOCAL_LOCALPARTS and CHECK_RCPT_REMOTE_LOCALPARTS (exim4.conf.template).
LOCAL_LOCALPARTS = (re.compile(r"^[.]"), re.compile(r"^.*[@%!/|`#&?]"))
REMOTE_LOCALPARTS = (re.compile(r"^[./|]"), re.compile(r"^.*[@%!`#&?]"), re.compile(r"^.*/\.\./"))
_ATEXT = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_DOMAIN_CHARS = re.compile(r"[A-Za-z0-9._-]*")
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


# --------------------------------------------------------------------------------------------------
# Addresses: Exim's parse_extract_address(), as far as the relay tests reach
# --------------------------------------------------------------------------------------------------
class EximAddressError(ValueError):
    """An address Exim refuses before any ACL: ``data`` goes before ``: `` in the reply, ``message`` after."""

    def __init__(self, data: str, message: str, unqualified: bool = False, local: str = "") -> None:
        super().__init__(f"{data}: {message}")
        self.data = data
        self.message = message
        self.unqualified = unqualified
        self.local = local


def _quoted(text: str, i: int) -> int:
    """Index after the quoted string starting at ``text[i] == '"'``, or -1 if unclosed."""
    i += 1
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text[i] == '"':
            return i + 1
        i += 1
    return -1


def _local_part(text: str, i: int) -> tuple[str, int]:
    """Scan a local part (atoms, quoted strings and dots) from ``i``: (dequoted text, end)."""
    out: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == '"':
            end = _quoted(text, i)
            if end < 0:
                raise EximAddressError("", "unclosed quoted string")
            out.append(re.sub(r"\\(.)", r"\1", text[i + 1:end - 1]))
            i = end
        elif ch == ".":
            out.append(".")
            i += 1
        else:
            m = _ATEXT.match(text, i)
            if not m:
                break
            out.append(m.group())
            i = m.end()
    return "".join(out), i


def parse_exim_address(argument: str, what: str) -> tuple[MailPath, str]:
    """Parse what follows ``MAIL FROM:`` / ``RCPT TO:`` as Exim does, without ESMTP options.

    ``what`` is ``"sender"`` or ``"recipient"``. Returns the path (source route kept in ``route``,
    quotes removed from the local part) and the rest of the line after the address. Raises
    :class:`EximAddressError` with Exim's words for domain literals, a missing domain, a malformed
    domain and text after the address.
    """
    s = argument
    bracketed = s.startswith("<")
    if bracketed:
        pos = 1
    else:
        pos = 0
    route: list[str] = []
    if s[pos:pos + 1] == "@":  # source route @a,@b:
        while s[pos:pos + 1] == "@":
            m = _DOMAIN_CHARS.match(s, pos + 1)
            if s[pos + 1:pos + 2] == "[":
                raise EximAddressError(s, "domain literals not allowed")
            route.append(m.group().lower())
            pos = m.end()
            if s[pos:pos + 1] == ",":
                pos += 1
        if s[pos:pos + 1] != ":":
            raise EximAddressError(s, "colon expected after route")
        pos += 1
    if bracketed and s[pos:pos + 1] == ">":
        if route:
            raise EximAddressError(s, "missing or malformed local part")
        return MailPath(None, True), s[pos + 1:]
    start = pos
    try:
        local, pos = _local_part(s, pos)
    except EximAddressError as exc:
        raise EximAddressError(s, exc.message) from None
    if not local:
        raise EximAddressError(s, "missing or malformed local part")
    domain = None
    if s[pos:pos + 1] == "@":
        if s[pos + 1:pos + 2] == "[":
            raise EximAddressError(s, "domain literals not allowed")
        m = _DOMAIN_CHARS.match(s, pos + 1)
        domain = m.group()
        if not domain or domain.endswith(".") or not is_valid_domain(domain):
            raise EximAddressError(s, "domain missing or malformed")
        pos = m.end()
    elif pos < len(s) and s[pos] != ">" and (bracketed or not s[pos].isspace()):
        raise EximAddressError(s, f'"@" or "." expected after "{s[start:pos]}"')
    inner_end = pos
    if bracketed:
        if s[pos:pos + 1] != ">":
            if pos >= len(s):
                raise EximAddressError(s, "'>' missing at end of address")
            raise EximAddressError(s, f"malformed address: {s[pos:]} may not follow {s[:pos]}")
        pos += 1
    rest = s[pos:]
    if not bracketed and rest and not rest[0].isspace():
        raise EximAddressError(s, f"malformed address: {rest} may not follow {s[:pos]}")
    if domain is None:
        if route:
            raise EximAddressError(s, "domain missing in source-routed address")
        raise EximAddressError(s, f"{what} address must contain a domain", unqualified=True, local=local)
    text = s[1 if bracketed else 0:inner_end]
    address = MailAddress(text, local, domain, tuple(route), '"' in text)
    return MailPath(address, bracketed), rest


class EximResolver:
    """Where Exim routes a recipient: ``local_domains``, ``relay_to_domains`` or elsewhere.

    Domains match exactly and without regard to case (Exim domain lists); ``@`` in
    ``local_domains`` stands for the primary host name, as in Debian's ``@:localhost:...``.
    Source routes are dropped (Exim strips them); ``%`` and ``!`` are not interpreted
    (``percent_hack_domains`` is unset), so ``a%b@example.com`` is local part ``a%b`` at a local
    domain - which Debian's ACL then refuses for its characters. Domain literals and addresses without a
    domain never get here: :meth:`parse` refuses them, as Exim's parser does.
    """

    def __init__(self, local_domains: Iterable[str], relay_to_domains: Iterable[str] = (),
                 primary_hostname: str = "") -> None:
        names = [primary_hostname.lower() if d == "@" else d for d in local_domains]
        self.local_domains = frozenset(n for n in names if n)
        self.relay_to_domains = frozenset(relay_to_domains)

    @staticmethod
    def parse(argument: str, what: str) -> tuple[MailPath, str]:
        """Exim's address parser (see :func:`parse_exim_address`)."""
        return parse_exim_address(argument, what)

    def is_local_domain(self, domain: str) -> bool:
        return domain.lower().rstrip(".") in self.local_domains

    def is_relay_domain(self, domain: str) -> bool:
        return domain.lower().rstrip(".") in self.relay_to_domains

    def resolve(self, address: MailAddress) -> Resolution:
        domain = (address.bare_domain or "").lower()
        if self.is_local_domain(domain):
            where = Destination.LOCAL
        elif self.is_relay_domain(domain):
            where = Destination.RELAY
        else:
            where = Destination.FOREIGN
        return Resolution(where, address.local, domain, bool(address.route))


# --------------------------------------------------------------------------------------------------
# Debian's ACLs
# --------------------------------------------------------------------------------------------------
class EximMailAcl(Restriction):
    """Debian's ``acl_check_mail``: ``accept`` (the ``CHECK_MAIL_HELO_ISSUED`` test is off by default)."""

    name = "acl_check_mail"


class EximRcptAcl(Restriction):
    """Debian's ``acl_check_rcpt`` (see the module docstring for its order).

    Args:
        relay_from_hosts: the client networks allowed to relay (127.0.0.1 and ::1 included).
        dns: relay domain -> MX host names, for ``verify = recipient`` in ``relay_to_domains``.
    """

    name = "acl_check_rcpt"

    def __init__(self, relay_from_hosts: ClientNetworks, dns: Mapping[str, tuple[str, ...]] | None = None) -> None:
        self.relay_from_hosts = relay_from_hosts
        self.dns = {k.lower(): tuple(v) for k, v in (dns or {}).items()}

    def check_rcpt(self, ctx: SmtpContext, path: MailPath, resolution: Resolution) -> Reply | None:
        persona = ctx.server.persona
        local_part, where = resolution.local_part, resolution.destination
        patterns = LOCAL_LOCALPARTS if where is Destination.LOCAL else REMOTE_LOCALPARTS
        if any(p.search(local_part) for p in patterns):
            return Reply.of(550, "restricted characters in address")
        if local_part.lower() == "postmaster" and where is not Destination.FOREIGN:
            return None
        rcpt_count = getattr(ctx, "exim_rcpt_count", len(ctx.recipients) + 1)
        if rcpt_count > 10 and len(ctx.recipients) < rcpt_count // 2:
            ctx.server.log_line(f"REJECT [{ip_text(ctx.client_ip)}]: bad recipient count high "
                                f"[{rcpt_count - len(ctx.recipients)}]")
            return Reply.of(550, "Rejected for too many bad recipients")
        if ctx.client_ip in self.relay_from_hosts or ctx.user is not None:
            return None
        if where is Destination.FOREIGN:
            return persona.relay_denied(persona.address_text(path))
        if not self.verify(ctx, resolution):
            return persona.unknown_local_user(persona.address_text(path))
        return None

    def verify(self, ctx: SmtpContext, resolution: Resolution) -> bool:
        """``verify = recipient``: a local account or alias, or an MX record for a relay domain."""
        if resolution.destination is Destination.LOCAL:
            return ctx.server.local_account(resolution.local_part) is not None
        return bool(self.dns.get(resolution.domain))

    def describe(self) -> str:
        return f"acl_check_rcpt (Debian): relay_from_hosts = {self.relay_from_hosts}"


# --------------------------------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------------------------------
def _b62(value: int, width: int) -> str:
    out = ""
    for _ in range(width):
        value, digit = divmod(value, 62)
        out = _B62[digit] + out
    return out


def host_text(ctx: SmtpContext) -> str:
    """How Exim names the client in log lines: ``(helo) [ip]``, ``[ip]`` before HELO."""
    name = "" if ctx.client_name in ("", "unknown") else f"{ctx.client_name} "
    helo = f"({ctx.helo}) " if ctx.helo else ""
    return f"{name}{helo}[{ip_text(ctx.client_ip)}]"


class EximPersona(DovecotPop3, Persona):
    """Exim 4.96 replies and main-log lines (Debian configuration); Dovecot 2.3 for POP3."""

    product = f"Exim {VERSION}"
    enhanced = False
    helo_required = True  # hosts_require_helo = *
    max_command_line = 16384  # smtp_cmd_buffer_size
    verbs = ("HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "VRFY", "EXPN", "ETRN", "QUIT", "HELP",
             "STARTTLS", "AUTH")
    recipient_limit = 50_000  # recipients_max is unset (no limit); a bound for the simulation

    def banner(self, server: MailServer) -> Reply:
        stamp = mail_date(server.clock.datetime(server.clock.now))
        return Reply.of(220, f"{server.hostname} ESMTP Exim {VERSION} {stamp}")

    def ehlo_keywords(self, server: MailServer, ctx: SmtpContext) -> list[str]:
        keywords = [f"SIZE {server.message_size_limit}"] if server.message_size_limit else []
        return [*keywords, "8BITMIME", "PIPELINING", "HELP"]

    def _hello(self, server: MailServer, ctx: SmtpContext, hostname: str) -> str:
        return f"{server.hostname} Hello {hostname} [{ip_text(ctx.client_ip)}]"

    def helo_ok(self, server: MailServer, ctx: SmtpContext, hostname: str) -> Reply:
        return Reply.of(250, self._hello(server, ctx, hostname))

    def ehlo_ok(self, server: MailServer, ctx: SmtpContext, hostname: str) -> Reply:
        return Reply.of(250, self._hello(server, ctx, hostname), *self.ehlo_keywords(server, ctx))

    def helo_syntax(self, verb: str) -> Reply:
        return Reply.of(501, f"Syntactically invalid {verb} argument(s)")

    def quit(self, server: MailServer) -> Reply:
        return Reply.of(221, f"{server.hostname} closing connection", close=True)

    def mail_ok(self, address: str) -> Reply:
        return Reply.of(250, "OK")

    def rcpt_ok(self, address: str) -> Reply:
        return Reply.of(250, "Accepted")

    def data_go(self) -> Reply:
        return Reply.of(354, 'Enter message, ending with "." on a line by itself')

    def queued(self, queue_id: str) -> Reply:
        return Reply.of(250, f"OK id={queue_id}")

    def rset(self) -> Reply:
        return Reply.of(250, "Reset OK")

    def noop(self) -> Reply:
        return Reply.of(250, "OK")

    def help(self) -> Reply:
        return Reply.of(214, "Commands supported:", "AUTH HELO EHLO MAIL RCPT DATA NOOP QUIT RSET HELP")

    def vrfy(self, server: MailServer, argument: str) -> Reply:
        return Reply.of(252, "Administrative prohibition")  # acl_smtp_vrfy unset: VRFY refused

    def unknown_command(self, line: str) -> Reply:
        return Reply.of(500, "unrecognized command")

    def starttls_unavailable(self) -> Reply:
        return Reply.of(454, "TLS currently unavailable")

    def etrn(self, server: MailServer, domain: str) -> Reply:
        return Reply.of(458, "Administrative prohibition")  # acl_smtp_etrn unset

    def line_too_long(self) -> Reply:
        return Reply.of(500, "Command too long")

    def empty_command(self) -> Reply:
        return self.unknown_command("")

    def need_helo(self) -> Reply:
        return Reply.of(503, "HELO or EHLO required")

    def need_mail(self) -> Reply:
        return Reply.of(503, "sender not yet given")

    def need_rcpt(self) -> Reply:
        return Reply.of(503, "valid RCPT command must precede DATA")

    def nested_mail(self) -> Reply:
        return Reply.of(503, "sender already given")

    def data_without_recipients(self, in_transaction: bool) -> Reply:
        return self.need_rcpt()

    def no_valid_recipients(self) -> Reply:
        return self.need_rcpt()

    def mail_syntax(self) -> Reply:
        return Reply.of(501, "MAIL must have an address operand")

    def rcpt_syntax(self) -> Reply:
        return Reply.of(501, "RCPT must have an address operand")

    def empty_recipient(self) -> Reply:
        return Reply.of(501, "<>: missing or malformed local part")

    def size_exceeded(self) -> Reply:
        return Reply.of(552, "Message size exceeds maximum permitted")

    def message_too_big(self) -> Reply:
        return Reply.of(552, "Message size exceeds maximum permitted")

    def unknown_local_user(self, text: str) -> Reply:
        return Reply.of(550, "Unrouteable address")

    def relay_denied(self, text: str, defer: bool = False) -> Reply:
        return Reply.of(550, "relay not permitted")

    def auth_not_enabled(self) -> Reply:
        return Reply.of(503, "AUTH command used when not advertised")

    def too_many_errors(self, server: MailServer) -> Reply:
        return Reply.of(421, f"{server.hostname} too many syntax or protocol errors", close=True)

    def queue_id(self, serial: int) -> str:
        """A 4.96 message id (``1xYK5a-00018w-2r``): base-62 time, process id and fraction, from a counter."""
        return f"{_b62(1_764_000_000 + serial, 6)}-{_b62(1000 + serial, 6)}-{_b62(serial % 3844, 2)}"

    # --- log (main log: "YYYY-MM-DD HH:MM:SS text", the base format) -----------------------------
    def log_reject(self, ctx: SmtpContext, stage: str, reply: Reply, recipient: str | None, sender=None) -> str:
        path = sender if sender is not None else ctx.sender
        if stage == "RCPT":
            frm = "" if path is None else f" F=<{path.text}>"
            return f"H={host_text(ctx)}{frm} rejected RCPT <{recipient}>: {reply.text}"
        if stage == "MAIL":
            text = "" if path is None else path.text
            return f"H={host_text(ctx)} rejected MAIL <{text}>: {reply.text}"
        return f"H={host_text(ctx)} rejected {stage}: {reply.text}"

    def log_accepted(self, ctx: SmtpContext, message: Message,
                     recipients: list[Recipient]) -> list[tuple[str, int, str]]:
        sender = message.sender or "<>"
        proto = "esmtp" if ctx.esmtp else "smtp"
        return [("exim", 0, f"{message.queue_id} <= {sender} H={host_text(ctx)} P={proto} S={message.size}")]


# --------------------------------------------------------------------------------------------------
# The SMTP session: Exim's command parsing and error counting
# --------------------------------------------------------------------------------------------------
class EximSmtpSession(SmtpSession):
    """An SMTP session with Exim's own command handling (``smtp_in.c``).

    What differs from the generic session: commands are ``MAIL FROM:`` and ``RCPT TO:`` (``MAIL TO:`` is
    an unrecognized command); addresses go through Exim's parser (:func:`parse_exim_address`), refused
    before any ACL; ESMTP options SIZE and BODY only; syntax and protocol errors are logged
    ``SMTP syntax error in "<command>" ...`` and counted (the fourth ends the session), ACL refusals are
    not; an unknown local user accepted by the ACL (from ``relay_from_hosts``) is not refused again; and
    DATA without recipients repeats the recipients' refusal when they all had the same.
    """

    def __init__(self, *args, **kwargs) -> None:
        self._line = ""
        self._history: list[str] = []
        self._synprot = 0
        self._unknown = 0
        self._last_was_rcpt = False
        self._rej_mail = False
        self._rcpt_response: str | None = None
        self._rcpt_response_same = True
        super().__init__(*args, **kwargs)
        self.ctx.exim_rcpt_count = 0

    # --- helpers --------------------------------------------------------------------------------------
    def _log(self, text: str | None) -> None:
        self.server.log_line(text, "exim", self._pid)

    def _error(self, code: int, message: str, data: str | None = None, kind: str = "syntax") -> Reply:
        """``synprot_error()``: log, count, and after too many errors end the session."""
        self._synprot += 1
        self._log(f'SMTP {kind} error in "{self._line}" H={host_text(self.ctx)} {message}')
        text = f"{data}: {message}" if data else message
        if self._synprot > MAX_SYNPROT_ERRORS:
            self._log(f"SMTP call from {host_text(self.ctx)} dropped: too many syntax or protocol errors "
                      f'(last command was "{self._line}",  C={",".join(self._history)})')
            return Reply.of(code, text, "Too many syntax or protocol errors", close=True)
        return Reply.of(code, text)

    def _reset_rcpt_state(self) -> None:
        self._rcpt_response = None
        self._rcpt_response_same = True
        self.ctx.exim_rcpt_count = 0

    def _rcpt_refused(self, reply: Reply, with_code: bool) -> Reply:
        text = f"{reply.code} {reply.text}" if with_code else reply.text
        if self._rcpt_response is not None and self._rcpt_response != text:
            self._rcpt_response_same = False
        self._rcpt_response = text
        return reply

    def _reset_transaction(self) -> None:
        super()._reset_transaction()
        self._reset_rcpt_state()

    # --- dispatch -------------------------------------------------------------------------------------
    def _command(self, line: str) -> Reply:
        self._line = line
        word = line.strip(" ").partition(" ")[0].upper()
        upper = line.lstrip(" ").upper()
        known = word in self.persona.verbs and not (
            (word == "MAIL" and not upper.startswith("MAIL FROM:"))
            or (word == "RCPT" and not upper.startswith("RCPT TO:")))
        self._history.append(word if known else "OTHER")
        last_was_rcpt, self._last_was_rcpt = self._last_was_rcpt, False
        # A refused MAIL keeps RCPTs quiet as long as RCPTs follow it (pipelined transaction).
        self._rej_mail = self._rej_mail and known and word == "RCPT"
        if len(line) > self.persona.max_command_line:
            self._count("unknown", False)
            return self.persona.line_too_long()
        if not known:
            self._count("unknown", False)
            self._last_command = "UNKNOWN"
            self._unknown += 1
            if self._unknown > MAX_UNKNOWN_COMMANDS:
                self._log(f"SMTP syntax error in \"{line}\" H={host_text(self.ctx)} unrecognized command")
                self._log(f"SMTP call from {host_text(self.ctx)} dropped: too many unrecognized commands "
                          f'(last was "{line}")')
                return Reply.of(500, "Too many unrecognized commands", close=True)
            return self._error(500, "unrecognized command")
        if word == "DATA":
            self._data_after_rcpt = last_was_rcpt
        return super()._command(line)

    # --- HELO / EHLO --------------------------------------------------------------------------------------
    def _greet(self, verb: str, argument: str, esmtp: bool) -> Reply:
        if not argument.split(" ")[0]:
            self._log(f"rejected {verb} from {host_text(self.ctx)}: syntactically invalid argument(s): "
                      "(no argument given)")
            self._synprot += 1
            reply = self.persona.helo_syntax(verb)
            if self._synprot > MAX_SYNPROT_ERRORS:
                self._log(f"SMTP call from {host_text(self.ctx)} dropped: too many syntax or protocol errors "
                          f'(last command was "{self._line}",  C={",".join(self._history)})')
                return Reply(reply.code, reply.lines, True)
            return reply
        return super()._greet(verb, argument, esmtp)

    # --- MAIL -----------------------------------------------------------------------------------------
    def _cmd_mail(self, argument: str) -> Reply:
        reply = self._mail(argument)
        if reply.code >= 400 and self.ctx.sender is None and self.ctx.helo is not None:
            self._rej_mail = True
        return reply

    def _mail(self, argument: str) -> Reply:
        persona, ctx, server = self.persona, self.ctx, self.server
        if ctx.helo is None and persona.helo_required:
            self._log(f"rejected MAIL from {host_text(ctx)}: no HELO/EHLO given")
            return persona.need_helo()
        if ctx.sender is not None:
            return self._error(503, persona.nested_mail().text, kind="protocol")
        rest = argument[len("FROM:"):].strip(" ")
        if not rest:
            return self._error(501, persona.mail_syntax().text, kind="protocol")
        try:
            path, tail = server.resolver.parse(rest, "sender")
        except EximAddressError as exc:
            if exc.unqualified:
                self._log(f"unqualified sender rejected: <{exc.data.strip('<>')}> H={host_text(ctx)}"
                          f"{self._lookup_note()}")
                return Reply.of(501, f"{exc.data}: {exc.message}")
            return self._error(501, exc.message, exc.data)
        params, junk = self._mail_options(tail)
        if junk:
            head = rest[: len(rest) - len(junk)]
            return self._error(501, f"malformed address: {junk} may not follow {head}", rest)
        size = params.get("SIZE")
        if size is not None and server.message_size_limit and int(size) > server.message_size_limit:
            self._log(f"rejected MAIL FROM:<{path.text}> H={host_text(ctx)}: message too big: "
                      f"size>={min(int(size), 2147483647)} max={server.message_size_limit}")
            return persona.size_exceeded()
        path = MailPath(path.address, path.bracketed, params, tuple(f"{k}={v}" for k, v in params.items()))
        refusal = server.check_mail(ctx, path)
        if refusal is not None:
            self._log(persona.log_reject(ctx, "MAIL", refusal, None, sender=path))
            return refusal
        self._reset_rcpt_state()
        ctx.sender = path
        return persona.mail_ok(path.text)

    def _mail_options(self, tail: str) -> tuple[dict[str, str], str]:
        """ESMTP options at the end of MAIL (only after EHLO): SIZE=n and BODY=7BIT|8BITMIME; the rest is junk."""
        words = tail.split()
        params: dict[str, str] = {}
        while words and self.ctx.esmtp:
            key, eq, value = words[-1].partition("=")
            key = key.upper()
            size_ok = key == "SIZE" and value.isdigit()
            if eq and (size_ok or (key == "BODY" and value.upper() in ("7BIT", "8BITMIME"))):
                params[key] = value
                words.pop()
            else:
                break
        if not words:
            return params, ""
        junk = tail.lstrip()
        for word in reversed([f"{k}={v}" for k, v in params.items()]):
            junk = junk[: junk.rfind(word)].rstrip() if junk.endswith(word) else junk
        return params, junk

    def _lookup_note(self) -> str:
        return " (failed to find host name from IP address)" if self.ctx.client_name in ("", "unknown") else ""

    # --- RCPT -----------------------------------------------------------------------------------------
    def _cmd_rcpt(self, argument: str) -> Reply:
        persona, ctx, server = self.persona, self.ctx, self.server
        if ctx.sender is None:
            if self._rej_mail and ctx.esmtp:  # after a refused MAIL with PIPELINING: no log, not counted
                return persona.need_mail()
            return self._rcpt_refused(self._error(503, persona.need_mail().text, kind="protocol"), True)
        self._last_was_rcpt = True
        ctx.exim_rcpt_count += 1
        rest = argument[len("TO:"):].strip(" ")
        if not rest:
            return self._rcpt_refused(self._error(501, persona.rcpt_syntax().text), True)
        try:
            path, tail = server.resolver.parse(rest, "recipient")
            if path.address is None:
                raise EximAddressError("<>", "missing or malformed local part")
        except EximAddressError as exc:
            if exc.unqualified and exc.local.lower() == "postmaster":
                # RFC 5321 section 4.5.1: a bare postmaster is accepted, qualified with the primary host name.
                text = f"{exc.local}@{server.hostname}"
                path, tail = MailPath(MailAddress(text, exc.local, server.hostname), exc.data.startswith("<")), ""
            elif exc.unqualified:
                self._log(f"unqualified recipient rejected: <{exc.data.strip('<>')}> H={host_text(ctx)}"
                          f"{self._lookup_note()}")
                return self._rcpt_refused(Reply.of(501, f"{exc.data}: {exc.message}"), True)
            else:
                return self._rcpt_refused(self._error(501, exc.message, exc.data), True)
        if tail.strip():  # no DSN offered: any option is text after the address
            junk = tail.lstrip()
            head = rest[: len(rest) - len(junk)]
            return self._rcpt_refused(self._error(501, f"malformed address: {junk} may not follow {head}", rest),
                                      True)
        if len(ctx.recipients) >= persona.recipient_limit:
            return persona.too_many_recipients()
        resolution = server.resolver.resolve(path.address)
        refusal = server.check_rcpt(ctx, path, resolution)
        if refusal is not None:
            self._log(persona.log_reject(ctx, "RCPT", refusal, path.text))
            return self._rcpt_refused(refusal, False)
        account = server.local_account(resolution.local_part) if resolution.is_local else None
        if ctx.queue_id is None:
            ctx.queue_id = server.next_queue_id()
        ctx.recipients.append(Recipient(path, resolution, account))
        return persona.rcpt_ok(path.text)

    # --- DATA / RSET / others --------------------------------------------------------------------------
    def _cmd_data(self, argument: str) -> Reply:
        if argument:
            return self._error(501, "unexpected argument data")
        if self.ctx.recipients:
            return super()._cmd_data(argument)
        lines: list[str] = []
        if self._rcpt_response_same and self._rcpt_response is not None:
            lines = ["All RCPT commands were rejected with this error:", self._rcpt_response]
        if self.ctx.esmtp and getattr(self, "_data_after_rcpt", False):
            return Reply.of(503, *lines, "Valid RCPT command must precede DATA")
        reply = self._error(503, self.persona.need_rcpt().text, kind="protocol")
        return Reply(503, (*lines, *reply.lines), reply.close)

    def _cmd_rset(self, argument: str) -> Reply:
        if argument:
            return self._error(501, "unexpected argument data")
        reply = super()._cmd_rset(argument)
        self._reset_rcpt_state()
        return reply

    def _cmd_vrfy(self, argument: str) -> Reply:
        try:
            self.server.resolver.parse(argument.strip(), "recipient")
        except EximAddressError as exc:
            if exc.unqualified:
                self._log(f"unqualified verify rejected: <{exc.data.strip('<>')}> H={host_text(self.ctx)}"
                          f"{self._lookup_note()}")
                return Reply.of(501, f"{exc.data}: {exc.message}")
            return self._error(501, exc.message, exc.data)
        self._log(f"H={host_text(self.ctx)} rejected VRFY {argument.strip()}")
        return self.persona.vrfy(self.server, argument)

    def _cmd_expn(self, argument: str) -> Reply:
        self._log(f"H={host_text(self.ctx)} rejected EXPN {argument.strip()}")
        return Reply.of(550, "Administrative prohibition")

    def _cmd_etrn(self, argument: str) -> Reply:
        self._log(f"ETRN {argument.strip()} received from {host_text(self.ctx)}")
        self._log(f"H={host_text(self.ctx)} rejected ETRN {argument.strip()}")
        return self.persona.etrn(self.server, argument.strip())


class EximServer(DovecotPop3Server, MailServer):
    """A :class:`MailServer` whose SMTP sessions follow Exim's command handling; POP3 is Dovecot's."""

    def smtp_session(self, client_ip: str, port: int = 25, client_name: str = "unknown") -> SmtpSession:
        return EximSmtpSession(self, client_ip, port=port, client_name=client_name)


# --------------------------------------------------------------------------------------------------
# The preset
# --------------------------------------------------------------------------------------------------
def _domains(value: Iterable[str] | str | None, setting: str, allow_at: bool = False) -> tuple[str, ...]:
    """An Exim domain list: colon-separated text (``"@:localhost:example.com"``) or an iterable."""
    if value is None:
        return ()
    items = [v.strip() for v in value.split(":")] if isinstance(value, str) else list(value)
    out: list[str] = []
    for item in items:
        if allow_at and item == "@":
            out.append("@")
        elif item != "":
            out.extend(domain_list([item], setting))
    return tuple(out)


def _mx_map(dns: Mapping[str, Iterable[str] | str] | None) -> dict[str, tuple[str, ...]]:
    if dns is None:
        return {}
    if not isinstance(dns, Mapping):
        raise ConfigError("dns", dns, t("product.error.not_a_mapping"), t("product.exim.expected.dns"))
    out = {}
    for domain, hosts in dns.items():
        (name,) = domain_list([domain], "dns")
        hosts = [hosts] if isinstance(hosts, str) else list(hosts)
        out[name] = domain_list(hosts, f"dns[{domain!r}]")
    return out


@records_origin("exim")
def exim(primary_hostname: str = "mail.example.com", local_domains: Iterable[str] | str = ("example.com",),
         relay_to_domains: Iterable[str] | str = (), relay_from_hosts: Iterable[str] | str = (),
         accounts: Mapping[str, str] | None = None, aliases: Mapping[str, str] | None = None,
         dns: Mapping[str, Iterable[str] | str] | None = None, address: str = "192.0.2.25",
         message_size_limit: int = MESSAGE_SIZE_LIMIT, clock: ManualClock | None = None,
         restrictions: Iterable[Restriction] | None = None) -> MailServer:
    """Exim 4.96 with Debian's generated configuration, settings named as Exim and Debian name them.

    Args:
        primary_hostname: the banner and EHLO name, and ``@`` in ``local_domains``
            (Debian: ``MAIN_HARDCODE_PRIMARY_HOSTNAME``, else the system's name).
        local_domains: ``dc_other_hostnames``; the domain list is ``@:localhost:<these>``.
        relay_to_domains: ``dc_relay_domains``: domains relayed for anyone (after verification).
        relay_from_hosts: ``dc_relay_nets``; 127.0.0.1 and ::1 are added, as Debian does.
        accounts: local users (``{"bob": "password"}``), for routing and POP3.
        aliases: ``/etc/aliases`` entries (postmaster is always there).
        dns: relay domain -> MX host names, for ``verify = recipient`` in ``relay_to_domains``.
        address: the server's own address (``dc_local_interfaces``).
        restrictions: extra defences outside Exim (fail2ban, a router filter), checked first.
    """
    if not isinstance(primary_hostname, str) or "." not in primary_hostname or not is_valid_domain(primary_hostname):
        raise ConfigError("primary_hostname", primary_hostname, t("product.exim.error.not_fqdn"),
                          t("product.exim.expected.fqdn"))
    hostname = primary_hostname.lower().rstrip(".")
    domains = ("@", "localhost", *_domains(local_domains, "local_domains", allow_at=True))
    domains = tuple(dict.fromkeys(domains))
    relays = _domains(relay_to_domains, "relay_to_domains")
    nets = [relay_from_hosts] if isinstance(relay_from_hosts, str) else list(relay_from_hosts or ())
    if isinstance(relay_from_hosts, str):
        nets = [n.strip() for n in relay_from_hosts.replace(":", " ").replace(",", " ").split()]
    networks = ClientNetworks([*nets, "127.0.0.1", "::1"], setting="relay_from_hosts")
    own = server_address(address)
    if isinstance(message_size_limit, bool) or not isinstance(message_size_limit, int) or message_size_limit < 0:
        raise ConfigError("message_size_limit", message_size_limit, t("product.exim.error.not_a_size"),
                          t("product.exim.expected.size"))
    resolver = EximResolver(domains, relays, hostname)
    chain = extra_restrictions(restrictions)
    chain += [EximMailAcl(), EximRcptAcl(networks, _mx_map(dns))]
    settings = {"primary_hostname": hostname, "local_domains": ":".join(domains),
                "relay_to_domains": ":".join(relays), "relay_from_hosts": " : ".join(map(str, [*nets, "127.0.0.1",
                                                                                               "::1"])),
                "address": own}
    persona = EximPersona()
    persona.server_ip = own  # Dovecot's lip=
    return EximServer(persona=persona, hostname=hostname, resolver=resolver, accounts=accounts,
                      aliases=aliases, restrictions=chain, clock=clock, message_size_limit=message_size_limit,
                      settings=settings)


# --- what simlab knows about Exim, for the registry ------------------------------------------------

#: fail2ban's stock filters for the lines simlab's Exim and Dovecot write (simlab/data/fail2ban/filter.d): ``exim``
#: (its relay refusal line shown) and ``dovecot``; "exim-relay" is simlab's older name for the first.
EXIM_FILTERS = {
    "dovecot": DOVECOT_FILTER,
    "exim": StockFilter("exim", line=2),
    "exim-relay": StockFilter("exim", line=2),
}


@dataclass(frozen=True)
class EximProduct(Product):
    """Exim: Debian's names for the site, relay_from_hosts for relaying."""

    def site_settings(self, site: SiteNames, accounts):
        return {"primary_hostname": site.hostname, "local_domains": [site.domain], "relay_from_hosts": [site.lan],
                "address": site.address, "accounts": dict(accounts)}

    def site_names(self, server):
        skip = {"@", "localhost", server.hostname}
        domains = [d for d in server.settings.get("local_domains", "").split(":") if d and d not in skip]
        domain = domains[0] if domains else server.hostname.partition(".")[2]
        return SiteNames(domain=domain, hostname=server.hostname, address=str(server.settings.get("address")))

    def why_relayed(self, server, client_ip, sender):
        return (t("product.exim.why_relayed", client_ip=client_ip, hosts=server.settings.get("relay_from_hosts")),
                t("product.why_relayed.trusted.short"))

    def why_refused(self, server, client_ip, sender, reply):
        said = f"{reply.code} {reply.text}"
        return t("product.exim.why_refused", hosts=server.settings.get("relay_from_hosts"), client_ip=client_ip,
                 said=said)

    def why_sender_refused(self, server, sender, reply):
        said = f"{reply.code} {reply.text}"
        if "domain literals not allowed" in reply.text:
            return t("product.exim.why_sender_refused.domain_literal", sender=sender, said=said)
        return t("product.exim.why_sender_refused", sender=sender, said=said)

    def describe(self, server):
        shown = ", ".join(f"{k}={v!r}" for k, v in server.settings.items() if k != "address")
        return f"{self.label} ({shown})"


#: Debian's exim4-config (``/etc/exim4/exim4.conf.template``, ``retry/30_exim4-config``): the single rule
#: ``*  *  F,2h,15m; G,16h,1h,1.5; F,4d,6h`` - every 15 minutes for 2 hours, then intervals from 1 hour growing
#: by 1.5 up to 16 hours, then every 6 hours until 4 days after the first failure; after that cutoff the next
#: failure bounces the address (Exim spec, 32.7 "Retry parameters" and 32.10 "Long-term failures";
#: ``retry_interval_max`` 24h). Retry times are hints: deliveries happen at queue runs, every 30 minutes as
#: Debian starts the daemon (``QUEUEINTERVAL='30m'`` in /etc/default/exim4). A bounce is retried by the same
#: rule; ``ignore_bounce_errors_after = 2d`` and ``timeout_frozen_after = 7d`` (the template's values) apply
#: only to messages frozen after a permanent failure, which simlab does not keep (a bounce that fails goes to
#: postmaster, as Debian's ``freeze_tell = postmaster`` tells them). Modelling choices: the cutoff is counted
#: from the message's arrival (its first failure comes one second later), and per message, not per host.
EXIM_QUEUE = QueueSchedule(
    lifetime=4 * 86400.0, bounce_lifetime=4 * 86400.0,
    phases=(RetryPhase("F", 2 * 3600.0, 900.0), RetryPhase("G", 16 * 3600.0, 3600.0, 1.5),
            RetryPhase("F", 4 * 86400.0, 6 * 3600.0)),
    max_interval=86400.0, queue_run_interval=1800.0,
    settings={"retry": "* * F,2h,15m; G,16h,1h,1.5; F,4d,6h", "QUEUEINTERVAL": "30m",
              "ignore_bounce_errors_after": "2d", "timeout_frozen_after": "7d"},
    source="Debian 12 exim4-config (exim4.conf.template, /etc/default/exim4); Exim spec chapter 32.")

def _notes() -> str:
    """The registry's notes, looked up when read (a module-level function, so that the Product still pickles)."""
    return t("product.exim.notes")


PRODUCTS = (
    EximProduct(
        name="exim", label=f"Exim {VERSION}", factory=exim, year=2023,
        capabilities=frozenset({POP3, RELAY_CONTROL, RELAY_BY_CLIENT_IP}),
        smtp_process_limit=20, pop3_label="Dovecot",
        relay_allowlist_setting="relay_from_hosts",
        log_patterns={"pop3_failure": EXIM_FILTERS["dovecot"], "relay_refused": EXIM_FILTERS["exim"],
                      "relay_abuse": EXIM_FILTERS["exim"]},
        fail2ban_filters=EXIM_FILTERS, panel_choices=((f"Exim {VERSION}", {}),),
        panel_hidden_settings=frozenset({"primary_hostname", "local_domains", "accounts", "aliases", "address", "dns",
                                         "message_size_limit"}),
        setting_labels={"relay_from_hosts": "relay_from_hosts (dc_relay_nets)",
                        "local_domains": "local_domains (dc_other_hostnames)",
                        "relay_to_domains": "relay_to_domains (dc_relay_domains)"},
        notes=_notes,
        pop3_limit=DOVECOT_POP3_LOGIN_LIMIT, pop3_limit_source=DOVECOT_POP3_LIMIT_SOURCE, queue=EXIM_QUEUE),
)

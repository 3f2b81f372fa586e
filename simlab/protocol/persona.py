"""How a product words its replies and its log.

RFC 5321 fixes the reply *codes*; the text after them, the banner, the EHLO
keywords and the log lines are the product's own. A :class:`Persona` holds
those words. This base class speaks plain RFC 5321 / RFC 1939 with the
example texts of the RFCs; each preset (:mod:`simlab.presets`) subclasses it
with the words its product used, and says in its docstring which of them are
documented and which are our modelling choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from simlab.addresses.networks import ip_text
from simlab.clock import mail_date
from simlab.protocol.reply import Pop3Reply, Reply

if TYPE_CHECKING:
    from simlab.addresses.mail import MailPath
    from simlab.protocol.message import Message
    from simlab.protocol.policy import Pop3Context, Recipient, SmtpContext
    from simlab.protocol.server import MailServer

__all__ = ["Persona", "DeliveryEvent"]


@dataclass(frozen=True)
class DeliveryEvent:
    """Something that happened while a server tried to pass a queued message on.

    ``kind`` is ``"dns-timeout"``, ``"no-such-domain"``, ``"connect-timeout"``,
    ``"sent"``, ``"rejected"``, ``"deferred"``, ``"expired"`` or ``"bounce"``.
    """

    kind: str
    queue_id: str
    recipients: tuple[str, ...]
    domain: str
    delay: float = 0.0
    ip: str = ""
    host: str = ""
    dns_ip: str = ""
    reply: str = ""
    new_queue_id: str = ""
    sender: str = ""


class Persona:
    """Replies and log lines of a generic RFC 5321 / RFC 1939 server."""

    product = "generic RFC 5321 server"
    #: Enhanced status codes (RFC 3463 / RFC 2034 ENHANCEDSTATUSCODES).
    enhanced = False
    #: Longest command line accepted, in octets without CRLF (RFC 5321 §4.5.3.1.4: 512 with CRLF).
    max_command_line = 510
    #: Longest text line in DATA, without CRLF (RFC 5321 §4.5.3.1.6: 1000 with CRLF).
    max_text_line = 998
    #: Errors after which the server hangs up (None: never).
    hard_error_limit: int | None = None
    #: SMTP verbs this product understands.
    verbs = ("HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "VRFY", "QUIT", "HELP")
    #: Refuse MAIL before HELO/EHLO (RFC 5321 §4.1.4 leaves this to the server).
    helo_required = False
    #: Refuse addresses without angle brackets (RFC 5321 §4.1.2 requires them).
    strict_envelopes = False
    #: After this many errors each reply is delayed by ``error_sleep`` seconds.
    soft_error_limit: int | None = None
    error_sleep = 0.0
    #: Recipients accepted per message (RFC 5321 §4.5.3.1.8: at least 100).
    recipient_limit = 100
    #: Cut an over-long command to ``max_command_line`` and go on (Postfix), instead of refusing it.
    truncate_long_commands = False
    #: VRFY answers as RCPT would, through the same restrictions (Postfix).
    vrfy_checks_recipient = False

    # --- helpers -----------------------------------------------------------
    def address_text(self, path: MailPath) -> str:
        """How the product quotes an address back in replies and logs (as written, by default)."""
        return path.text

    def log_address_text(self, path: MailPath) -> str:
        """How the product writes an address in its log."""
        return self.address_text(path)

    def _r(self, code: int, enhanced: str, text: str, **kw) -> Reply:
        return Reply.of(code, f"{enhanced} {text}" if self.enhanced and enhanced else text, **kw)

    # --- SMTP: connection ----------------------------------------------------
    def banner(self, server: MailServer) -> Reply:
        return Reply.of(220, f"{server.hostname} Service ready")

    def refused_at_connect(self, server: MailServer, ctx: SmtpContext) -> Reply:
        """RFC 5321 §3.1: a server that will not talk may answer 554 and close."""
        return Reply.of(554, f"{server.hostname} No SMTP service here", close=True)

    def ehlo_keywords(self, server: MailServer, ctx: SmtpContext) -> list[str]:
        keywords = ["8BITMIME"]
        if server.message_size_limit:
            keywords.insert(0, f"SIZE {server.message_size_limit}")
        if server.auth_offered(ctx):
            keywords.append("AUTH PLAIN LOGIN")
        if self.enhanced:
            keywords.append("ENHANCEDSTATUSCODES")
        return keywords

    def helo_ok(self, server: MailServer, ctx: SmtpContext, hostname: str) -> Reply:
        return Reply.of(250, server.hostname)

    def ehlo_ok(self, server: MailServer, ctx: SmtpContext, hostname: str) -> Reply:
        return Reply.of(250, server.hostname, *self.ehlo_keywords(server, ctx))

    def helo_syntax(self, verb: str) -> Reply:
        return self._r(501, "5.5.4", f"Syntax: {verb} hostname")

    def quit(self, server: MailServer) -> Reply:
        return self._r(221, "2.0.0", f"{server.hostname} Service closing transmission channel", close=True)

    def too_many_errors(self, server: MailServer) -> Reply:
        return self._r(421, "4.7.0", f"{server.hostname} Error: too many errors", close=True)

    # --- SMTP: commands ------------------------------------------------------
    def mail_ok(self, address: str) -> Reply:
        return self._r(250, "2.1.0", "OK")

    def rcpt_ok(self, address: str) -> Reply:
        return self._r(250, "2.1.5", "OK")

    def data_go(self) -> Reply:
        return Reply.of(354, "Start mail input; end with <CRLF>.<CRLF>")

    def queued(self, queue_id: str) -> Reply:
        return self._r(250, "2.0.0", f"OK: queued as {queue_id}")

    def rset(self) -> Reply:
        return self._r(250, "2.0.0", "OK")

    def noop(self) -> Reply:
        return self._r(250, "2.0.0", "OK")

    def help(self) -> Reply:
        return self._r(214, "2.0.0", "See RFC 5321")

    def vrfy(self, server: MailServer, argument: str) -> Reply:
        if not argument.strip():
            return self._r(501, "5.5.4", "Syntax: VRFY address")
        return self._r(252, "2.0.0", "Cannot VRFY user, but will accept message and attempt delivery")

    def unknown_command(self, line: str) -> Reply:
        return self._r(500, "5.5.2", "Syntax error, command unrecognized")

    def not_implemented(self, verb: str) -> Reply:
        return self._r(502, "5.5.1", "Command not implemented")

    def non_smtp_command(self, line: str) -> Reply | None:
        """A reply that ends the session for something that is not SMTP at all, or ``None``."""
        return None

    def starttls_unavailable(self) -> Reply:
        return self._r(502, "5.5.1", "Error: command not implemented")

    def etrn(self, server: MailServer, domain: str) -> Reply:
        """RFC 1985 ETRN: start the queue for a domain this server spools for."""
        return self._r(458, "4.3.0", f"Unable to queue messages for {domain}")

    def etrn_syntax(self) -> Reply:
        return self._r(500, "5.5.4", "Syntax: ETRN domain")

    def etrn_in_transaction(self) -> Reply:
        return self._r(503, "5.5.1", "Error: MAIL transaction in progress")

    def log_etrn_refused(self, ctx: SmtpContext, domain: str) -> str | None:
        return None

    def line_too_long(self) -> Reply:
        return self._r(500, "5.5.2", "Line too long")

    def empty_command(self) -> Reply:
        return self._r(500, "5.5.2", "Syntax error, command unrecognized")

    def need_helo(self) -> Reply:
        return self._r(503, "5.5.1", "Bad sequence of commands: send HELO/EHLO first")

    def need_mail(self) -> Reply:
        return self._r(503, "5.5.1", "Bad sequence of commands: need MAIL command")

    def need_rcpt(self) -> Reply:
        return self._r(503, "5.5.1", "Bad sequence of commands: need RCPT command")

    def nested_mail(self) -> Reply:
        return self._r(503, "5.5.1", "Bad sequence of commands: nested MAIL command")

    def no_valid_recipients(self) -> Reply:
        return self._r(554, "5.5.1", "No valid recipients")

    def data_without_recipients(self, in_transaction: bool) -> Reply:
        return self.no_valid_recipients() if in_transaction else self.need_mail()

    def data_syntax(self) -> Reply:
        return self._r(501, "5.5.4", "Syntax: DATA")

    def rset_syntax(self) -> Reply:
        return self._r(501, "5.5.4", "Syntax: RSET")

    def too_many_recipients(self) -> Reply:
        return self._r(452, "4.5.3", "Too many recipients")

    def bad_size_syntax(self) -> Reply:
        return self._r(501, "5.5.4", "Bad message size syntax")

    def mail_syntax(self) -> Reply:
        return self._r(501, "5.5.4", "Syntax: MAIL FROM:<address>")

    def rcpt_syntax(self) -> Reply:
        return self._r(501, "5.5.4", "Syntax: RCPT TO:<address>")

    def bad_sender(self, text: str) -> Reply:
        return self._r(501, "5.1.7", "Bad sender address syntax")

    def bad_recipient(self, text: str) -> Reply:
        return self._r(501, "5.1.3", "Bad recipient address syntax")

    def empty_recipient(self) -> Reply:
        """``RCPT TO:<>``: RFC 5321 allows no null forward-path."""
        return self.bad_recipient("")

    def bad_parameter(self, name: str) -> Reply:
        return self._r(555, "5.5.4", f"Unsupported option: {name}")

    def size_exceeded(self) -> Reply:
        return self._r(552, "5.3.4", "Message size exceeds fixed limit")

    def message_too_big(self) -> Reply:
        return self._r(552, "5.3.4", "Error: message file too big")

    def unknown_local_user(self, text: str) -> Reply:
        return self._r(550, "5.1.1", f"<{text}>: User unknown")

    def rejects_unlisted_recipient(self, ctx: SmtpContext) -> bool:
        """Whether an unknown local recipient is refused in this session (Postfix
        ``smtpd_reject_unlisted_recipient``, which its submission service turns off)."""
        return True

    def relay_denied(self, text: str, defer: bool = False) -> Reply:
        if defer:
            return self._r(454, "4.7.1", f"<{text}>: Relaying temporarily denied")
        return self._r(550, "5.7.1", f"<{text}>: Relaying denied")

    def rbl_rejected(self, ip: str, zone: str, reason: str) -> Reply:
        return self._r(554, "5.7.1", f"Service unavailable; Client host [{ip}] blocked using {zone}; {reason}")

    def too_many_connections(self, server: MailServer, ip: str) -> Reply:
        return self._r(421, "4.7.0", f"{server.hostname} Error: too many connections from {ip}", close=True)

    def rate_limited(self, kind: str, ip: str) -> Reply:
        what = {"message": "too much mail", "recipient": "too many recipients", "auth": "too many AUTH commands"}
        return self._r(450, "4.7.1", f"Error: {what.get(kind, 'too many requests')} from {ip}")

    # --- SMTP AUTH (RFC 4954) ----------------------------------------------------
    def auth_not_enabled(self) -> Reply:
        return self._r(502, "5.5.1", "Command not implemented")

    def auth_already(self) -> Reply:
        return self._r(503, "5.5.1", "Error: already authenticated")

    def auth_in_transaction(self) -> Reply:
        return self._r(503, "5.5.1", "Error: MAIL transaction in progress")

    def auth_unsupported(self, mechanism: str) -> Reply:
        return self._r(504, "5.5.4", "Unrecognized authentication type")

    def auth_ok(self) -> Reply:
        return self._r(235, "2.7.0", "Authentication successful")

    def auth_failed(self, mechanism: str) -> Reply:
        return self._r(535, "5.7.8", "Authentication credentials invalid")

    def auth_aborted(self) -> Reply:
        return self._r(501, "5.7.0", "Authentication aborted")

    def auth_bad_encoding(self) -> Reply:
        return self._r(501, "5.5.2", "Cannot decode response")

    def auth_needs_ehlo(self) -> Reply:
        return self._r(503, "5.5.1", "Error: send EHLO first")

    def auth_syntax(self) -> Reply:
        return self._r(501, "5.5.4", "Syntax: AUTH mechanism")

    def auth_required(self) -> Reply:
        """RFC 6409 §4.3 / RFC 4954 §6: submission before AUTH."""
        return self._r(530, "5.7.0", "Authentication required")

    # --- log --------------------------------------------------------------------
    def format_log(self, when: datetime, process: str, pid: int, text: str, server: MailServer) -> str:
        return f"{when:%Y-%m-%d %H:%M:%S} {text}"

    def queue_id(self, serial: int) -> str:
        """The id of the ``serial``-th accepted message (deterministic)."""
        return f"{serial:08d}"

    def log_connect(self, ctx: SmtpContext) -> str | None:
        return None

    def log_disconnect(self, ctx: SmtpContext, counts: dict[str, list[int]]) -> str | None:
        return None

    def log_refused_connect(self, ctx: SmtpContext, reply: Reply) -> str | None:
        return f"SMTP connection refused from {ctx.client_ip}"

    def log_reject(self, ctx: SmtpContext, stage: str, reply: Reply, recipient: str | None,
                   sender: MailPath | None = None) -> str | None:
        return f"SMTP {stage} from {ctx.client_ip} refused: {reply.text}"

    def log_lost_connection(self, ctx: SmtpContext, after: str) -> str | None:
        return None

    def log_long_command(self, ctx: SmtpContext, line: str) -> str | None:
        return None

    def log_non_smtp_command(self, ctx: SmtpContext, line: str) -> str | None:
        return None

    def log_bad_address(self, ctx: SmtpContext, verb: str, argument: str) -> str | None:
        return None

    def log_auth_aborted(self, ctx: SmtpContext, mechanism: str) -> str | None:
        return None

    def log_auth_unsupported(self, ctx: SmtpContext, mechanism: str) -> str | None:
        return None

    def log_transaction_start(self, ctx: SmtpContext, queue_id: str) -> str | None:
        return None

    def received_header(self, server: MailServer, ctx: SmtpContext, queue_id: str, recipients: list[str]) -> list[str]:
        """The trace header a server prepends (RFC 5321 §4.4), folded over three lines."""
        proto = ("ESMTPA" if ctx.user else "ESMTP") if ctx.esmtp else "SMTP"
        stamp = mail_date(server.clock.datetime(ctx.now))
        last = f"\tfor <{recipients[0]}>; {stamp}" if len(recipients) == 1 else f"\t; {stamp}"
        return [
            f"Received: from {ctx.helo or 'unknown'} ({ctx.client_name} [{ip_text(ctx.client_ip)}])",
            f"\tby {server.hostname} with {proto} id {queue_id}",
            last,
        ]

    def log_accepted(self, ctx: SmtpContext, message: Message,
                     recipients: list[Recipient]) -> list[tuple[str, int, str]]:
        """Log lines for an accepted message, as ``(process, pid, text)``; pid 0: the session's."""
        text = f"SMTP message {message.queue_id} from <{message.sender}> accepted from {ctx.client_ip}"
        return [("smtpd", 0, text)]

    def log_auth_failed(self, ctx: SmtpContext, mechanism: str, username: str | None) -> str | None:
        return f"SMTP AUTH {mechanism} failed for {username or '?'} from {ctx.client_ip}"

    def log_too_many_errors(self, ctx: SmtpContext, after: str) -> str | None:
        return f"SMTP too many errors from {ctx.client_ip}"

    # --- POP3 (RFC 1939) ---------------------------------------------------------
    #: CAPA answer (RFC 2449); empty: CAPA unknown, as before 1998.
    pop3_capabilities: tuple[str, ...] = ()
    #: Whether the banner carries an APOP timestamp (RFC 1939 §7).
    apop = True

    def apop_timestamp(self, server: MailServer, ctx: Pop3Context) -> str | None:
        """The banner's ``<process-id.clock@hostname>`` (RFC 1939 §7), or ``None`` without APOP."""
        if not self.apop:
            return None
        return f"<{server.smtpd_pid(ctx)}.{int(ctx.now)}@{server.hostname}>"

    def pop3_need_user(self) -> Pop3Reply:
        return Pop3Reply(False, "USER first")

    def pop3_banner(self, server: MailServer, timestamp: str | None) -> Pop3Reply:
        text = "POP3 server ready"
        return Pop3Reply(True, f"{text} {timestamp}" if timestamp else text)

    def pop3_refused_at_connect(self, server: MailServer) -> Pop3Reply:
        return Pop3Reply(False, "Access denied", close=True)

    def pop3_user_ok(self, user: str, exists: bool) -> Pop3Reply:
        """RFC 1939 §7: a server may say +OK for unknown names, to hide which exist."""
        return Pop3Reply(True, "")

    def pop3_login_ok(self, user: str, count: int, size: int) -> Pop3Reply:
        return Pop3Reply(True, "maildrop locked and ready")

    def pop3_login_failed(self, user: str) -> Pop3Reply:
        return Pop3Reply(False, "invalid password")

    def pop3_apop_failed(self, user: str) -> Pop3Reply:
        return Pop3Reply(False, "permission denied")

    def pop3_locked_out(self, user: str) -> Pop3Reply:
        return Pop3Reply(False, "account temporarily locked")

    def pop3_unknown_command(self) -> Pop3Reply:
        return Pop3Reply(False, "unknown command")

    def pop3_wrong_state(self) -> Pop3Reply:
        return Pop3Reply(False, "command not valid in this state")

    def pop3_syntax(self) -> Pop3Reply:
        return Pop3Reply(False, "syntax error")

    def pop3_no_message(self) -> Pop3Reply:
        return Pop3Reply(False, "no such message")

    def pop3_quit(self, server: MailServer, authenticated: bool) -> Pop3Reply:
        return Pop3Reply(True, f"{server.hostname} POP3 server signing off", close=True)

    def log_pop3_login(self, ctx: Pop3Context, user: str, method: str) -> str | None:
        return f"POP3 login {user} from {ctx.client_ip}"

    def log_pop3_failed(self, ctx: Pop3Context, user: str, known: bool) -> str | None:
        return f"POP3 wrong password for {user} from {ctx.client_ip}"

    def log_pop3_blocked(self, ctx: Pop3Context, user: str) -> str | None:
        return f"POP3 login for {user} from {ctx.client_ip} blocked"

    def log_pop3_logout(self, ctx: Pop3Context, deleted: int) -> str | None:
        return None

    def log_pop3_refused(self, ctx: Pop3Context) -> str | None:
        return f"POP3 connection refused from {ctx.client_ip}"

    # --- outbound delivery (used by the traffic simulation) -----------------------
    def log_delivery(self, server: MailServer, event: DeliveryEvent) -> list[tuple[str, int, str]]:
        """Log lines for a delivery attempt, as ``(process, pid, text)``."""
        rcpts = ", ".join(f"<{r}>" for r in event.recipients)
        text = {
            "dns-timeout": f"DNS lookup of {event.domain} at {event.dns_ip} timed out",
            "no-such-domain": f"{event.queue_id}: {rcpts}: domain {event.domain} not found",
            "connect-timeout": f"Connection timed out to {event.ip} ({event.domain})",
            "sent": f"{event.queue_id}: {rcpts} sent to {event.host}[{event.ip}]: {event.reply}",
            "rejected": f"{event.queue_id}: {rcpts} rejected by {event.host}[{event.ip}]: {event.reply}",
            "deferred": f"{event.queue_id}: {rcpts} deferred: {event.reply}",
            "expired": f"{event.queue_id}: {rcpts} expired after {event.delay:.0f}s in the queue",
            "bounce": f"{event.queue_id}: non-delivery report {event.new_queue_id} to <{event.sender}>",
        }[event.kind]
        return [("delivery", 3000, text)]

    def dsn_subject(self) -> str:
        return "Undelivered Mail Returned to Sender"

    def dsn_explanation(self, server: MailServer) -> list[str]:
        return [f"This is the mail system at host {server.hostname}.", "",
                "Your message could not be delivered to one or more recipients."]

"""One SMTP connection, server side (RFC 5321, RFC 4954 AUTH, RFC 1870 SIZE).

:class:`SmtpSession` is a state machine fed one client line at a time. It
knows the protocol - command syntax, command order, DATA with dot-stuffing,
line limits, AUTH exchanges - and nothing about policy: every decision to
refuse a client, a sender or a recipient comes from the server's
restrictions (:mod:`simlab.protocol.policy`), and every word of a reply or a
log line from the server's persona (:mod:`simlab.protocol.persona`).

Bad client input never raises: it gets the reply the product would send.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

from simlab.addresses.mail import AddressSyntaxError, MailPath, parse_path
from simlab.addresses.networks import ip_text, parse_ip
from simlab.addresses.routing import Destination
from simlab.errors import SessionClosed
from simlab.protocol.message import Message
from simlab.protocol.policy import Dropped, Recipient, SmtpContext
from simlab.protocol.reply import Reply

if TYPE_CHECKING:
    from simlab.protocol.server import MailServer

__all__ = ["SmtpSession"]

#: ESMTP parameters: RFC 1870 SIZE, RFC 6152 BODY, RFC 4954 AUTH, RFC 3461 DSN, RFC 6531 SMTPUTF8.
MAIL_PARAMS = {"SIZE", "BODY", "AUTH", "RET", "ENVID", "SMTPUTF8"}
RCPT_PARAMS = {"NOTIFY", "ORCPT"}


def _octets(line: str) -> int:
    """The line's length on the wire, in octets."""
    return len(line) if line.isascii() else len(line.encode("utf-8", "surrogateescape"))


#: ``_cmd_<verb>`` for the verbs the products know, worked out once (the handler is still looked up on the
#: session, so a product's own ``_cmd_mail`` wins).
_HANDLER_NAMES = {verb: f"_cmd_{verb.lower()}" for verb in (
    "HELO", "EHLO", "MAIL", "RCPT", "DATA", "RSET", "NOOP", "VRFY", "QUIT", "HELP", "EXPN", "ETRN", "AUTH",
    "STARTTLS")}


def _unknown_param(path: MailPath, known: set[str]) -> str | None:
    for word in path.param_words:
        if word.partition("=")[0].upper() not in known:
            return word
    return None


class SmtpSession:
    """The server's side of one SMTP connection.

    Create it with :meth:`MailServer.smtp_session`. ``greeting`` is the
    banner (or the refusal sent at connect; ``None`` when the connection was
    dropped below SMTP, e.g. by a firewall ban). :meth:`send` takes one
    client line and returns the reply, or ``None`` for a line inside a DATA
    body. ``transcript`` holds both sides, ``S:`` and ``C:``.
    """

    def __init__(self, server: MailServer, client_ip: str, port: int = 25, client_name: str = "unknown") -> None:
        self.server = server
        self.persona = server.persona
        self.ctx = SmtpContext(server=server, session_id=server.next_session_id(), client_ip=parse_ip(client_ip),
                               client_name=client_name, port=int(port), now=server.clock.now)
        self.transcript: list[str] = []
        self.closed = False
        self.dropped: Dropped | None = None
        #: A reply the server sent on its own before hanging up (421 after too many errors).
        self.closing_reply: Reply | None = None
        self.counts: dict[str, list[int]] = {}
        self._quit = False
        self._last_command = "CONNECT"
        self._in_data = False
        self._data_lines: list[str] = []
        self._data_size = 0
        self._auth: dict | None = None
        if server.logging:
            server.log_line(self.persona.log_connect(self.ctx), "smtpd", self._pid)
        refusal = server.check_connect(self.ctx)
        if isinstance(refusal, Dropped):
            self.dropped = refusal
            self.greeting: Reply | None = None
            self.closed = True
            server.session_closed(self.ctx)
            return
        if refusal is not None:
            self.greeting = refusal
            self._record_reply(refusal)
            server.log_line(self.persona.log_refused_connect(self.ctx, refusal), "smtpd", self._pid)
            self._finish(log_disconnect=True)
            return
        self.greeting = self.persona.banner(server)
        self._record_reply(self.greeting)

    # --- public ---------------------------------------------------------------
    @property
    def _pid(self) -> int:
        return self.server.smtpd_pid(self.ctx)

    @property
    def in_data(self) -> bool:
        """True while the server is reading a message body (after 354)."""
        return self._in_data

    def send(self, line: str) -> Reply | None:
        """Feed one client line (without CRLF) and return the server's reply.

        A line holding LF is split and each part is processed in turn (a bare CR stays part of
        the line, as in Postfix);
        the last reply is returned. Returns ``None`` for body lines after 354.
        Raises :class:`SessionClosed` if the server already closed the session.
        """
        if self.closed:
            raise SessionClosed(f"session {self.ctx.session_id} from {self.ctx.client_ip} is closed")
        if "\n" not in line:
            return self._one_line(line)  # the usual case: one line
        text = line[:-2] if line.endswith("\r\n") else line.rstrip("\n")
        parts = text.replace("\r\n", "\n").split("\n")
        reply = None
        for part in parts:
            if self.closed:
                break
            reply = self._one_line(part)
        return reply

    def send_lines(self, lines: list[str]) -> Reply | None:
        """Feed a burst of client lines (a DATA body ending with ".") and return the last reply.

        The same as ``send`` for each line in turn, stopping when the session closes; the body
        lines of a DATA transaction, which only collect, are taken here without the calls ``send``
        would make for each of them.
        """
        reply = None
        cls = type(self)
        fast = cls._data_line is SmtpSession._data_line and cls._one_line is SmtpSession._one_line
        transcript, ctx, clock = self.transcript, self.ctx, self.server.clock
        for line in lines:
            if self.closed:
                break
            if fast and self._in_data and line != "." and "\n" not in line:
                ctx.now = clock.now
                transcript.append(f"C: {line}")
                if line.startswith("."):
                    line = line[1:]  # RFC 5321 §4.5.2 transparency
                self._data_size += (len(line) if line.isascii() else _octets(line)) + 2
                limit = self.server.message_size_limit
                if not limit or self._data_size <= limit:
                    self._data_lines.append(line)
                reply = None
                continue
            reply = self.send(line)
        return reply

    def close(self) -> None:
        """The client goes away (with or without QUIT)."""
        if self.closed:
            return
        if not self._quit:
            self.server.log_line(self.persona.log_lost_connection(self.ctx, self._last_command), "smtpd", self._pid)
        self._finish(log_disconnect=True)

    # --- internals ----------------------------------------------------------------
    def _one_line(self, line: str) -> Reply | None:
        self.ctx.now = self.server.clock.now
        self.transcript.append(f"C: {line}")
        if self._in_data:
            return self._data_line(line)
        if self._auth is not None:
            reply = self._auth_step(line)
        else:
            reply = self._command(line)
        return self._answer(reply)

    def _answer(self, reply: Reply) -> Reply:
        if reply.code >= 400:
            self.ctx.errors += 1
            soft = self.persona.soft_error_limit
            if soft is not None and self.ctx.errors >= soft and self.persona.error_sleep:
                reply = Reply(reply.code, reply.lines, reply.close, max(reply.delay, self.persona.error_sleep))
        self._record_reply(reply)
        if reply.close:
            self._finish(log_disconnect=True)
            return reply
        limit = self.persona.hard_error_limit
        if limit is not None and self.ctx.errors >= limit:
            self.closing_reply = self.persona.too_many_errors(self.server)
            self._record_reply(self.closing_reply)
            self.server.log_line(self.persona.log_too_many_errors(self.ctx, self._last_command), "smtpd", self._pid)
            self._finish(log_disconnect=True)
        return reply

    def _record_reply(self, reply: Reply) -> None:
        self.transcript.extend(reply.transcript_lines)

    def _finish(self, log_disconnect: bool) -> None:
        self.closed = True
        self._in_data = False
        if log_disconnect and self.server.logging:
            self.server.log_line(self.persona.log_disconnect(self.ctx, self.counts), "smtpd", self._pid)
        self.server.session_closed(self.ctx)

    def _count(self, verb: str, ok: bool) -> None:
        tally = self.counts.setdefault(verb.lower(), [0, 0])
        tally[1] += 1
        if ok:
            tally[0] += 1

    def _command(self, line: str) -> Reply:
        persona = self.persona
        if (len(line) if line.isascii() else _octets(line)) > persona.max_command_line:
            if not persona.truncate_long_commands:
                self._count("unknown", False)
                return persona.line_too_long()
            self.server.log_line(persona.log_long_command(self.ctx, line), "smtpd", self._pid)
            line = line[: persona.max_command_line]
        verb, _, argument = line.strip(" ").partition(" ")
        verb = verb.upper()
        if not verb:
            self._count("unknown", False)
            return persona.empty_command()
        if verb not in persona.verbs:
            self._count("unknown", False)
            self._last_command = "UNKNOWN"
            hangup = persona.non_smtp_command(line)
            if hangup is not None:
                self.server.log_line(persona.log_non_smtp_command(self.ctx, line), "smtpd", self._pid)
                return hangup
            return persona.unknown_command(line)
        self._last_command = verb
        name = _HANDLER_NAMES.get(verb) or f"_cmd_{verb.lower()}"
        reply: Reply = getattr(self, name)(argument.strip(" "))
        code = reply.code
        if code != 334 and code != 354:  # AUTH and DATA are counted when their exchange ends
            tally = self.counts.get(name[5:])  # what ``_count`` does, without the call
            if tally is None:
                tally = self.counts[name[5:]] = [0, 0]
            tally[1] += 1
            if code < 400:
                tally[0] += 1
        return reply

    def _reset_transaction(self) -> None:
        self.ctx.sender = None
        self.ctx.recipients = []
        self.ctx.queue_id = None

    # --- HELO / EHLO -------------------------------------------------------------
    def _greet(self, verb: str, argument: str, esmtp: bool) -> Reply:
        hostname = argument.split(" ")[0] if argument else ""
        if not hostname:
            return self.persona.helo_syntax(verb)
        refusal = self.server.check_helo(self.ctx, hostname)
        if refusal is not None:
            self.server.log_line(self.persona.log_reject(self.ctx, verb, refusal, None), "smtpd", self._pid)
            return refusal
        self._reset_transaction()
        self.ctx.helo = hostname
        self.ctx.esmtp = esmtp
        if esmtp:
            return self.persona.ehlo_ok(self.server, self.ctx, hostname)
        return self.persona.helo_ok(self.server, self.ctx, hostname)

    def _cmd_helo(self, argument: str) -> Reply:
        return self._greet("HELO", argument, esmtp=False)

    def _cmd_ehlo(self, argument: str) -> Reply:
        return self._greet("EHLO", argument, esmtp=True)

    # --- MAIL / RCPT ---------------------------------------------------------------
    def _path_argument(self, argument: str, keyword: str) -> str | None:
        if argument[: len(keyword)].upper() != keyword:
            return None
        return argument[len(keyword) :]

    def _cmd_mail(self, argument: str) -> Reply:
        persona = self.persona
        if self.ctx.helo is None and persona.helo_required:
            return persona.need_helo()
        if self.ctx.sender is not None:
            return persona.nested_mail()
        rest = self._path_argument(argument, "FROM:")
        if rest is None or not rest.strip():
            return persona.mail_syntax()
        try:
            path = parse_path(rest)
        except AddressSyntaxError:
            self.server.log_line(persona.log_bad_address(self.ctx, "MAIL", rest.strip()), "smtpd", self._pid)
            return persona.bad_sender(rest.strip())
        if not path.bracketed and persona.strict_envelopes:
            return persona.mail_syntax()
        unknown = _unknown_param(path, MAIL_PARAMS)
        if unknown is not None:
            return persona.bad_parameter(unknown)
        for name, value in path.params.items():
            if name == "SIZE":
                if not (value or "").isascii() or not (value or "").isdigit():
                    return persona.bad_size_syntax()
                if self.server.message_size_limit and int(value) > self.server.message_size_limit:
                    refusal = persona.size_exceeded()
                    self.server.log_line(persona.log_reject(self.ctx, "MAIL", refusal, None, sender=path), "smtpd",
                                         self._pid)
                    return refusal
        refusal = self.server.check_mail(self.ctx, path)
        if refusal is not None:
            self.server.log_line(persona.log_reject(self.ctx, "MAIL", refusal, None, sender=path), "smtpd", self._pid)
            return refusal
        self.ctx.sender = path
        return persona.mail_ok(path.text)

    def _cmd_rcpt(self, argument: str) -> Reply:
        persona = self.persona
        if self.ctx.sender is None:
            return persona.need_mail()
        rest = self._path_argument(argument, "TO:")
        if rest is None or not rest.strip():
            return persona.rcpt_syntax()
        try:
            path = parse_path(rest)
        except AddressSyntaxError:
            self.server.log_line(persona.log_bad_address(self.ctx, "RCPT", rest.strip()), "smtpd", self._pid)
            return persona.bad_recipient(rest.strip())
        if path.address is None:
            self.server.log_line(persona.log_bad_address(self.ctx, "RCPT", rest.strip()), "smtpd", self._pid)
            return persona.empty_recipient()
        if not path.bracketed and persona.strict_envelopes:
            return persona.rcpt_syntax()
        unknown = _unknown_param(path, RCPT_PARAMS)
        if unknown is not None:
            return persona.bad_parameter(unknown)
        if len(self.ctx.recipients) >= persona.recipient_limit:
            return persona.too_many_recipients()
        resolution = self.server.resolver.resolve(path.address)
        refusal = self.server.check_rcpt(self.ctx, path, resolution)
        account = None
        if refusal is None and resolution.destination is Destination.LOCAL:
            account = self.server.local_account(resolution.local_part)
            if account is None and persona.rejects_unlisted_recipient(self.ctx):
                refusal = persona.unknown_local_user(persona.address_text(path))
        if refusal is not None:
            if self.server.logging:
                self.server.log_line(persona.log_reject(self.ctx, "RCPT", refusal, persona.log_address_text(path)),
                                     "smtpd", self._pid)
            return refusal
        if self.ctx.queue_id is None:
            self.ctx.queue_id = self.server.next_queue_id()
            if self.server.logging:
                self.server.log_line(persona.log_transaction_start(self.ctx, self.ctx.queue_id), "smtpd", self._pid)
        self.ctx.recipients.append(Recipient(path, resolution, account))
        return persona.rcpt_ok(path.text)

    # --- DATA -------------------------------------------------------------------------
    def _cmd_data(self, argument: str) -> Reply:
        persona = self.persona
        if argument:
            return persona.data_syntax()
        if not self.ctx.recipients:
            return persona.data_without_recipients(in_transaction=self.ctx.sender is not None)
        refusal = self.server.check_data(self.ctx)
        if refusal is not None:
            self.server.log_line(persona.log_reject(self.ctx, "DATA", refusal, None), "smtpd", self._pid)
            return refusal
        self._in_data = True
        self._data_lines = []
        self._data_size = 0
        return persona.data_go()

    def _data_line(self, line: str) -> Reply | None:
        if line != ".":
            if line.startswith("."):
                line = line[1:]  # RFC 5321 §4.5.2 transparency
            self._data_size += _octets(line) + 2
            limit = self.server.message_size_limit
            if not limit or self._data_size <= limit:
                self._data_lines.append(line)
            return None
        self._in_data = False
        reply = self._end_of_data()
        self._count("data", reply.code < 400)
        return self._answer(reply)

    def _end_of_data(self) -> Reply:
        server, ctx = self.server, self.ctx
        limit = server.message_size_limit
        if limit and self._data_size > limit:
            self._reset_transaction()
            return self.persona.message_too_big()
        queue_id = self.ctx.queue_id or server.next_queue_id()
        received = self.persona.received_header(server, ctx, queue_id, [r.path.text for r in ctx.recipients])
        message = Message(queue_id=queue_id, sender=ctx.sender.text if ctx.sender else "",
                          recipients=[r.path.text for r in ctx.recipients], lines=[*received, *self._data_lines],
                          client_ip=ip_text(ctx.client_ip), helo=ctx.helo, received_at=ctx.now,
                          authenticated_user=ctx.user)
        server.accept_message(ctx, message, ctx.recipients)
        self._reset_transaction()
        return self.persona.queued(queue_id)

    # --- other commands -------------------------------------------------------------
    def _cmd_rset(self, argument: str) -> Reply:
        if argument:
            return self.persona.rset_syntax()
        self._reset_transaction()
        return self.persona.rset()

    def _cmd_noop(self, argument: str) -> Reply:
        return self.persona.noop()

    def _cmd_vrfy(self, argument: str) -> Reply:
        persona = self.persona
        if not persona.vrfy_checks_recipient or not argument:
            return persona.vrfy(self.server, argument)
        try:
            path = parse_path(argument)
        except AddressSyntaxError:
            return persona.bad_recipient(argument)
        if path.address is None:
            return persona.bad_recipient(argument)
        resolution = self.server.resolver.resolve(path.address)
        refusal = self.server.check_rcpt(self.ctx, path, resolution)
        if refusal is None and resolution.destination is Destination.LOCAL:
            unknown = self.server.local_account(resolution.local_part) is None
            if unknown and persona.rejects_unlisted_recipient(self.ctx):
                refusal = persona.unknown_local_user(persona.address_text(path))
        if refusal is not None:
            self.server.log_line(persona.log_reject(self.ctx, "VRFY", refusal, persona.log_address_text(path)),
                                 "smtpd", self._pid)
            return refusal
        return persona.vrfy(self.server, argument)

    def _cmd_help(self, argument: str) -> Reply:
        return self.persona.help()

    def _cmd_starttls(self, argument: str) -> Reply:
        return self.persona.starttls_unavailable()

    def _cmd_etrn(self, argument: str) -> Reply:
        persona = self.persona
        if self.ctx.helo is None:
            return persona.need_helo()
        if self.ctx.sender is not None:
            return persona.etrn_in_transaction()
        domain = argument.strip()
        if not domain:
            return persona.etrn_syntax()
        reply = persona.etrn(self.server, domain)
        if reply.code >= 400:
            self.server.log_line(persona.log_etrn_refused(self.ctx, domain), "smtpd", self._pid)
        return reply

    def _cmd_quit(self, argument: str) -> Reply:
        self._quit = True
        return self.persona.quit(self.server)

    # --- AUTH (RFC 4954) --------------------------------------------------------------
    def _cmd_auth(self, argument: str) -> Reply:
        persona, server, ctx = self.persona, self.server, self.ctx
        if not server.auth_offered(ctx):
            return persona.auth_not_enabled()
        if ctx.helo is None or not ctx.esmtp:
            return persona.auth_needs_ehlo()
        if ctx.user is not None:
            return persona.auth_already()
        if ctx.sender is not None:
            return persona.auth_in_transaction()
        mechanism, _, initial = argument.partition(" ")
        mechanism = mechanism.upper()
        if not mechanism:
            return persona.auth_syntax()
        if mechanism not in ("PLAIN", "LOGIN"):
            server.log_line(persona.log_auth_unsupported(ctx, mechanism), "smtpd", self._pid)
            return persona.auth_unsupported(mechanism)
        refusal = server.check_auth(ctx, mechanism)
        if refusal is not None:
            server.log_line(persona.log_reject(ctx, "AUTH", refusal, None), "smtpd", self._pid)
            return refusal
        initial = initial.strip()
        if mechanism == "PLAIN":
            if initial and initial != "=":
                return self._auth_plain(initial)
            self._auth = {"mechanism": "PLAIN", "step": "response"}
            return Reply.of(334, "")
        if initial:
            username = self._b64(initial)
            if username is None:
                return persona.auth_bad_encoding()
            self._auth = {"mechanism": "LOGIN", "step": "password", "username": username}
            return Reply.of(334, "UGFzc3dvcmQ6")
        self._auth = {"mechanism": "LOGIN", "step": "username"}
        return Reply.of(334, "VXNlcm5hbWU6")

    @staticmethod
    def _b64(text: str) -> str | None:
        try:
            return base64.b64decode(text.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None

    def _auth_step(self, line: str) -> Reply:
        state = self._auth
        assert state is not None
        if line.strip() == "*":
            self._auth = None
            self._count("auth", False)
            self.server.log_line(self.persona.log_auth_aborted(self.ctx, state["mechanism"]), "smtpd", self._pid)
            return self.persona.auth_aborted()
        if state["mechanism"] == "PLAIN":
            self._auth = None
            reply = self._auth_plain(line)
            self._count("auth", reply.code < 400)
            return reply
        decoded = self._b64(line)
        if decoded is None:
            self._auth = None
            self._count("auth", False)
            return self.persona.auth_bad_encoding()
        if state["step"] == "username":
            state.update(step="password", username=decoded)
            return Reply.of(334, "UGFzc3dvcmQ6")
        self._auth = None
        reply = self._auth_finish("LOGIN", state["username"], decoded)
        self._count("auth", reply.code < 400)
        return reply

    def _auth_plain(self, response: str) -> Reply:
        decoded = self._b64(response)
        if decoded is None:
            return self.persona.auth_bad_encoding()
        parts = decoded.split("\0")
        if len(parts) != 3:
            return self._auth_finish("PLAIN", None, None)
        _authzid, username, password = parts
        return self._auth_finish("PLAIN", username, password)

    def _auth_finish(self, mechanism: str, username: str | None, password: str | None) -> Reply:
        account = None
        if username is not None and password is not None:
            account = self.server.authenticate(username, password, service="smtp", client_ip=str(self.ctx.client_ip))
        if account is None:
            self.server.log_line(self.persona.log_auth_failed(self.ctx, mechanism, username), "smtpd", self._pid)
            return self.persona.auth_failed(mechanism)
        self.ctx.user = account
        return self.persona.auth_ok()

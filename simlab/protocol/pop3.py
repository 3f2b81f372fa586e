"""One POP3 connection, server side (RFC 1939; CAPA and UIDL per RFC 2449 / RFC 1939 §7).

States as in RFC 1939 §3: AUTHORIZATION (USER/PASS or APOP), TRANSACTION
(STAT, LIST, RETR, DELE, RSET, NOOP, UIDL, TOP) and UPDATE (after QUIT,
messages marked with DELE are removed). Passwords travel in clear text with
USER/PASS; APOP sends MD5(banner timestamp + secret) instead.

A failed login writes the product's log line (EIMS: ``POP3 wrong password
for webmaster from 203.0.113.9``); a login with the right password - even a
stolen one - writes only the normal login line. The server cannot tell an
intruder with the password from its owner.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from simlab.addresses.networks import parse_ip
from simlab.errors import SessionClosed
from simlab.protocol.policy import Dropped, Pop3Context
from simlab.protocol.reply import Pop3Reply

if TYPE_CHECKING:
    from simlab.protocol.message import Message
    from simlab.protocol.server import MailServer

__all__ = ["Pop3Session"]

#: RFC 2449 §4: command lines are at most 255 octets (without CRLF).
MAX_COMMAND = 255

#: The method answering each command in each state (RFC 1939 §4-§7), by name: a subclass's override answers.
_AUTHORIZATION_HANDLERS = {"USER": "_user_cmd", "PASS": "_pass_cmd", "APOP": "_apop_cmd"}
_TRANSACTION_HANDLERS = {"STAT": "_stat", "LIST": "_list", "RETR": "_retr", "DELE": "_dele", "RSET": "_rset",
                         "UIDL": "_uidl", "TOP": "_top"}
_KNOWN_VERBS = frozenset({"USER", "PASS", "APOP", "STAT", "LIST", "RETR", "DELE", "RSET", "UIDL", "TOP", "NOOP"})


class Pop3Session:
    """The server's side of one POP3 connection.

    ``greeting`` is the banner (``None`` when the connection was dropped
    below POP3); :meth:`send` takes one line and returns the reply;
    ``transcript`` holds both sides. ``state`` is ``"AUTHORIZATION"``,
    ``"TRANSACTION"`` or ``"CLOSED"``.
    """

    def __init__(self, server: MailServer, client_ip: str, port: int = 110) -> None:
        self.server = server
        self.persona = server.persona
        self.ctx = Pop3Context(server=server, session_id=server.next_session_id(), client_ip=parse_ip(client_ip),
                               port=int(port), now=server.clock.now)
        self.transcript: list[str] = []
        self.state = "AUTHORIZATION"
        self.dropped: Dropped | None = None
        self.failed_logins = 0
        self._user: str | None = None
        self._maildrop: list[Message] = []
        self._deleted: set[int] = set()
        self.timestamp = self.persona.apop_timestamp(server, self.ctx)
        refusal = server.check_pop3_connect(self.ctx)
        if isinstance(refusal, Dropped):
            self.dropped = refusal
            self.greeting: Pop3Reply | None = None
            self.state = "CLOSED"
            return
        if refusal is not None:
            self.greeting = refusal
            self._record(refusal)
            server.log_line(self.persona.log_pop3_refused(self.ctx), "pop3", self._pid)
            self.state = "CLOSED"
            return
        self.greeting = self.persona.pop3_banner(server, self.timestamp)
        self._record(self.greeting)

    @property
    def _pid(self) -> int:
        return self.server.smtpd_pid(self.ctx)

    @property
    def closed(self) -> bool:
        return self.state == "CLOSED"

    @property
    def user(self) -> str | None:
        """The account logged in, once PASS or APOP succeeded."""
        return self.ctx.user

    def _record(self, reply: Pop3Reply) -> None:
        self.transcript += [f"S: {line}" for line in reply.wire_lines]

    def send(self, line: str) -> Pop3Reply:
        """Feed one client line (without CRLF); returns the server's reply.

        A line holding LF is split and each part answered in turn; the last reply is returned.
        """
        if self.closed:
            raise SessionClosed(f"POP3 session {self.ctx.session_id} from {self.ctx.client_ip} is closed")
        line = line[:-2] if line.endswith("\r\n") else line.rstrip("\n")
        if "\n" in line:
            reply = None
            for part in line.replace("\r\n", "\n").split("\n"):
                if self.closed:
                    break
                reply = self.send(part)
            return reply
        self.ctx.now = self.server.clock.now
        shown = line
        if line[:5].upper() == "PASS ":
            shown = "PASS " + "*" * len(line[5:])  # the transcript does not keep passwords
        self.transcript.append(f"C: {shown}")
        reply = self._command(line)
        self._record(reply)
        if reply.close:
            self.state = "CLOSED"
        return reply

    def close(self) -> None:
        """The client goes away without QUIT: nothing marked is deleted (RFC 1939 §6)."""
        self.state = "CLOSED"

    def _command(self, line: str) -> Pop3Reply:
        persona = self.persona
        # the octets on the wire: one per character of an ASCII line (the usual case, without encoding it)
        if (len(line) if line.isascii() else len(line.encode("utf-8", "surrogateescape"))) > MAX_COMMAND:
            return persona.pop3_syntax()
        verb, _, argument = line.strip().partition(" ")
        verb = verb.upper()
        argument = argument.strip()
        if verb == "QUIT":
            return self._quit()
        if verb == "NOOP" and self.state == "TRANSACTION":
            return Pop3Reply(True, "")
        if verb == "CAPA" and persona.pop3_capabilities:
            return Pop3Reply(True, "", tuple(persona.pop3_capabilities))
        name = (_AUTHORIZATION_HANDLERS if self.state == "AUTHORIZATION" else _TRANSACTION_HANDLERS).get(verb)
        if name is None:
            return persona.pop3_wrong_state() if verb in _KNOWN_VERBS else persona.pop3_unknown_command()
        return getattr(self, name)(argument)

    # --- AUTHORIZATION ---------------------------------------------------------------
    def _user_cmd(self, argument: str) -> Pop3Reply:
        if not argument or " " in argument:
            return self.persona.pop3_syntax()
        self._user = argument
        return self.persona.pop3_user_ok(argument, self.server.account_named(argument) is not None)

    def _pass_cmd(self, argument: str) -> Pop3Reply:
        if self._user is None:
            return self.persona.pop3_need_user()
        user, self._user = self._user, None
        return self._login(user, password=argument)

    def _apop_cmd(self, argument: str) -> Pop3Reply:
        name, _, digest = argument.partition(" ")
        if not self.timestamp:
            return self.persona.pop3_unknown_command()
        if not name or len(digest.strip()) != 32:
            return self.persona.pop3_syntax()
        return self._login(name, digest=digest.strip())

    def _login(self, user: str, password: str | None = None, digest: str | None = None) -> Pop3Reply:
        server, persona, ctx = self.server, self.persona, self.ctx
        refusal = server.check_pop3_login(ctx, user)
        if refusal is not None:
            server.log_line(persona.log_pop3_blocked(ctx, user), "pop3", self._pid)
            return refusal
        account = server.authenticate(user, password, service="pop3", client_ip=str(ctx.client_ip),
                                      apop_challenge=self.timestamp, apop_digest=digest)
        method = "APOP" if digest is not None else "USER"
        if account is None:
            self.failed_logins += 1
            server.log_line(persona.log_pop3_failed(ctx, user, server.account_named(user) is not None), "pop3",
                            self._pid)
            delay = server.pop3_login_result(ctx, user, ok=False)
            reply = persona.pop3_apop_failed(user) if digest is not None else persona.pop3_login_failed(user)
            return Pop3Reply(reply.ok, reply.text, reply.data, reply.close, delay)
        ctx.user = account
        self.state = "TRANSACTION"
        self._maildrop = list(server.mailboxes.get(account, []))
        server.log_line(persona.log_pop3_login(ctx, account, method), "pop3", self._pid)
        delay = server.pop3_login_result(ctx, account, ok=True)
        count, size = self._totals()
        reply = persona.pop3_login_ok(account, count, size)
        return Pop3Reply(reply.ok, reply.text, reply.data, reply.close, delay)

    # --- TRANSACTION --------------------------------------------------------------------
    def _totals(self) -> tuple[int, int]:
        live = [m for i, m in enumerate(self._maildrop, 1) if i not in self._deleted]
        return len(live), sum(m.size for m in live)

    def _message_number(self, argument: str) -> int | None:
        if not argument.isascii() or not argument.isdigit():
            return None
        number = int(argument)
        if 1 <= number <= len(self._maildrop) and number not in self._deleted:
            return number
        return None

    def _stat(self, argument: str) -> Pop3Reply:
        count, size = self._totals()
        return Pop3Reply(True, f"{count} {size}")

    def _list(self, argument: str) -> Pop3Reply:
        if argument:
            number = self._message_number(argument)
            if number is None:
                return self.persona.pop3_no_message()
            return Pop3Reply(True, f"{number} {self._maildrop[number - 1].size}")
        count, size = self._totals()
        lines = tuple(f"{i} {m.size}" for i, m in enumerate(self._maildrop, 1) if i not in self._deleted)
        return Pop3Reply(True, f"{count} messages ({size} octets)", lines)

    def _uidl(self, argument: str) -> Pop3Reply:
        if argument:
            number = self._message_number(argument)
            if number is None:
                return self.persona.pop3_no_message()
            return Pop3Reply(True, f"{number} {self._maildrop[number - 1].queue_id}")
        lines = tuple(f"{i} {m.queue_id}" for i, m in enumerate(self._maildrop, 1) if i not in self._deleted)
        return Pop3Reply(True, "", lines)

    def _retr(self, argument: str) -> Pop3Reply:
        number = self._message_number(argument)
        if number is None:
            return self.persona.pop3_no_message()
        message = self._maildrop[number - 1]
        return Pop3Reply(True, f"{message.size} octets", tuple(message.lines))

    def _top(self, argument: str) -> Pop3Reply:
        parts = argument.split()
        if len(parts) != 2 or not parts[1].isascii() or not parts[1].isdigit():
            return self.persona.pop3_syntax()
        number = self._message_number(parts[0])
        if number is None:
            return self.persona.pop3_no_message()
        lines = self._maildrop[number - 1].lines
        blank = lines.index("") if "" in lines else len(lines)
        return Pop3Reply(True, "", tuple(lines[: blank + 1 + int(parts[1])]))

    def _dele(self, argument: str) -> Pop3Reply:
        number = self._message_number(argument)
        if number is None:
            return self.persona.pop3_no_message()
        self._deleted.add(number)
        return Pop3Reply(True, f"message {number} deleted")

    def _rset(self, argument: str) -> Pop3Reply:
        self._deleted.clear()
        count, size = self._totals()
        return Pop3Reply(True, f"maildrop has {count} messages ({size} octets)")

    def _quit(self) -> Pop3Reply:
        if self.state == "TRANSACTION" and self._deleted:
            doomed = {id(self._maildrop[i - 1]) for i in self._deleted}
            box = self.server.mailboxes.get(self.ctx.user or "", [])
            box[:] = [m for m in box if id(m) not in doomed]
            self.server.log_line(self.persona.log_pop3_logout(self.ctx, len(self._deleted)), "pop3", self._pid)
        elif self.state == "TRANSACTION":
            self.server.log_line(self.persona.log_pop3_logout(self.ctx, 0), "pop3", self._pid)
        return self.persona.pop3_quit(self.server, self.state == "TRANSACTION")

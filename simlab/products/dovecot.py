"""Dovecot 2.3 for POP3: its replies and log lines, for the MTAs that pair with it (Postfix, Exim).

Dovecot is not a product of its own here: Debian admins run it beside Postfix
or Exim for POP3/IMAP. :class:`DovecotPop3` is the persona mixin (replies and
log lines), :class:`DovecotPop3Session` the POP3 connection that writes
Dovecot's one line per failed connection, and :class:`DovecotPop3Server` the
server mixin that hands such sessions out.

Sources (Dovecot 2.3.19.1, Debian 12 ``dovecot-core``/``dovecot-pop3d``
``1:2.3.19.1+dfsg1-2.1+deb12u7``; ``strings`` of ``pop3-login`` and
``libdovecot-login.so``, and Dovecot 2.3's ``src/login-common/client-common.c``
and ``src/pop3-login/client.c``):

* Replies: ``+OK Dovecot ready.``, ``-ERR [AUTH] Authentication failed.``,
  ``-ERR No username given.``, ``-ERR Unknown command.``, ``+OK Logging out``.
* The login process logs with ``login_log_format = %$: %s`` and
  ``login_log_format_elements = user=<%u> method=%m rip=%r lip=%l mpid=%e %c
  session=<%{session}>``: elements whose variables are empty are left out,
  the rest joined with ``", "``. A successful login::

      dovecot: pop3-login: Login: user=<bob>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.25, mpid=3001,
          session=<...>

  A connection that ends without a login writes one line, when it ends
  (``client_disconnect()`` adds ``client_get_extra_disconnect_reason()``)::

      dovecot: pop3-login: Disconnected (auth failed, 2 attempts in 4 secs): user=<bob>, method=PLAIN,
          rip=203.0.113.9, lip=192.0.2.25, session=<...>

  ``N attempts`` counts the authentication attempts of that connection, and
  ``in S secs`` is ``ioloop_time - auth_first_started``: whole seconds since
  the first attempt. USER/PASS is ``method=PLAIN`` (pop3-login turns it into
  SASL PLAIN). Failed attempts followed by a successful one write only the
  ``Login:`` line.
* ``session=<...>`` is ``client_get_session_id()``: base64 of the low 48 bits
  of the connect time in microseconds (little-endian), the client's port
  (2 bytes, little-endian) and its address (4 bytes for IPv4, 16 for IPv6):
  16 characters for IPv4.

Modelling choices (say so when teaching with them):

* Real 2.3.19 begins the failure line with the reason for the disconnection:
  ``Disconnected`` when the client hangs up, but ``Aborted login by logging
  out`` when it sends QUIT first (``CLIENT_UNAUTHENTICATED_LOGOUT_MSG``). The
  stock fail2ban 1.0.2 ``filter.d/dovecot.conf`` does not match the second
  form (``fail2ban-regex`` misses it: its ``_bypass_reject_reason`` only skips
  text after a colon), so a guesser that says QUIT after each failure slips
  past that jail. simlab writes both as Dovecot does
  (:attr:`DovecotPop3.pop3_quit_log_reason`); simlab's password guesser hangs
  up after a failure without QUIT, as guessing tools drop and reconnect.
* The client's port is not simulated: the session id uses
  ``40000 + session number``; the connect time is the simulated clock's.
* ``mpid`` is ``3000 + session number``; ``secured`` (TLS, or a client on the
  server's own address or in ``login_trusted_networks``) is never written.
* An account lockout (not a Dovecot feature) keeps simlab's own line.
"""

from __future__ import annotations

import base64
import functools
import math
from datetime import datetime
from typing import TYPE_CHECKING

from simlab.clock import MONTH_ABBREVIATIONS
from simlab.protocol.pop3 import Pop3Session
from simlab.protocol.reply import Pop3Reply, Reply
from simlab.protocol.server import MailServer
from simlab.protocol.smtp import SmtpSession
from simlab.restrictions.fail2ban_filters import StockFilter
from simlab.restrictions.logins import LoginGuard, login_checksum

if TYPE_CHECKING:
    from simlab.protocol.policy import Pop3Context

__all__ = ["DOVECOT_VERSION", "DOVECOT_FILTER", "DovecotPop3", "DovecotPop3Session", "DovecotPop3Server",
           "DovecotMailServer", "DovecotSaslSmtpSession", "session_id"]

DOVECOT_VERSION = "2.3.19.1"

#: fail2ban's stock ``filter.d/dovecot.conf`` (mode ``normal``), shown by the line that reads simlab's failures.
DOVECOT_FILTER = StockFilter("dovecot", line=1)


def session_id(connected_at: datetime, client_ip, port: int) -> str:
    """Dovecot's ``session=<...>`` id: base64 of the connect time (µs, low 48 bits), port and address."""
    micros = round(connected_at.timestamp() * 1_000_000)
    raw = (micros & (2 ** 48 - 1)).to_bytes(6, "little") + (port & 0xFFFF).to_bytes(2, "little")
    raw += client_ip.packed
    return base64.b64encode(raw).decode("ascii").rstrip("=")


@functools.lru_cache(maxsize=256)
def _syslog_stamp(when: datetime, _zone: object, hostname: str) -> str:
    return (f"{MONTH_ABBREVIATIONS[when.month - 1]} {when.day:>2} {when.hour:02d}:{when.minute:02d}:{when.second:02d} "
            f"{hostname.split('.')[0]}")


class DovecotPop3:
    """Persona mixin: Dovecot 2.3's POP3 replies and log lines (put it before :class:`Persona`)."""

    pop3_capabilities = ("CAPA", "TOP", "UIDL", "RESP-CODES", "PIPELINING", "AUTH-RESP-CODE", "USER", "SASL PLAIN")
    apop = False
    #: The server address Dovecot logs as ``lip=``.
    server_ip = "192.0.2.25"
    #: How the failure line begins when the client said QUIT (real 2.3.19: ``"Aborted login by logging out"``).
    pop3_quit_log_reason = "Aborted login by logging out"

    def format_log(self, when: datetime, process: str, pid: int, text: str, server: MailServer) -> str:
        """Dovecot logs through syslog (``/var/log/mail.log``): ``Jun 11 01:25:32 mail dovecot: ...``."""
        if process == "pop3" or process.startswith("dovecot"):
            return f"{_syslog_stamp(when, when.tzinfo, server.hostname)} dovecot: {text}"
        return super().format_log(when, process, pid, text, server)

    # --- replies -------------------------------------------------------------------------------------
    def pop3_banner(self, server: MailServer, timestamp: str | None) -> Pop3Reply:
        return Pop3Reply(True, "Dovecot ready.")

    def pop3_refused_at_connect(self, server: MailServer) -> Pop3Reply:
        return Pop3Reply(False, "[SYS/TEMP] Access denied", close=True)

    def pop3_user_ok(self, user: str, exists: bool) -> Pop3Reply:
        return Pop3Reply(True, "")

    def pop3_need_user(self) -> Pop3Reply:
        return Pop3Reply(False, "No username given.")

    def pop3_login_ok(self, user: str, count: int, size: int) -> Pop3Reply:
        return Pop3Reply(True, "Logged in.")

    def pop3_login_failed(self, user: str) -> Pop3Reply:
        return Pop3Reply(False, "[AUTH] Authentication failed.")

    def pop3_locked_out(self, user: str) -> Pop3Reply:
        return Pop3Reply(False, "[AUTH] Authentication failed.")

    def pop3_unknown_command(self) -> Pop3Reply:
        return Pop3Reply(False, "Unknown command.")

    def pop3_wrong_state(self) -> Pop3Reply:
        return Pop3Reply(False, "Unknown command.")

    def pop3_syntax(self) -> Pop3Reply:
        return Pop3Reply(False, "Invalid arguments.")

    def pop3_no_message(self) -> Pop3Reply:
        return Pop3Reply(False, "There's no message 0.")

    def pop3_quit(self, server: MailServer, authenticated: bool) -> Pop3Reply:
        return Pop3Reply(True, "Logging out." if authenticated else "Logging out", close=True)

    # --- log lines -----------------------------------------------------------------------------------
    def _dovecot_ids(self, ctx: Pop3Context) -> str:
        return f"rip={ctx.client_ip}, lip={self.server_ip}"

    def _dovecot_session(self, ctx: Pop3Context) -> str:
        return getattr(ctx, "dovecot_session", None) or session_id(
            ctx.server.clock.datetime(ctx.now), ctx.client_ip, 40000 + ctx.session_id)

    def log_pop3_login(self, ctx: Pop3Context, user: str, method: str) -> str:
        return (f"pop3-login: Login: user=<{user}>, method=PLAIN, {self._dovecot_ids(ctx)}, "
                f"mpid={3000 + ctx.session_id}, session=<{self._dovecot_session(ctx)}>")

    def log_pop3_failed(self, ctx: Pop3Context, user: str, known: bool) -> str | None:
        """Nothing at the failed PASS: Dovecot writes one line when the connection ends
        (:meth:`log_pop3_auth_failed`)."""
        return None

    def log_pop3_auth_failed(self, ctx: Pop3Context, user: str, attempts: int, seconds: int, reason: str) -> str:
        """The line a connection that never logged in writes when it ends."""
        return (f"pop3-login: {reason} (auth failed, {attempts} attempts in {seconds} secs): user=<{user}>, "
                f"method=PLAIN, {self._dovecot_ids(ctx)}, session=<{self._dovecot_session(ctx)}>")

    def log_pop3_blocked(self, ctx: Pop3Context, user: str) -> str:
        return f"pop3-login: Disconnected: auth failed, account locked: user=<{user}>, {self._dovecot_ids(ctx)},"

    def log_pop3_logout(self, ctx: Pop3Context, deleted: int) -> str:
        return f"pop3({ctx.user}): Disconnected: Logged out top=0/0, retr=0/0, del={deleted}/{deleted}"

    def log_pop3_refused(self, ctx: Pop3Context) -> str:
        return f"pop3-login: Disconnected: connection refused: {self._dovecot_ids(ctx)},"


class DovecotPop3Session(Pop3Session):
    """A POP3 connection to Dovecot's ``pop3-login``: counts the authentication attempts and, when the
    connection ends without a login, writes Dovecot's one failure line."""

    def __init__(self, server: MailServer, client_ip: str, port: int = 110) -> None:
        super().__init__(server, client_ip, port=port)
        self.ctx.dovecot_session = session_id(server.clock.datetime(self.ctx.now), self.ctx.client_ip,
                                              40000 + self.ctx.session_id)
        self._auth_started: float | None = None
        self._last_user: str | None = None
        self._ended = False

    def _login(self, user: str, password: str | None = None, digest: str | None = None) -> Pop3Reply:
        if self._auth_started is None:
            self._auth_started = self.server.clock.now
        self._last_user = user
        self.ctx.login_checksum = login_checksum(user, password)  # for the auth penalty (LoginGuard)
        return super()._login(user, password=password, digest=digest)

    def _quit(self) -> Pop3Reply:
        unauthenticated = self.state == "AUTHORIZATION"
        reply = super()._quit()
        if unauthenticated:
            self._log_end(getattr(self.persona, "pop3_quit_log_reason", "Disconnected"))
        return reply

    def send(self, line: str) -> Pop3Reply:
        reply = super().send(line)
        if self.closed and self.state == "CLOSED" and not self._ended and self.ctx.user is None:
            self._log_end("Disconnected")  # the server hung up (a refusal that closes)
        return reply

    def close(self) -> None:
        if not self.closed and self.ctx.user is None:
            self._log_end("Disconnected")
        super().close()

    def _log_end(self, reason: str) -> None:
        if self._ended:
            return
        self._ended = True
        if not self.failed_logins or self._auth_started is None:
            return
        now = self.server.clock.now
        self.ctx.now = now
        seconds = max(0, math.floor(now) - math.floor(self._auth_started))
        log = getattr(self.persona, "log_pop3_auth_failed", None)
        if log is not None:
            self.server.log_line(log(self.ctx, self._last_user or "", self.failed_logins, seconds, reason), "pop3",
                                 self._pid)


class DovecotPop3Server:
    """Server mixin: POP3 connections go to Dovecot (put it before :class:`MailServer`)."""

    #: Whether SMTP AUTH is Dovecot's too (Postfix's ``smtpd_sasl_type = dovecot``); else only POP3 logins are.
    dovecot_sasl = False

    def pop3_session(self, client_ip: str, port: int = 110) -> DovecotPop3Session:
        return DovecotPop3Session(self, client_ip, port=port)

    def authenticate(self, username: str, password: str | None = None, *, service: str, client_ip: str,
                     apop_challenge: str | None = None, apop_digest: str | None = None) -> str | None:
        """The passdb lookup; for a login Dovecot checks, a :class:`~simlab.restrictions.logins.LoginGuard` may
        deny an account whose password was right (a deny or ``allow_nets`` passdb), which then fails as a wrong
        password does."""
        account = super().authenticate(username, password, service=service, client_ip=client_ip,
                                       apop_challenge=apop_challenge, apop_digest=apop_digest)
        if account is None or not (service == "pop3" or self.dovecot_sasl):
            return account
        now = self.clock.now
        for restriction in self.restrictions:
            if isinstance(restriction, LoginGuard) and restriction.denies_login(self, account, client_ip, service,
                                                                                now):
                return None
        return account


class DovecotSaslSmtpSession(SmtpSession):
    """An SMTP connection whose AUTH is checked by Dovecot's auth service (``smtpd_sasl_type = dovecot``).

    Postfix passes the client's address to Dovecot (``rip=``), so the auth service's own guards - the
    per-address auth penalty and failure delay, a deny passdb (:class:`~simlab.restrictions.logins.LoginGuard`)
    - act on SMTP AUTH as on POP3: their delay is put on the ``235``/``535`` reply. Without such guards the
    session is the plain one.
    """

    def _auth_finish(self, mechanism: str, username: str | None, password: str | None) -> Reply:
        reply = super()._auth_finish(mechanism, username, password)
        guards = [r for r in self.server.restrictions if isinstance(r, LoginGuard)]
        if not guards or username is None:
            return reply
        ctx = self.ctx
        ctx.now = self.server.clock.now
        ok, checksum = ctx.user is not None, login_checksum(username, password)
        delay = max(guard.on_login(ctx, username, "smtp", ok, checksum) for guard in guards)
        return Reply(reply.code, reply.lines, reply.close, reply.delay + delay) if delay else reply


class DovecotMailServer(DovecotPop3Server, MailServer):
    """A :class:`MailServer` whose POP3 side is Dovecot's, and whose SMTP AUTH asks Dovecot too."""

    dovecot_sasl = True

    def smtp_session(self, client_ip: str, port: int = 25, client_name: str = "unknown") -> SmtpSession:
        return DovecotSaslSmtpSession(self, client_ip, port=port, client_name=client_name)

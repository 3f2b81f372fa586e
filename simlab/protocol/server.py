"""A simulated mail server: a product's words, its restrictions, its accounts and its store.

:class:`MailServer` is what the presets build and what every view talks to.
It hands out one :class:`~simlab.protocol.smtp.SmtpSession` or
:class:`~simlab.protocol.pop3.Pop3Session` per connection, runs its
restrictions at each decision point (the one place where relay and login
decisions are made), keeps the log in its product's style with timestamps
from a clock the caller controls, and stores every accepted message in a
mailbox or the relay queue (RFC 5321 §6.1: accepted mail is never lost).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from simlab.addresses.mail import MailPath, is_valid_domain
from simlab.addresses.routing import Destination, Resolution
from simlab.clock import ManualClock
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.message import MailStore, Message
from simlab.protocol.persona import Persona
from simlab.protocol.policy import Dropped, Pop3Context, Recipient, Restriction, SmtpContext
from simlab.protocol.reply import Pop3Reply, Reply

if TYPE_CHECKING:
    from simlab.protocol.pop3 import Pop3Session
    from simlab.protocol.smtp import SmtpSession

__all__ = ["MailServer", "check_accounts"]

#: The hook a restriction overrides to read log lines (:func:`simlab.protocol.policy.reads_log`).
_ON_LOG = Restriction.on_log


def check_accounts(accounts: Mapping[str, str] | None, setting: str = "accounts") -> dict[str, str]:
    """Validate ``{"name": "password"}``: names are local parts, passwords strings."""
    if accounts is None:
        return {}
    if not isinstance(accounts, Mapping):
        raise ConfigError(setting, accounts, t("server.error.not_mapping"), t("server.expected.accounts"))
    out: dict[str, str] = {}
    for name, password in accounts.items():
        if not isinstance(name, str) or not name or any(c in name for c in ' @<>"\\\t'):
            raise ConfigError(setting, name, t("server.error.not_account_name"), t("server.expected.account_name"))
        if not isinstance(password, str):
            raise ConfigError(f"{setting}[{name!r}]", password, t("server.error.not_password"),
                              t("server.expected.string"))
        out[name] = password
    return out


class MailServer:
    """One simulated mail server.

    Args:
        persona: the product's words (replies, log lines).
        hostname: the server's name, as in its banner.
        resolver: the product's reading of recipient addresses.
        accounts: ``{"name": "password"}`` for POP3 and SMTP AUTH.
        aliases: extra local names delivered to an account's mailbox.
        restrictions: policy pieces, consulted in order.
        clock: the simulated clock (a new :class:`ManualClock` by default).
        message_size_limit: largest message in octets (0: none).
        auth_ports: ports on which SMTP AUTH is offered (empty: AUTH off).
        settings: the product settings as given, for descriptions.
    """

    def __init__(self, *, persona: Persona, hostname: str, resolver, accounts: Mapping[str, str] | None = None,
                 aliases: Mapping[str, str] | None = None, restrictions: Sequence[Restriction] = (),
                 clock: ManualClock | None = None, message_size_limit: int = 10_240_000,
                 auth_ports: Iterable[int] = (), settings: Mapping[str, object] | None = None) -> None:
        if not isinstance(hostname, str) or not is_valid_domain(hostname) or hostname.startswith("["):
            raise ConfigError("hostname", hostname, t("setting.error.not_host"), t("setting.expected.host"))
        self.persona = persona
        self.hostname = hostname.lower()
        self.resolver = resolver
        self.accounts = check_accounts(accounts)
        self.aliases = {k.lower(): v for k, v in (aliases or {}).items()}
        for alias, target in self.aliases.items():
            if target not in self.accounts and target != alias:
                raise ConfigError(f"aliases[{alias!r}]", target, t("server.error.not_account"),
                                  t("expected.one_of", choices=", ".join(sorted(self.accounts))))
        self.aliases.setdefault("postmaster", "postmaster")  # RFC 5321 §4.5.1: postmaster must exist
        self.restrictions: list[Restriction] = list(restrictions)
        self.clock = clock or ManualClock()
        self.message_size_limit = int(message_size_limit)
        self.auth_ports = frozenset(auth_ports)
        self.settings = dict(settings or {})
        self.store = MailStore()
        self._log: list[str] = []
        self._log_records: list[tuple[float, str]] = []
        #: ``(time, process, pid, text)`` of lines written but not formatted yet (see :meth:`log_line`).
        self._unformatted: list[tuple[float, str, int, str]] = []
        #: Keep log lines in :attr:`log` (off for very long runs; restrictions still read every line).
        self.keep_log = True
        #: Called with ``(ctx, message, recipients)`` for every accepted message (the traffic engine listens).
        self.accept_listeners: list = []
        self._sessions = 0
        self._messages = 0

    # --- views of the store ---------------------------------------------------
    @property
    def mailboxes(self) -> dict[str, list[Message]]:
        """Messages delivered here, by account (``postmaster`` included)."""
        return self.store.mailboxes

    @property
    def queue(self) -> list[Message]:
        """Messages accepted for relaying, waiting for delivery elsewhere."""
        return self.store.queue

    def __repr__(self) -> str:
        return f"<MailServer {self.persona.product} {self.hostname}>"

    # --- sessions -----------------------------------------------------------------
    def smtp_session(self, client_ip: str, port: int = 25, client_name: str = "unknown") -> SmtpSession:
        """Open an SMTP connection from ``client_ip`` to ``port``."""
        from simlab.protocol.smtp import SmtpSession

        return SmtpSession(self, client_ip, port=port, client_name=client_name)

    def pop3_session(self, client_ip: str, port: int = 110) -> Pop3Session:
        """Open a POP3 connection from ``client_ip``."""
        from simlab.protocol.pop3 import Pop3Session

        return Pop3Session(self, client_ip, port=port)

    def next_session_id(self) -> int:
        self._sessions += 1
        return self._sessions

    def next_queue_id(self) -> str:
        self._messages += 1
        return self.persona.queue_id(self._messages)

    def smtpd_pid(self, ctx: SmtpContext | Pop3Context) -> int:
        """A stable process id for log lines: one per session, as with one process per connection."""
        return 2000 + ctx.session_id

    # --- log ----------------------------------------------------------------------
    @property
    def logging(self) -> bool:
        """Whether a log line would be kept or read by a restriction (not in counts-only runs without
        fail2ban and the like): callers on a hot path skip writing the line's text when it would not."""
        if self.keep_log:
            return True
        for restriction in self.restrictions:  # ``reads_log`` written out: this runs for most lines of a session
            if type(restriction).on_log is not _ON_LOG or "on_log" in getattr(restriction, "__dict__", ()):
                return True
        return False

    @property
    def log(self) -> list[str]:
        """The lines the server wrote, as its product writes them."""
        if self._unformatted:
            self._format_unformatted()
        return self._log

    @property
    def log_records(self) -> list[tuple[float, str]]:
        """``(time, line)`` for each log line, for plots and fail2ban-like readers."""
        if self._unformatted:
            self._format_unformatted()
        return self._log_records

    def log_line(self, text: str | None, process: str = "smtpd", pid: int = 0) -> None:
        """Write one line to the server log in the product's style (``None``: nothing).

        A line no restriction reads is kept as its parts and given the product's stamp and prefix when
        the log is first read: most servers of a run (the remote ones) write lines nobody reads. Every
        part of the format is fixed when the line is written (time, process, pid; the product's words
        for them do not change during a run), so the line is the same either way.
        """
        if text is None:
            return
        for restriction in self.restrictions:  # ``reads_log`` written out: this runs for every line
            if type(restriction).on_log is not _ON_LOG or "on_log" in getattr(restriction, "__dict__", ()):
                break
        else:  # nobody reads lines as they are written
            if self.keep_log:
                self._unformatted.append((self.clock.now, process, pid, text))
            return
        now = self.clock.now
        line = self.persona.format_log(self.clock.datetime(now), process, pid, text, self)
        if self.keep_log:
            if self._unformatted:
                self._format_unformatted()
            self._log.append(line)
            self._log_records.append((now, line))
        for restriction in self.restrictions:
            restriction.on_log(self, line, now)

    def _format_unformatted(self) -> None:
        format_log, datetime = self.persona.format_log, self.clock.datetime
        for now, process, pid, text in self._unformatted:
            line = format_log(datetime(now), process, pid, text, self)
            self._log.append(line)
            self._log_records.append((now, line))
        self._unformatted.clear()

    # --- decisions ------------------------------------------------------------------
    def check_connect(self, ctx: SmtpContext) -> Reply | Dropped | None:
        for r in self.restrictions:
            verdict = r.check_connect(ctx)
            if verdict is not None:
                return verdict
        return None

    def check_helo(self, ctx: SmtpContext, hostname: str) -> Reply | None:
        for r in self.restrictions:
            verdict = r.check_helo(ctx, hostname)
            if verdict is not None:
                return verdict
        return None

    def check_mail(self, ctx: SmtpContext, path: MailPath) -> Reply | None:
        for r in self.restrictions:
            verdict = r.check_mail(ctx, path)
            if verdict is not None:
                return verdict
        return None

    def check_rcpt(self, ctx: SmtpContext, path: MailPath, resolution: Resolution) -> Reply | None:
        """The relay decision: the first restriction that refuses this recipient wins."""
        for r in self.restrictions:
            verdict = r.check_rcpt(ctx, path, resolution)
            if verdict is not None:
                return verdict
        return None

    def check_data(self, ctx: SmtpContext) -> Reply | None:
        for r in self.restrictions:
            verdict = r.check_data(ctx)
            if verdict is not None:
                return verdict
        return None

    def check_auth(self, ctx: SmtpContext, mechanism: str) -> Reply | None:
        for r in self.restrictions:
            verdict = r.check_auth(ctx, mechanism)
            if verdict is not None:
                return verdict
        return None

    def check_pop3_connect(self, ctx: Pop3Context) -> Pop3Reply | Dropped | None:
        for r in self.restrictions:
            verdict = r.check_pop3_connect(ctx)
            if verdict is not None:
                return verdict
        return None

    def check_pop3_login(self, ctx: Pop3Context, user: str) -> Pop3Reply | None:
        for r in self.restrictions:
            verdict = r.check_pop3_login(ctx, user)
            if verdict is not None:
                return verdict
        return None

    def pop3_login_result(self, ctx: Pop3Context, user: str, ok: bool) -> float:
        """Tell the restrictions how a login went; returns the delay before answering."""
        return max((r.on_pop3_login(ctx, user, ok) for r in self.restrictions), default=0.0)

    def session_closed(self, ctx: SmtpContext | Pop3Context) -> None:
        if isinstance(ctx, SmtpContext):
            for r in self.restrictions:
                r.on_disconnect(ctx)

    def auth_offered(self, ctx: SmtpContext) -> bool:
        """SMTP AUTH (RFC 4954) is offered on this connection."""
        return ctx.port in self.auth_ports

    # --- accounts: the one login decision ---------------------------------------------
    def account_named(self, name: str) -> str | None:
        """The account called ``name`` (letter case ignored), or ``None``."""
        lowered = name.lower()
        for account in self.accounts:
            if account.lower() == lowered:
                return account
        return None

    def local_account(self, local_part: str) -> str | None:
        """The mailbox a local recipient goes to: an account, an alias, or ``None`` if unknown."""
        account = self.account_named(local_part)
        if account is not None:
            return account
        return self.aliases.get(local_part.lower())

    def authenticate(self, username: str, password: str | None = None, *, service: str, client_ip: str,
                     apop_challenge: str | None = None, apop_digest: str | None = None) -> str | None:
        """Check a login (POP3 USER/PASS or APOP, SMTP AUTH); returns the account or ``None``.

        APOP (RFC 1939 §7): the digest is MD5 of the banner timestamp followed
        by the shared secret, in lower-case hex.
        """
        account = self.account_named(username)
        if account is None:
            return None
        secret = self.accounts[account]
        if apop_digest is not None:
            expected = hashlib.md5(f"{apop_challenge}{secret}".encode()).hexdigest()
            ok = hmac.compare_digest(expected.encode(), apop_digest.lower().encode("utf-8", "surrogateescape"))
        else:
            ok = password is not None and hmac.compare_digest(
                secret.encode("utf-8", "surrogateescape"), password.encode("utf-8", "surrogateescape"))
        return account if ok else None

    # --- accepting mail -------------------------------------------------------------------
    def accept_message(self, ctx: SmtpContext, message: Message, recipients: list[Recipient]) -> None:
        """Put an accepted message in local mailboxes and/or the relay queue, and log it."""
        local: list[str] = []
        relayed: list[str] = []
        for rcpt in recipients:
            if rcpt.resolution.destination is Destination.LOCAL and rcpt.account is not None:
                if rcpt.account not in local:
                    local.append(rcpt.account)
            else:
                relayed.append(rcpt.path.text)
        for account in local:
            self.store.deliver_local(account, message)
        if relayed:
            queued = Message(message.queue_id, message.sender, relayed, message.lines, message.client_ip,
                             message.helo, message.received_at, message.authenticated_user)
            self.store.enqueue(queued)
        if self.logging:
            for process, pid, text in self.persona.log_accepted(ctx, message, recipients):
                self.log_line(text, process, pid if pid else self.smtpd_pid(ctx))
        for listener in self.accept_listeners:
            listener(ctx, message, recipients)

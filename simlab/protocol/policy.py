"""The points at which a server's restrictions decide, and what they see.

A server holds an ordered list of restrictions. The protocol sessions call
them at the stages where real servers decide (RFC 5321 §3; Postfix
``smtpd_*_restrictions``; RFC 1939 §4 for POP3): connect, HELO, MAIL, RCPT,
DATA, AUTH, POP3 login. Each hook returns ``None`` (no objection) or the
reply that refuses; the first refusal wins. Hooks never print, sleep or read
the wall clock: the time is ``ctx.now``.

This is the only place where a relay or login decision is made: the
simulation, the lessons, the CLI and the live sockets all reach it through
:class:`SmtpSession` / :class:`Pop3Session`.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

from simlab.addresses.mail import MailPath
from simlab.addresses.networks import IPAddress
from simlab.addresses.routing import Resolution
from simlab.i18n import t
from simlab.protocol.reply import Pop3Reply, Reply

if TYPE_CHECKING:
    from simlab.protocol.server import MailServer

__all__ = ["DROP", "Dropped", "SmtpContext", "Pop3Context", "Recipient", "Restriction", "reads_log"]


class Dropped:
    """A connection refused below SMTP (a firewall ban or router filter): no banner at all.

    ``reason`` says why, for a learner (``"fail2ban jail pop3"``). Give it as text, or as a function that words
    it (a module-level function, or a ``functools.partial`` of one, so that it pickles): then it is worded when
    read, in the language of that moment (:mod:`simlab.i18n`), and a drop costs no look-up.
    """

    def __init__(self, reason: str | Callable[[], str]) -> None:
        self._reason = reason

    @property
    def reason(self) -> str:
        return self._reason if isinstance(self._reason, str) else self._reason()

    def __repr__(self) -> str:
        return f"Dropped({self.reason!r})"


#: A generic drop, for restrictions that need no particular reason.
def _dropped() -> str:
    return t("protocol.dropped")


DROP = Dropped(_dropped)


@dataclass
class Recipient:
    """An accepted recipient: what the client wrote and where it resolved."""

    path: MailPath
    resolution: Resolution
    account: str | None  # the local mailbox it goes to, or None when relayed


@dataclass
class SmtpContext:
    """What a restriction may look at during one SMTP session."""

    server: MailServer
    session_id: int
    client_ip: IPAddress
    client_name: str
    port: int
    now: float
    helo: str | None = None
    esmtp: bool = False
    user: str | None = None  # the RFC 4954 authenticated user, if any
    sender: MailPath | None = None
    recipients: list[Recipient] = field(default_factory=list)
    errors: int = 0
    queue_id: str | None = None  # set once the first recipient is accepted (Postfix opens its queue file then)

    @property
    def client(self) -> str:
        """The client as Postfix names it: ``name[address]``."""
        return _client_text(self.client_name, self.client_ip)


# ``client`` is in most Postfix log lines, and formatting an address is slow: remembered per client.
@functools.lru_cache(maxsize=1024)
def _client_text(name: str, ip: IPAddress) -> str:
    return f"{name}[{ip}]"


@dataclass
class Pop3Context:
    """What a restriction may look at during one POP3 session."""

    server: MailServer
    session_id: int
    client_ip: IPAddress
    port: int
    now: float
    user: str | None = None


class Restriction:
    """A named piece of server policy. Override the hooks you need.

    Every hook returns ``None`` to let the session go on, or the reply that
    refuses (for ``check_connect``: a :class:`Reply`, which the server sends
    and then closes, or a :class:`Dropped`, when nothing is sent at all).
    """

    #: The setting's name in the product, for explanations and errors.
    name = "restriction"
    #: The arguments the restriction was made with (recorded by every subclass's ``__init__``), so that a
    #: scenario file can write it down again.
    given: Mapping[str, object] = MappingProxyType({})

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self, *args, **kw) -> None:
            init(self, *args, **kw)
            # the outermost __init__ finishes last, so the subclass's own arguments are kept
            self.given = dict(list(signature.bind(self, *args, **kw).arguments.items())[1:])

        cls.__init__ = recording_init

    def check_connect(self, ctx: SmtpContext) -> Reply | Dropped | None:
        return None

    def check_helo(self, ctx: SmtpContext, hostname: str) -> Reply | None:
        return None

    def check_mail(self, ctx: SmtpContext, path: MailPath) -> Reply | None:
        return None

    def check_rcpt(self, ctx: SmtpContext, path: MailPath, resolution: Resolution) -> Reply | None:
        return None

    def check_data(self, ctx: SmtpContext) -> Reply | None:
        return None

    def check_auth(self, ctx: SmtpContext, mechanism: str) -> Reply | None:
        return None

    def on_disconnect(self, ctx: SmtpContext) -> None:
        return None

    def check_pop3_connect(self, ctx: Pop3Context) -> Pop3Reply | Dropped | None:
        return None

    def check_pop3_login(self, ctx: Pop3Context, user: str) -> Pop3Reply | None:
        return None

    def on_pop3_login(self, ctx: Pop3Context, user: str, ok: bool) -> float:
        """Called after each POP3 login attempt; returns a delay in seconds
        before the server answers (a failure delay), 0 for none."""
        return 0.0

    def on_log(self, server: MailServer, line: str, now: float) -> None:
        """Called with every log line the server writes (fail2ban reads these)."""
        return None

    def describe(self) -> str:
        """One line for lessons: the setting as the product's admin saw it."""
        return self.name


def reads_log(restriction: Restriction) -> bool:
    """Whether ``restriction`` looks at the server's log lines (it has its own :meth:`Restriction.on_log`)."""
    return type(restriction).on_log is not Restriction.on_log or "on_log" in getattr(restriction, "__dict__", ())

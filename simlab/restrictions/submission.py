"""Message submission needs authentication (RFC 6409 §4.3, RFC 4954 §6).

On the submission port (587) a server MUST refuse ``MAIL`` with
``530 5.7.0 Authentication required`` unless the session authenticated.
Port 25 stays open to everyone, since other servers deliver there: this is
how today's servers separate "users sending out" from "the Internet
delivering in", which the 1998 products mixed on one port.

Note: stock Postfix has no single switch for this reply; Debian's
``master.cf`` example for submission refuses at RCPT instead
(``554 5.7.1 <unknown[ip]>: Client host rejected: Access denied`` via
``smtpd_client_restrictions = permit_sasl_authenticated, reject``). simlab
answers as RFC 6409 describes.
"""

from __future__ import annotations

from collections.abc import Iterable

from simlab.addresses.mail import MailPath
from simlab.protocol.policy import Dropped, Restriction, SmtpContext
from simlab.protocol.reply import Reply

__all__ = ["SubmissionAuthRequired", "ClosedPorts"]


class SubmissionAuthRequired(Restriction):
    """Refuse MAIL on the submission ports until the client has authenticated."""

    name = "submission requires AUTH"

    def __init__(self, ports: Iterable[int] = (587,)) -> None:
        self.ports = frozenset(int(p) for p in ports)

    def check_mail(self, ctx: SmtpContext, path: MailPath) -> Reply | None:
        if ctx.port in self.ports and ctx.user is None:
            return ctx.server.persona.auth_required()
        return None

    def describe(self) -> str:
        return f"port {', '.join(map(str, sorted(self.ports)))}: AUTH before MAIL"


class ClosedPorts(Restriction):
    """Ports the server does not listen on: a connection gets no banner (TCP refused)."""

    name = "closed ports"

    def __init__(self, ports: Iterable[int]) -> None:
        self.ports = frozenset(int(p) for p in ports)

    def check_connect(self, ctx: SmtpContext) -> Dropped | None:
        if ctx.port in self.ports:
            return Dropped(f"nothing listens on port {ctx.port}")
        return None

    def describe(self) -> str:
        return f"not listening on port {', '.join(map(str, sorted(self.ports)))}"

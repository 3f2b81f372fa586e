"""Message submission needs authentication (RFC 6409 §4.3, RFC 4954 §6), and how servers refuse without it.

What the RFC asks: on the submission port (587) a server MUST refuse
``MAIL`` with ``530 5.7.0 Authentication required`` unless the session
authenticated (:class:`SubmissionAuthRequired`). Port 25 stays open to
everyone, since other servers deliver there: this is how today's servers
separate "users sending out" from "the Internet delivering in", which the
1998 products mixed on one port.

What Postfix does instead (:class:`MasterServices`): it has no switch for
that reply. Debian 12's ``master.cf`` ships a commented ``submission inet``
entry whose ``-o`` lines give port 587 its own ``smtpd`` with
``syslog_name=postfix/submission``, ``smtpd_sasl_auth_enable=yes``,
``smtpd_reject_unlisted_recipient=no``, empty client/helo/sender/relay
restriction lists and ``smtpd_recipient_restrictions =
permit_sasl_authenticated,reject``. An unauthenticated client's MAIL is
accepted; each RCPT (and VRFY) is refused with ``554 5.7.1 <rcpt>:
Recipient address rejected: Access denied`` - except the bare
``<postmaster>``, which Postfix always accepts - as recorded from a real
Postfix 3.7.11 (``tests/data/postfix_reference.json``, config C). (Before
Postfix 3.7 the entry read ``smtpd_client_restrictions=$mua_client_restrictions``
and ``smtpd_relay_restrictions=permit_sasl_authenticated,reject``.)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from simlab.addresses.mail import MailPath
from simlab.i18n import t
from simlab.protocol.policy import Dropped, Restriction, SmtpContext
from simlab.protocol.reply import Reply

__all__ = ["SubmissionAuthRequired", "ClosedPorts", "MasterServices", "DEBIAN_SUBMISSION"]

#: The ``-o`` lines of the ``submission inet`` entry of Debian 12's ``master.cf`` (postfix 3.7.11-0+deb12u1,
#: ``/usr/share/postfix/master.cf.dist``), TLS lines left out (simlab simulates no TLS).
DEBIAN_SUBMISSION = {
    "syslog_name": "postfix/submission", "smtpd_sasl_auth_enable": "yes", "smtpd_reject_unlisted_recipient": "no",
    "smtpd_client_restrictions": "", "smtpd_helo_restrictions": "", "smtpd_sender_restrictions": "",
    "smtpd_relay_restrictions": "", "smtpd_recipient_restrictions": "permit_sasl_authenticated,reject",
    "milter_macro_daemon_name": "ORIGINATING",
}


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
        return t("restriction.submission.describe.auth", ports=", ".join(map(str, sorted(self.ports))))


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
        return t("restriction.submission.describe.closed", ports=", ".join(map(str, sorted(self.ports))))


class MasterServices(Restriction):
    """Postfix's ``master.cf``: one ``smtpd`` per listening port, each with its restriction lists.

    ``services`` maps a port to the restriction that port's smtpd applies (main.cf's lists with the
    entry's ``-o`` overrides); a port not listed uses ``default`` (the ``smtp inet`` entry: main.cf).
    It also remembers the SASL mechanism of each AUTH on ``ctx`` (``sasl_method``, for the log).
    """

    name = "master.cf services"

    def __init__(self, default: Restriction, services: Mapping[int, Restriction]) -> None:
        self.default = default
        self.services = {int(port): restriction for port, restriction in services.items()}

    def _for(self, ctx: SmtpContext) -> Restriction:
        return self.services.get(ctx.port, self.default)

    def check_connect(self, ctx: SmtpContext):
        return self._for(ctx).check_connect(ctx)

    def check_helo(self, ctx: SmtpContext, hostname: str) -> Reply | None:
        return self._for(ctx).check_helo(ctx, hostname)

    def check_mail(self, ctx: SmtpContext, path: MailPath) -> Reply | None:
        return self._for(ctx).check_mail(ctx, path)

    def check_rcpt(self, ctx: SmtpContext, path: MailPath, resolution) -> Reply | None:
        return self._for(ctx).check_rcpt(ctx, path, resolution)

    def check_data(self, ctx: SmtpContext) -> Reply | None:
        return self._for(ctx).check_data(ctx)

    def check_auth(self, ctx: SmtpContext, mechanism: str) -> Reply | None:
        ctx.sasl_method = mechanism  # Postfix logs sasl_method=PLAIN or LOGIN with the queue id
        return self._for(ctx).check_auth(ctx, mechanism)

    def on_disconnect(self, ctx: SmtpContext) -> None:
        self._for(ctx).on_disconnect(ctx)

    def describe(self) -> str:
        parts = [t("restriction.submission.describe.port", port=25, rules=self.default.describe())]
        parts += [t("restriction.submission.describe.port", port=port, rules=r.describe())
                  for port, r in sorted(self.services.items())]
        return "; ".join(parts)

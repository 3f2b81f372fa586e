"""Per-client limits in the manner of Postfix ``anvil(8)``.

Postfix counts, per client address, connections in progress and events per
``anvil_rate_time_unit`` (60 s): connections, messages, recipients, AUTH
commands. Over a limit it answers (``postconf(5)``, ``smtpd.c``)::

    421 4.7.0 mail.example.com Error: too many connections from 203.0.113.7
    450 4.7.1 Error: too many AUTH commands from 203.0.113.7
    450 4.7.1 Error: too much mail from 203.0.113.7
    450 4.7.1 Error: too many recipients from 203.0.113.7

and logs ``warning: Connection rate limit exceeded: 61 from
unknown[203.0.113.7] for service smtp``; for AUTH (``smtpd_sasl_auth_cmd_wrapper`` in smtpd.c)
``warning: AUTH command rate limit exceeded: 4 from unknown[203.0.113.7] for service submission``,
counted per service (``smtp``, ``submission``, ``submissions``) and client. Clients in
``smtpd_client_event_limit_exceptions`` (default ``$mynetworks``) are exempt.
A limit of 0 means no limit, as in Postfix. Anvil's rate windows start at a
client's first event and restart when a time unit has passed.
"""

from __future__ import annotations

from collections.abc import Iterable

from simlab.addresses.mail import MailPath
from simlab.addresses.networks import ClientNetworks, ip_text
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.policy import Restriction, SmtpContext
from simlab.protocol.reply import Reply

__all__ = ["Anvil", "SERVICE_NAMES"]

#: ``master.cf`` service names by port (Postfix 3.7's ``smtp``, ``submission`` and ``submissions`` entries): smtpd
#: asks anvil per ``state->service`` and client address, and logs ``... for service <name>`` (smtpd.c).
SERVICE_NAMES = {25: "smtp", 587: "submission", 465: "submissions"}


def _limit(value: object, setting: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(setting, value, t("restriction.anvil.error.not_a_limit"),
                          t("restriction.anvil.expected.limit"))
    return value


class Anvil(Restriction):
    """Per-client connection count and event-rate limits.

    Args:
        connection_count_limit: ``smtpd_client_connection_count_limit`` (Postfix default 50).
        connection_rate_limit: ``smtpd_client_connection_rate_limit`` per time unit.
        message_rate_limit: ``smtpd_client_message_rate_limit``.
        recipient_rate_limit: ``smtpd_client_recipient_rate_limit``.
        auth_rate_limit: ``smtpd_client_auth_rate_limit``.
        exceptions: ``smtpd_client_event_limit_exceptions``.
        time_unit: ``anvil_rate_time_unit`` in seconds.
    """

    name = "anvil"

    def __init__(self, connection_count_limit: int = 50, connection_rate_limit: int = 0,
                 message_rate_limit: int = 0, recipient_rate_limit: int = 0, auth_rate_limit: int = 0,
                 exceptions: Iterable[str] | str = (), time_unit: float = 60.0) -> None:
        self.connection_count_limit = _limit(connection_count_limit, "smtpd_client_connection_count_limit")
        self.connection_rate_limit = _limit(connection_rate_limit, "smtpd_client_connection_rate_limit")
        self.message_rate_limit = _limit(message_rate_limit, "smtpd_client_message_rate_limit")
        self.recipient_rate_limit = _limit(recipient_rate_limit, "smtpd_client_recipient_rate_limit")
        self.auth_rate_limit = _limit(auth_rate_limit, "smtpd_client_auth_rate_limit")
        self.exceptions = ClientNetworks(exceptions, setting="smtpd_client_event_limit_exceptions")
        if not (isinstance(time_unit, int | float) and time_unit > 0):
            raise ConfigError("anvil_rate_time_unit", time_unit, t("restriction.anvil.error.not_a_duration"),
                              t("restriction.anvil.expected.seconds"))
        self.time_unit = float(time_unit)
        self.active: dict[str, int] = {}
        self._open: set[int] = set()
        self._rates: dict[tuple[str, str], tuple[float, int]] = {}

    def _bump(self, kind: str, ip: str, now: float) -> int:
        start, count = self._rates.get((kind, ip), (now, 0))
        if now - start >= self.time_unit:
            start, count = now, 0
        count += 1
        self._rates[(kind, ip)] = (start, count)
        return count

    def check_connect(self, ctx: SmtpContext) -> Reply | None:
        ip = ip_text(ctx.client_ip)
        exempt = ctx.client_ip in self.exceptions
        server = ctx.server
        active = self.active.get(ip, 0) + 1
        if not exempt and self.connection_count_limit and active > self.connection_count_limit:
            server.log_line(f"warning: Connection concurrency limit exceeded: {active} from {ctx.client} "
                            "for service smtp", "smtpd", server.smtpd_pid(ctx))
            return server.persona.too_many_connections(server, ip)
        rate = self._bump("conn", ip, ctx.now)
        if not exempt and self.connection_rate_limit and rate > self.connection_rate_limit:
            server.log_line(f"warning: Connection rate limit exceeded: {rate} from {ctx.client} "
                            "for service smtp", "smtpd", server.smtpd_pid(ctx))
            return server.persona.too_many_connections(server, ip)
        self.active[ip] = active
        self._open.add(ctx.session_id)
        return None

    def on_disconnect(self, ctx: SmtpContext) -> None:
        if ctx.session_id in self._open:
            self._open.discard(ctx.session_id)
            ip = ip_text(ctx.client_ip)
            self.active[ip] = max(0, self.active.get(ip, 0) - 1)

    def _event(self, ctx: SmtpContext, kind: str, limit: int, label: str) -> Reply | None:
        if not limit or ctx.client_ip in self.exceptions:
            return None
        service = SERVICE_NAMES.get(ctx.port, "smtp")  # anvil counts per service and client (smtpd.c)
        count = self._bump(kind if service == "smtp" else f"{kind}/{service}", ip_text(ctx.client_ip), ctx.now)
        if count > limit:
            ctx.server.log_line(f"warning: {label} rate limit exceeded: {count} from {ctx.client} for service "
                                f"{service}", "smtpd", ctx.server.smtpd_pid(ctx))
            return ctx.server.persona.rate_limited(kind, ip_text(ctx.client_ip))
        return None

    def check_mail(self, ctx: SmtpContext, path: MailPath) -> Reply | None:
        return self._event(ctx, "message", self.message_rate_limit, "Message delivery request")

    def check_rcpt(self, ctx: SmtpContext, path: MailPath, resolution) -> Reply | None:
        return self._event(ctx, "recipient", self.recipient_rate_limit, "Recipient address")

    def check_auth(self, ctx: SmtpContext, mechanism: str) -> Reply | None:
        return self._event(ctx, "auth", self.auth_rate_limit, "AUTH command")

    def describe(self) -> str:
        at_once = self.connection_count_limit or t("restriction.anvil.describe.any")
        parts = [t("restriction.anvil.describe.concurrency", limit=at_once)]
        unit = f"{self.time_unit:g}"
        for value, what in ((self.connection_rate_limit, t("restriction.anvil.describe.connections")),
                            (self.message_rate_limit, t("restriction.anvil.describe.messages")),
                            (self.recipient_rate_limit, t("restriction.anvil.describe.recipients")),
                            (self.auth_rate_limit, t("restriction.anvil.describe.auth"))):
            if value:
                parts.append(t("restriction.anvil.describe.rate", what=what, limit=value, unit=unit))
        return t("restriction.anvil.describe", limits=t("restriction.anvil.describe.separator").join(parts))

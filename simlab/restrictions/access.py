"""Who may connect at all: IP Range Restriction (EIMS 2.1) and a router filter.

* :class:`IpRangeRestriction` follows the EIMS 2.1 setting of that name: a
  list of allowed from-to ranges per service. The forum found that on SMTP it
  refuses *every* connection from outside - not only clients sending through
  the server but also other servers delivering to it - so a main mail server
  stops receiving mail from the Internet (seed thread, S5). It only works
  when an upstream provider spools mail (MX at the provider, provider's
  address allowed).
* :class:`RouterFilter` is the thread's other advice: drop traffic from
  networks that need no access before it reaches the server. Dropped
  packets get no banner at all.
"""

from __future__ import annotations

from collections.abc import Iterable

from simlab.addresses.networks import ClientNetworks
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.policy import Dropped, Pop3Context, Restriction, SmtpContext
from simlab.protocol.reply import Pop3Reply, Reply

__all__ = ["IpRangeRestriction", "RouterFilter", "SERVICES"]

SERVICES = ("smtp", "pop3")


def _services(services: Iterable[str] | str, setting: str) -> frozenset[str]:
    if isinstance(services, str):
        services = [services]
    out = set()
    for service in services:
        if service not in SERVICES:
            raise ConfigError(setting, service, t("restriction.error.not_a_service"),
                              t("expected.one_of", choices=list(SERVICES)))
        out.add(service)
    return frozenset(out)


class IpRangeRestriction(Restriction):
    """EIMS 2.1 *IP Range Restriction*: only the listed ranges may connect.

    Args:
        ranges: allowed ``"A-B"`` ranges (CIDR and single addresses also accepted).
        services: which services it guards (``"smtp"``, ``"pop3"``).

    A refused SMTP client gets the persona's refusal at connect
    (:meth:`~simlab.protocol.persona.Persona.refused_at_connect`) and the
    connection closes; a refused POP3 client gets ``-ERR`` and is closed.
    """

    name = "IP Range Restriction"

    def __init__(self, ranges: Iterable[str] | str, services: Iterable[str] | str = ("smtp", "pop3"),
                 setting: str = "ip_range_restriction") -> None:
        self.networks = ClientNetworks(ranges, setting=setting)
        if not self.networks:
            raise ConfigError(setting, ranges, t("restriction.access.error.no_range"),
                              t("restriction.access.expected.range"))
        self.services = _services(services, f"{setting}.services")

    def check_connect(self, ctx: SmtpContext) -> Reply | None:
        if "smtp" in self.services and ctx.client_ip not in self.networks:
            return ctx.server.persona.refused_at_connect(ctx.server, ctx)
        return None

    def check_pop3_connect(self, ctx: Pop3Context) -> Pop3Reply | None:
        if "pop3" in self.services and ctx.client_ip not in self.networks:
            return ctx.server.persona.pop3_refused_at_connect(ctx.server)
        return None

    def describe(self) -> str:
        return t("restriction.access.describe.ip_range", services=", ".join(sorted(self.services)),
                 networks=self.networks)


class RouterFilter(Restriction):
    """A packet filter in front of the server: drop the listed networks' traffic.

    Args:
        deny: networks whose packets are dropped.
        services: which services' ports the rule covers.
        allow: if given, *only* these networks get through (deny is then ignored).
    """

    name = "router filter"

    def __init__(self, deny: Iterable[str] | str = (), services: Iterable[str] | str = ("pop3",),
                 allow: Iterable[str] | str | None = None) -> None:
        self.deny = ClientNetworks(deny, setting="router_filter.deny")
        self.allow = None if allow is None else ClientNetworks(allow, setting="router_filter.allow")
        self.services = _services(services, "router_filter.services")

    def blocks(self, ip: object, service: str) -> bool:
        """True when this filter drops ``service`` traffic from ``ip``."""
        if service not in self.services:
            return False
        if self.allow is not None:
            return ip not in self.allow
        return ip in self.deny

    def add_deny(self, spec: str) -> None:
        """Add a network to the deny list (an admin blocking an address by hand)."""
        self.deny = ClientNetworks([*(str(r) for r in self.deny), spec], setting="router_filter.deny")

    def check_connect(self, ctx: SmtpContext) -> Dropped | None:
        if self.blocks(ctx.client_ip, "smtp"):
            return Dropped("router filter")
        return None

    def check_pop3_connect(self, ctx: Pop3Context) -> Dropped | None:
        if self.blocks(ctx.client_ip, "pop3"):
            return Dropped("router filter")
        return None

    def describe(self) -> str:
        rule = (t("restriction.access.describe.allow_only", networks=self.allow) if self.allow is not None
                else t("restriction.access.describe.drop", networks=self.deny))
        return t("restriction.access.describe.router", services=", ".join(sorted(self.services)), rule=rule)

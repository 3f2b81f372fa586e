"""Helpers the presets share: validating common settings and Mac-style log time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from simlab.addresses.networks import parse_ip
from simlab.addresses.routing import domain_list
from simlab.errors import ConfigError
from simlab.protocol.policy import Restriction
from simlab.restrictions.access import SERVICES, IpRangeRestriction

__all__ = ["mac_log_time", "ip_range_restrictions", "extra_restrictions", "server_address", "site_domains"]


def mac_log_time(when: datetime) -> str:
    """Classic Mac OS long date and time, as in the thread's logs: ``Thu, Jun 11, 1998 1:25:32 AM``."""
    hour = when.hour % 12 or 12
    ampm = "AM" if when.hour < 12 else "PM"
    return f"{when:%a, %b} {when.day}, {when.year} {hour}:{when:%M:%S} {ampm}"


def ip_range_restrictions(value: Iterable[str] | str | Mapping[str, Iterable[str] | str] | None,
                          setting: str = "ip_range_restriction") -> list[Restriction]:
    """EIMS IP Range Restriction: ranges for both services, or ``{"smtp": [...], "pop3": [...]}``."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        out: list[Restriction] = []
        for service, ranges in value.items():
            if service not in SERVICES:
                raise ConfigError(setting, service, "is not a service", f"one of {list(SERVICES)}")
            if ranges:
                out.append(IpRangeRestriction(ranges, services=(service,), setting=f"{setting}[{service!r}]"))
        return out
    return [IpRangeRestriction(value, services=SERVICES, setting=setting)]


def extra_restrictions(value: Iterable[Restriction] | None) -> list[Restriction]:
    """Extra defences (lockout, fail2ban, router filter) added to a preset."""
    out = []
    for item in value or ():
        if not isinstance(item, Restriction):
            raise ConfigError("restrictions", item, "is not a restriction",
                              "objects from simlab.restrictions such as Fail2Ban()")
        out.append(item)
    return out


def server_address(value: str, setting: str = "address") -> str:
    return str(parse_ip(value, setting))


def site_domains(hostname: str, local_domains) -> tuple[str, ...]:
    """The domains a Mac server delivers here: the listed ones and its own host name (modelling choice:
    the thread's spoofed sender, ``Postmaster@mail.<company>``, wrote the host name as the domain)."""
    domains = domain_list(local_domains, "local_domains")
    name = hostname.lower().rstrip(".") if isinstance(hostname, str) else hostname
    return domains if name in domains else (*domains, name)

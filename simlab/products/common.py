"""Helpers the presets share: validating common settings and Mac-style log time."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from simlab.addresses.networks import parse_ip
from simlab.addresses.routing import domain_list
from simlab.clock import MONTH_ABBREVIATIONS, WEEKDAY_ABBREVIATIONS
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.policy import Restriction
from simlab.restrictions.access import SERVICES, IpRangeRestriction

__all__ = ["mac_log_time", "ip_range_restrictions", "extra_restrictions", "server_address", "site_domains"]


#: Weekdays as the Japanese Mac OS abbreviated them, Monday first (datetime.weekday()).
_JAPANESE_WEEKDAYS = "月火水木金土日"


def mac_log_time(when: datetime, system_language: str = "en") -> str:
    """Classic Mac OS long date and time, as the system's language wrote it.

    * ``"en"``: ``Thu, Jun 11, 1998 1:25:32 AM`` (the English Mac OS long date; modelling choice of its
      order, after Apple's English date format).
    * ``"ja"``: ``1998年 6月 11日 (木) 1:25:32 AM``, as the thread's error log shows it (the admin's post
      of June 1998: ``1998年 6月 xx日 (木) 1:25:32 AM  DNR timed out to ...``): year, month and day each
      followed by its kanji and one space, the weekday in brackets, the time in 12-hour form with AM/PM.
      Whether two-digit months and days were written the same way the thread cannot show (its only month
      is June and it masks the day as ``xx``): modelling choice.
    """
    hour = when.hour % 12 or 12
    ampm = "AM" if when.hour < 12 else "PM"
    if system_language == "ja":
        return (f"{when.year}年 {when.month}月 {when.day}日 ({_JAPANESE_WEEKDAYS[when.weekday()]}) "
                f"{hour}:{when.minute:02d}:{when.second:02d} {ampm}")
    return (f"{WEEKDAY_ABBREVIATIONS[when.weekday()]}, {MONTH_ABBREVIATIONS[when.month - 1]} {when.day}, "
            f"{when.year} {hour}:{when.minute:02d}:{when.second:02d} {ampm}")


def ip_range_restrictions(value: Iterable[str] | str | Mapping[str, Iterable[str] | str] | None,
                          setting: str = "ip_range_restriction") -> list[Restriction]:
    """EIMS IP Range Restriction: ranges for both services, or ``{"smtp": [...], "pop3": [...]}``."""
    if value is None:
        return []
    if isinstance(value, Mapping):
        out: list[Restriction] = []
        for service, ranges in value.items():
            if service not in SERVICES:
                raise ConfigError(setting, service, t("restriction.error.not_a_service"),
                                  t("expected.one_of", choices=list(SERVICES)))
            if ranges:
                out.append(IpRangeRestriction(ranges, services=(service,), setting=f"{setting}[{service!r}]"))
        return out
    return [IpRangeRestriction(value, services=SERVICES, setting=setting)]


def extra_restrictions(value: Iterable[Restriction] | None) -> list[Restriction]:
    """Extra defences (lockout, fail2ban, router filter) added to a preset."""
    out = []
    for item in value or ():
        if not isinstance(item, Restriction):
            raise ConfigError("restrictions", item, t("product.error.not_a_restriction"),
                              t("product.expected.restriction"))
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

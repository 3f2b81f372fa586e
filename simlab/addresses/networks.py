"""Client networks as the products wrote them.

Three spellings are accepted, each with :mod:`ipaddress`:

* CIDR blocks, as in Postfix ``mynetworks`` (``192.0.2.0/24``);
* single addresses, as in SIMS "Client Hosts" (``192.0.2.25``);
* from-to ranges, as in the EIMS 2.1 *IP Range Restriction*
  (``192.0.2.10-192.0.2.99``; spaces around the dash are allowed).

A list of them is written the same way everywhere - in a setting, a checker's
argument or a panel's text field - and read by :func:`parse_networks`:
entries separated by commas, semicolons, spaces or line breaks. Its error
messages speak the current language (:mod:`simlab.i18n`, ids ``address.*``).
"""

from __future__ import annotations

import functools
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from simlab.errors import ConfigError
from simlab.i18n import t

__all__ = ["IPAddress", "AddressRange", "ClientNetworks", "parse_ip", "parse_range", "parse_networks", "ip_text",
           "networks_expected"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def _range_error(setting: str, value: object) -> ConfigError:
    return ConfigError(setting, value, t("address.error.not_a_range"), t("address.expected.range"))


def networks_expected() -> str:
    """What a list of networks should look like, for messages, in the current language (:mod:`simlab.i18n`)."""
    return t("address.expected.networks")


def __getattr__(name: str) -> str:
    """``NETWORKS_EXPECTED``, looked up when read (PEP 562): :func:`networks_expected`."""
    if name == "NETWORKS_EXPECTED":
        return networks_expected()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

#: Spaces around a range's dash belong to the range: ``"192.0.2.1 - 192.0.2.254"`` is one entry.
_DASH = re.compile(r"\s*-\s*")
_SEPARATORS = re.compile(r"[,;\s]+")


def _entries(text: str) -> list[str]:
    return [item for item in _SEPARATORS.split(_DASH.sub("-", text.strip())) if item]


def parse_networks(value: object, setting: str = "networks") -> list[str]:
    """The one reader of a list of networks, as typed in a field or given as a list: its entries, each checked.

    Text is split at commas, semicolons, spaces and line breaks (spaces around a range's dash are part
    of the range); a list's items are read the same way, so ``["192.0.2.0/24, 198.51.100.77"]`` holds
    two entries. Each entry is a CIDR block, an address or an ``A-B`` range (:func:`parse_range`); the
    first bad one raises :class:`ConfigError` naming ``setting``, the entry and what was expected.
    An empty text or list gives ``[]``: whether "none" is allowed is the caller's to say.

    >>> parse_networks("192.0.2.1 - 192.0.2.254, 198.51.100.77\\n203.0.113.0/24")
    ['192.0.2.1-192.0.2.254', '198.51.100.77', '203.0.113.0/24']
    """
    if isinstance(value, str):
        items = _entries(value)
    elif isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network
                    | ipaddress.IPv6Network):
        items = [str(value)]
    elif isinstance(value, Iterable) and not isinstance(value, bytes | Mapping):
        items = []
        for item in value:
            if isinstance(item, str):
                items += _entries(item)
            elif isinstance(item, ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network
                            | ipaddress.IPv6Network):
                items.append(str(item))
            else:
                raise _range_error(setting, item)
    else:
        raise ConfigError(setting, value, t("address.error.not_a_network_list"), networks_expected())
    for item in items:
        parse_range(item, setting)
    return items


#: The address types, as a tuple: ``isinstance`` with ``A | B`` builds the union anew on every call.
_IP_TYPES = (ipaddress.IPv4Address, ipaddress.IPv6Address)


def parse_ip(text: object, setting: str = "client_ip") -> IPAddress:
    """An IPv4 or IPv6 address, or :class:`ConfigError` naming ``setting``."""
    if isinstance(text, _IP_TYPES):
        return text
    try:
        if type(text) is str:
            return _ip_of_text(text)
        return ipaddress.ip_address(str(text).strip())
    except ValueError:
        raise ConfigError(setting, text, t("address.error.not_an_ip"), t("address.expected.ip")) from None


@functools.lru_cache(maxsize=4096)
def ip_text(ip: IPAddress) -> str:
    """``str(ip)``, remembered: log lines and rate limits name the client's address many times a session."""
    return str(ip)


# Every session parses its client's address; addresses are immutable, and a run sees few of them.
@functools.lru_cache(maxsize=4096)
def _ip_of_text(text: str) -> IPAddress:
    return ipaddress.ip_address(text.strip())


@functools.lru_cache(maxsize=4096)
def _address_or_none(text: str) -> IPAddress | None:
    """``ipaddress.ip_address(text)`` (no stripping), or None where it raises: a membership test's parse,
    remembered, as each range of a list would otherwise parse the same client address again."""
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class AddressRange:
    """An inclusive range of addresses, ``first`` to ``last``."""

    first: IPAddress
    last: IPAddress
    text: str

    def __post_init__(self) -> None:
        # the bounds as (family, number), so that a membership test is two integer comparisons
        object.__setattr__(self, "_bounds", (self.first.version, int(self.first), int(self.last)))

    def __contains__(self, ip: object) -> bool:
        addr = ip if isinstance(ip, _IP_TYPES) else _address_or_none(str(ip))
        if addr is None:
            return False
        version, low, high = self._bounds
        return addr.version == version and low <= int(addr) <= high

    def __str__(self) -> str:
        return self.text


def parse_range(text: object, setting: str = "networks") -> AddressRange:
    """Parse one CIDR block, address or from-to range.

    >>> parse_range("192.0.2.10-192.0.2.99").last
    IPv4Address('192.0.2.99')
    """
    if not isinstance(text, str) or not text.strip():
        raise _range_error(setting, text)
    spec = text.strip()
    if "-" in spec:
        left, _, right = spec.partition("-")
        try:
            first = ipaddress.ip_address(left.strip())
            last = ipaddress.ip_address(right.strip())
        except ValueError:
            raise _range_error(setting, text) from None
        if first.version != last.version:
            raise ConfigError(setting, text, t("address.error.mixed_families"), t("address.expected.same_family"))
        if first > last:
            raise ConfigError(setting, text, t("address.error.reversed_range"), t("address.expected.lower_first"))
        return AddressRange(first, last, f"{first}-{last}")
    try:
        if "/" in spec:
            net = ipaddress.ip_network(spec, strict=False)
            return AddressRange(net.network_address, net.broadcast_address, str(net))
        addr = ipaddress.ip_address(spec)
    except ValueError:
        raise _range_error(setting, text) from None
    return AddressRange(addr, addr, str(addr))


class ClientNetworks:
    """A list of ranges a client address is matched against.

    >>> nets = ClientNetworks(["192.0.2.0/24", "198.51.100.5"], setting="mynetworks")
    >>> "192.0.2.77" in nets, "203.0.113.7" in nets
    (True, False)
    """

    def __init__(self, specs: Iterable[str] | str | None = (), setting: str = "networks") -> None:
        if specs is None:
            specs = ()
        if isinstance(specs, str):
            specs = _entries(specs)  # as parse_networks reads it: "192.0.2.1 - 192.0.2.254" is one range
        self.setting = setting
        self.ranges: tuple[AddressRange, ...] = tuple(parse_range(s, setting) for s in specs)

    def __contains__(self, ip: object) -> bool:
        if not isinstance(ip, _IP_TYPES):
            ip = _address_or_none(str(ip))  # parsed once for all the ranges (each would parse it the same)
            if ip is None:
                return False
        for r in self.ranges:
            if ip in r:
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __iter__(self):
        return iter(self.ranges)

    def __repr__(self) -> str:
        return f"ClientNetworks({[str(r) for r in self.ranges]!r}, setting={self.setting!r})"

    def __str__(self) -> str:
        return ", ".join(str(r) for r in self.ranges)

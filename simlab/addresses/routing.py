"""Where a recipient address leads, as each product worked it out.

A relay decision needs one answer first: is this recipient ours (final
delivery here), a domain we relay for, or someone else's? Products differed:

* :class:`LastDomainResolver` - the 1998 Mac servers (EIMS, SIMS) look only at
  the domain after the last ``@`` as the client wrote it, with a bare name
  meaning "here". ``user%remote@ourhost`` is therefore "ours" (and then an
  unknown user), never relayed. This is our modelling choice: neither vendor
  documented how it treated routing characters.
* :class:`PostfixResolver` - Postfix's trivial-rewrite (``rewrite.c``,
  ``resolve.c``) with its defaults ``swap_bangpath = yes``,
  ``allow_percent_hack = yes``, ``resolve_dequoted_address = yes``,
  ``append_at_myorigin = yes``. Postfix works on the unquoted internal form,
  so ``"to@D"`` means ``to@D``; a bare name gets ``@$myorigin``; after a
  local domain is stripped, a local part that still holds ``@``, ``%`` or
  ``!`` is resolved again and marked *routed* (sender-specified routing).
  A routed address that ends at a local mailbox is delivered (and so needs
  a known user); one that ends elsewhere is refused by
  ``reject_unauth_destination`` - as a real Postfix 3.7 does for all 16 of
  nmap's relay tests (``tests/data/postfix_reference.json``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from simlab.addresses.mail import MailAddress, address_literal, is_valid_domain
from simlab.errors import ConfigError
from simlab.i18n import t

__all__ = ["Destination", "Resolution", "LastDomainResolver", "PostfixResolver", "domain_list"]


class Destination(Enum):
    """Where a resolved recipient goes."""

    LOCAL = "local"  # final delivery on this server
    RELAY = "relay"  # a domain this server relays for (Postfix relay_domains)
    FOREIGN = "foreign"  # anywhere else: delivering it is relaying


@dataclass(frozen=True)
class Resolution:
    """The product's reading of one recipient.

    ``local_part`` and ``domain`` are the final address after rewriting;
    ``routed`` is True when the client used sender-specified routing.
    """

    destination: Destination
    local_part: str
    domain: str
    routed: bool = False

    @property
    def is_local(self) -> bool:
        return self.destination is Destination.LOCAL

    @property
    def address(self) -> str:
        return f"{self.local_part}@{self.domain}"


def domain_list(values: Iterable[str] | str | None, setting: str) -> tuple[str, ...]:
    """Validate a list of domains (comma/space separated text or an iterable)."""
    if values is None:
        return ()
    if isinstance(values, str):
        values = [v for v in values.replace(",", " ").split() if v]
    out = []
    for value in values:
        if not isinstance(value, str) or not is_valid_domain(value.strip()):
            raise ConfigError(setting, value, t("address.error.not_a_domain"), t("address.expected.domain"))
        name = value.strip().lower()
        out.append(name[:-1] if name.endswith(".") else name)
    return tuple(out)


class LastDomainResolver:
    """The 1998 Mac servers: the domain after the last ``@`` decides.

    ``local_domains`` are the domains delivered here; ``own_addresses`` make
    literals like ``user@[192.0.2.25]`` local too; a bare ``postmaster`` is
    local (RFC 5321 §4.5.1).
    """

    def __init__(self, local_domains: Iterable[str], own_addresses: Iterable[str] = ()) -> None:
        self.local_domains = frozenset(local_domains)
        self.own_addresses = frozenset(ipaddress.ip_address(a) for a in own_addresses)

    def is_local_domain(self, domain: str) -> bool:
        literal = address_literal(domain)
        if literal is not None:
            return literal in self.own_addresses
        return domain in self.local_domains

    def resolve(self, address: MailAddress) -> Resolution:
        domain = address.bare_domain
        if domain is None:
            return Resolution(Destination.LOCAL, address.local, min(self.local_domains, default="localhost"),
                              address.has_routing)
        where = Destination.LOCAL if self.is_local_domain(domain) else Destination.FOREIGN
        return Resolution(where, address.local, domain, address.has_routing)


class PostfixResolver:
    """Postfix trivial-rewrite address resolution (see module docstring).

    ``mydestination`` matches exactly (no subdomains); ``relay_domains``
    also matches subdomains, as ``parent_domain_matches_subdomains`` lists
    it by default; ``inet_interfaces`` makes ``[addr]`` literals local.
    """

    MAX_HOPS = 20

    def __init__(self, mydestination: Iterable[str], myorigin: str, relay_domains: Iterable[str] = (),
                 inet_interfaces: Iterable[str] = (), swap_bangpath: bool = True,
                 allow_percent_hack: bool = True) -> None:
        self.mydestination = frozenset(mydestination)
        self.myorigin = myorigin.lower()
        self.relay_domains = tuple(relay_domains)
        self.own_addresses = frozenset(ipaddress.ip_address(a) for a in inet_interfaces)
        self.swap_bangpath = swap_bangpath
        self.allow_percent_hack = allow_percent_hack

    def is_local_domain(self, domain: str) -> bool:
        literal = address_literal(domain)
        if literal is not None:
            return literal in self.own_addresses
        return domain in self.mydestination

    def is_relay_domain(self, domain: str) -> bool:
        return any(domain == d or domain.endswith("." + d) for d in self.relay_domains)

    def _canonical(self, local: str, domain: str | None) -> tuple[str, str]:
        """rewrite.c on the internal (unquoted) form: ``"u@d"`` is ``u@d``; swap ``d!u``,
        promote ``u%d``, append ``@$myorigin``."""
        if domain is None:
            if "@" in local:
                user, _, host = local.rpartition("@")
                if user and host:
                    return user, host.lower()
            if self.swap_bangpath and "!" in local:
                host, _, user = local.partition("!")
                if host and user:
                    return user, host.lower()
            if self.allow_percent_hack and "%" in local:
                user, _, host = local.rpartition("%")
                if user and host:
                    return user, host.lower()
        return local, (self.myorigin if domain is None else domain)

    def resolve(self, address: MailAddress) -> Resolution:
        local, domain = self._canonical(address.local, address.bare_domain)
        routed = False
        for _ in range(self.MAX_HOPS):
            domain = domain.rstrip(".")
            if not self.is_local_domain(domain):
                where = Destination.RELAY if self.is_relay_domain(domain) else Destination.FOREIGN
                return Resolution(where, local, domain, routed)
            # resolve.c: the domain is ours; strip it and look at what is left.
            if "@" in local:
                local, _, domain = local.rpartition("@")
            elif self.allow_percent_hack and "%" in local:
                local, _, domain = local.rpartition("%")
            elif self.swap_bangpath and "!" in local:
                domain, _, local = local.partition("!")
            else:
                return Resolution(Destination.LOCAL, local, domain, routed)
            routed = True
            if not local or not domain:
                return Resolution(Destination.FOREIGN, local, domain or self.myorigin, True)
            domain = domain.lower()
        return Resolution(Destination.FOREIGN, local, domain, True)

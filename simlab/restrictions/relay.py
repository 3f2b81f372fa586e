"""Relay rules of the 1998 Mac servers.

* EIMS 1.2 has none: it relays for anyone (seed thread, S2). That is simply
  a server without a relay restriction.
* :class:`RelayRestriction` - EIMS 2.1 "Relay Restriction" with "only route
  for local domains and the following domains" checked (S6). Per the vendor
  knowledge base, relaying is decided "based on either the domain of the
  recipient address, or the domain of the sender address and the IP address
  of the client": mail *to* a local or listed domain is accepted; mail to
  anywhere else is relayed when the *sender's* domain is local or listed -
  which the client writes freely, hence the spoofed ``Postmaster@`` hole
  (S4). Later EIMS offered "AND if from a valid IP" (``require_valid_ip``).
* :class:`ClientHosts` - SIMS "Client Hosts": relaying only for clients
  whose IP address is listed; mail to local users is accepted from anyone
  (S4). This is the rule RFC 2505 §2.1 recommends.

Modelling choices (not documented by the vendors): a sender without a domain
(``MAIL FROM:<postmaster>``) counts as local for EIMS, as the server would
qualify it with its own domain; the null sender ``<>`` has no domain and so
never opens relaying.
"""

from __future__ import annotations

from collections.abc import Iterable

from simlab.addresses.mail import MailPath
from simlab.addresses.networks import ClientNetworks
from simlab.addresses.routing import Destination, Resolution, domain_list
from simlab.i18n import t
from simlab.protocol.policy import Restriction, SmtpContext
from simlab.protocol.reply import Reply

__all__ = ["RelayRestriction", "ClientHosts"]


class RelayRestriction(Restriction):
    """EIMS 2.1 *Relay Restriction* ("only route for local domains and the following domains").

    Args:
        local_domains: the server's own domains.
        relay_domains: "the following domains" listed in the setting.
        valid_ips: with ``require_valid_ip``, relaying also needs the client here.
        require_valid_ip: the later EIMS option "AND if from a valid IP".
    """

    name = "Relay Restriction"

    def __init__(self, local_domains: Iterable[str], relay_domains: Iterable[str] | str = (),
                 valid_ips: Iterable[str] | str = (), require_valid_ip: bool = False) -> None:
        self.local_domains = frozenset(domain_list(local_domains, "local_domains"))
        self.relay_domains = frozenset(domain_list(relay_domains, "relay_domains"))
        self.valid_ips = ClientNetworks(valid_ips, setting="valid_ips")
        self.require_valid_ip = require_valid_ip

    def _ours(self, domain: str | None) -> bool:
        return domain is not None and (domain in self.local_domains or domain in self.relay_domains)

    def sender_allows_relay(self, sender: MailPath | None) -> bool:
        """True when the claimed sender's domain is local or listed (no domain: local)."""
        if sender is None or sender.address is None:
            return False
        domain = sender.address.bare_domain
        return domain is None or self._ours(domain)

    def check_rcpt(self, ctx: SmtpContext, path: MailPath, resolution: Resolution) -> Reply | None:
        if resolution.destination is Destination.LOCAL or self._ours(resolution.domain):
            return None
        if self.sender_allows_relay(ctx.sender):
            if not self.require_valid_ip or ctx.client_ip in self.valid_ips:
                return None
        persona = ctx.server.persona
        return persona.relay_denied(persona.address_text(path))

    def describe(self) -> str:
        listed = ", ".join(sorted(self.relay_domains)) or t("restriction.none")
        ip = f" AND if from a valid IP ({self.valid_ips})" if self.require_valid_ip else ""
        return f"Relay Restriction: only route for local domains and: {listed}{ip}"


class ClientHosts(Restriction):
    """SIMS *Client Hosts*: relay only for listed client addresses.

    Args:
        client_hosts: addresses, CIDR blocks or ranges of the clients allowed to relay.
    """

    name = "Client Hosts"

    def __init__(self, client_hosts: Iterable[str] | str) -> None:
        self.client_hosts = ClientNetworks(client_hosts, setting="client_hosts")

    def check_rcpt(self, ctx: SmtpContext, path: MailPath, resolution: Resolution) -> Reply | None:
        if resolution.destination is Destination.LOCAL:
            return None
        if ctx.client_ip in self.client_hosts or ctx.user is not None:
            return None
        persona = ctx.server.persona
        return persona.relay_denied(persona.address_text(path))

    def describe(self) -> str:
        return f"Client Hosts: {self.client_hosts or t('restriction.none')}"

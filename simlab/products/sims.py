"""Stalker Internet Mail Server (SIMS) 1.x for the classic Mac OS, as the 1998 thread knew it.

Documented (thread, vendor material):

* SIMS decides whether to relay by the *connecting client's IP address*:
  its "Client Hosts" list. Knowing an account name or writing a local sender
  address does not help an outsider; mail *to* local users is still
  accepted from anyone (S4).
* It detects relaying by strangers; a DNS blocklist check arrived in 1.6
  (the list refuses everything from a listed address).

Our modelling choices: reply and log wording (SIMS later became CommuniGate
Pro, whose banner ends "is glad to see you!"; we borrow that), the 1999-style
blocklist reply ``553 Blackholed - see <url>`` at MAIL FROM, and no enhanced
status codes. Whether SIMS checked a blocklist zone with the RFC 5782
self-test is unknown: ``rbl_self_test`` lets a lesson choose.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from simlab.addresses.routing import LastDomainResolver
from simlab.clock import ManualClock
from simlab.i18n import t
from simlab.products.base import DNSBL, POP3, RELAY_BY_CLIENT_IP, RELAY_CONTROL, Product, SiteNames, records_origin
from simlab.products.common import extra_restrictions, server_address, site_domains
from simlab.protocol.persona import Persona
from simlab.protocol.policy import Pop3Context, Recipient, Restriction, SmtpContext
from simlab.protocol.reply import Pop3Reply, Reply
from simlab.protocol.server import MailServer
from simlab.restrictions.dnsbl import Dns, RblClient
from simlab.restrictions.relay import ClientHosts

__all__ = ["PRODUCTS", "SimsPersona", "SimsProduct", "sims"]


class SimsPersona(Persona):
    """Words of SIMS (modelled; see the module docstring)."""

    product = "SIMS 1.6"
    enhanced = False

    def banner(self, server: MailServer) -> Reply:
        return Reply.of(220, f"{server.hostname} ESMTP SIMS 1.6 is glad to see you!")

    def ehlo_ok(self, server, ctx, hostname) -> Reply:
        keywords = [f"SIZE {server.message_size_limit}"] if server.message_size_limit else []
        return Reply.of(250, f"{server.hostname} is pleased to meet you", *keywords)

    def helo_ok(self, server, ctx, hostname) -> Reply:
        return Reply.of(250, f"{server.hostname} is pleased to meet you")

    def mail_ok(self, address: str) -> Reply:
        return Reply.of(250, f"<{address}> sender accepted")

    def rcpt_ok(self, address: str) -> Reply:
        return Reply.of(250, f"<{address}> recipient accepted")

    def data_go(self) -> Reply:
        return Reply.of(354, "Enter mail, end with \".\" on a line by itself")

    def queued(self, queue_id: str) -> Reply:
        return Reply.of(250, f"{queue_id} message accepted for delivery")

    def quit(self, server: MailServer) -> Reply:
        return Reply.of(221, f"{server.hostname} SIMS closing connection", close=True)

    def unknown_local_user(self, text: str) -> Reply:
        return Reply.of(550, f"<{text}> unknown user account")

    def relay_denied(self, text: str, defer: bool = False) -> Reply:
        return Reply.of(550, f"<{text}> relaying prohibited")

    def rbl_rejected(self, ip: str, zone: str, reason: str) -> Reply:
        return Reply.of(553, f"Blackholed - see {reason}")

    def format_log(self, when: datetime, process: str, pid: int, text: str, server: MailServer) -> str:
        return f"{when:%m/%d/%y %H:%M:%S} {text}"

    def log_reject(self, ctx: SmtpContext, stage: str, reply: Reply, recipient: str | None, sender=None) -> str:
        if reply.text.endswith("relaying prohibited"):
            return f"SMTP relaying to <{recipient}> for [{ctx.client_ip}] prohibited"
        return f"SMTP {stage} from [{ctx.client_ip}] rejected: {reply.code} {reply.text}"

    def log_accepted(self, ctx: SmtpContext, message, recipients: list[Recipient]) -> list[tuple[str, int, str]]:
        return [("smtp", 0, f"SMTP [{ctx.client_ip}] message {message.queue_id} from <{message.sender}> "
                            f"received, {len(recipients)} recipient(s)")]

    def pop3_banner(self, server: MailServer, timestamp: str | None) -> Pop3Reply:
        return Pop3Reply(True, f"{server.hostname} SIMS POP3 server ready {timestamp}")

    def pop3_user_ok(self, user: str, exists: bool) -> Pop3Reply:
        return Pop3Reply(True, "please send the PASS command")

    def pop3_login_ok(self, user: str, count: int, size: int) -> Pop3Reply:
        return Pop3Reply(True, f"{count} messages in the mailbox")

    def pop3_login_failed(self, user: str) -> Pop3Reply:
        return Pop3Reply(False, "Incorrect password or account name")

    def log_pop3_failed(self, ctx: Pop3Context, user: str, known: bool) -> str:
        return f"POP3 login for {user} from [{ctx.client_ip}] failed: incorrect password or account name"

    def log_pop3_login(self, ctx: Pop3Context, user: str, method: str) -> str:
        return f"POP3 {user} connected from [{ctx.client_ip}]"

    def queue_id(self, serial: int) -> str:
        return f"{serial:05d}"


@records_origin("sims")
def sims(hostname: str = "mail.example.com", local_domains: Iterable[str] | str = ("example.com",),
         client_hosts: Iterable[str] | str = (), rbl_zones: Iterable[str] = (), dns: Dns | None = None,
         rbl_self_test: bool = False, accounts: Mapping[str, str] | None = None,
         aliases: Mapping[str, str] | None = None, address: str = "192.0.2.25", clock: ManualClock | None = None,
         restrictions: Iterable[Restriction] | None = None) -> MailServer:
    """SIMS: relays only for the clients in "Client Hosts"; local mail is accepted from anyone.

    Args:
        client_hosts: addresses or ranges allowed to relay (empty: nobody relays).
        rbl_zones: blocklist zones to consult (in ``dns``); a listed client is refused at MAIL.
        rbl_self_test: skip a zone that fails the RFC 5782 self-test.
        restrictions: extra defences outside the product (router filter, fail2ban).
    """
    domains = site_domains(hostname, local_domains)
    own = server_address(address)
    chain = extra_restrictions(restrictions)
    zones = tuple(rbl_zones)
    if zones:
        chain.append(RblClient(zones, dns or Dns(), self_test=rbl_self_test, stage="MAIL"))
    chain.append(ClientHosts(client_hosts))
    return MailServer(persona=SimsPersona(), hostname=hostname, resolver=LastDomainResolver(domains, (own,)),
                      accounts=accounts, aliases=aliases, restrictions=chain, clock=clock,
                      settings={"local_domains": domains, "Client Hosts": client_hosts, "rbl_zones": zones,
                                "address": own})


# --- what simlab knows about SIMS, for the registry ----------------------------------------------

SIMS_FILTERS = {
    "sims-relay": r"SMTP relaying to \S+ for \[<HOST>\] prohibited",
    "sims-pop3": r"POP3 login for \S+ from \[<HOST>\] failed",
}


def _listing(value) -> str:
    if value is None or isinstance(value, str):
        return value or t("product.none")
    return ", ".join(map(str, value)) or t("product.none")


@dataclass(frozen=True)
class SimsProduct(Product):
    """SIMS: relaying decided by the connecting client's address (Client Hosts)."""

    def site_settings(self, site: SiteNames, accounts):
        return super().site_settings(site, accounts) | {"client_hosts": [site.lan]}

    def why_relayed(self, server, client_ip, sender):
        return (t("product.sims.why_relayed", client_ip=client_ip, hosts=_listing(server.settings.get("Client Hosts"))),
                t("product.why_relayed.trusted.short"))

    def why_refused(self, server, client_ip, sender, reply):
        said = f"{reply.code} {reply.text}"
        return t("product.sims.why_refused", hosts=_listing(server.settings.get("Client Hosts")), client_ip=client_ip,
                 said=said)


def _notes() -> str:
    """The registry's notes, looked up when read (a module-level function, so that the Product still pickles)."""
    return t("product.sims.notes")


PRODUCTS = (
    SimsProduct(
        name="sims", label="SIMS", factory=sims, year=1998,
        capabilities=frozenset({POP3, RELAY_CONTROL, RELAY_BY_CLIENT_IP, DNSBL}), smtp_process_limit=30,
        relay_allowlist_setting="client_hosts", setting_labels={"client_hosts": "Client Hosts"},
        log_patterns={"pop3_failure": SIMS_FILTERS["sims-pop3"], "relay_refused": SIMS_FILTERS["sims-relay"],
                      "relay_abuse": SIMS_FILTERS["sims-relay"]},
        fail2ban_filters=SIMS_FILTERS, panel_choices=(("SIMS", {}),),
        panel_hidden_settings=frozenset({"hostname", "local_domains", "accounts", "aliases", "address", "dns",
                                         "rbl_zones", "rbl_self_test"}),
        notes=_notes),
)

"""Eudora Internet Mail Server (EIMS) 1.2 and 2.1 for the classic Mac OS, as the 1998 thread knew them.

Documented (thread, vendor knowledge base):

* EIMS 1.2 has no relay control at all: anyone can relay through it (S2).
* EIMS 2.1 adds *Relay Restriction* (a list of domains; "only route for
  local domains and the following domains") and *IP Range Restriction*
  (allowed from-to ranges); both are off as installed, so a fresh 2.1 is
  still an open relay (S3). The relay rule reads the *sender's* domain,
  which the client writes freely (S4). SMTP AUTH exists from 2.1 on.
* An SMTP IP Range Restriction refuses every outside connection, inbound
  mail from other servers included (S5).
* Error-log lines quoted in the thread: ``POP3 wrong password for
  webmaster from 203.216.11.226``, ``DNR timed out to <addr> for
  simkin.com``, ``Connection timed out to 199.175.137.111 (simkin.com)``.

Our modelling choices (nothing public records them):

* Reply texts, the banner and the log lines other than the quoted ones. EIMS
  predates RFC 2034, so no enhanced status codes. EIMS 1.2 answers EHLO
  with no extensions.
* A connection refused by IP Range Restriction gets ``554 <host> Access
  denied`` and is closed: RFC 821/5321 §3.1 gives 554 for a server that will
  not talk, and the thread only says connections were refused.
* Log time in the classic Mac long format of the Mac OS's language: English
  (``Thu, Jun 11, 1998 1:25:32 AM``), or Japanese as the thread's log shows it
  (``1998年 6月 11日 (木) 1:25:32 AM``; setting ``mac_os_language``, by default
  the language simlab speaks when the server is built, :mod:`simlab.i18n`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from simlab.addresses.networks import ClientNetworks
from simlab.addresses.routing import LastDomainResolver, domain_list
from simlab.clock import ManualClock
from simlab.i18n import language, parse_language, t
from simlab.products.base import (
    IP_RANGE_RESTRICTION,
    POP3,
    RELAY_BY_CLIENT_IP,
    RELAY_BY_SENDER_DOMAIN,
    RELAY_CONTROL,
    SMTP_AUTH,
    Product,
    records_origin,
)
from simlab.products.common import (
    extra_restrictions,
    ip_range_restrictions,
    mac_log_time,
    server_address,
    site_domains,
)
from simlab.protocol.persona import DeliveryEvent, Persona
from simlab.protocol.policy import Pop3Context, Recipient, Restriction, SmtpContext
from simlab.protocol.reply import Pop3Reply, Reply
from simlab.protocol.server import MailServer
from simlab.restrictions.relay import RelayRestriction
from simlab.restrictions.submission import SubmissionAuthRequired

__all__ = ["EimsPersona", "EimsProduct", "PRODUCTS", "eims_1_2", "eims_2_1"]


class EimsPersona(Persona):
    """Words of EIMS (see the module docstring for what is documented)."""

    enhanced = False
    hard_error_limit = None

    def __init__(self, version: str, mac_os_language: str = "en") -> None:
        self.version = version
        self.mac_os_language = mac_os_language
        self.product = f"EIMS {version}"
        if not version.startswith("1."):
            self.verbs = (*Persona.verbs, "AUTH")  # SMTP AUTH from 2.1 on (vendor notes)

    def banner(self, server: MailServer) -> Reply:
        return Reply.of(220, f"{server.hostname} Eudora Internet Mail Server {self.version} ready")

    def refused_at_connect(self, server: MailServer, ctx: SmtpContext) -> Reply:
        return Reply.of(554, f"{server.hostname} Access denied", close=True)

    def ehlo_keywords(self, server: MailServer, ctx: SmtpContext) -> list[str]:
        if self.version.startswith("1."):
            return []
        keywords = [f"SIZE {server.message_size_limit}"] if server.message_size_limit else []
        if server.auth_offered(ctx):
            keywords.append("AUTH PLAIN LOGIN")
        return keywords

    def helo_ok(self, server, ctx, hostname) -> Reply:
        return Reply.of(250, f"{server.hostname} Hello {hostname}, pleased to meet you")

    def ehlo_ok(self, server, ctx, hostname) -> Reply:
        return Reply.of(250, f"{server.hostname} Hello {hostname}", *self.ehlo_keywords(server, ctx))

    def mail_ok(self, address: str) -> Reply:
        return Reply.of(250, f"Sender <{address}> OK")

    def rcpt_ok(self, address: str) -> Reply:
        return Reply.of(250, f"Recipient <{address}> OK")

    def data_go(self) -> Reply:
        return Reply.of(354, "Send message, end with <CRLF>.<CRLF>")

    def queued(self, queue_id: str) -> Reply:
        return Reply.of(250, "Message accepted for delivery")

    def quit(self, server: MailServer) -> Reply:
        return Reply.of(221, f"{server.hostname} closing connection", close=True)

    def unknown_local_user(self, text: str) -> Reply:
        return Reply.of(550, f"<{text}> No such user here")

    def relay_denied(self, text: str, defer: bool = False) -> Reply:
        return Reply.of(550, f"Relaying to <{text}> not permitted")

    def format_log(self, when: datetime, process: str, pid: int, text: str, server: MailServer) -> str:
        return f"{mac_log_time(when, self.mac_os_language)}  {text}"

    def log_refused_connect(self, ctx: SmtpContext, reply: Reply) -> str:
        return f"SMTP connection from {ctx.client_ip} refused by IP Range Restriction"

    def log_reject(self, ctx: SmtpContext, stage: str, reply: Reply, recipient: str | None, sender=None) -> str:
        if stage == "RCPT" and reply.text.startswith("Relaying"):
            return f"SMTP relay refused for <{recipient}> from {ctx.client_ip}"
        if stage == "RCPT" and reply.text.endswith("No such user here"):
            return f"SMTP unknown recipient <{recipient}> from {ctx.client_ip}"
        return f"SMTP {stage} from {ctx.client_ip} refused: {reply.code} {reply.text}"

    def log_accepted(self, ctx: SmtpContext, message, recipients: list[Recipient]) -> list[tuple[str, int, str]]:
        to = ", ".join(f"<{r.path.text}>" for r in recipients)
        return [("smtp", 0, f"SMTP message from <{message.sender}> to {to} received from {ctx.client_ip}")]

    def log_auth_failed(self, ctx: SmtpContext, mechanism: str, username: str | None) -> str:
        return f"SMTP AUTH wrong password for {username or '?'} from {ctx.client_ip}"

    # POP3
    def pop3_banner(self, server: MailServer, timestamp: str | None) -> Pop3Reply:
        return Pop3Reply(True, f"{server.hostname} EIMS POP3 server {self.version} ready {timestamp}")

    def pop3_refused_at_connect(self, server: MailServer) -> Pop3Reply:
        return Pop3Reply(False, f"{server.hostname} Access denied", close=True)

    def pop3_user_ok(self, user: str, exists: bool) -> Pop3Reply:
        return Pop3Reply(True, f"Password required for {user}")

    def pop3_login_ok(self, user: str, count: int, size: int) -> Pop3Reply:
        return Pop3Reply(True, f"{user} has {count} message(s) ({size} octets)")

    def pop3_login_failed(self, user: str) -> Pop3Reply:
        return Pop3Reply(False, "Wrong password")

    def log_pop3_failed(self, ctx: Pop3Context, user: str, known: bool) -> str:
        if known:
            return f"POP3 wrong password for {user} from {ctx.client_ip}"
        return f"POP3 unknown user {user} from {ctx.client_ip}"

    def log_pop3_login(self, ctx: Pop3Context, user: str, method: str) -> str:
        return f"POP3 connection from {ctx.client_ip} for {user}"

    def log_pop3_refused(self, ctx: Pop3Context) -> str:
        return f"POP3 connection from {ctx.client_ip} refused by IP Range Restriction"

    def log_delivery(self, server: MailServer, event: DeliveryEvent) -> list[tuple[str, int, str]]:
        """The thread's own lines for the two failures, our wording for the rest."""
        rcpts = ", ".join(f"<{r}>" for r in event.recipients)
        text = {
            "dns-timeout": f"DNR timed out to {event.dns_ip} for {event.domain}",
            "connect-timeout": f"Connection timed out to {event.ip} ({event.domain})",
            "no-such-domain": f"DNR no such domain {event.domain} for {rcpts}",
            "sent": f"SMTP message to {rcpts} sent to {event.ip} ({event.domain})",
            "rejected": f"SMTP message to {rcpts} rejected by {event.ip} ({event.domain}): {event.reply}",
            "deferred": f"SMTP message to {rcpts} deferred by {event.ip} ({event.domain}): {event.reply}",
            "expired": f"Message to {rcpts} could not be delivered, returning to sender",
            "bounce": f"Returned message sent to <{event.sender or 'postmaster'}>",
        }[event.kind]
        return [("delivery", 0, text)]

    def dsn_subject(self) -> str:
        return "Returned mail: Unable to deliver message"

    def dsn_explanation(self, server: MailServer) -> list[str]:
        return [f"The mail server {server.hostname} was unable to deliver your message", "to the following recipients:"]


def _mac_os_language(value: str | None) -> str:
    """The Mac OS's language: ``"en"``/``"ja"``, or ``None`` for the language simlab speaks now."""
    return language() if value is None else parse_language(value, "mac_os_language")


def _eims(version: str, hostname: str, local_domains, accounts, aliases, clock, address, restrictions,
          auth: bool, settings: dict, mac_os_language: str | None) -> MailServer:
    domains = site_domains(hostname, local_domains)
    own = server_address(address)
    resolver = LastDomainResolver(domains, own_addresses=(own,))
    system = _mac_os_language(mac_os_language)
    return MailServer(persona=EimsPersona(version, system), hostname=hostname, resolver=resolver, accounts=accounts,
                      aliases=aliases, restrictions=restrictions, clock=clock,
                      auth_ports=(25, 587) if auth else (), settings={"local_domains": domains, "address": own,
                                                                         **settings})


@records_origin("eims-1.2")
def eims_1_2(hostname: str = "mail.example.com", local_domains: Iterable[str] | str = ("example.com",),
             accounts: Mapping[str, str] | None = None, aliases: Mapping[str, str] | None = None,
             address: str = "192.0.2.25", clock: ManualClock | None = None,
             restrictions: Iterable[Restriction] | None = None, mac_os_language: str | None = None) -> MailServer:
    """EIMS 1.2: accepts mail for anyone, to anyone - an open relay, with no setting to stop it.

    Args:
        hostname: the server's name. local_domains: domains delivered here.
        accounts: ``{"name": "password"}``. address: the server's own IP.
        restrictions: extra defences outside the product (router filter, fail2ban).
        mac_os_language: ``"en"`` or ``"ja"``: the language of the log's dates (default: simlab's language).
    """
    return _eims("1.2", hostname, local_domains, accounts, aliases, clock, address,
                 extra_restrictions(restrictions), auth=False, settings={"relay control": "none"},
                 mac_os_language=mac_os_language)


@records_origin("eims-2.1")
def eims_2_1(hostname: str = "mail.example.com", local_domains: Iterable[str] | str = ("example.com",),
             accounts: Mapping[str, str] | None = None, aliases: Mapping[str, str] | None = None,
             relay_restriction: bool = False, relay_domains: Iterable[str] | str = (),
             ip_range_restriction: Iterable[str] | str | Mapping[str, Iterable[str] | str] | None = None,
             smtp_auth: bool = False, valid_ips: Iterable[str] | str = (), require_valid_ip: bool = False,
             address: str = "192.0.2.25", clock: ManualClock | None = None,
             restrictions: Iterable[Restriction] | None = None, mac_os_language: str | None = None) -> MailServer:
    """EIMS 2.1, defaults as shipped: both restrictions off, so still an open relay.

    Args:
        relay_restriction: check "only route for local domains and the following domains".
        relay_domains: the following domains.
        ip_range_restriction: allowed ranges (``"192.0.2.1-192.0.2.254"``), for SMTP and POP3,
            or ``{"smtp": [...], "pop3": [...]}`` per service.
        smtp_auth: offer SMTP AUTH; an authenticated client may relay and, on port 587, must.
        valid_ips, require_valid_ip: the later EIMS option "AND if from a valid IP".
        restrictions: extra defences outside the product (router filter, fail2ban).
        mac_os_language: ``"en"`` or ``"ja"``: the language of the log's dates (default: simlab's language).
    """
    chain: list[Restriction] = extra_restrictions(restrictions)
    chain += ip_range_restrictions(ip_range_restriction)
    domains = site_domains(hostname, local_domains)
    ClientNetworks(valid_ips, setting="valid_ips")  # checked even while Relay Restriction is off
    if smtp_auth:
        chain.append(SubmissionAuthRequired())
    if relay_restriction:
        chain.append(_AuthenticatedRelay(RelayRestriction(domains, relay_domains, valid_ips, require_valid_ip))
                     if smtp_auth else RelayRestriction(domains, relay_domains, valid_ips, require_valid_ip))
    settings = {"Relay Restriction": relay_restriction, "relay_domains": domain_list(relay_domains, "relay_domains"),
                "IP Range Restriction": ip_range_restriction, "SMTP AUTH": smtp_auth}
    return _eims("2.1", hostname, local_domains, accounts, aliases, clock, address, chain, smtp_auth, settings,
                 mac_os_language)


class _AuthenticatedRelay(Restriction):
    """With SMTP AUTH on, an authenticated client relays whatever the Relay Restriction says."""

    def __init__(self, inner: RelayRestriction) -> None:
        self.inner = inner
        self.name = inner.name

    def check_rcpt(self, ctx, path, resolution):
        return None if ctx.user is not None else self.inner.check_rcpt(ctx, path, resolution)

    def describe(self) -> str:
        return self.inner.describe() + t("product.eims.or_smtp_auth")


# --- what simlab knows about EIMS, for the registry ----------------------------------------------

#: fail2ban-style filters for EIMS's log (our wording of its lines; see the module docstring).
EIMS_FILTERS = {
    "eims-pop3": r"POP3 wrong password for \S+ from <HOST>$",
    "eims-relay": r"SMTP relay refused for \S+ from <HOST>",
}
#: Messages relayed for an outside client: the admin's sign of abuse on a server that relays.
_RELAYED = r"SMTP message from <[^>]*> to .*<[^>]*@(?!{domain}>)[^>]*>.* received from <HOST>$"


@dataclass(frozen=True)
class EimsProduct(Product):
    """EIMS 1.2 or 2.1: relay decisions as the thread and the vendor's notes describe them."""

    def why_relayed(self, server, client_ip, sender):
        if not self.can(RELAY_CONTROL):
            return (t("product.eims.why_relayed.no_control", label=self.label),
                    t("product.eims.why_relayed.no_control.short"))
        if not server.settings.get("Relay Restriction"):
            return (t("product.eims.why_relayed.off", label=self.label), t("product.eims.why_relayed.off.short"))
        domain = sender.rpartition("@")[2] or t("product.none")
        return (t("product.eims.why_relayed.sender_domain", sender=sender, domain=domain),
                t("product.eims.why_relayed.sender_domain.short"))

    def why_refused(self, server, client_ip, sender, reply):
        claim = t("product.eims.why_refused.no_domain") if not sender else (
            t("product.eims.why_refused.not_local", domain=sender.rpartition("@")[2]))
        said = f"{reply.code} {reply.text}"
        return t("product.eims.why_refused", claim=claim, said=said)

    def relay_allowlist(self, networks):
        """The later EIMS option "AND if from a valid IP", with Relay Restriction on."""
        self.require(RELAY_BY_CLIENT_IP, "relay allow-list")
        return {"relay_restriction": True, "require_valid_ip": True, "valid_ips": list(networks)}


_EIMS_PATTERNS = {"pop3_failure": EIMS_FILTERS["eims-pop3"], "relay_refused": EIMS_FILTERS["eims-relay"],
                  "relay_abuse": _RELAYED}

#: EIMS 2.1's names for its settings, as its Router/Relay and IP Range windows show them.
_EIMS_LABELS = {"relay_restriction": "Relay Restriction", "relay_domains": "...and the following domains",
                "require_valid_ip": "...AND if from a valid IP", "valid_ips": "valid IPs",
                "ip_range_restriction": "IP Range Restriction", "smtp_auth": "SMTP AUTH"}


# Texts for a person, looked up when read (module-level functions, so that a Product still pickles).
def _notes_1_2() -> str:
    return t("product.eims.notes.1_2")


def _notes_2_1() -> str:
    return t("product.eims.notes.2_1")


def _as_installed() -> str:
    return t("product.eims.choice.as_installed")


def _relay_restriction_on() -> str:
    return t("product.eims.choice.relay_restriction_on")


PRODUCTS = (
    EimsProduct(
        name="eims-1.2", label="EIMS 1.2", factory=eims_1_2, year=1998, capabilities=frozenset({POP3}),
        smtp_process_limit=10, log_patterns=_EIMS_PATTERNS, fail2ban_filters=EIMS_FILTERS,
        panel_choices=(("EIMS 1.2", {}),),
        panel_hidden_settings=frozenset({"hostname", "local_domains", "accounts", "aliases", "address",
                                         "mac_os_language"}),
        notes=_notes_1_2),
    EimsProduct(
        name="eims-2.1", label="EIMS 2.1", factory=eims_2_1, year=1998,
        capabilities=frozenset({POP3, RELAY_CONTROL, RELAY_BY_SENDER_DOMAIN, RELAY_BY_CLIENT_IP,
                                IP_RANGE_RESTRICTION, SMTP_AUTH}),
        smtp_process_limit=20, relay_allowlist_setting="valid_ips", smtp_auth_setting="smtp_auth",
        setting_labels=_EIMS_LABELS, log_patterns=_EIMS_PATTERNS,
        fail2ban_filters=EIMS_FILTERS,
        panel_hidden_settings=frozenset({"hostname", "local_domains", "accounts", "aliases", "address",
                                         "mac_os_language"}),
        panel_choices=((_as_installed, {}), (_relay_restriction_on, {"relay_restriction": True})),
        notes=_notes_2_1),
)

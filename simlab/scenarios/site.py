"""The site every scenario runs at, in documentation addresses, and the network around it.

The thread's addresses are replaced by documentation ones (RFC 5737, RFC 2606):

==========================  ====================================  ==========================
simlab                      stands for                            role
==========================  ====================================  ==========================
example.com                 mycompany.co.jp (the admin's domain)  the site's mail domain
mail.example.com            210.163.xxx.34, the site's Mac server the server under study
192.0.2.0/24                the site's own network                LAN, trusted
192.0.2.53                  the resolver EIMS named in its log    DNS
198.51.100.25               the upstream provider's mail host     MX at the provider (S5)
yourcompany.test            yourcompany.co.jp                     a foreign domain (S4)
remote.test                 any correspondent's domain            legitimate mail
survey.test, 203.0.113.111  simkin.com, 199.175.137.111           the relay survey (S2)
203.0.113.226               203.216.11.226                        the password guesser (S1)
203.0.113.0/24              the rest of the outside world         attackers
==========================  ====================================  ==========================
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from simlab import products
from simlab.clock import ManualClock
from simlab.engine.network import Host, Network, NetworkDns
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.base import SiteNames
from simlab.protocol.policy import Restriction
from simlab.protocol.server import MailServer
from simlab.restrictions.access import RouterFilter

__all__ = ["DOMAIN", "HOSTNAME", "SERVER_IP", "LAN", "ACCOUNTS", "PROVIDER", "PROVIDER_IP", "ROAMING_IP",
           "GUESSER_IP", "SCANNER_IP", "SPOOFER_IP", "STANDARD_SITE", "site_server", "build_server", "build_network",
           "check_site_address", "REMOTE_SETTINGS"]

DOMAIN = "example.com"
HOSTNAME = "mail.example.com"
SERVER_IP = "192.0.2.25"
LAN = "192.0.2.0/24"
ROUTER_IP = "192.0.2.1"
DNS_IP = "192.0.2.53"
PROVIDER = "mx.provider.test"
PROVIDER_IP = "198.51.100.25"
YOURCOMPANY = "mail.yourcompany.test"
REMOTE = "mail.remote.test"
ROAMING_IP = "198.51.100.77"
GUESSER_IP = "203.0.113.226"
SCANNER_IP = "203.0.113.66"
SPOOFER_IP = "203.0.113.50"
SURVEY_MX_IP = "203.0.113.111"

#: The site's mailboxes. Two have the password the thread warns about: the account's own name.
ACCOUNTS = {"bob": "Tr0ub4dor&3", "alice": "wonderland42", "webmaster": "webmaster", "info": "info"}
#: Accounts at the foreign sites that receive mail.
REMOTE_ACCOUNTS = {"carol": "x", "dave": "x"}
YOURCOMPANY_ACCOUNTS = {"user_name": "x", "sales": "x", "ceo": "x"}

#: The standard site's names, as a product's ``site_settings`` reads them.
STANDARD_SITE = SiteNames(domain=DOMAIN, hostname=HOSTNAME, address=SERVER_IP, lan=LAN)
#: Addresses of the standard world's other hosts: a site server may not take one of them.
#: Most SMTP connections each product serves at once (each product module gives its figure and source).
PROCESS_LIMITS = {name: product.smtp_process_limit for name, product in products.PRODUCTS.items()}
_TAKEN = {"198.51.100.1": "internet", ROUTER_IP: "router", "192.0.2.2": "lan", DNS_IP: "dns",
          "192.0.2.101": "pc-bob", "192.0.2.102": "pc-webmaster", ROAMING_IP: "roaming", "203.0.113.2": "attacker",
          PROVIDER_IP: PROVIDER, "198.51.100.80": YOURCOMPANY, "198.51.100.90": REMOTE}


def site_settings(preset: str, accounts: Mapping[str, str] = ACCOUNTS) -> dict[str, Any]:
    """The standard site's facts in the product's own setting names."""
    return products.get(preset).site_settings(STANDARD_SITE, accounts)


def build_server(preset: str, base: Mapping[str, Any] | None = None, settings: Mapping[str, Any] | None = None,
                 accounts: Mapping[str, str] = ACCOUNTS, restrictions: Iterable[Restriction] = (),
                 clock: ManualClock | None = None, site: SiteNames = STANDARD_SITE) -> MailServer:
    """Build a site's server: ``base`` settings (default: the product's settings for ``site``), then ``settings``.

    ``restrictions`` come first, then any the base settings name.
    """
    product = products.get(preset)
    kwargs = dict(product.site_settings(site, accounts) if base is None else base) | dict(settings or {})
    chain = [*restrictions, *(kwargs.pop("restrictions", None) or ())]
    known = product.setting_names
    bad = sorted(set(kwargs) - set(known))
    if bad:
        raise ConfigError("settings", ", ".join(bad), t("site.error.not_a_setting", preset=preset),
                          t("expected.one_of", choices=", ".join(known)))
    try:
        return product.factory(clock=clock, restrictions=chain, **kwargs)
    except (TypeError, AttributeError) as exc:  # a value of the wrong kind, e.g. True where a list belongs
        raise ConfigError("settings", {k: v for k, v in kwargs.items() if k != "accounts"},
                          t("site.error.wrong_kind", preset=preset, reason=exc), t("site.expected.kinds")) from None


def site_server(preset: str, settings: Mapping[str, Any] | None = None, accounts: Mapping[str, str] = ACCOUNTS,
                restrictions: Iterable[Restriction] = (), clock: ManualClock | None = None) -> MailServer:
    """Build the standard site's server from a preset name and product settings (which override the site's)."""
    return build_server(preset, None, settings, accounts, restrictions, clock)


def check_site_address(names: SiteNames) -> None:
    """A site server's address must not be one the standard world already gives another host."""
    if names.address in _TAKEN:
        raise ConfigError("server address", names.address,
                          t("site.error.address_taken", host=_TAKEN[names.address]), t("site.expected.address"))


def build_network(site: MailServer, mx_via_provider: bool, process_limit: int, idle_timeout: float,
                  router_filters: Iterable[RouterFilter] = (), names: SiteNames = STANDARD_SITE,
                  service_limits: tuple[tuple[tuple[str, ...], int], ...] | None = None,
                  remote_settings: Mapping[str, Mapping[str, Any]] | None = None,
                  ) -> tuple[Network, NetworkDns, dict[str, dict]]:
    """The standard world: LAN behind a router, the Internet, a provider, two foreign sites, the survey.

    ``names`` are the site server's (its host name, address and mail domain). ``process_limit`` is its
    SMTP limit; ``service_limits`` its programs' connection pools (see :class:`~simlab.engine.network.Host`;
    None: every service shares ``process_limit``). ``remote_settings`` adds Postfix settings to the world's
    other servers, by host name (the provider, yourcompany.test's and remote.test's servers): sender checks
    (``policyd_spf``, ``smtpd_milters`` ...), which then ask this world's DNS, or ``virtual_alias_maps``.
    Returns the network, its DNS, and the transport maps of the servers that need one.
    """
    from simlab.products.postfix import postfix

    check_site_address(names)

    net = Network()
    dns = NetworkDns(DNS_IP)
    net.add(Host("internet", "198.51.100.1", "Internet"))
    net.add(Host("router", ROUTER_IP, "router", "the site's router (filters here)",
                 filters=[RouterFilter(deny=(), services=("smtp", "pop3")), *router_filters]), ("internet", 0.010))
    net.add(Host("lan", "192.0.2.2", "LAN switch"), ("router", 0.0005))
    net.add(Host(names.hostname, names.address, "mail server", "the site's mail server", server=site,
                 max_connections=process_limit, idle_timeout=idle_timeout, service_limits=service_limits),
            ("lan", 0.0005))
    net.add(Host("dns", DNS_IP, "DNS resolver"), ("lan", 0.0005))
    for n, name in enumerate(("pc-bob", "pc-webmaster"), start=101):
        net.add(Host(name, f"192.0.2.{n}", "LAN client"), ("lan", 0.0005))
    net.add(Host("roaming", ROAMING_IP, "roaming user", "staff reading mail from outside"), ("internet", 0.020))
    net.add(Host("attacker", "203.0.113.2", "attacker", "outside hosts of the thread"), ("internet", 0.030))
    extra = _remote_settings(remote_settings, dns)
    provider = postfix(myhostname=PROVIDER, mydestination=["provider.test"], relay_domains=[names.domain],
                       mynetworks=[f"{PROVIDER_IP}/32"], inet_interfaces=[PROVIDER_IP], **extra.get(PROVIDER, {}))
    net.add(Host(PROVIDER, PROVIDER_IP, "provider MX", "the upstream provider's mail host", server=provider),
            ("internet", 0.005))
    yourcompany = postfix(myhostname=YOURCOMPANY, mydestination=["yourcompany.test"], mynetworks=[],
                          inet_interfaces=["198.51.100.80"], accounts=YOURCOMPANY_ACCOUNTS,
                          **extra.get(YOURCOMPANY, {}))
    net.add(Host(YOURCOMPANY, "198.51.100.80", "remote MTA", "mail.yourcompany.co.jp", server=yourcompany),
            ("internet", 0.020))
    remote = postfix(myhostname=REMOTE, mydestination=["remote.test"], mynetworks=[],
                     inet_interfaces=["198.51.100.90"], accounts=REMOTE_ACCOUNTS, **extra.get(REMOTE, {}))
    net.add(Host(REMOTE, "198.51.100.90", "remote MTA", "a correspondent's mail server", server=remote),
            ("internet", 0.025))
    for name, ip in ((names.hostname, names.address), (PROVIDER, PROVIDER_IP), (YOURCOMPANY, "198.51.100.80"),
                     (REMOTE, "198.51.100.90"), ("mx.survey.test", SURVEY_MX_IP)):
        dns.add_a(name, ip)
    dns.add_mx(names.domain, PROVIDER if mx_via_provider else names.hostname)
    dns.add_mx("yourcompany.test", YOURCOMPANY)
    dns.add_mx("remote.test", REMOTE)
    dns.add_mx("survey.test", "mx.survey.test")  # the survey's host never answers
    dns.flaky("survey.test", 0.5)  # and its name server is slow half the time
    return net, dns, {PROVIDER: {names.domain: names.hostname}}


#: Settings a scenario may add to the world's other servers (they all run Postfix): sender checks and aliases.
REMOTE_SETTINGS = ("policyd_spf", "smtpd_milters", "opendkim", "opendmarc", "virtual_alias_maps")


def _remote_settings(given: Mapping[str, Mapping[str, Any]] | None, dns: NetworkDns) -> dict[str, dict[str, Any]]:
    """``remote_settings`` checked, with the world's DNS given to the servers that check senders."""
    out: dict[str, dict[str, Any]] = {}
    for host, settings in (given or {}).items():
        if host not in (PROVIDER, YOURCOMPANY, REMOTE):
            raise ConfigError("remote_settings", host, t("site.error.not_a_world_server"),
                              t("expected.one_of", choices=", ".join((PROVIDER, YOURCOMPANY, REMOTE))))
        if not isinstance(settings, Mapping):
            raise ConfigError(f"remote_settings[{host!r}]", settings, t("site.error.not_settings"),
                              t("site.expected.remote_settings"))
        bad = sorted(set(settings) - set(REMOTE_SETTINGS))
        if bad:
            raise ConfigError(f"remote_settings[{host!r}]", ", ".join(bad), t("site.error.not_a_remote_setting"),
                              t("expected.one_of", choices=", ".join(REMOTE_SETTINGS)))
        out[host] = dict(settings)
        if any(k in settings for k in ("policyd_spf", "smtpd_milters")):
            out[host]["auth_dns"] = dns
    return out

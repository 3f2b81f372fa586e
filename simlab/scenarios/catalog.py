"""The forum's cases as ready runs, each with the knobs its lesson needs.

Every function returns a :class:`~simlab.scenarios.base.Scenario` for
:func:`simlab.run`, on the standard site with a product named by ``preset=``
(its settings for that site), or on any server given with ``server=``: a
server built by a preset with any settings, or a function that returns one.
The site's names (domain, host name, address) then come from that server,
and the site's staff accounts are added to it unless it defines them. A
knob left at ``None`` keeps what the server has (on the standard site: the
lesson's default); a knob the product cannot honour raises
:class:`simlab.ConfigError` naming the missing capability and the products
that have it. Settings use the products' own names.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from simlab import products
from simlab.engine.actors import (
    Admin,
    Flooder,
    LocalUser,
    Pop3Guesser,
    RelayScanner,
    RemoteMta,
    RotatingSpammer,
    SpoofingSpammer,
)
from simlab.engine.traffic import TrafficMix
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.base import (
    RELAY_BY_CLIENT_IP,
    RELAY_BY_SENDER_DOMAIN,
    Product,
    SiteNames,
    origin_of,
)
from simlab.protocol.server import MailServer
from simlab.restrictions.access import RouterFilter
from simlab.restrictions.guards import AccountLockout, Fail2Ban, FailureDelay
from simlab.scenarios.base import DAY, HOUR, Scenario
from simlab.scenarios.site import (
    ACCOUNTS,
    GUESSER_IP,
    PROVIDER_IP,
    REMOTE,
    SCANNER_IP,
    SPOOFER_IP,
    STANDARD_SITE,
    YOURCOMPANY,
    check_site_address,
)

__all__ = ["wrong_password", "relay_probe", "spoofed_postmaster", "strict_ip_range", "ip_rotation", "flood",
           "mixed_traffic", "SCENARIOS"]

VICTIMS = ("user_name@yourcompany.test", "sales@yourcompany.test", "ceo@yourcompany.test")

#: A server for ``server=``: one built by a preset, or a function that builds one.
ServerArg = MailServer | Callable[[], MailServer] | None


@dataclass(frozen=True)
class _Site:
    """Where a scenario runs: the product, the server's own settings (None: the standard site's), the names."""

    product: Product
    base: dict | None
    names: SiteNames

    @property
    def given(self) -> bool:
        return self.base is not None


def _site(default: str, preset: str | None, server: ServerArg) -> _Site:
    if server is None:
        return _Site(products.get(default if preset is None else preset), None, STANDARD_SITE)
    if callable(server) and not isinstance(server, MailServer):
        server = server()
    if not isinstance(server, MailServer):
        raise ConfigError("server", server, t("scenario.error.not_a_server"), t("scenario.expected.server"))
    origin = origin_of(server)
    product = products.get(origin.product)
    if preset is not None and products.get(preset) is not product:
        raise ConfigError("preset", preset, t("scenario.error.preset_mismatch", product=product.name),
                          t("scenario.expected.preset_or_server"))
    names = product.site_names(server)
    check_site_address(names)
    base = dict(origin.settings)
    base["accounts"] = {**ACCOUNTS, **dict(base.get("accounts") or {})}
    return _Site(product, base, names)


def _scenario(site: _Site, name: str, title: str, settings: dict, actors: list, duration: float,
              **options) -> Scenario:
    return Scenario(name, title, site.product.name, settings, actors, duration, server_settings=site.base,
                    site=site.names, **options)


def _positive(name: str, value: float, whole: bool = False) -> float:
    ok = isinstance(value, int) if whole else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value <= 0:
        raise ConfigError(name, value, t("setting.error.not_positive_number"),
                          t("setting.expected.positive_whole") if whole else t("setting.expected.positive_number"))
    return value


def _everyday(site: _Site, roaming_sends: bool = True) -> list:
    """The site's ordinary day: two staff and two correspondents.

    Alice reads and sends mail from outside. Where the product has a submission port (Postfix's
    587) she submits there with SMTP AUTH, as today; the 1998 servers see her as just another
    outside address (SIMS then refuses to relay for her, EIMS lets her through on her sender domain).
    """
    names = site.names
    port = site.product.auth_submission_port()
    return [
        LocalUser("bob (LAN)", "pc-bob", account="bob", password=ACCOUNTS["bob"], domain=names.domain,
                  server=names.hostname, send_every=2 * HOUR, check_every=30 * 60,
                  recipients=("carol@remote.test", "dave@remote.test")),
        LocalUser("alice (roaming)", "roaming", account="alice", password=ACCOUNTS["alice"], domain=names.domain,
                  server=names.hostname, send_every=3 * HOUR if roaming_sends else 0, check_every=HOUR,
                  recipients=("carol@remote.test",), use_auth=port is not None, port=port),
        RemoteMta("carol's MTA", REMOTE, ip="198.51.100.90", domain="remote.test", to_domain=names.domain,
                  recipients=("bob", "alice"), send_every=HOUR),
        RemoteMta("yourcompany's MTA", YOURCOMPANY, ip="198.51.100.80", domain="yourcompany.test",
                  to_domain=names.domain, senders=("user_name", "sales"), recipients=("bob", "webmaster"),
                  send_every=2 * HOUR),
    ]


def wrong_password(preset: str | None = None, duration: float = DAY, guesser_ips: int = 1, pace: float = 120.0,
                   accounts: Sequence[str] = ("bob", "alice", "webmaster", "info"),
                   dictionary: Sequence[str] = ("password", "123456", "letmein", "admin"),
                   pop3_ip_restriction: bool = False, router_filter: bool = False, lockout: int = 0,
                   fail2ban: bool = False, bantime: float = 600.0, failure_delay: bool = False,
                   server: ServerArg = None) -> Scenario:
    """S1: a guesser tries password = account name, then a small dictionary, over POP3.

    Args:
        preset: the product on the standard site (default ``"eims-2.1"``); or give ``server``.
        guesser_ips: size of the guesser's address pool (1: a single address, like the thread's).
        pace: seconds between guesses.
        pop3_ip_restriction: EIMS 2.1 IP Range Restriction on POP3 (LAN only).
        router_filter: drop POP3 from outside at the router (the thread's other advice).
        lockout: lock an account after this many failures (0: off).
        fail2ban: ban an address after 5 failures in 10 minutes (fail2ban's defaults), for ``bantime`` seconds.
        bantime: how long a ban lasts (fail2ban's default: 600 s, which only slows a guesser down).
        failure_delay: Dovecot-style failure delay with per-address penalty.
        server: any server built by a preset (or a function returning one), instead of ``preset``.
    """
    site = _site("eims-2.1", preset, server)
    preset = site.product.name
    _positive("guesser_ips", guesser_ips, whole=True)
    _positive("pace", pace)
    settings: dict = {}
    restrictions: list = []
    routers: list = []
    if pop3_ip_restriction:
        settings |= site.product.ip_range("pop3", [site.names.lan])
    if router_filter:
        routers.append(RouterFilter(allow=[site.names.lan], services=("pop3",)))
    if lockout:
        restrictions.append(AccountLockout(int(_positive("lockout", lockout, whole=True)), 1800))
    if fail2ban:
        restrictions.append(Fail2Ban(jail="pop3", failregex=site.product.pattern("pop3_failure"), maxretry=5,
                                     findtime=600, bantime=_positive("bantime", bantime), ignoreip=[site.names.lan]))
    if failure_delay:
        restrictions.append(FailureDelay(trusted=[site.names.lan]))
    pool = tuple([GUESSER_IP] + [f"203.0.113.{150 + n}" for n in range(guesser_ips - 1)])
    actors = [*_everyday(site), Pop3Guesser("guesser", "attacker", ips=pool, server=site.names.hostname,
                                             accounts=accounts, dictionary=dictionary, pace=pace, at=HOUR)]
    return _scenario(site, "wrong_password", "S1: 'POP3 wrong password' lines and a guesser", settings, actors,
                     duration, restrictions=restrictions, router_filters=routers, knobs=dict(locals_knobs(locals())))


#: relay_probe's queue lifetime: shorter than any product's default (Postfix 5 days, Exim 4 days, the 1998
#: products 5 days by RFC 5321), so that within the lesson's day the probe is returned to its sender, that
#: return fails the same way, and the report about it reaches postmaster - as the thread's admin saw.
PROBE_QUEUE_LIFETIME = 4 * HOUR


def relay_probe(preset: str | None = None, duration: float = DAY, relay_restriction: bool | None = None,
                queue_lifetime: float | None = PROBE_QUEUE_LIFETIME, retry_interval: float | None = None,
                probe_at: float = 0.0, server: ServerArg = None) -> Scenario:
    """S2/S3: an open-relay survey sends one test through the server to a domain that will not take it.

    The server keeps the probe ``queue_lifetime`` seconds - by default 4 hours, **shorter than every
    product's own default** (Postfix ``maximal_queue_lifetime`` and ``bounce_queue_lifetime`` 5 days, Debian's
    Exim retry rule 4 days, the 1998 products 5 days by RFC 5321 §4.5.4.1): with the real figures the probe
    would be returned after days, not within the lesson's day. Four hours twice (the probe, then its return
    to the sender, which fails the same way) bring the report to postmaster that morning. The result's
    ``queue`` shows the lifetime that ran and why.

    Args:
        preset: the product on the standard site (default ``"eims-1.2"``); or give ``server``.
        relay_restriction: EIMS 2.1 Relay Restriction (off as installed; None: as the server has it).
        queue_lifetime: how long the server retries before returning mail (None: the product's default,
            so nothing comes back within a day).
        retry_interval: seconds between delivery attempts, fixed (None: the product's schedule - Postfix's
            doubling backoff from 300 s, Exim's retry rule, every 30 minutes for the 1998 products).
        probe_at: when the probe arrives (seconds after 1:25:32 AM).
        server: any server built by a preset (or a function returning one), instead of ``preset``.
    """
    site = _site("eims-1.2", preset, server)
    preset = site.product.name
    settings: dict = {}
    if relay_restriction or (relay_restriction is not None and site.product.can(RELAY_BY_SENDER_DOMAIN)):
        settings |= site.product.relay_restriction(relay_restriction)
    actors = [*_everyday(site), RelayScanner("relay survey", "attacker", ip=SCANNER_IP, server=site.names.hostname,
                                             at=probe_at)]
    return _scenario(site, "relay_probe", "S2/S3: the open-relay probe and the bounce to postmaster", settings,
                     actors, duration, retry_interval=retry_interval, queue_lifetime=queue_lifetime,
                     queue_lifetime_reason="shorter than the product's default, so that the probe's return "
                                           "reaches postmaster within the day",
                     knobs=dict(locals_knobs(locals())))


def spoofed_postmaster(preset: str | None = None, duration: float = DAY, relay_restriction: bool | None = None,
                       client_hosts: Sequence[str] | None = None, messages: int = 10, every: float = HOUR,
                       server: ServerArg = None) -> Scenario:
    """S4: a spammer writes ``MAIL FROM:<Postmaster@<site domain>>`` to relay to yourcompany.test.

    Args:
        preset: the product on the standard site (default ``"eims-2.1"``); or give ``server``.
        relay_restriction: a relay rule on the sender's domain, EIMS 2.1's Relay Restriction (the rule the
            trick gets past; on the standard site: on).
        client_hosts: the clients allowed to relay, where the product lists them (SIMS Client Hosts,
            Postfix mynetworks: the client-IP rule that stops it; on the standard site: the LAN).
        messages, every: how many spams, and the mean seconds between them.
        server: any server built by a preset (or a function returning one), instead of ``preset``.
    """
    site = _site("eims-2.1", preset, server)
    preset = site.product.name
    _positive("messages", messages, whole=True)
    product = site.product
    settings: dict = {}
    if relay_restriction is None and not site.given and product.can(RELAY_BY_SENDER_DOMAIN):
        relay_restriction = True  # the lesson's EIMS 2.1: Relay Restriction on, as the thread's admin had it
    if relay_restriction is not None:
        settings |= product.relay_restriction(relay_restriction)
    if client_hosts is not None and product.relay_allowlist_setting is not None:
        settings[product.relay_allowlist_setting] = list(client_hosts)
    elif client_hosts is not None:
        product.require(RELAY_BY_CLIENT_IP, "client_hosts")
    actors = [*_everyday(site), SpoofingSpammer("spoofing spammer", "attacker", ips=(SPOOFER_IP,),
                                                server=site.names.hostname, local_domain=site.names.domain,
                                                victims=VICTIMS, messages=messages, every=every)]
    return _scenario(site, "spoofed_postmaster", "S4: the spoofed Postmaster sender", settings, actors, duration,
                     knobs=dict(locals_knobs(locals())))


def strict_ip_range(preset: str | None = None, duration: float = DAY,
                    ranges: Sequence[str] = ("192.0.2.1-192.0.2.254",), mx_via_provider: bool = False,
                    relay_restriction: bool | None = None, spam_messages: int = 10,
                    server: ServerArg = None) -> Scenario:
    """S5: an SMTP IP Range Restriction that also shuts out inbound mail; the provider-MX fix.

    Args:
        preset: the product on the standard site (default ``"eims-2.1"``); or give ``server``.
        ranges: the allowed ranges of the SMTP IP Range Restriction.
        mx_via_provider: point the MX at the provider and allow its address too.
        relay_restriction: EIMS 2.1 Relay Restriction (on the standard site: on, as a careful admin would
            have it; None with ``server``: as the server has it).
        spam_messages: a spoofing spammer's attempts (to show spam stays out).
        server: any server built by a preset (or a function returning one), instead of ``preset``.
    """
    site = _site("eims-2.1", preset, server)
    preset = site.product.name
    allowed = list(ranges) + ([PROVIDER_IP] if mx_via_provider else [])
    settings = site.product.ip_range("smtp", allowed)
    if relay_restriction is None and not site.given:
        relay_restriction = True
    if relay_restriction is not None:
        settings |= site.product.relay_restriction(relay_restriction)
    actors = [*_everyday(site, roaming_sends=False),
              SpoofingSpammer("spoofing spammer", "attacker", ips=(SPOOFER_IP,), server=site.names.hostname,
                              local_domain=site.names.domain, victims=VICTIMS, messages=spam_messages,
                              every=2 * HOUR)]
    return _scenario(site, "strict_ip_range", "S5: the SMTP IP Range Restriction that shut out inbound mail",
                     settings, actors, duration, mx_via_provider=mx_via_provider, knobs=dict(locals_knobs(locals())))


ROTATION_DEFENCES = ("none", "per_ip_ban", "admin_block", "please_stop", "allowlist")


def ip_rotation(preset: str | None = None, duration: float = DAY, pool_size: int = 50, messages: int = 200,
                every: float = 300.0, switch: str = "session", defence: str = "none", ban_after: int = 3,
                server: ServerArg = None) -> Scenario:
    """A spammer relaying through the site while changing IP address at random.

    Args:
        preset: the product on the standard site (default ``"eims-2.1"``, with Relay Restriction on);
            or give ``server``.
        pool_size: how many addresses the spammer rotates through.
        messages, every: spams to send, and the mean seconds between them.
        switch: ``"session"`` (new address each time) or ``"refusal"`` (keep it until refused).
        defence: ``"none"``, ``"per_ip_ban"`` (fail2ban on the log lines that show relay abuse),
            ``"admin_block"`` (the admin blocks addresses at the router, hourly), ``"please_stop"``
            (the admin writes to the abuser), ``"allowlist"`` (relay only for the site's network).
        ban_after: messages from one address before a per-address ban.
        server: any server built by a preset (or a function returning one), instead of ``preset``.
    """
    site = _site("eims-2.1", preset, server)
    preset = site.product.name
    product, names = site.product, site.names
    _positive("pool_size", pool_size, whole=True)
    if pool_size > 250:
        raise ConfigError("pool_size", pool_size, t("scenario.error.pool_too_large"), t("scenario.expected.pool_size"))
    if switch not in ("session", "refusal"):
        raise ConfigError("switch", switch, t("scenario.error.not_switch"), t("scenario.expected.switch"))
    if defence not in ROTATION_DEFENCES:
        raise ConfigError("defence", defence, t("scenario.error.not_a_defence"),
                          t("expected.one_of", choices=", ".join(ROTATION_DEFENCES)))
    settings: dict = {}
    if not site.given and product.can(RELAY_BY_SENDER_DOMAIN):
        settings |= product.relay_restriction(True)  # the lesson's EIMS 2.1: Relay Restriction on
    restrictions: list = []
    actors: list = [*_everyday(site)]
    abuse = product.pattern("relay_abuse", names.domain)
    if defence == "per_ip_ban":
        restrictions.append(Fail2Ban(jail="smtp-relay", failregex=abuse, maxretry=ban_after, findtime=DAY,
                                     bantime=DAY, ignoreip=[names.lan], services=("smtp",)))
    elif defence in ("admin_block", "please_stop"):
        actors.append(Admin("admin", "pc-webmaster", mode="block" if defence == "admin_block" else "please_stop",
                            server=names.hostname, threshold=ban_after, lan=(names.lan,),
                            patterns=tuple(product.log_patterns_for(names.domain))))
    elif defence == "allowlist":
        settings |= product.relay_allowlist([names.lan])
    pool = tuple(f"203.0.113.{n}" for n in range(1, pool_size + 1))
    actors.append(RotatingSpammer("rotating spammer", "attacker", ips=pool, server=names.hostname,
                                  local_domain=names.domain, victims=VICTIMS, messages=messages, every=every,
                                  switch=switch))
    return _scenario(site, "ip_rotation", "A spammer rotating IP addresses", settings, actors, duration,
                     restrictions=restrictions, knobs=dict(locals_knobs(locals())))


def flood(preset: str | None = None, duration: float = 6 * HOUR, connections: int = 150, hold: float = 600.0,
          flooder_ips: int = 1, attack_hours: float = 3.0, connection_limit: int | None = None,
          process_limit: int | None = None, server: ServerArg = None) -> Scenario:
    """Knocked offline: connection floods, connection limits, and what they cost legitimate users.

    Args:
        preset: the product on the standard site (default ``"postfix"``); or give ``server``.
        connections: connections the flooder keeps open, each silent for ``hold`` seconds.
        flooder_ips: addresses the flooder spreads them over.
        attack_hours: how long the attack lasts (it starts an hour into the run).
        connection_limit: a per-client connection limit, where the product has one (Postfix
            ``smtpd_client_connection_count_limit``, default 50).
        process_limit: connections the server serves at once (default: the product's).
        server: any server built by a preset (or a function returning one), instead of ``preset``.
    """
    site = _site("postfix", preset, server)
    preset = site.product.name
    _positive("connections", connections, whole=True)
    _positive("flooder_ips", flooder_ips, whole=True)
    settings: dict = {}
    if connection_limit is not None:
        settings |= site.product.connection_limit(connection_limit)
    ips = tuple(f"203.0.113.{200 + n}" for n in range(flooder_ips))
    actors = [*_everyday(site), Flooder("flooder", "attacker", ips=ips, server=site.names.hostname,
                                        connections=connections, hold=hold, at=HOUR,
                                        until=HOUR + _positive("attack_hours", attack_hours) * HOUR)]
    for actor in actors[2:4]:
        actor.send_every = 10 * 60  # busier correspondents, so lost mail shows
    return _scenario(site, "flood", "Denial of service by connection flood", settings, actors, duration,
                     process_limit=process_limit, knobs=dict(locals_knobs(locals())))


def mixed_traffic(sessions: int = 1000, preset: str | None = None, interarrival: float = 0.0005,
                  trusted_share: float = 0.5, local_share: float = 0.5, server: ServerArg = None) -> Scenario:
    """``sessions`` SMTP sessions of legitimate and spam traffic, for benchmarks and sandboxes.

    Clients arrive every ``interarrival`` seconds; ``trusted_share`` of them come from the site's
    network, ``local_share`` of the recipients are local. Outsiders writing to foreign recipients
    are relay attempts (spam); everyone else is legitimate. ``preset`` defaults to ``"postfix"``.
    """
    site = _site("postfix", preset, server)
    preset = site.product.name
    _positive("sessions", sessions, whole=True)
    for name, share in (("trusted_share", trusted_share), ("local_share", local_share)):
        if not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ConfigError(name, share, t("scenario.error.not_share"), t("scenario.expected.share"))
    duration = sessions * interarrival + 60
    actors = [TrafficMix("traffic", "internet", server=site.names.hostname, sessions=sessions,
                         interarrival=interarrival, trusted_share=trusted_share, local_share=local_share,
                         domain=site.names.domain)]
    return _scenario(site, "mixed_traffic", f"{sessions} sessions of mixed traffic", settings={}, actors=actors,
                     duration=duration, process_limit=10**9, knobs=dict(locals_knobs(locals())))


def locals_knobs(values: dict) -> dict:
    """The scenario function's arguments, as called (``server`` shown as the server it was)."""
    return {k: v for k, v in values.items() if k not in ("settings", "restrictions", "routers", "actors", "allowed",
                                                           "pool", "abuse", "ips", "actor", "site", "product",
                                                           "names")}


SCENARIOS = {
    "wrong_password": wrong_password, "relay_probe": relay_probe, "spoofed_postmaster": spoofed_postmaster,
    "strict_ip_range": strict_ip_range, "ip_rotation": ip_rotation, "flood": flood, "mixed_traffic": mixed_traffic,
}

# Lesson 11's scenario builds on this module's helpers, so it is registered once they exist.
from simlab.scenarios.sender_auth import sender_authentication  # noqa: E402

SCENARIOS["sender_authentication"] = sender_authentication

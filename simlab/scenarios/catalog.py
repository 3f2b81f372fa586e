"""The forum's cases as ready runs, each with the knobs its lesson needs.

Every function returns a :class:`~simlab.scenarios.base.Scenario` for
:func:`simlab.run`. Settings use the products' own names; a defence a
product did not have raises :class:`simlab.ConfigError` saying which presets
offer it.
"""

from __future__ import annotations

from collections.abc import Sequence

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
from simlab.presets import PRESETS
from simlab.restrictions.access import RouterFilter
from simlab.restrictions.guards import AccountLockout, Fail2Ban, FailureDelay
from simlab.scenarios.base import DAY, HOUR, Scenario
from simlab.scenarios.site import (
    DOMAIN,
    GUESSER_IP,
    HOSTNAME,
    LAN,
    PROVIDER_IP,
    REMOTE,
    SCANNER_IP,
    SPOOFER_IP,
    YOURCOMPANY,
)

__all__ = ["wrong_password", "relay_probe", "spoofed_postmaster", "strict_ip_range", "ip_rotation", "flood",
           "mixed_traffic", "SCENARIOS"]

VICTIMS = ("user_name@yourcompany.test", "sales@yourcompany.test", "ceo@yourcompany.test")
POP3_FILTERS = {"eims-1.2": "eims-pop3", "eims-2.1": "eims-pop3", "sims": "sims-pop3", "postfix": "dovecot"}


def _preset(preset: str) -> str:
    if preset not in PRESETS:
        raise ConfigError("preset", preset, "is not a preset", f"one of {', '.join(PRESETS)}")
    return preset


def _positive(name: str, value: float, whole: bool = False) -> float:
    ok = isinstance(value, int) if whole else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value <= 0:
        raise ConfigError(name, value, "is not a positive number", "a whole number > 0" if whole else "a number > 0")
    return value


def _only(preset: str, knob: str, presets: Sequence[str]) -> None:
    if preset not in presets:
        raise ConfigError(knob, preset, f"is a preset without {knob}", f"one of {', '.join(presets)}")


def _everyday(preset: str, roaming_sends: bool = True) -> list:
    """The site's ordinary day: two staff and two correspondents.

    Alice reads and sends mail from outside. On Postfix she submits on port 587 with SMTP AUTH,
    as today; the 1998 servers see her as just another outside address (SIMS then refuses to
    relay for her, EIMS lets her through on her sender domain).
    """
    return [
        LocalUser("bob (LAN)", "pc-bob", account="bob", password="Tr0ub4dor&3", send_every=2 * HOUR,
                  check_every=30 * 60, recipients=("carol@remote.test", "dave@remote.test")),
        LocalUser("alice (roaming)", "roaming", account="alice", password="wonderland42",
                  send_every=3 * HOUR if roaming_sends else 0, check_every=HOUR, recipients=("carol@remote.test",),
                  use_auth=preset == "postfix"),
        RemoteMta("carol's MTA", REMOTE, ip="198.51.100.90", domain="remote.test", recipients=("bob", "alice"),
                  send_every=HOUR),
        RemoteMta("yourcompany's MTA", YOURCOMPANY, ip="198.51.100.80", domain="yourcompany.test",
                  senders=("user_name", "sales"), recipients=("bob", "webmaster"), send_every=2 * HOUR),
    ]


def wrong_password(preset: str = "eims-2.1", duration: float = DAY, guesser_ips: int = 1, pace: float = 120.0,
                   accounts: Sequence[str] = ("bob", "alice", "webmaster", "info"),
                   dictionary: Sequence[str] = ("password", "123456", "letmein", "admin"),
                   pop3_ip_restriction: bool = False, router_filter: bool = False, lockout: int = 0,
                   fail2ban: bool = False, bantime: float = 600.0, failure_delay: bool = False) -> Scenario:
    """S1: a guesser tries password = account name, then a small dictionary, over POP3.

    Args:
        guesser_ips: size of the guesser's address pool (1: a single address, like the thread's).
        pace: seconds between guesses.
        pop3_ip_restriction: EIMS 2.1 IP Range Restriction on POP3 (LAN only).
        router_filter: drop POP3 from outside at the router (the thread's other advice).
        lockout: lock an account after this many failures (0: off).
        fail2ban: ban an address after 5 failures in 10 minutes (fail2ban's defaults), for ``bantime`` seconds.
        bantime: how long a ban lasts (fail2ban's default: 600 s, which only slows a guesser down).
        failure_delay: Dovecot-style failure delay with per-address penalty.
    """
    preset = _preset(preset)
    _positive("guesser_ips", guesser_ips, whole=True)
    _positive("pace", pace)
    settings: dict = {}
    restrictions: list = []
    routers: list = []
    if pop3_ip_restriction:
        _only(preset, "pop3_ip_restriction", ("eims-2.1",))
        settings["ip_range_restriction"] = {"pop3": [LAN]}
    if router_filter:
        routers.append(RouterFilter(allow=[LAN], services=("pop3",)))
    if lockout:
        restrictions.append(AccountLockout(int(_positive("lockout", lockout, whole=True)), 1800))
    if fail2ban:
        restrictions.append(Fail2Ban(jail="pop3", failregex=POP3_FILTERS[preset], maxretry=5, findtime=600,
                                     bantime=_positive("bantime", bantime), ignoreip=[LAN]))
    if failure_delay:
        restrictions.append(FailureDelay(trusted=[LAN]))
    pool = tuple([GUESSER_IP] + [f"203.0.113.{150 + n}" for n in range(guesser_ips - 1)])
    actors = [*_everyday(preset), Pop3Guesser("guesser", "attacker", ips=pool, server=HOSTNAME, accounts=accounts,
                                               dictionary=dictionary, pace=pace, at=HOUR)]
    return Scenario("wrong_password", "S1: 'POP3 wrong password' lines and a guesser", preset, settings, actors,
                    duration, restrictions, routers, knobs=dict(locals_knobs(locals())))


def relay_probe(preset: str = "eims-1.2", duration: float = DAY, relay_restriction: bool = False,
                queue_lifetime: float = 4 * HOUR, retry_interval: float = 300.0, probe_at: float = 0.0) -> Scenario:
    """S2/S3: an open-relay survey sends one test through the server to a domain that will not take it.

    Args:
        relay_restriction: EIMS 2.1 Relay Restriction (off as installed).
        queue_lifetime: how long the server retries before returning mail.
        retry_interval: seconds between delivery attempts.
        probe_at: when the probe arrives (seconds after 1:25:32 AM).
    """
    preset = _preset(preset)
    settings = {}
    if relay_restriction:
        _only(preset, "relay_restriction", ("eims-2.1",))
        settings["relay_restriction"] = True
    actors = [*_everyday(preset), RelayScanner("relay survey", "attacker", ip=SCANNER_IP, server=HOSTNAME,
                                               at=probe_at)]
    return Scenario("relay_probe", "S2/S3: the open-relay probe and the bounce to postmaster", preset, settings,
                    actors, duration, retry_interval=retry_interval, queue_lifetime=queue_lifetime,
                    knobs=dict(locals_knobs(locals())))


def spoofed_postmaster(preset: str = "eims-2.1", duration: float = DAY, relay_restriction: bool = True,
                       client_hosts: Sequence[str] = (LAN,), messages: int = 10, every: float = HOUR) -> Scenario:
    """S4: a spammer writes ``MAIL FROM:<Postmaster@example.com>`` to relay to yourcompany.test.

    Args:
        relay_restriction: EIMS 2.1 Relay Restriction (the rule the trick gets past).
        client_hosts: SIMS Client Hosts (the client-IP rule that stops it).
        messages, every: how many spams, and the mean seconds between them.
    """
    preset = _preset(preset)
    _positive("messages", messages, whole=True)
    settings: dict = {}
    if preset == "eims-2.1":
        settings["relay_restriction"] = relay_restriction
    if preset == "sims":
        settings["client_hosts"] = list(client_hosts)
    actors = [*_everyday(preset), SpoofingSpammer("spoofing spammer", "attacker", ips=(SPOOFER_IP,),
                                                  server=HOSTNAME, local_domain=DOMAIN, victims=VICTIMS,
                                                  messages=messages, every=every)]
    return Scenario("spoofed_postmaster", "S4: the spoofed Postmaster sender", preset, settings, actors, duration,
                    knobs=dict(locals_knobs(locals())))


def strict_ip_range(preset: str = "eims-2.1", duration: float = DAY, ranges: Sequence[str] = ("192.0.2.1-192.0.2.254",),
                    mx_via_provider: bool = False, relay_restriction: bool = True, spam_messages: int = 10) -> Scenario:
    """S5: an SMTP IP Range Restriction that also shuts out inbound mail; the provider-MX fix.

    Args:
        ranges: the allowed ranges of the SMTP IP Range Restriction.
        mx_via_provider: point the MX at the provider and allow its address too.
        relay_restriction: EIMS 2.1 Relay Restriction, on as a careful admin would have it.
        spam_messages: a spoofing spammer's attempts (to show spam stays out).
    """
    preset = _preset(preset)
    _only(preset, "ip_range_restriction", ("eims-2.1",))
    allowed = list(ranges) + ([PROVIDER_IP] if mx_via_provider else [])
    settings = {"ip_range_restriction": {"smtp": allowed}, "relay_restriction": relay_restriction}
    actors = [*_everyday(preset, roaming_sends=False),
              SpoofingSpammer("spoofing spammer", "attacker", ips=(SPOOFER_IP,), server=HOSTNAME, local_domain=DOMAIN,
                              victims=VICTIMS, messages=spam_messages, every=2 * HOUR)]
    return Scenario("strict_ip_range", "S5: the SMTP IP Range Restriction that shut out inbound mail", preset,
                    settings, actors, duration, mx_via_provider=mx_via_provider, knobs=dict(locals_knobs(locals())))


ROTATION_DEFENCES = ("none", "per_ip_ban", "admin_block", "please_stop", "allowlist")


def ip_rotation(preset: str = "eims-2.1", duration: float = DAY, pool_size: int = 50, messages: int = 200,
                every: float = 300.0, switch: str = "session", defence: str = "none", ban_after: int = 3) -> Scenario:
    """A spammer relaying through the site while changing IP address at random.

    Args:
        pool_size: how many addresses the spammer rotates through.
        messages, every: spams to send, and the mean seconds between them.
        switch: ``"session"`` (new address each time) or ``"refusal"`` (keep it until refused).
        defence: ``"none"``, ``"per_ip_ban"`` (fail2ban on relayed-from-outside log lines),
            ``"admin_block"`` (the admin blocks addresses at the router, hourly), ``"please_stop"``
            (the admin writes to the abuser), ``"allowlist"`` (relay only for the site's network).
        ban_after: messages from one address before a per-address ban.
    """
    preset = _preset(preset)
    _positive("pool_size", pool_size, whole=True)
    if pool_size > 250:
        raise ConfigError("pool_size", pool_size, "is larger than 203.0.113.0/24 allows", "at most 250")
    if switch not in ("session", "refusal"):
        raise ConfigError("switch", switch, "is not a switching rule", "'session' or 'refusal'")
    if defence not in ROTATION_DEFENCES:
        raise ConfigError("defence", defence, "is not a defence", f"one of {', '.join(ROTATION_DEFENCES)}")
    settings: dict = {"relay_restriction": True} if preset == "eims-2.1" else {}
    restrictions: list = []
    actors: list = [*_everyday(preset)]
    relayed = {"eims-1.2": rf"SMTP message from <[^>]*> to .*<[^>]*@(?!{DOMAIN}>)[^>]*>.* received from <HOST>$",
               "eims-2.1": rf"SMTP message from <[^>]*> to .*<[^>]*@(?!{DOMAIN}>)[^>]*>.* received from <HOST>$",
               "sims": "sims-relay", "postfix": "postfix-relay"}[preset]
    if defence == "per_ip_ban":
        restrictions.append(Fail2Ban(jail="smtp-relay", failregex=relayed, maxretry=ban_after, findtime=DAY,
                                     bantime=DAY, ignoreip=[LAN], services=("smtp",)))
    elif defence in ("admin_block", "please_stop"):
        actors.append(Admin("admin", "pc-webmaster", mode="block" if defence == "admin_block" else "please_stop",
                            server=HOSTNAME, threshold=ban_after, relayed_pattern=relayed.replace("<HOST>", r"(\S+)")
                            if preset.startswith("eims") else ""))
    elif defence == "allowlist":
        _only(preset, "an allow-list relay rule", ("eims-2.1", "sims", "postfix"))
        if preset == "eims-2.1":
            settings |= {"require_valid_ip": True, "valid_ips": [LAN]}
    pool = tuple(f"203.0.113.{n}" for n in range(1, pool_size + 1))
    actors.append(RotatingSpammer("rotating spammer", "attacker", ips=pool, server=HOSTNAME, local_domain=DOMAIN,
                                  victims=VICTIMS, messages=messages, every=every, switch=switch))
    return Scenario("ip_rotation", "A spammer rotating IP addresses", preset, settings, actors, duration,
                    restrictions, knobs=dict(locals_knobs(locals())))


def flood(preset: str = "postfix", duration: float = 6 * HOUR, connections: int = 150, hold: float = 600.0,
          flooder_ips: int = 1, attack_hours: float = 3.0, connection_limit: int | None = None,
          process_limit: int | None = None) -> Scenario:
    """Knocked offline: connection floods, connection limits, and what they cost legitimate users.

    Args:
        connections: connections the flooder keeps open, each silent for ``hold`` seconds.
        flooder_ips: addresses the flooder spreads them over.
        attack_hours: how long the attack lasts (it starts an hour into the run).
        connection_limit: Postfix ``smtpd_client_connection_count_limit`` (default 50).
        process_limit: connections the server serves at once (default: the product's).
    """
    preset = _preset(preset)
    _positive("connections", connections, whole=True)
    _positive("flooder_ips", flooder_ips, whole=True)
    settings: dict = {}
    if connection_limit is not None:
        _only(preset, "connection_limit", ("postfix",))
        settings["smtpd_client_connection_count_limit"] = connection_limit
    ips = tuple(f"203.0.113.{200 + n}" for n in range(flooder_ips))
    actors = [*_everyday(preset), Flooder("flooder", "attacker", ips=ips, server=HOSTNAME, connections=connections,
                                          hold=hold, at=HOUR, until=HOUR + _positive("attack_hours", attack_hours)
                                          * HOUR)]
    for actor in actors[2:4]:
        actor.send_every = 10 * 60  # busier correspondents, so lost mail shows
    return Scenario("flood", "Denial of service by connection flood", preset, settings, actors, duration,
                    process_limit=process_limit, knobs=dict(locals_knobs(locals())))


def mixed_traffic(sessions: int = 1000, preset: str = "postfix", interarrival: float = 0.0005,
                  trusted_share: float = 0.5, local_share: float = 0.5) -> Scenario:
    """``sessions`` SMTP sessions of legitimate and spam traffic, for benchmarks and sandboxes.

    Clients arrive every ``interarrival`` seconds; ``trusted_share`` of them come from the site's
    network, ``local_share`` of the recipients are local. Outsiders writing to foreign recipients
    are relay attempts (spam); everyone else is legitimate.
    """
    preset = _preset(preset)
    _positive("sessions", sessions, whole=True)
    for name, share in (("trusted_share", trusted_share), ("local_share", local_share)):
        if not isinstance(share, int | float) or not 0 <= share <= 1:
            raise ConfigError(name, share, "is not a share", "a number from 0 to 1")
    duration = sessions * interarrival + 60
    actors = [TrafficMix("traffic", "internet", server=HOSTNAME, sessions=sessions, interarrival=interarrival,
                         trusted_share=trusted_share, local_share=local_share)]
    return Scenario("mixed_traffic", f"{sessions} sessions of mixed traffic", preset, {}, actors, duration,
                    process_limit=10**9, knobs=dict(locals_knobs(locals())))


def locals_knobs(values: dict) -> dict:
    return {k: v for k, v in values.items() if k not in ("settings", "restrictions", "routers", "actors", "allowed",
                                                           "pool", "relayed", "ips", "actor")}


SCENARIOS = {
    "wrong_password": wrong_password, "relay_probe": relay_probe, "spoofed_postmaster": spoofed_postmaster,
    "strict_ip_range": strict_ip_range, "ip_rotation": ip_rotation, "flood": flood, "mixed_traffic": mixed_traffic,
}

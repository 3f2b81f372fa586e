"""Lesson 08: build your own day - a server, its settings, the people and attackers around it, the defences.

:func:`sandbox_scenario` assembles a :class:`~simlab.scenarios.base.Scenario`
from plain numbers, the way :mod:`simlab.scenarios.catalog` builds the
forum's cases: the site's ordinary day (bob on the LAN, alice roaming, two
correspondents' mail servers) plus any of the thread's attackers - the relay
survey (S2), the spoofing spammer (S4), the spammer rotating addresses, the
POP3 guesser (S1) and a connection flooder - and the defences of the thread
and of today: fail2ban (per-address bans, its defaults 5 failures / 10
minutes), account lockout, a router filter for POP3.

:func:`check_challenge` is the lesson's challenge: on a 1998 product (not
Postfix), survive a day with the spoofing spammer, the rotating spammer and
the guesser - no spam relayed, no account broken into, no legitimate mail
lost and no member of staff locked out of their mailbox.

The feedback, the errors and :data:`SOLUTION` come from the message catalogs (ids ``exercise.sandbox.*``)
in the language current when they are shown; the replies they quote stay as each product wrote them.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from simlab import products
from simlab.addresses.networks import parse_networks
from simlab.engine.actors import (
    Flooder,
    LocalUser,
    Pop3Guesser,
    RelayScanner,
    RemoteMta,
    RotatingSpammer,
    SpoofingSpammer,
)
from simlab.engine.result import Result
from simlab.errors import ConfigError
from simlab.exercises.common import (
    Feedback,
    checked_settings,
    checker,
    lazy_constants,
    parse_count,
    parse_switch,
    staff_logins_refused,
)
from simlab.i18n import t, tn
from simlab.restrictions.access import RouterFilter
from simlab.restrictions.guards import AccountLockout, Fail2Ban
from simlab.scenarios.base import DAY, HOUR, Scenario
from simlab.scenarios.run import run
from simlab.scenarios.site import (
    ACCOUNTS,
    DOMAIN,
    GUESSER_IP,
    HOSTNAME,
    LAN,
    REMOTE,
    SPOOFER_IP,
    YOURCOMPANY,
    site_server,
)

__all__ = ["sandbox_scenario", "site_day", "attackers", "defences_for", "check_challenge", "CHALLENGE",
           "LEGIT_ACTORS", "ATTACKERS", "POP3_JAILS", "SOLUTION"]

#: The fail2ban filter that reads each product's failed POP3 logins (from the registry, when this module loads).
POP3_JAILS = {product.name: product.pop3_filter() for product in products.with_capability(products.POP3)}
VICTIMS = ("user_name@yourcompany.test", "sales@yourcompany.test", "ceo@yourcompany.test")
LEGIT_ACTORS = ("bob (LAN)", "alice (roaming)", "carol's MTA", "yourcompany's MTA")
ATTACKERS = ("relay survey", "spoofing spammer", "rotating spammer", "guesser", "flooder")

#: The challenge is for the thread's products: those of this year or before.
CHALLENGE_YEAR = 1998
#: The challenge's fixed attack mix (per day).
CHALLENGE = {"spoofing_spammer": 10, "rotating_spammer": 100, "pool_size": 50, "guesser": True, "guesser_ips": 1}

#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.sandbox.solution")


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution})


def _rate(name: str, value: Any, low: float = 0) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < low:
        raise ConfigError(name, value, t("exercise.sandbox.not_a_number"),
                          t("exercise.sandbox.expected_number", low=format(low, "g")))
    return float(value)


def _auth(preset: str) -> bool:
    """Whether alice logs in to send: where the product has a submission port for it (Postfix's 587).
    (EIMS 2.1 with ``smtp_auth`` offers AUTH in its EHLO reply but the preset answers the AUTH command
    with 500, so she does not try.)"""
    return products.get(preset).auth_submission_port() is not None


def site_day(preset: str, settings: Mapping[str, Any] | None = None, staff: bool = True, staff_per_day: float = 12,
             correspondents: bool = True, correspondents_per_day: float = 24) -> list:
    """The site's ordinary day: bob on the LAN and alice roaming (each sends ``staff_per_day``
    messages and checks mail over POP3), and two correspondents' MTAs delivering
    ``correspondents_per_day`` messages each. On Postfix alice logs in on port 587; on the 1998
    products she sends on port 25 like anyone else.
    """
    actors: list = []
    if staff:
        every = DAY / _rate("staff_per_day", staff_per_day, 0.1)
        actors += [
            LocalUser("bob (LAN)", "pc-bob", account="bob", password=ACCOUNTS["bob"], send_every=every,
                      check_every=30 * 60, recipients=("carol@remote.test", "dave@remote.test")),
            LocalUser("alice (roaming)", "roaming", account="alice", password=ACCOUNTS["alice"], send_every=every,
                      check_every=HOUR, recipients=("carol@remote.test",), use_auth=_auth(preset)),
        ]
    if correspondents:
        every = DAY / _rate("correspondents_per_day", correspondents_per_day, 0.1)
        actors += [
            RemoteMta("carol's MTA", REMOTE, ip="198.51.100.90", domain="remote.test", recipients=("bob", "alice"),
                      send_every=every),
            RemoteMta("yourcompany's MTA", YOURCOMPANY, ip="198.51.100.80", domain="yourcompany.test",
                      senders=("user_name", "sales"), recipients=("bob", "webmaster"), send_every=every),
        ]
    return actors


def attackers(duration: float, relay_scanner: int = 0, spoofing_spammer: float = 0, rotating_spammer: float = 0,
              pool_size: int = 50, guesser: bool = False, guesser_ips: int = 1, flooder: int = 0) -> list:
    """The thread's attackers. Rates are messages per day (0: absent); ``relay_scanner`` is a number of
    survey probes spread over the run; ``flooder`` a number of silent connections held from the
    first hour for up to three hours."""
    actors: list = []
    probes = int(_rate("relay_scanner", relay_scanner))
    for n in range(probes):
        actors.append(RelayScanner("relay survey", "attacker", ip=f"203.0.113.{60 + n % 10}", server=HOSTNAME,
                                   at=n * duration / max(probes, 1)))
    if _rate("spoofing_spammer", spoofing_spammer):
        actors.append(SpoofingSpammer("spoofing spammer", "attacker", ips=(SPOOFER_IP,), server=HOSTNAME,
                                      local_domain=DOMAIN, victims=VICTIMS,
                                      messages=max(1, round(spoofing_spammer * duration / DAY)),
                                      every=DAY / spoofing_spammer))
    if _rate("rotating_spammer", rotating_spammer):
        size = int(_rate("pool_size", pool_size, 1))
        if size > 250:
            raise ConfigError("pool_size", pool_size, t("exercise.sandbox.pool_too_large", network="203.0.113.0/24"),
                              t("exercise.sandbox.expected_at_most", most=250))
        actors.append(RotatingSpammer("rotating spammer", "attacker", ips=tuple(f"203.0.113.{n}" for n in
                                                                             range(1, size + 1)),
                                      server=HOSTNAME, local_domain=DOMAIN, victims=VICTIMS,
                                      messages=max(1, round(rotating_spammer * duration / DAY)),
                                      every=DAY / rotating_spammer))
    if guesser:
        size = int(_rate("guesser_ips", guesser_ips, 1))
        if size > 50:
            raise ConfigError("guesser_ips", guesser_ips, t("exercise.sandbox.too_many_guesser_ips"),
                              t("exercise.sandbox.expected_at_most", most=50))
        pool = (GUESSER_IP, *(f"203.0.113.{150 + n}" for n in range(size - 1)))
        actors.append(Pop3Guesser("guesser", "attacker", ips=pool, server=HOSTNAME,
                                  accounts=("bob", "alice", "webmaster", "info"),
                                  dictionary=("password", "123456", "letmein", "admin"), pace=120.0, at=HOUR))
    if _rate("flooder", flooder):
        actors.append(Flooder("flooder", "attacker", ips=("203.0.113.200",), server=HOSTNAME, connections=int(flooder),
                              hold=600.0, at=HOUR, until=min(4 * HOUR, max(duration, 2 * HOUR))))
    return actors


_SWITCH_WORDS = frozenset({"yes", "no", "true", "false", "on", "off"})


def _switch_or(value: Any, name: str) -> Any:
    """A defence's value with its switch words read strictly: ``"no"``/``"off"``/``"false"`` -> ``False``,
    ``"yes"``/``"on"``/``"true"`` -> ``True`` (the string ``"no"`` is truthy in Python); anything else unchanged."""
    if isinstance(value, str) and value.strip().lower() in _SWITCH_WORDS:
        return parse_switch(value, name)
    return value


def defences_for(preset: str, defences: Mapping[str, Any] | Iterable[str] | None) -> tuple[list, list]:
    """Restrictions and router filters for ``defences``.

    ``defences`` maps a name to its setting, or lists names (each with its default):

    * ``"fail2ban"``: ``True`` (fail2ban's default ban, 600 s) or the ban in seconds - the POP3 jail
      for the product's log, 5 failures in 10 minutes, the LAN never banned;
    * ``"lockout"``: ``True`` (5) or the failures that lock an account for 30 minutes;
    * ``"router_filter"``: ``True`` (the LAN) or the networks allowed to reach POP3 through the router.
    """
    if defences is None:
        return [], []
    if isinstance(defences, str):
        defences = [defences]
    if not isinstance(defences, Mapping | Iterable) or isinstance(defences, bytes):
        raise ConfigError("defences", defences, t("exercise.sandbox.not_defences"),
                          t("exercise.sandbox.expected_defences", mapping="{'fail2ban': 86400}",
                            names="['fail2ban']"))
    if isinstance(defences, Mapping):
        items = {name: _switch_or(value, name) for name, value in defences.items()}
    else:
        items = {}
        for name in defences:
            if not isinstance(name, str):
                raise ConfigError("defences", name, t("exercise.sandbox.not_a_defence_name"), _defence_names())
            items[name] = True
    unknown = sorted(set(items) - {"fail2ban", "lockout", "router_filter"})
    if unknown:
        raise ConfigError("defences", ", ".join(unknown), t("exercise.sandbox.not_a_defence"), _defence_names())
    restrictions: list = []
    routers: list = []
    ban = items.get("fail2ban")
    if ban:
        bantime = 600.0 if ban is True else _rate("fail2ban", ban, 1)
        restrictions.append(Fail2Ban(jail="pop3", failregex=products.get(preset).pop3_filter(), maxretry=5,
                                     findtime=600,
                                     bantime=bantime, ignoreip=[LAN]))
    lock = items.get("lockout")
    if lock:
        restrictions.append(AccountLockout(5 if lock is True else int(_rate("lockout", lock, 1)), 1800))
    allowed = items.get("router_filter")
    if allowed:
        networks = [LAN] if allowed is True else parse_networks(allowed, "router_filter")
        if not networks:
            raise ConfigError("router_filter", allowed, t("exercise.sandbox.no_network"),
                              t("exercise.sandbox.expected_network", example="['192.0.2.0/24']"))
        routers.append(RouterFilter(allow=networks, services=("pop3",)))
    return restrictions, routers


def sandbox_scenario(preset: str = "eims-2.1", settings: Mapping[str, Any] | None = None,
                     defences: Mapping[str, Any] | Iterable[str] | None = None, duration_hours: float = 24,
                     staff: bool = True, staff_per_day: float = 12, correspondents: bool = True,
                     correspondents_per_day: float = 24, **attack: Any) -> Scenario:
    """A day of your own design: ``preset`` with product ``settings``, the site's day, the
    ``attack`` mix (keywords of :func:`attackers`) and ``defences`` (see :func:`defences_for`).

    >>> scenario = sandbox_scenario("sims", {"client_hosts": ["192.0.2.0/24"]}, spoofing_spammer=10)
    >>> [actor.name for actor in scenario.actors][-1]
    'spoofing spammer'
    """
    preset = products.get(preset).name
    settings = dict(settings or {})
    if not isinstance(duration_hours, int | float) or isinstance(duration_hours, bool) or not 0 < duration_hours <= 72:
        raise ConfigError("duration_hours", duration_hours, t("exercise.sandbox.not_a_duration"),
                          t("exercise.sandbox.expected_hours", low=1, high=72))
    duration = duration_hours * HOUR
    actors = site_day(preset, settings, staff, staff_per_day, correspondents, correspondents_per_day)
    actors += attackers(duration, **attack)
    restrictions, routers = defences_for(preset, defences)
    return Scenario("sandbox", t("exercise.sandbox.title"), preset, settings, actors, duration, restrictions, routers,
                    knobs={"settings": settings, "defences": defences, "duration_hours": duration_hours, **attack})


# --- the challenge -----------------------------------------------------------------------------
def _refusals(result: Result, actors: Iterable[str]) -> list[str]:
    """Sentences on what refused the legitimate actors: first refusal of each session, by reply."""
    counts: Counter[tuple[str, str, str]] = Counter()
    wanted = set(actors)
    for record in result.transcripts:
        if record.actor not in wanted:
            continue
        lines = list(record.lines)
        for i, line in enumerate(lines):
            if line[:4] in ("S: 4", "S: 5") or line.startswith("S: -ERR"):
                asked = lines[i - 1][3:] if i and lines[i - 1].startswith("C: ") else "connecting"
                if asked.startswith("PASS") and i + 1 < len(lines) and lines[i + 1].startswith("C: USER"):
                    continue  # a typo, corrected on the next try
                counts[(record.actor, record.client_ip, _got(asked.split(" ")[0], line[3:]))] += 1
                break
    events = result.events
    if not events.empty:
        dropped = events[(events.command == "CONNECT") & events.outcome.isin(("filtered", "refused", "down"))
                         & events.actor.isin(list(wanted))]
        for (actor, ip, outcome), n in dropped.groupby(["actor", "client_ip", "outcome"]).size().items():
            counts[(actor, ip, _CONNECTION_OUTCOMES[outcome]())] += n
    return [tn("exercise.sandbox.sessions_where", n, actor=actor, ip=ip, what=what)
            for (actor, ip, what), n in sorted(counts.items())]


def _got(asked: str, reply: str) -> str:
    """"RCPT got 550 ...", "connecting got 554 ...": what the session asked and the product's reply."""
    if asked == "connecting":
        return t("exercise.sandbox.connecting_got", reply=reply)
    return t("exercise.sandbox.command_got", command=asked, reply=reply)


def _defence_names() -> str:
    return t("exercise.sandbox.defence_names")


#: What happened to a connection that never reached the server, in words (the engine's outcomes).
_CONNECTION_OUTCOMES = {"filtered": lambda: t("exercise.sandbox.connection_filtered"),
                        "refused": lambda: t("exercise.sandbox.connection_refused"),
                        "down": lambda: t("exercise.sandbox.connection_down")}


def _relayed(result: Result) -> list[str]:
    events = result.events
    if events.empty:
        return []
    rows = events[(events.command == "RCPT") & (events.reply_code == 250) & (events.host == HOSTNAME)
                  & events.actor.isin(ATTACKERS)]
    out = []
    for actor, group in rows.groupby("actor"):
        ips = sorted(set(group.client_ip), key=ipaddress.ip_address)
        where = ips[0] if len(ips) == 1 else t("exercise.sandbox.addresses_in", count=len(ips),
                                                 network="203.0.113.0/24")
        if actor in ("spoofing spammer", "rotating spammer"):
            sender = f"MAIL FROM:<Postmaster@{DOMAIN}>"
            out.append(tn("exercise.sandbox.relayed_with_sender", len(group), actor=actor, where=where,
                          sender=sender))
        else:
            out.append(tn("exercise.sandbox.relayed", len(group), actor=actor, where=where))
    return out


@checker
def check_challenge(preset: str, settings: Mapping[str, Any] | None = None,
                    defences: Mapping[str, Any] | Iterable[str] | None = None, seed: int = 1) -> Feedback:
    """The challenge: a 1998 product (not Postfix) that gets through a day of :data:`CHALLENGE` with no spam
    relayed, no account broken into, no legitimate mail lost and no staff login refused.

    Args:
        preset: ``"eims-1.2"``, ``"eims-2.1"`` or ``"sims"``.
        settings: the product's settings, in its own names.
        defences: see :func:`defences_for`, e.g. ``{"fail2ban": 86400, "router_filter": ["192.0.2.0/24"]}``.

    Settings are read strictly (:func:`~simlab.exercises.common.checked_settings`): ``settings`` must
    be a dict, a switch takes ``True``/``False`` or yes/no, true/false, on/off, 1/0, an address list
    CIDR blocks, addresses or ``A-B`` ranges; bad input is a failed verdict naming it, never a traceback.
    """
    product = products.get(preset)
    if product.year > CHALLENGE_YEAR:
        old = ", ".join(p.name for p in products.PRODUCTS.values() if p.year <= CHALLENGE_YEAR)
        return Feedback(False, [t("exercise.sandbox.not_a_1998_product", year=CHALLENGE_YEAR, products=old,
                                  product=product.label)])
    settings = checked_settings(product.name, settings)
    site_server(preset, settings)
    scenario = sandbox_scenario(preset, settings, defences, **CHALLENGE)
    result = run(scenario, seed=parse_count(seed, "seed"))
    s = result.summary
    problems: list[str] = []
    if s["spam_relayed"]:
        problems.append(tn("exercise.sandbox.spam_relayed", s["spam_relayed"]))
        problems += _relayed(result)
    if s["accounts_compromised"]:
        broken = ", ".join(sorted(result.world.compromised))
        problems.append(t("exercise.sandbox.broken_into", count=s["accounts_compromised"], accounts=broken,
                          ip=GUESSER_IP))
    if s["legit_refused"] or s["legit_logins_refused"]:
        if s["legit_refused"]:
            problems.append(tn("exercise.sandbox.legit_lost", s["legit_refused"]))
        if s["legit_logins_refused"]:
            problems.append(staff_logins_refused(s["legit_logins_refused"]))
        problems += _refusals(result, LEGIT_ACTORS)
    if problems:
        return Feedback(False, problems)
    return Feedback(True, [t("exercise.sandbox.passed", preset=preset, spam_refused=s["spam_refused"],
                             login_failures=s["login_failures"], delivered=s["legit_delivered"])])

"""Lesson 05: a spammer rotating IP addresses, per-address blocking, and why allow-listing wins.

The thread's moderator once watched one person log into SMTP and relay spam
while changing IP address at random. Blocking by address - fail2ban on the
relayed-mail log lines (``per_ip_ban``), the admin adding addresses to the
router's deny list by hand (``admin_block``), or writing "please stop"
(``please_stop``) - costs the spammer one address per block. Allowing relay
only for the site's own network (EIMS 2.1 "AND if from a valid IP", SIMS
Client Hosts, Postfix ``mynetworks``; RFC 2505 §2.1) does not care how many
addresses the spammer has.

Blocking by address also has a price: it catches alice, who reads and sends
her mail from outside, when her relayed mail or a mistyped password looks
like abuse in the log.

The defences' names (:data:`DEFENCES`, :data:`SHORT_NAMES`), the feedback and :data:`SOLUTION` come from the
message catalogs (ids ``exercise.rotation.*``) in the language current when they are read.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields

from simlab import products
from simlab.addresses.networks import ClientNetworks, parse_networks
from simlab.engine.actors import LocalUser
from simlab.engine.conversation import Outcome
from simlab.engine.result import Result
from simlab.engine.world import World
from simlab.errors import ConfigError
from simlab.exercises.common import Feedback, LazyTexts, checker, lazy_constants, parse_count, staff_logins_refused
from simlab.i18n import t, tn
from simlab.scenarios import DAY, Scenario, ip_rotation, run
from simlab.scenarios.catalog import ROTATION_DEFENCES
from simlab.scenarios.site import HOSTNAME, LAN, ROAMING_IP

__all__ = ["DEFENCES", "SHORT_NAMES", "SPAMMER", "ATTACK_POOL", "rotation_day", "relay_networks_setting",
           "lost_by_sender", "relayed_spam_by_network", "bans_in_order", "pool_sweep", "check_rotation_defence",
           "SOLUTION", "EXERCISE_PRESET", "allowlist_used"]

#: The defences of :func:`simlab.scenarios.ip_rotation`, in plain words (in the language current when read).
DEFENCES = LazyTexts({"none": lambda: t("exercise.rotation.defence.none"),
                      "per_ip_ban": lambda: t("exercise.rotation.defence.per_ip_ban"),
                      "admin_block": lambda: t("exercise.rotation.defence.admin_block"),
                      "please_stop": lambda: t("exercise.rotation.defence.please_stop"),
                      "allowlist": lambda: t("exercise.rotation.defence.allowlist")})
#: The same, in two or three words (for chart labels).
SHORT_NAMES = LazyTexts({"none": lambda: t("exercise.rotation.short.none"),
                         "per_ip_ban": lambda: t("exercise.rotation.short.per_ip_ban"),
                         "admin_block": lambda: t("exercise.rotation.short.admin_block"),
                         "please_stop": lambda: t("exercise.rotation.short.please_stop"),
                         "allowlist": lambda: t("exercise.rotation.short.allowlist")})
SPAMMER = "rotating spammer"
#: The exercise's attacker: 50 addresses, a new one for every message.
ATTACK_POOL = 50

#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.rotation.solution")


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution})


@dataclass
class _CountedUser(LocalUser):
    """A member of staff whose refused messages are also counted under their own name."""

    def connect(self, world: World, server: str, service: str, script, on_end=None, ip: str | None = None,
                port: int | None = None) -> None:
        def noted(outcome: Outcome) -> None:
            if service == "smtp" and not outcome.message_accepted:
                world.counts[f"lost_by:{self.name}"] += 1
            if on_end is not None:
                on_end(outcome)

        super().connect(world, server, service, script, noted, ip, port)


def _counted(actor):
    if type(actor) is LocalUser:
        return _CountedUser(**{f.name: getattr(actor, f.name) for f in fields(actor)})
    return actor


def relay_networks_setting(preset: str) -> str | None:
    """The product setting that lists who may relay: ``valid_ips``, ``client_hosts`` or ``mynetworks``."""
    return products.get(preset).relay_allowlist_setting


def allowlist_used(preset: str, defence: str) -> bool:
    """Whether the product's relay allow-list decides anything with this defence: always where the product
    relays by the client's address (SIMS, Postfix), only with ``"allowlist"`` where the list sits next to a
    rule on the sender's domain (EIMS 2.1 "AND if from a valid IP")."""
    product = products.get(preset)
    return product.relay_allowlist_by_default or (product.can(products.RELAY_BY_CLIENT_IP) and defence == "allowlist")


def rotation_day(preset: str = "eims-2.1", defence: str = "none", pool_size: int = 50, ban_after: int = 3,
                 switch: str = "session", relay_networks: Sequence[str] | None = None, messages: int = 200,
                 duration: float = DAY) -> Scenario:
    """The IP-rotation day of :func:`simlab.scenarios.ip_rotation`, with each staff member's lost mail counted.

    Args:
        relay_networks: who may relay, in the product's own list (EIMS 2.1 ``valid_ips`` - used
            with ``defence="allowlist"`` -, SIMS ``client_hosts``, Postfix ``mynetworks``);
            ``None`` keeps the site's network, 192.0.2.0/24.
    """
    if defence not in ROTATION_DEFENCES:
        raise ConfigError("defence", defence, t("exercise.rotation.not_a_defence"),
                          t("expected.one_of", choices=", ".join(ROTATION_DEFENCES)))
    ban_after = parse_count(ban_after, "ban_after", 1, expected=t("exercise.rotation.expected_ban_after"))
    scenario = ip_rotation(preset=preset, defence=defence, pool_size=pool_size, ban_after=ban_after, switch=switch,
                           messages=messages, duration=duration)
    if relay_networks is not None:  # a list, or typed as in the panel: "192.0.2.0/24, 198.51.100.77"
        relay_networks = parse_networks(relay_networks, "relay_networks")
        setting = relay_networks_setting(preset)
        if setting is None:
            owners = ", ".join(p.name for p in products.with_capability(products.RELAY_BY_CLIENT_IP))
            raise ConfigError("relay_networks", list(relay_networks), t("exercise.rotation.no_meaning", preset=preset),
                              t("exercise.rotation.expected_relay_list_preset", owners=owners))
        scenario.settings[setting] = list(relay_networks)
    scenario.actors = [_counted(actor) for actor in scenario.actors]
    return scenario


def lost_by_sender(result: Result) -> dict[str, int]:
    """Legitimate messages lost, by who sent them: each member of staff, and the correspondents together."""
    staff = {key.removeprefix("lost_by:"): n for key, n in result.summary.items() if key.startswith("lost_by:")}
    out = {name: n for name, n in sorted(staff.items()) if n}
    others = result.summary["legit_refused"] - sum(staff.values())
    if others > 0:
        out["correspondents"] = others
    return out


def relayed_spam_by_network(result: Result) -> list[str]:
    """Sentences naming the spam still relayed, by /24 network and number of addresses used."""
    events = result.events
    if events.empty:
        return []
    rows = events[(events.command == "RCPT") & (events.reply_code == 250) & (events.host == HOSTNAME)
                  & (events.actor == SPAMMER)]
    messages: Counter[str] = Counter()
    addresses: dict[str, set[str]] = {}
    for ip in rows.client_ip:
        network = str(ipaddress.ip_network(f"{ip}/24", strict=False))
        messages[network] += 1
        addresses.setdefault(network, set()).add(ip)
    return [tn("exercise.rotation.still_relayed", n, network=network,
               addresses=tn("exercise.rotation.addresses", len(addresses[network])))
            for network, n in sorted(messages.items())]


def bans_in_order(result: Result) -> list[tuple[float, str, str]]:
    """Every ban of the run as ``(seconds into the run, address, by whom)``, in time order.

    fail2ban's bans come from its jail; the admin's hand-made blocks from the router's deny
    list, which the admin fills in the order the timeline records them.
    """
    bans = [(ban.time, ban.ip, "fail2ban") for r in result.server.restrictions for ban in getattr(r, "bans", ())]
    router = result.world.network.host("router")
    blocked = [str(r) for f in router.filters for r in f.deny]
    times = [t for t, what in result.timeline if what == "bans"]
    bans += [(t, ip, "admin") for t, ip in zip(times, blocked, strict=False)]
    return sorted(bans)


def pool_sweep(pool_sizes: Iterable[int], defences: Iterable[str] = ("per_ip_ban", "allowlist"),
               preset: str = "eims-2.1", seed: int = 1, **knobs) -> dict[str, dict[int, dict[str, int]]]:
    """Counts for each defence and pool size: ``{defence: {pool_size: summary}}`` (counts-only runs, fast)."""
    return {defence: {size: run(ip_rotation(preset=preset, defence=defence, pool_size=size, **knobs), seed=seed,
                                counts_only=True).summary for size in pool_sizes} for defence in defences}


#: The server the exercise is about: the thread's admin runs EIMS 2.1, the product whose relay rule on the
#: sender's domain the spammer's trick beats.
EXERCISE_PRESET = products.with_capability(products.RELAY_BY_SENDER_DOMAIN)[0].name


def _too_wide(relay_networks: Sequence[str] | None) -> list[str]:
    """Entries of the relay list, outside the site's network, that hold more than one address."""
    if relay_networks is None:
        return []
    lan = ipaddress.ip_network(LAN)
    wide = []
    for entry in ClientNetworks(relay_networks, setting="relay_networks"):
        inside = entry.first in lan and entry.last in lan
        size = int(entry.last) - int(entry.first) + 1
        if not inside and size > 1:
            wide.append(t("exercise.rotation.too_wide", entry=entry, size=size, ip=ROAMING_IP))
    return wide


@checker
def check_rotation_defence(preset: str, defence: str, ban_after: int = 3, relay_networks: Sequence[str] | None = None,
                           seed: int = 1) -> Feedback:
    """Run a day against a spammer rotating through 50 addresses, and judge the defence.

    The exercise is on EIMS 2.1. Passes when no spam is relayed, no member of staff loses mail
    or a login - bob on the LAN, and alice reading and sending from 198.51.100.77 -, nobody but
    the spammer is banned, and the relay list lets no outside address relay but alice's.
    ``relay_networks`` is read as every address list is (CIDR blocks, addresses, ``A-B`` ranges);
    a bad entry, defence or count is a failed verdict naming it.
    """
    if defence not in ROTATION_DEFENCES:
        return Feedback(False, [str(ConfigError("defence", defence, t("exercise.rotation.not_a_defence"),
                                                t("expected.one_of", choices=", ".join(ROTATION_DEFENCES))))])
    if relay_networks is not None:
        relay_networks = parse_networks(relay_networks, "relay_networks")
    result = run(rotation_day(preset, defence, ATTACK_POOL, ban_after, relay_networks=relay_networks),
                 seed=parse_count(seed, "seed"))
    problems = _too_wide(relay_networks) if allowlist_used(preset, defence) else []
    if preset != EXERCISE_PRESET:
        problems.insert(0, t("exercise.rotation.wrong_product", product=products.get(EXERCISE_PRESET).label,
                             preset=repr(EXERCISE_PRESET), given=repr(preset)))
    problems += relayed_spam_by_network(result)
    lost = lost_by_sender(result)
    lan_lost = lost.pop("bob (LAN)", 0)
    if lan_lost:
        problems.append(tn("exercise.rotation.lan_lost", lan_lost, lan=LAN))
    alice_lost = lost.pop("alice (roaming)", 0)
    if alice_lost:
        problems.append(tn("exercise.rotation.alice_lost", alice_lost, ip=ROAMING_IP))
    problems += [tn("exercise.rotation.legit_lost", n,
                    who=t("exercise.rotation.correspondents") if who == "correspondents" else who)
                 for who, n in lost.items()]
    if result.summary["legit_logins_refused"]:
        problems.append(staff_logins_refused(result.summary["legit_logins_refused"]))
    staff_banned = sorted({ip for _t, ip, _by in bans_in_order(result) if not ip.startswith("203.0.113.")})
    problems += [t("exercise.rotation.wrongly_banned", ip=ip) for ip in staff_banned]
    if problems:
        return Feedback(False, problems)
    return Feedback(True, [t("exercise.rotation.passed"), t("exercise.rotation.price")])


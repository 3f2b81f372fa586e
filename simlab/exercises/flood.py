"""Lesson 06: knocked offline - connection floods, process limits and Postfix's per-client limit.

A participant in the thread said that being knocked offline is scarier than
an intrusion. A flooder that holds many silent SMTP connections open fills
the server's process limit (a handful for the 1998 Mac servers, Postfix's
``default_process_limit = 100``), and then staff and correspondents are
refused too. Postfix's ``smtpd_client_connection_count_limit`` (default 50)
caps what *one* address may hold (``421 4.7.0 <host> Error: too many
connections from <addr>``); it does nothing against many addresses, and set
too low it turns away a busy legitimate sender - here the provider's
server handing over a burst of mail over several connections at once, as
an MTA does (Postfix's ``smtp`` client opens up to
``default_destination_concurrency_limit = 20`` connections to one site).

The lesson's day is :func:`simlab.scenarios.flood` shortened to four hours
(attack from the first hour to the third) so that the panel answers quickly;
its flooder retries a refused connection after ten minutes rather than one
(a flood held at the limit looks the same either way).

The feedback and :data:`SOLUTION` come from the message catalogs (ids ``exercise.flood.*``) in the
language current when they are shown; Postfix's replies and setting names stay as Postfix writes them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta

from simlab.engine.actors import RemoteMta, compose
from simlab.engine.result import Result, event_rows
from simlab.engine.world import World
from simlab.errors import ConfigError
from simlab.exercises.common import Feedback, checker, lazy_constants
from simlab.i18n import t, tn
from simlab.scenarios import HOUR, Scenario, flood, run
from simlab.scenarios.site import HOSTNAME, PROVIDER, PROVIDER_IP

__all__ = ["ProviderBurst", "BURST", "flood_day", "refused_connections", "burst_delivery", "check_flood_limits",
           "FloodTally", "flood_tally",
           "SOLUTION", "FLOODER", "ATTACK_START", "POSTFIX_CONNECTION_LIMIT", "max_sound_connection_limit",
           "MAX_CHECKED_PROCESS_LIMIT"]

FLOODER = "flooder"
BURST = "provider's burst"
#: When the flood starts (seconds into the run), as in :func:`simlab.scenarios.flood`.
ATTACK_START = HOUR
#: Postfix's default ``smtpd_client_connection_count_limit``.
POSTFIX_CONNECTION_LIMIT = 50

#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.flood.solution")


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution})


@dataclass
class ProviderBurst(RemoteMta):
    """The provider's mail server handing over ``burst`` messages at once, one connection each.

    Models a busy MTA delivering queued mail in parallel (Postfix opens up to
    ``default_destination_concurrency_limit`` connections to one destination). A refused
    connection (a 421 at the greeting) is retried every ``retry_every`` seconds - a real
    MTA keeps trying for days, so a per-client limit costs delay here, not loss.
    """

    burst: int = 10
    at: float = 1800.0

    def start(self, world: World) -> None:
        world.loop.after(self.at, self._burst, world)

    def _burst(self, world: World) -> None:
        for n in range(self.burst):
            sender = f"{self.senders[n % len(self.senders)]}@{self.domain}"
            rcpt = f"{self.recipients[n % len(self.recipients)]}@{self.to_domain}"
            lines = compose(world, self.name, sender, [rcpt], f"Newsletter part {n + 1}", ["This week's news."],
                            "legit")
            self._try(world, sender, rcpt, lines, 0)


def flood_day(preset: str = "eims-2.1", connections: int = 150, flooder_ips: int = 1,
              connection_limit: int | None = None, process_limit: int | None = None, attack_hours: float = 2.0,
              duration: float = 4 * HOUR, burst: int = 10, flooder_retry: float = 600.0) -> Scenario:
    """Four hours of :func:`simlab.scenarios.flood`, with the provider's burst of mail half an hour in.

    Args:
        connection_limit: Postfix ``smtpd_client_connection_count_limit`` (0: no limit; ``None``: 50).
        process_limit: connections served at once (``None``: the product's own).
        burst: messages the provider hands over at once (0: no burst).
        flooder_retry: seconds before the flooder retries a refused connection.
    """
    if process_limit is not None and (isinstance(process_limit, bool) or not isinstance(process_limit, int)
                                      or process_limit < 1):
        raise ConfigError("process_limit", process_limit, t("exercise.flood.not_a_process_limit"),
                          t("exercise.common.expected_count_from", low=1))
    scenario = flood(preset=preset, duration=duration, connections=connections, flooder_ips=flooder_ips,
                     attack_hours=attack_hours, connection_limit=connection_limit, process_limit=process_limit)
    for actor in scenario.actors:
        if actor.name == FLOODER:
            actor.retry_after = flooder_retry
    if burst:
        scenario.actors.append(ProviderBurst(BURST, PROVIDER, ip=PROVIDER_IP, domain="provider.test",
                                             senders=("news",), recipients=("bob", "alice", "webmaster", "info"),
                                             burst=burst, retries=48, retry_every=300.0))
    return scenario


@dataclass(frozen=True)
class FloodTally:
    """What lesson 06 reads in a run's events, counted in one pass over them (:func:`flood_tally`).

    Attributes:
        refused: connections the site refused, by who tried (see :func:`refused_connections`).
        burst_refused, burst_minutes: the provider's burst (see :func:`burst_delivery`).
        flooder_last: seconds into the run of the flooder's last event (``None``: it did nothing).
    """

    refused: Counter[str]
    burst_refused: int
    burst_minutes: float
    flooder_last: float | None


def flood_tally(result: Result) -> FloodTally:
    """:func:`refused_connections`, :func:`burst_delivery` and the flooder's last moment, in one pass over the
    run's events: a panel showing all three reads the events once, not three times."""
    refused: Counter[str] = Counter()
    burst_refused = 0
    burst_first: float | None = None
    burst_accepted: float | None = None
    flooder_last: float | None = None
    for moment, host, _client_ip, actor, command, reply_code, outcome in event_rows(result):
        if actor == FLOODER and (flooder_last is None or moment > flooder_last):
            flooder_last = moment
        if host != HOSTNAME:
            continue
        # at the process limit (no answer) or with a 421
        turned_away = command == "CONNECT" and (outcome == "refused" or reply_code == 421)
        if turned_away:
            refused[actor] += 1
        if actor == BURST:
            if burst_first is None or moment < burst_first:
                burst_first = moment
            if turned_away:
                burst_refused += 1
            elif command == "." and reply_code == 250 and (burst_accepted is None or moment > burst_accepted):
                burst_accepted = moment
    if burst_accepted is None or burst_first is None:
        minutes = float("nan")
    else:
        # as clock times (microseconds, as Result.events has them), so the minutes are exactly the table's
        first = result.start + timedelta(seconds=burst_first)
        minutes = (result.start + timedelta(seconds=burst_accepted) - first).total_seconds() / 60
    return FloodTally(refused, burst_refused, minutes, flooder_last)


def refused_connections(result: Result) -> Counter[str]:
    """Connections the site refused, by who tried: at the process limit (no answer) or with a 421."""
    return flood_tally(result).refused


def burst_delivery(result: Result) -> tuple[int, float]:
    """The provider's burst: connections refused, and minutes from the burst to its last message's acceptance."""
    tally = flood_tally(result)
    return tally.burst_refused, tally.burst_minutes


#: The largest process limit the checker simulates a flood beyond (a bigger run would be slow).
MAX_CHECKED_PROCESS_LIMIT = 1000


def max_sound_connection_limit(process_limit: int) -> int:
    """The largest per-client limit :func:`check_flood_limits` accepts: half the process limit, rounded down.

    A per-client limit exists so that one address cannot take the server; it protects only if the
    slots it keeps from that address are enough for everyone else at their busiest. Postfix's
    defaults keep exactly half (``smtpd_client_connection_count_limit = 50`` of
    ``default_process_limit = 100``), and half is what this day's legitimate peak needs on the
    smallest servers the lesson uses: the provider alone opens 10 connections at once, with staff
    and correspondents beside it. A limit of 99 of 100 leaves one slot - the flooder holds the
    server while the checker's quiet day happens not to show it.
    """
    return process_limit // 2


def _flood_problems(result: Result, process_limit: int) -> list[str]:
    """What a flood cost the site's people, in sentences (empty: nothing)."""
    s = result.summary
    problems = []
    if s["legit_refused"]:
        problems.append(tn("exercise.flood.legit_lost", s["legit_refused"], slots=process_limit))
    if s["legit_logins_refused"]:
        problems.append(tn("exercise.flood.logins_refused", s["legit_logins_refused"]))
    others = {who: n for who, n in refused_connections(result).items() if who not in (FLOODER, BURST)}
    if others:
        refused = t("exercise.common.list_separator").join(t("exercise.flood.refused_of", who=who, count=n)
                                                           for who, n in sorted(others.items()))
        problems.append(t("exercise.flood.connections_refused", refused=refused))
    return problems


@checker
def check_flood_limits(connection_limit: int, process_limit: int = 100, seed: int = 1, preset: str = "postfix"
                       ) -> Feedback:
    """Postfix against one flooding address: do these limits keep the mail flowing?

    Runs the lesson's flood of 150 connections. Passes when no legitimate mail is lost, no
    login refused, the provider's burst of mail is not turned away by the per-client limit -
    and the server would survive one address however many connections it opened: without a
    per-client limit below the process limit, the checker also runs a flood of
    ``process_limit + 50`` connections from the same address and reports what it cost.
    ``preset`` is the server: the lesson's Postfix.

    The rule for the limit itself: at most half the process limit
    (:func:`max_sound_connection_limit`), so that a flooding address holding all it may still
    leaves half the slots for the site's legitimate peak (Postfix's defaults, 50 of 100, keep
    exactly half). A limit just under the process limit (99 of 100) protects nothing even when
    the simulated day happens to lose no mail, so it fails with that reason.
    """
    if isinstance(connection_limit, bool) or not isinstance(connection_limit, int) or connection_limit < 0:
        return Feedback(False, [_bad("connection_limit", connection_limit, t("exercise.flood.not_a_limit"),
                                     t("exercise.flood.expected_connection_limit"))])
    if isinstance(process_limit, bool) or not isinstance(process_limit, int) or process_limit < 1:
        return Feedback(False, [_bad("process_limit", process_limit, t("exercise.flood.not_a_process_limit"),
                                     t("exercise.flood.expected_process_limit"))])
    if isinstance(seed, bool) or not isinstance(seed, int):
        return Feedback(False, [_bad("seed", seed, t("exercise.common.not_a_whole_number"),
                                     t("exercise.flood.expected_seed"))])
    if process_limit > MAX_CHECKED_PROCESS_LIMIT:
        return Feedback(False, [_bad("process_limit", process_limit, t("exercise.flood.too_big"),
                                     t("exercise.flood.expected_at_most", most=MAX_CHECKED_PROCESS_LIMIT))])
    try:
        result = run(flood_day(preset, 150, 1, connection_limit, process_limit), seed=seed)
    except ConfigError as exc:
        return Feedback(False, [str(exc)])
    refused = refused_connections(result)
    problems = _flood_problems(result, process_limit)
    burst_refused, minutes = burst_delivery(result)
    if burst_refused:
        problems.append(tn("exercise.flood.burst_refused", burst_refused, ip=PROVIDER_IP,
                           reply="'421 too many connections'", minutes=format(minutes, ".0f")))
    unlimited = not connection_limit or connection_limit >= process_limit
    if not problems and unlimited:
        bigger = process_limit + 50
        flood_more = run(flood_day(preset, bigger, 1, connection_limit, process_limit), seed=seed)
        why = (t("exercise.flood.no_limit") if not connection_limit else
               t("exercise.flood.limit_not_below", limit=connection_limit))
        cost = _flood_problems(flood_more, process_limit) or [t("exercise.flood.lucky")]
        problems.append(t("exercise.flood.bigger_flood", why=why, slots=process_limit, bigger=bigger,
                          cost=t("exercise.flood.cost_separator").join(cost)))
    half = max_sound_connection_limit(process_limit)
    if not unlimited and connection_limit > half:
        problems.append(t("exercise.flood.more_than_half", limit=connection_limit, slots=process_limit,
                          left=process_limit - connection_limit, half=half))
    if problems:
        return Feedback(False, problems)
    limit = connection_limit
    return Feedback(True, [t("exercise.flood.passed", limit=limit, turned_away=refused.get(FLOODER, 0),
                             slots=process_limit, free=process_limit - limit)])


def _bad(setting: str, value: object, problem: str, expected: str) -> str:
    """The sentence of a :class:`ConfigError` for a bad argument, as a checker's feedback."""
    return str(ConfigError(setting, value, problem, expected))

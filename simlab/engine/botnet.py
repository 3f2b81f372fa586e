"""Password spraying from a botnet: thousands of addresses, a few login attempts each.

Today's sequel to the thread's one-address guesser (:class:`~simlab.engine.actors.Pop3Guesser`): a
controller hands out a work list - every account name with the first password of a list of common
passwords, then every account with the second, and so on ("spraying": one password across many
accounts, rather than many passwords against one) - to ``size`` bots, each with an address of its own.
Each bot makes at most ``attempts_per_address`` attempts, ``pace`` seconds apart (with jitter), against
SMTP AUTH on the submission ports (587, 465) or POP3 (110). fail2ban users report exactly this: attacks
that use each address once or a few times, below any per-address threshold.

How the simulated bots behave (modelling choices, in the manner of distributed guessing tools):

* SMTP: ``EHLO``, ``AUTH PLAIN <user and password>``; POP3: ``USER``, ``PASS``. On a miss the bot hangs up
  without QUIT (as :class:`~simlab.engine.actors.Pop3Guesser` does; Postfix then logs ``lost connection
  after AUTH from ...``), on a hit it says QUIT.
* A pair that got no verdict - the connection dropped (a ban), ``450`` (anvil's AUTH rate limit), the
  port closed - goes back to the front of the work list for the next bot.
* A success takes that account off the work list. The attacker cannot tell a jailed or locked account
  from a wrong password (the server answers both the same way), so it goes on down the list.
* Each bot's start time, service and gaps are drawn when the run starts, bot by bot, from the botnet's own
  stream: bot *k* starts at the same time, on the same port, with the same gaps between attempts whatever
  the botnet's size or the server's defences (common random numbers); what differs is the work it is
  handed and how long the server makes it wait for each answer.

Addresses: ``203.0.113.0/24`` (RFC 5737) first, without the addresses the standard world gives other hosts,
then ``198.18.0.0/15`` (RFC 2544's benchmarking range, 131,070 hosts) for bigger botnets. 198.51.100.0/24
is left alone: the site's roaming user and the correspondents live there.

Scoring reads what an observer knows and the bot does not: whether a refused guess was the right password
(:attr:`SprayingBotnet.right_guesses_refused`), by which defence.
"""

from __future__ import annotations

import base64
import ipaddress
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from simlab.engine.actors import Actor, LocalUser
from simlab.engine.conversation import Outcome
from simlab.engine.world import World
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.reply import Pop3Reply

__all__ = ["SprayingBotnet", "StaffMember", "bot_addresses", "BOTNET_RANGES", "MAX_BOTS", "SERVICES", "SPRAY_COUNTS"]

#: The ranges bots take their addresses from, in order.
BOTNET_RANGES = ("203.0.113.0/24", "198.18.0.0/15")
#: Addresses of 203.0.113.0/24 the standard world already gives other hosts (scenarios.site): never a bot's.
_TAKEN = frozenset({"203.0.113.2", "203.0.113.50", "203.0.113.66", "203.0.113.111", "203.0.113.226"})
_FIRST = tuple(f"203.0.113.{n}" for n in range(1, 255) if f"203.0.113.{n}" not in _TAKEN)
_BENCHMARK = ipaddress.ip_network("198.18.0.0/15")
#: The most bots the two ranges hold.
MAX_BOTS = len(_FIRST) + _BENCHMARK.num_addresses - 2
#: The counts a botnet run adds to the summary (``first_compromise_s`` too: -1 until an account falls).
SPRAY_COUNTS = ("spray_attempts", "spray_failed", "spray_success", "spray_refused_fail2ban", "spray_refused_anvil",
                "spray_refused_other", "right_guesses_refused_jail", "right_guesses_refused_lockout",
                "right_guesses_refused_other", "account_bans", "lockouts", "penalty_wait_s", "postscreen_dropped")
#: The services a bot can attack, by port: SMTP AUTH on submission (587) and submissions (465), POP3 (110).
SERVICES = {587: "smtp", 465: "smtp", 110: "pop3"}


def bot_addresses(count: int) -> list[str]:
    """The first ``count`` bot addresses: 203.0.113.x (minus the world's own hosts), then 198.18.0.1 onward."""
    _check_size(count)
    return [_bot_address(k) for k in range(count)]


def _check_size(count: object) -> None:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_BOTS:
        raise ConfigError("botnet_size", count, t("spraying.error.not_a_botnet_size"),
                          t("spraying.expected.whole_between", low=1, high=MAX_BOTS))


_BASE = int(_BENCHMARK.network_address)


def _bot_address(k: int) -> str:
    """Bot ``k``'s address (from 0): the ``k``-th of :func:`bot_addresses`, without building the list.

    The dotted quad is written from the integer directly: ``str(ipaddress.IPv4Address(n))`` writes the same
    text at several times the cost, and a big botnet names thousands of them."""
    if k < len(_FIRST):
        return _FIRST[k]
    n = _BASE + k - len(_FIRST) + 1
    return f"{n >> 24}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@dataclass
class SprayingBotnet(Actor):
    """``size`` bots sharing one password-spraying work list (see the module docstring).

    Args:
        server: the mail host attacked.
        size: bots, one address each.
        attempts_per_address: most attempts a bot makes.
        pace: mean seconds between one bot's attempts (each gap drawn from 0.5 to 1.5 times it).
        start_spread: the bots start at random within this many seconds after ``at``.
        at: when the campaign starts.
        users: the account names sprayed, in order.
        passwords: the password list, commonest first.
        services: ports attacked (587, 465, 110); each bot picks one.
        tally_at: when to copy the defences' own counts (account bans, lockouts, penalty waits) into the
            summary: the run's end.
    """

    server: str = "mail.example.com"
    size: int = 2000
    attempts_per_address: int = 3
    pace: float = 600.0
    start_spread: float = 3600.0
    at: float = 3600.0
    users: Sequence[str] = ("admin", "info")
    passwords: Sequence[str] = ("123456", "password")
    services: Sequence[int] = (587, 465, 110)
    tally_at: float = 86400.0

    def start(self, world: World) -> None:
        for key in SPRAY_COUNTS:
            world.counts[key] += 0
        world.counts["first_compromise_s"] = -1
        world.loop.at(self.tally_at - 1e-3, self._tally, world)
        _check_size(self.size)  # each bot's address is named when it first attempts (most never do)
        self._ips: dict[int, str] = {}
        self._work: deque[tuple[str, str]] = deque((user, password) for password in self.passwords
                                                   for user in self.users)
        self._cracked: set[str] = set()
        self._host = world.network.host(self.server)
        #: the server's passwords by account, for scoring only (is a refused guess the right one?)
        self._truth = {name.lower(): secret for name, secret in self._host.server.accounts.items()}
        #: right passwords refused, by the defence that refused them (scoring, not the attacker's knowledge)
        self.right_guesses_refused: dict[str, int] = {}
        random = world.stream(f"{self.name}/schedule").random
        services, at, spread, pace = tuple(self.services), self.at, self.start_spread, self.pace
        choices, gaps = len(services), range(self.attempts_per_address - 1)
        starts = []
        for k in range(self.size):  # the draws, bot by bot, in this order: start, port, gaps
            start = at + random() * spread
            port = services[int(random() * choices)]
            starts.append((start, k, port, tuple([pace * (0.5 + random()) for _ in gaps])))
        # The bots join one after another: one event in the loop for the next start, not one per bot (a big
        # botnet's thousands of starts would sit in the heap all day, most of them finding the work list done).
        # The run is the one an event per bot scheduled here gives: the bots start in the order of their
        # times, those due at the same moment (start_spread=0: all of them) in one event, in the order of k,
        # scheduled here as theirs were. Only another event due at exactly a later bot's start time - a
        # time drawn at random, to the 53 bits of a float - could see the order differ.
        starts.sort()
        self._starts, self._joined, self._in_flight = starts, 0, 0
        world.loop.at(starts[0][0], self._join, world)

    def _join(self, world: World) -> None:
        """The bots due now start; the next start is put in the loop, unless the spray is over: the work list
        is empty and no attempt is still waiting for its answer (only an answer puts a pair back)."""
        starts, n = self._starts, self._joined
        now = starts[n][0]
        end = n + 1
        while end < len(starts) and starts[end][0] == now:
            end += 1
        self._joined = end
        if end < len(starts) and (self._work or self._in_flight):
            world.loop.at(starts[end][0], self._join, world)
        for _start, k, port, plan in starts[n:end]:
            self._attempt(world, k, port, plan, 0)

    def _tally(self, world: World) -> None:
        """The defences' own counts, into the summary (jails, locks, penalty waits, postscreen's drops)."""
        counts = world.counts
        for restriction in self._host.server.restrictions:
            counts["account_bans"] += len(getattr(restriction, "account_bans", ()))
            counts["lockouts"] += getattr(restriction, "lockouts", 0)
            counts["penalty_wait_s"] += int(getattr(restriction, "waited", 0))
            counts["postscreen_dropped"] += getattr(restriction, "dropped", 0)

    # --- the work list ------------------------------------------------------------------------
    def _next_pair(self) -> tuple[str, str] | None:
        work, cracked = self._work, self._cracked
        while work:
            pair = work.popleft()
            if pair[0] not in cracked:
                return pair
        return None

    # --- one attempt ------------------------------------------------------------------------------
    def _attempt(self, world: World, k: int, port: int, plan: tuple[float, ...], n: int) -> None:
        pair = self._next_pair()
        if pair is None:
            return  # the work list is done: the bot goes quiet
        user, password = pair
        ip = self._ips.get(k)
        if ip is None:
            ip = self._ips[k] = _bot_address(k)
        world.counts["spray_attempts"] += 1
        service = SERVICES[port]
        if service == "smtp":
            token = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
            helo = f"[{ip}]"

            def script(greeting):
                if greeting is None or getattr(greeting, "code", 0) != 220:
                    return
                yield f"EHLO {helo}"
                reply = yield f"AUTH PLAIN {token}"
                if reply.code == 235:
                    yield "QUIT"
                # a miss: hang up at once (Postfix logs "lost connection after AUTH"), as guessing tools do
        else:
            def script(greeting):
                if greeting is None or not greeting.ok:
                    return
                yield f"USER {user}"
                reply = yield f"PASS {password}"
                if reply.ok:
                    yield "QUIT"

        def done(outcome: Outcome) -> None:
            self._in_flight -= 1
            self._scored(world, ip, user, password, service, outcome)
            if n < len(plan):
                world.loop.after(plan[n], self._attempt, world, k, port, plan, n + 1)

        self._in_flight += 1
        self.connect(world, self.server, service, script, done, ip=ip, port=port)

    def _scored(self, world: World, ip: str, user: str, password: str, service: str, outcome: Outcome) -> None:
        counts = world.counts
        reply = outcome.reply_to("AUTH" if service == "smtp" else "PASS")
        if not outcome.connected or reply is None:
            self._work.appendleft((user, password))  # no verdict: someone tries it again
            counts["spray_refused_fail2ban" if self._banned(ip, world.loop.now) else "spray_refused_other"] += 1
            return
        ok = reply.ok if isinstance(reply, Pop3Reply) else reply.code == 235
        if ok:
            if user not in self._cracked:
                self._cracked.add(user)
                world.compromised.add(user)
                world.mark("spray_success")
                if counts.get("first_compromise_s", -1) < 0:
                    counts["first_compromise_s"] = int(world.loop.now - self.at)
            return
        if not isinstance(reply, Pop3Reply) and reply.code == 450:
            self._work.appendleft((user, password))  # anvil's AUTH rate limit: try again later
            counts["spray_refused_anvil"] += 1
            return
        counts["spray_failed"] += 1
        if self._truth.get(user.lower()) == password:
            by = self._denied_by(user, world.loop.now)
            self.right_guesses_refused[by] = self.right_guesses_refused.get(by, 0) + 1
            counts[f"right_guesses_refused_{by}"] += 1

    def _banned(self, ip: str, now: float) -> bool:
        return any(getattr(r, "jail", None) is not None and hasattr(r, "is_banned") and r.is_banned(ip, now)
                   for r in self._host.server.restrictions)

    def _denied_by(self, user: str, now: float) -> str:
        for restriction in self._host.server.restrictions:
            if hasattr(restriction, "is_jailed") and restriction.is_jailed(user, now):
                return "jail"
            locked = getattr(restriction, "locked_until", {}).get(user.lower())
            if locked is not None and now < locked:
                return "lockout"
        return "other"


@dataclass
class StaffMember(LocalUser):
    """A member of staff (:class:`~simlab.engine.actors.LocalUser`) whose refused logins are all counted.

    A POP3 check whose password is refused counts as a legitimate login refused (as for every local user);
    so does, here, a submission whose ``AUTH`` is refused - what a locked-out colleague sees when sending.
    """

    def connect(self, world: World, server: str, service: str, script, on_end=None, ip: str | None = None,
                port: int | None = None) -> None:
        if service == "smtp" and self.use_auth:
            inner = on_end

            def on_end(outcome: Outcome) -> None:
                reply = outcome.reply_to("AUTH")
                if reply is not None and reply.code == 235:
                    world.counts["logins_ok"] += 1
                elif outcome.connected:
                    world.mark("legit_logins_refused")
                if inner is not None:
                    inner(outcome)
        super().connect(world, server, service, script, on_end, ip, port)


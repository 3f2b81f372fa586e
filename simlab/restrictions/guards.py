"""Defences against password guessing.

* :class:`AccountLockout` - lock an account after ``max_failures`` failed
  logins in a row, for ``lock_seconds``. It stops a guesser, and it also
  lets anyone lock a real user out: a small denial of service.
* :class:`FailureDelay` - Dovecot's ``auth_failure_delay`` (2 s) with its
  per-address penalty that doubles 2 → 4 → 8 → 15 s (the maximum), cleared by
  a successful login from that address; ``login_trusted_networks`` are
  exempt. The simulation does not sleep: the delay is put on the reply for
  the traffic engine to honour.
* :class:`Fail2Ban` - fail2ban's jail, fed by the server's own log lines:
  ``maxretry`` matches within ``findtime`` ban the address for ``bantime``
  (defaults 5, 600 s, 600 s), optionally growing with ``bantime.increment``
  (×1, ×2, ×4 …). It counts per address, so an attacker with a pool of
  addresses spreads guesses below the threshold (fail2ban's README: it
  lowers the rate of guessing, it does not remove the risk of weak
  passwords). A banned address is dropped by the firewall: no banner.
  :func:`recidive` builds the long-ban jail that reads the other jails' bans.
  Given a stock filter (``Fail2Ban(filter="postfix", mode="auth")``, or a
  name in :data:`FILTERS` that points to one, such as ``"dovecot"``), it
  matches with fail2ban's own regexes, read from the filter files simlab
  ships (:mod:`simlab.restrictions.fail2ban_filters`); a plain ``failregex``
  with ``<HOST>`` (the 1998 products' filters) is one regex, as before.
"""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from simlab.addresses.networks import ClientNetworks
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.policy import Dropped, Pop3Context, Restriction, SmtpContext
from simlab.protocol.reply import Pop3Reply
from simlab.restrictions.fail2ban_filters import Fail2BanFilter, StockFilter, load_filter

__all__ = ["AccountLockout", "FailureDelay", "Fail2Ban", "Ban", "FILTERS", "recidive"]


def _positive(value: object, setting: str, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(setting, value, t("restriction.error.not_positive"),
                          t("restriction.expected.number_positive"))
    return value


class AccountLockout(Restriction):
    """Lock an account after ``max_failures`` consecutive failed POP3 logins."""

    name = "account lockout"

    def __init__(self, max_failures: int = 5, lock_seconds: float = 900.0) -> None:
        self.max_failures = int(_positive(max_failures, "lockout.max_failures"))
        self.lock_seconds = _positive(lock_seconds, "lockout.lock_seconds")
        self.failures: dict[str, int] = {}
        self.locked_until: dict[str, float] = {}
        self.lockouts = 0

    def check_pop3_login(self, ctx: Pop3Context, user: str) -> Pop3Reply | None:
        key = user.lower()
        until = self.locked_until.get(key)
        if until is not None and ctx.now < until:
            return ctx.server.persona.pop3_locked_out(user)
        if until is not None:
            del self.locked_until[key]
            self.failures[key] = 0
        return None

    def on_pop3_login(self, ctx: Pop3Context, user: str, ok: bool) -> float:
        key = user.lower()
        if ok:
            self.failures[key] = 0
            return 0.0
        self.failures[key] = self.failures.get(key, 0) + 1
        if self.failures[key] >= self.max_failures:
            self.locked_until[key] = ctx.now + self.lock_seconds
            self.lockouts += 1
        return 0.0

    def describe(self) -> str:
        return t("restriction.lockout.describe", seconds=format(self.lock_seconds, "g"), failures=self.max_failures)


class FailureDelay(Restriction):
    """Dovecot-like failure delay with a per-address penalty (2, 4, 8, 15 s)."""

    name = "failure delay"

    def __init__(self, base: float = 2.0, maximum: float = 15.0, trusted: Iterable[str] | str = (),
                 penalty_timeout: float = 3600.0) -> None:
        self.base = _positive(base, "auth_failure_delay")
        self.maximum = _positive(maximum, "auth_failure_delay.maximum")
        self.trusted = ClientNetworks(trusted, setting="login_trusted_networks")
        self.penalty_timeout = penalty_timeout
        self.penalties: dict[str, tuple[int, float]] = {}

    def on_pop3_login(self, ctx: Pop3Context, user: str, ok: bool) -> float:
        if any(getattr(r, "replaces_failure_delay", False) for r in ctx.server.restrictions):
            return 0.0  # a finer model of the same Dovecot delay is on this server (restrictions.logins)
        ip = str(ctx.client_ip)
        if ok or ctx.client_ip in self.trusted:
            self.penalties.pop(ip, None)
            return 0.0
        count, last = self.penalties.get(ip, (0, ctx.now))
        if ctx.now - last > self.penalty_timeout:
            count = 0
        count += 1
        self.penalties[ip] = (count, ctx.now)
        return min(self.base * 2 ** (count - 1), self.maximum)

    def describe(self) -> str:
        return t("restriction.failure_delay.describe", base=format(self.base, "g"), maximum=format(self.maximum, "g"))


#: fail2ban-style filters by name: a ``failregex`` with ``<HOST>``, or a
#: :class:`~simlab.restrictions.fail2ban_filters.StockFilter` that points to one of fail2ban's stock filters.
#: Each product module registers the filters for the log lines it writes (:mod:`simlab.products`).
FILTERS: dict[str, str] = {}


def _stock(pattern: str) -> StockFilter | None:
    """The stock filter ``pattern`` is, or whose one-regex text it is (a product's log pattern after
    ``Product.pattern()`` made it a plain string)."""
    if isinstance(pattern, StockFilter):
        return pattern
    return next((f for f in FILTERS.values() if isinstance(f, StockFilter) and f == pattern), None)


@dataclass(frozen=True)
class Ban:
    """One ban: when, whom, for how long, by which jail."""

    time: float
    ip: str
    seconds: float
    jail: str


def _single_regex(failregex: str, pattern: str) -> re.Pattern:
    if "<HOST>" not in pattern:
        raise ConfigError("failregex", failregex, t("restriction.fail2ban.error.no_host"),
                          t("restriction.fail2ban.expected.regex_or_filter", filters=list(FILTERS)))
    try:
        return re.compile(pattern.replace("<HOST>", r"(?P<host>[0-9A-Fa-f.:]+)"))
    except re.error as exc:
        raise ConfigError("failregex", failregex, t("restriction.fail2ban.error.not_a_regex", reason=exc),
                          t("restriction.fail2ban.expected.regex")) from None


def _dropped_by(jail: str) -> str:
    """Why a banned client saw no banner, worded when read (a module-level function: a Dropped still pickles)."""
    return t("restriction.fail2ban.dropped", jail=jail)


class Fail2Ban(Restriction):
    """A fail2ban jail reading this server's log.

    Args:
        jail: the jail's name (for the ban log).
        failregex: a regular expression with ``<HOST>`` where the address is, or the name of one of
            :data:`FILTERS`. A name that points to a stock filter (``"dovecot"``, ``"postfix-sasl"``,
            ``"postfix"``, ``"exim"``) reads the log with that filter's own regexes.
        filter, mode: one of fail2ban's stock filters simlab ships, by name, and its ``mode``: what
            ``filter = postfix[mode=auth]`` says in ``jail.local`` (``Fail2Ban(filter="postfix", mode="auth")``).
            It takes the place of ``failregex``.
        maxretry, findtime, bantime: as in ``jail.conf``.
        increment: ``bantime.increment``: each further ban of an address
            lasts ``bantime * 2**(n-1)`` (capped by ``maxtime``).
        ignoreip: networks never banned.
        services: ``"smtp"``, ``"pop3"``: the ports the ban action closes.
    """

    name = "fail2ban"

    def __init__(self, jail: str = "pop3", failregex: str = "eims-pop3", maxretry: int = 5, findtime: float = 600,
                 bantime: float = 600, increment: bool = False, maxtime: float = 7 * 86400,
                 ignoreip: Iterable[str] | str = (), services: Iterable[str] | str = ("smtp", "pop3"),
                 filter: str | None = None, mode: str | None = None) -> None:
        #: The stock filter this jail reads the log with, or None for a single ``failregex``.
        self.filter: Fail2BanFilter | None = None
        self.regex: re.Pattern | None = None
        if filter is not None:
            self.filter = load_filter(filter, mode)
        elif mode is not None:
            raise ConfigError("mode", mode, t("restriction.fail2ban.error.needs_filter"),
                              t("restriction.fail2ban.expected.stock_filter"))
        else:
            pattern = FILTERS.get(failregex, failregex)
            stock = _stock(pattern) if isinstance(pattern, str) else None
            if stock is not None:
                self.filter = stock.load()
            else:
                self.regex = _single_regex(failregex, pattern)
        self.jail = jail
        self.maxretry = int(_positive(maxretry, "maxretry"))
        self.findtime = _positive(findtime, "findtime")
        self.bantime = _positive(bantime, "bantime")
        self.increment = increment
        self.maxtime = maxtime
        self.ignoreip = ClientNetworks(ignoreip, setting="ignoreip")
        self.services = {services} if isinstance(services, str) else set(services)
        self.failures: dict[str, deque[float]] = {}
        self.banned_until: dict[str, float] = {}
        self.ban_counts: dict[str, int] = {}
        self.bans: list[Ban] = []
        #: fail2ban's own log (``fail2ban.actions``), separate from the mail server's.
        self.log: list[str] = []
        #: Called with ``(ban, server)`` after each ban (the recidive jail listens here).
        self.ban_listeners: list = []

    def host_in(self, line: str) -> str | None:
        """The address ``line`` reports a failure for, or None (what fail2ban's filter finds)."""
        if self.filter is not None:
            return self.filter.host(line)
        match = self.regex.search(line)
        return match.group("host") if match else None

    def on_log(self, server, line: str, now: float) -> None:
        ip = self.host_in(line)
        if ip is None:
            return
        if ip in self.ignoreip or self.is_banned(ip, now):
            return
        times = self.failures.setdefault(ip, deque())
        times.append(now)
        while times and now - times[0] > self.findtime:
            times.popleft()
        if len(times) >= self.maxretry:
            self.ban(ip, now, server)

    def ban(self, ip: str, now: float, server=None) -> Ban:
        """Ban ``ip`` from ``now`` (also used by an admin banning by hand)."""
        n = self.ban_counts.get(ip, 0) + 1
        self.ban_counts[ip] = n
        seconds = min(self.bantime * 2 ** (n - 1), self.maxtime) if self.increment else self.bantime
        self.banned_until[ip] = now + seconds
        self.failures.pop(ip, None)
        ban = Ban(now, ip, seconds, self.jail)
        self.bans.append(ban)
        when = server.clock.datetime(now) if server is not None else None
        stamp = f"{when:%Y-%m-%d %H:%M:%S},000 " if when is not None else ""
        self.log.append(f"{stamp}fail2ban.actions        [1000]: NOTICE  [{self.jail}] Ban {ip}")
        for listener in self.ban_listeners:
            listener(ban, server)
        return ban

    def is_banned(self, ip: object, now: float) -> bool:
        until = self.banned_until.get(str(ip))
        return until is not None and now < until

    def check_connect(self, ctx: SmtpContext) -> Dropped | None:
        if "smtp" in self.services and self.is_banned(ctx.client_ip, ctx.now):
            return Dropped(functools.partial(_dropped_by, self.jail))
        return None

    def check_pop3_connect(self, ctx: Pop3Context) -> Dropped | None:
        if "pop3" in self.services and self.is_banned(ctx.client_ip, ctx.now):
            return Dropped(functools.partial(_dropped_by, self.jail))
        return None

    def describe(self) -> str:
        words = {"jail": self.jail, "bantime": format(self.bantime, "g"), "maxretry": self.maxretry,
                 "findtime": format(self.findtime, "g")}
        if self.increment:
            return t("restriction.fail2ban.describe.growing", **words)
        return t("restriction.fail2ban.describe", **words)


def recidive(jails: Iterable[Fail2Ban], maxretry: int = 5, findtime: float = 86400,
             bantime: float = 7 * 86400) -> Fail2Ban:
    """fail2ban's ``recidive`` jail: bans an address banned ``maxretry`` times within a day, for a week.

    It reads the other jails' bans (their log), as the real one reads ``fail2ban.log``.
    """
    jail = Fail2Ban(jail="recidive", failregex=r"\] Ban <HOST>$", maxretry=maxretry, findtime=findtime,
                    bantime=bantime)
    for source in jails:
        source.ban_listeners.append(lambda ban, server: jail.on_log(server, f"[{ban.jail}] Ban {ban.ip}", ban.time))
    return jail

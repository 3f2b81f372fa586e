"""Defences that act on logins themselves, wherever they come from: POP3 and SMTP AUTH alike.

On a Postfix + Dovecot server every password check is Dovecot's: POP3 logins
go to ``pop3-login``, and Postfix's ``smtpd`` hands SMTP AUTH to Dovecot's
auth service (``smtpd_sasl_type = dovecot``), passing the client's address
(``rip=``). So what Dovecot's auth process does applies to ports 587, 465 and
110 at once. A :class:`LoginGuard` is such a piece of the auth process; the
Dovecot sessions of :mod:`simlab.products.dovecot` consult it (``denies_login``
before answering, ``on_login`` after each attempt, for its delay).

* :class:`DovecotAuthPenalty` - Dovecot 2.3's ``auth_failure_delay`` (2 s) and
  its per-address auth penalty, as ``src/auth/auth-penalty.c``,
  ``auth-penalty.h``, ``auth-request-handler.c`` and ``src/anvil/penalty.c``
  write it (see the class).
* :class:`AccountJail` - a fail2ban jail that counts failures *per account*:
  the filter's failure id is the user name (fail2ban's ``<F-ID>`` tag; filter
  ``simlab/data/fail2ban/filter.d/simlab-login-user.conf``), and its action puts
  the account in a Dovecot passdb that lets it log in only from the site's own
  networks (Dovecot's ``allow_nets`` passdb field) until ``bantime`` ends.
  Both pieces are documented features; putting them together is simlab's
  modelling choice.
* :class:`LoginLockout` - :class:`~simlab.restrictions.guards.AccountLockout`
  (lock an account after ``max_failures`` failures in a row) for SMTP AUTH as
  well as POP3. Neither Postfix nor Dovecot has such a setting (a modelling
  choice, like a directory's account-lockout policy); a locked account is
  refused like a wrong password, the real owner included.

A denied login is answered exactly as a wrong password is - Dovecot's
``-ERR [AUTH] Authentication failed.``, Postfix's ``535 5.7.8`` - and logged
the same way, so the attacker learns nothing from it, and neither does the
per-address fail2ban jail reading the log.
"""

from __future__ import annotations

import zlib
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

from simlab.addresses.networks import ClientNetworks
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.policy import Pop3Context, Restriction, SmtpContext
from simlab.restrictions.fail2ban_filters import load_filter
from simlab.restrictions.guards import AccountLockout

__all__ = ["LoginGuard", "DovecotAuthPenalty", "AccountJail", "AccountBan", "LoginLockout", "login_checksum",
           "USER_FILTER", "AUTH_PENALTY_INIT_SECS", "AUTH_PENALTY_MAX_SECS", "AUTH_PENALTY_MAX_PENALTY",
           "AUTH_PENALTY_TIMEOUT", "penalty_to_secs"]

#: The per-account fail2ban filter simlab ships (``simlab/data/fail2ban/filter.d/simlab-login-user.conf``).
USER_FILTER = "simlab-login-user"

# Dovecot 2.3 src/auth/auth-penalty.h
AUTH_PENALTY_INIT_SECS = 2
AUTH_PENALTY_MAX_SECS = 15
#: "how long it takes for penalty to be irrelevant": 2 + 4 + 8 + 15 = 29 s (anvil forgets the address then).
AUTH_PENALTY_TIMEOUT = AUTH_PENALTY_INIT_SECS + 4 + 8 + AUTH_PENALTY_MAX_SECS
AUTH_PENALTY_MAX_PENALTY = 4
#: src/anvil/penalty.c: a record keeps up to 10 checksums of recent user+password pairs.
CHECKSUM_VALUE_PTR_COUNT = 10


def login_checksum(user: str | None, password: str | None) -> int:
    """Dovecot's ``get_userpass_checksum``: CRC-32 of the password, continued over the user name (0: none)."""
    if password is None:
        return 0
    return zlib.crc32((user or "").encode("utf-8", "surrogateescape"),
                      zlib.crc32(password.encode("utf-8", "surrogateescape"))) or 1


def penalty_to_secs(penalty: int) -> int:
    """``auth_penalty_to_secs``: 2 s doubled ``penalty`` times, at most 15 s (0 → 2, 1 → 4, 2 → 8, 3+ → 15)."""
    secs = AUTH_PENALTY_INIT_SECS
    for _ in range(penalty):
        secs *= 2
    return min(secs, AUTH_PENALTY_MAX_SECS)


def _number(value: object, setting: str, whole: bool = False, allow_zero: bool = False) -> float:
    ok = isinstance(value, int) if whole else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(setting, value, t("spraying.error.not_positive"),
                          t("spraying.expected.whole_positive") if whole
                          else (t("spraying.expected.number_from_zero") if allow_zero
                                else t("spraying.expected.number_positive")))
    return value


class LoginGuard(Restriction):
    """A piece of the auth service: it may deny a login and may delay the answer.

    Subclasses override :meth:`denies_login` (called with the account a correct password named, before the
    server says yes) and :meth:`on_login` (after every attempt; returns seconds to wait before answering).
    POP3 reaches them through the ordinary POP3 hooks; SMTP AUTH through the Dovecot SASL session.
    """

    name = "login guard"

    def denies_login(self, server, account: str, client_ip, service: str, now: float) -> bool:
        return False

    def on_login(self, ctx: SmtpContext | Pop3Context, user: str, service: str, ok: bool, checksum: int) -> float:
        return 0.0

    def on_pop3_login(self, ctx: Pop3Context, user: str, ok: bool) -> float:
        return self.on_login(ctx, user, "pop3", ok, getattr(ctx, "login_checksum", 0))


@dataclass
class _Penalty:
    """One address's record in Dovecot's anvil (``struct penalty_rec``)."""

    penalty: int = 0
    last_penalty: float = 0.0
    last_update: float = 0.0
    checksums: tuple[int, ...] = ()


class DovecotAuthPenalty(LoginGuard):
    """Dovecot 2.3's failure delay and per-address auth penalty, for POP3 and (through SASL) SMTP AUTH.

    What Dovecot does, step by step (``auth-request-handler.c``, ``auth-penalty.c``, ``anvil/penalty.c``):

    1. Before an authentication starts, the auth process asks anvil for the client address's penalty
       (``PENALTY-GET``). Time forgives, by a loop that compares the seconds since the penalty last rose
       with ``auth_penalty_to_secs(4)``, ``(3)``, ``(2)``, ``(1)`` = 15, 15, 8, 4 s in turn, dropping one
       step per threshold passed and stopping at the first one not passed: since it starts at 15 s, less
       than 15 s of quiet forgives nothing and 15 s forgive everything. If a penalty is left, the request
       waits ``auth_penalty_to_secs(penalty)`` seconds (1 → 4 s, 2 → 8 s, 3 or 4 → 15 s) before it is checked.
    2. A failure raises the address's penalty by one (at most ``AUTH_PENALTY_MAX_PENALTY`` = 4) - unless the
       same user and password were tried from there recently (anvil keeps 10 checksums per address: "most
       likely a user with a misconfigured account") - and is answered after ``auth_failure_delay`` (2 s).
    3. A success resets the address's penalty to 0.
    4. anvil forgets an address ``AUTH_PENALTY_TIMEOUT`` = 29 s after its last update.

    Addresses are keyed whole for IPv4 (IPv6: the first 48 bits). Clients in ``trusted`` are exempt (as
    simlab's :class:`~simlab.restrictions.guards.FailureDelay` has it for ``login_trusted_networks``).

    Args:
        failure_delay: ``auth_failure_delay`` in seconds (Dovecot's default 2).
        trusted: networks with no penalty.
    """

    name = "Dovecot auth penalty"
    #: On a server that also carries :class:`~simlab.restrictions.guards.FailureDelay` (the presets' simpler
    #: model of the same Dovecot delay, with an hour's memory), that one steps aside: the delay is this one's.
    replaces_failure_delay = True

    def __init__(self, failure_delay: float = 2.0, trusted: Iterable[str] | str = ()) -> None:
        self.failure_delay = _number(failure_delay, "auth_failure_delay", allow_zero=True)
        self.trusted = ClientNetworks(trusted, setting="login_trusted_networks")
        self.records: dict[str, _Penalty] = {}
        #: Seconds of penalty wait imposed, in all (for results).
        self.waited = 0.0
        #: Attempts that had to wait.
        self.delayed = 0

    @staticmethod
    def ident(client_ip) -> str:
        ip = client_ip
        if getattr(ip, "version", 4) == 6:
            packed = bytearray(ip.packed)
            packed[6:] = bytes(10)
            return str(type(ip)(bytes(packed)))
        return str(ip)

    def lookup(self, ident: str, now: float) -> int:
        """``PENALTY-GET`` and the forgiveness loop of ``auth_penalty_anvil_callback``."""
        record = self.records.get(ident)
        if record is None:
            return 0
        if now - (record.last_penalty + record.last_update) >= AUTH_PENALTY_TIMEOUT:
            del self.records[ident]  # anvil's expiry
            return 0
        penalty, drop = record.penalty, AUTH_PENALTY_MAX_PENALTY
        while penalty > 0:
            if now - record.last_penalty < penalty_to_secs(drop):
                break
            drop -= 1
            penalty -= 1
        return penalty

    def update(self, ident: str, value: int, checksum: int, now: float) -> None:
        """``auth_penalty_update`` → anvil's ``penalty_inc``."""
        value = min(value, AUTH_PENALTY_MAX_PENALTY)
        record = self.records.setdefault(ident, _Penalty())
        if value == 0 or checksum == 0:
            record.penalty, record.last_penalty = value, now
        elif checksum in record.checksums:
            record.penalty = value - 1  # the same user+password again: no rise
            record.checksums = (checksum, *(c for c in record.checksums if c != checksum))
        else:
            record.checksums = (checksum, *record.checksums)[:CHECKSUM_VALUE_PTR_COUNT]
            record.penalty, record.last_penalty = value, now
        record.last_update = now - record.last_penalty

    def on_login(self, ctx, user: str, service: str, ok: bool, checksum: int) -> float:
        if ctx.client_ip in self.trusted:
            return 0.0
        ident, now = self.ident(ctx.client_ip), ctx.now
        penalty = self.lookup(ident, now)
        wait = float(penalty_to_secs(penalty)) if penalty else 0.0
        if wait:
            self.waited += wait
            self.delayed += 1
        if ok:
            if penalty:  # auth_request_handler_reply_success_finish: reset only a penalty there was
                self.update(ident, 0, 0, now + wait)
            return wait
        self.update(ident, penalty + 1, checksum, now + wait)
        return wait + self.failure_delay

    def describe(self) -> str:
        return t("spraying.describe.auth_penalty", delay=format(self.failure_delay, "g"), timeout=AUTH_PENALTY_TIMEOUT)


@dataclass(frozen=True)
class AccountBan:
    """One account jailed: when, which account, until when."""

    time: float
    account: str
    seconds: float


class AccountJail(LoginGuard):
    """fail2ban counting failed logins per *account*, and an action that stops that account logging in from outside.

    The filter (``simlab-login-user.conf``, shipped with simlab) reads the same lines as the stock
    ``dovecot`` and ``postfix[mode=auth]`` filters, but its failure id is the user name (fail2ban's
    ``<F-ID>``), so fail2ban counts ``maxretry`` failures within ``findtime`` per account, whichever addresses
    they came from. Its action (ours, a modelling choice) writes the account to a Dovecot passwd-file passdb
    that returns ``allow_nets=<allow_nets>`` for it: until ``bantime`` ends, the account logs in only from
    those networks (the site's LAN) - from anywhere else even its right password is refused, as a wrong one
    is. Because Postfix asks Dovecot for SMTP AUTH, this covers ports 587 and 465 as well as POP3.

    Args:
        maxretry, findtime, bantime: as in ``jail.local`` (defaults 5, 3600 s, 3600 s - our choice: with
            Debian's 10-minute window a slow spray, a few tries per account per 10 minutes, stays under it,
            and with its 10-minute ban the account opens again before the spray has passed over its list).
        allow_nets: where a jailed account may still log in from (the site's own networks).
    """

    name = "per-account jail"

    def __init__(self, maxretry: int = 5, findtime: float = 3600.0, bantime: float = 3600.0,
                 allow_nets: Iterable[str] | str = ()) -> None:
        self.filter = load_filter(USER_FILTER)
        self.maxretry = int(_number(maxretry, "account_jail.maxretry", whole=True))
        self.findtime = _number(findtime, "account_jail.findtime")
        self.bantime = _number(bantime, "account_jail.bantime")
        self.allow_nets = ClientNetworks(allow_nets, setting="account_jail.allow_nets")
        self.failures: dict[str, deque[float]] = {}
        self.jailed_until: dict[str, float] = {}
        self.account_bans: list[AccountBan] = []
        #: Logins with the right password refused because the account was jailed.
        self.refused = 0
        #: fail2ban's own log (``fail2ban.actions``).
        self.log: list[str] = []

    def user_in(self, line: str) -> str | None:
        """The account ``line`` reports a failed login for (fail2ban's failure id), or None."""
        groups = self.filter.match(line)
        return groups.get("fid") if groups else None

    def on_log(self, server, line: str, now: float) -> None:
        if "auth failed" not in line and "authentication failed" not in line:
            return  # each of the filter's failregexes needs one of the two (a shortcut past most lines)
        user = self.user_in(line)
        if user is None:
            return
        key = user.lower()
        if self.is_jailed(key, now):
            return  # fail2ban ignores failures of an id it has banned
        times = self.failures.setdefault(key, deque())
        times.append(now)
        while times and now - times[0] > self.findtime:
            times.popleft()
        if len(times) >= self.maxretry:
            self.jail(key, now, server)

    def jail(self, account: str, now: float, server=None) -> AccountBan:
        self.jailed_until[account] = now + self.bantime
        self.failures.pop(account, None)
        ban = AccountBan(now, account, self.bantime)
        self.account_bans.append(ban)
        when = server.clock.datetime(now) if server is not None else None
        stamp = f"{when:%Y-%m-%d %H:%M:%S},000 " if when is not None else ""
        self.log.append(f"{stamp}fail2ban.actions        [1000]: NOTICE  [dovecot-user] Ban {account}")
        return ban

    def is_jailed(self, account: str, now: float) -> bool:
        until = self.jailed_until.get(account.lower())
        return until is not None and now < until

    def denies_login(self, server, account: str, client_ip, service: str, now: float) -> bool:
        if self.is_jailed(account, now) and client_ip not in self.allow_nets:
            self.refused += 1
            return True
        return False

    def describe(self) -> str:
        return t("spraying.describe.account_jail", maxretry=self.maxretry, findtime=format(self.findtime, "g"),
                 bantime=format(self.bantime, "g"), nets=self.allow_nets or t("spraying.describe.nowhere"))


class LoginLockout(AccountLockout, LoginGuard):
    """Lock an account after ``max_failures`` failed logins in a row - POP3 and SMTP AUTH counted together.

    While locked, every login of the account is refused, the owner's too, exactly as a wrong password is
    (no line of its own in the log). A success before the threshold resets the count. Anyone who knows
    an account's name can therefore keep it locked: the denial of service the thread's participant feared.
    """

    name = "account lockout"

    def __init__(self, max_failures: int = 5, lock_seconds: float = 1800.0) -> None:
        super().__init__(max_failures, lock_seconds)
        #: Logins with the right password refused because the account was locked.
        self.refused = 0

    def check_pop3_login(self, ctx: Pop3Context, user: str):
        return None  # decided in denies_login, so the refusal reads as a wrong password

    def denies_login(self, server, account: str, client_ip, service: str, now: float) -> bool:
        key = account.lower()
        until = self.locked_until.get(key)
        if until is not None and now < until:
            self.refused += 1
            return True
        if until is not None:
            del self.locked_until[key]
            self.failures[key] = 0
        return False

    def on_login(self, ctx, user: str, service: str, ok: bool, checksum: int) -> float:
        key = user.lower()
        until = self.locked_until.get(key)
        if until is not None and ctx.now < until:
            return 0.0  # attempts on a locked account do not extend the lock
        if until is not None:  # the lock has run out: count afresh
            del self.locked_until[key]
            self.failures[key] = 0
        return AccountLockout.on_pop3_login(self, ctx, user, ok)

    def on_pop3_login(self, ctx: Pop3Context, user: str, ok: bool) -> float:
        return self.on_login(ctx, user, "pop3", ok, 0)

    def describe(self) -> str:
        return t("spraying.describe.lockout", seconds=format(self.lock_seconds, "g"), failures=self.max_failures)

"""Password spraying from a botnet against SMTP AUTH (587, 465) and POP3, and the defences that do or do not hold.

The thread's first case was one address guessing POP3 passwords (:func:`~simlab.scenarios.catalog.wrong_password`).
Today's sequel: thousands of addresses, a few attempts each (:class:`~simlab.engine.botnet.SprayingBotnet`),
on the ``postfix`` preset (Postfix 3.7 with Dovecot, submission on 587 and submissions on 465). Staff keep
reading mail (POP3) and sending it (587 with AUTH) all day, so a defence that locks them out shows as
``legit_logins_refused``: bob and the sales desk (the shared ``sales`` mailbox) every 15 minutes and the
webmaster every 30 from the LAN, alice every 20 minutes from outside, where she also submits mail hourly.

Defences (``defences=``), each by its product's name:

* ``"fail2ban"`` - per-address jails as Debian's ``jail.conf`` has them: ``[postfix-sasl]`` (filter
  ``postfix[mode=auth]``) and ``[dovecot]``, ``maxretry = 5``, ``findtime = 10m``, ``bantime = 10m``
  (:class:`~simlab.restrictions.guards.Fail2Ban`).
* ``"anvil"`` - Postfix's ``smtpd_client_auth_rate_limit`` (AUTH commands per client and service per
  ``anvil_rate_time_unit`` = 60 s): ``450 4.7.1 Error: too many AUTH commands from <addr>``.
* ``"auth_penalty"`` - Dovecot's per-address auth penalty and ``auth_failure_delay``
  (:class:`~simlab.restrictions.logins.DovecotAuthPenalty`).
* ``"account_jail"`` - fail2ban counting per account (:class:`~simlab.restrictions.logins.AccountJail`):
  ``maxretry`` failures within ``jail_findtime`` (an hour) shut the account to everyone outside the site's LAN
  for ``jail_bantime`` (an hour).
* ``"lockout"`` - lock an account after ``lockout_after`` failures in a row, for ``lockout_seconds``, for everyone
  (:class:`~simlab.restrictions.logins.LoginLockout`).
* ``"postscreen"`` - Postfix's postscreen(8) with a DNS blocklist that lists the bots: it guards port 25 only
  (:class:`~simlab.restrictions.postscreen.Postscreen`), so against this attack it refuses nothing.

``summary`` adds: ``spray_attempts``, ``spray_failed``, ``spray_success``, ``spray_refused_fail2ban``,
``spray_refused_anvil``, ``spray_refused_other``, ``right_guesses_refused_jail`` /
``_lockout`` / ``_other`` (a right password the server refused, and who refused it), ``account_bans``,
``lockouts``, ``penalty_wait_s``, ``postscreen_dropped`` and ``first_compromise_s`` (seconds from the
campaign's start to the first account lost; -1: none was).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from simlab.engine.botnet import MAX_BOTS, SERVICES, SPRAY_COUNTS, SprayingBotnet, StaffMember
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.base import POP3, SMTP_AUTH
from simlab.restrictions.guards import Fail2Ban
from simlab.restrictions.logins import AccountJail, DovecotAuthPenalty, LoginLockout
from simlab.restrictions.postscreen import Postscreen
from simlab.scenarios.base import DAY, HOUR, Scenario
from simlab.scenarios.catalog import ServerArg, _scenario, _site, locals_knobs
from simlab.scenarios.site import ACCOUNTS

__all__ = ["password_spraying", "spraying_sweep", "DEFENCES", "SPRAY_USERS", "SPRAY_PASSWORDS", "WEAK_PASSWORDS",
           "SPRAY_ACCOUNTS", "SPRAY_KEYS", "first_compromise"]

DEFENCES = ("fail2ban", "anvil", "auth_penalty", "account_jail", "lockout", "postscreen")

#: The names a spraying botnet tries: role accounts every site has, and staff names read off the web site.
SPRAY_USERS = ("admin", "info", "webmaster", "sales", "support", "office", "contact", "bob", "alice", "postmaster",
               "test", "mail", "hr", "billing", "marketing", "noreply")
#: Common passwords, commonest first (our own list, in the manner of the lists such tools ship).
SPRAY_PASSWORDS = ("123456", "password", "123456789", "qwerty", "12345678", "111111", "1234567", "welcome",
                   "abc123", "letmein", "Password1", "monkey", "dragon", "sunshine", "iloveyou", "princess",
                   "football", "admin", "master", "qwerty123", "welcome1", "Summer2026", "Winter2026", "Spring2026",
                   "Autumn2026", "passw0rd", "trustno1", "baseball", "shadow", "superman", "michael", "Company123",
                   "changeme", "Password123", "hello123", "secret", "mail2026", "login", "starwars", "zaq12wsx")
#: Which accounts have a password on the list, and at which rank (1: the list's first).
WEAK_PASSWORDS = {"info": 8, "sales": 17, "webmaster": 31}
#: The site's accounts for this lesson (the standard site's, with three more role accounts).
SPRAY_ACCOUNTS = {**ACCOUNTS, "sales": "Ledger-Blue-77", "support": "Kettle&Fern19", "office": "Granite.Moss.4"}
#: The counts this scenario adds to the summary (always present).
SPRAY_KEYS = (*SPRAY_COUNTS, "first_compromise_s")


def _whole(name: str, value: object, low: int = 1, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        expected = (t("spraying.expected.whole_between", low=low, high=high) if high is not None
                    else t("spraying.expected.whole_from", low=low))
        raise ConfigError(name, value, t("spraying.error.not_allowed_whole"), expected)
    return value


def _seconds(name: str, value: object, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(name, value, t("spraying.error.not_duration"),
                          t("spraying.expected.seconds_from_zero") if allow_zero
                          else t("spraying.expected.seconds_positive"))
    return float(value)


def _names(name: str, values: object, what: str) -> tuple[str, ...]:
    """``what``: the things listed, already worded (``t("spraying.account_names")``)."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ConfigError(name, values, t("spraying.error.not_a_list_of", what=what),
                          t("spraying.expected.list_such_as", example=repr(["admin", "info"])))
    out = tuple(values)
    if not out or any(not isinstance(v, str) or not v or any(c in v for c in " \t\0") for v in out):
        raise ConfigError(name, values, t("spraying.error.not_a_list_of", what=what),
                          t("spraying.expected.without_spaces", what=what))
    return out


def _defences(defences: object) -> tuple[str, ...]:
    if isinstance(defences, str):
        defences = (defences,) if defences else ()
    if not isinstance(defences, Iterable):
        raise ConfigError("defences", defences, t("spraying.error.not_defences"),
                          t("exercise.spraying.expected_defences", defences=", ".join(DEFENCES)))
    out = tuple(defences)
    for defence in out:
        if defence not in DEFENCES:
            raise ConfigError("defences", defence, t("exercise.spraying.not_a_defence"),
                              t("expected.one_of", choices=", ".join(DEFENCES)))
    return out


def _weak(weak: object, passwords: tuple[str, ...]) -> dict[str, int]:
    if not isinstance(weak, Mapping):
        raise ConfigError("weak_passwords", weak, t("spraying.error.not_a_mapping"),
                          t("spraying.expected.weak_passwords", example="{'info': 8}"))
    for account, rank in weak.items():
        if not isinstance(account, str) or not account:
            raise ConfigError("weak_passwords", account, t("spraying.error.not_an_account"),
                              t("spraying.expected.account", example="'info'"))
        _whole(f"weak_passwords[{account!r}]", rank, 1, len(passwords))
    return dict(weak)


def password_spraying(preset: str | None = None, duration: float = DAY, botnet_size: int = 2000,
                      attempts_per_address: int = 3, pace: float = 600.0, start_spread: float = HOUR,
                      users: Sequence[str] = SPRAY_USERS, passwords: Sequence[str] = SPRAY_PASSWORDS,
                      weak_passwords: Mapping[str, int] = WEAK_PASSWORDS, services: Sequence[int] = (587, 465, 110),
                      defences: Sequence[str] = (), maxretry: int = 5, findtime: float = 600.0,
                      bantime: float = 600.0, auth_rate_limit: int = 2, jail_findtime: float = HOUR,
                      jail_bantime: float = HOUR,
                      lockout_after: int = 5, lockout_seconds: float = 1800.0, server: ServerArg = None) -> Scenario:
    """A botnet sprays common passwords over the site's account names on 587, 465 and 110.

    Args:
        preset: the product on the standard site (default ``"postfix"``); or give ``server``.
        duration: seconds watched (the campaign starts an hour in).
        botnet_size: bots, one address each (1 to 131,319: 203.0.113.0/24, then RFC 2544's 198.18.0.0/15).
        attempts_per_address: most attempts one bot makes.
        pace: mean seconds between one bot's attempts; start_spread: bots join within this many seconds.
        users: the account names sprayed; passwords: the list, commonest first.
        weak_passwords: ``{account: rank}``: that account's password is the list's entry at ``rank``.
        services: ports attacked: 587 (submission), 465 (submissions), 110 (POP3).
        defences: any of :data:`DEFENCES`.
        maxretry, findtime, bantime: the per-address fail2ban jails (Debian's jail.conf: 5, 10m, 10m).
        auth_rate_limit: ``smtpd_client_auth_rate_limit`` (per client and service per 60 s) for ``"anvil"``.
        jail_findtime, jail_bantime: the per-account jail's window and ban (an hour each: a slow spray stays
            under the per-address jails' 10-minute window, one account at a time too).
        lockout_after, lockout_seconds: the account lockout's threshold and length.
        server: any server built by a preset (or a function returning one), instead of ``preset``.
    """
    site = _site("postfix", preset, server)
    preset = site.product.name
    product, names = site.product, site.names
    duration = _seconds("duration", duration)
    _whole("botnet_size", botnet_size, 1, MAX_BOTS)
    _whole("attempts_per_address", attempts_per_address)
    _seconds("pace", pace)
    _seconds("start_spread", start_spread, allow_zero=True)
    users = _names("users", users, t("spraying.account_names"))
    passwords = _names("passwords", passwords, t("spraying.passwords"))
    weak = _weak(weak_passwords, passwords)
    if isinstance(services, int | str) or not isinstance(services, Iterable) or not tuple(services):
        raise ConfigError("services", services, t("spraying.error.not_ports"),
                          t("spraying.expected.some_ports", ports="587, 465, 110"))
    services = tuple(services)
    for port in services:
        if isinstance(port, bool) or port not in SERVICES:
            raise ConfigError("services", port, t("spraying.error.not_attacked_port"),
                              t("expected.one_of", choices="587, 465, 110"))
    chosen = _defences(defences)
    _whole("maxretry", maxretry)
    _seconds("findtime", findtime)
    _seconds("bantime", bantime)
    if any(SERVICES[p] == "smtp" for p in services):
        product.require(SMTP_AUTH, "services")
    if 110 in services:
        product.require(POP3, "services")

    settings: dict = {}
    base_accounts = dict(site.base["accounts"]) if site.given else dict(SPRAY_ACCOUNTS)
    if not site.given:
        settings["accounts"] = base_accounts
    for account, rank in weak.items():
        base_accounts[account] = passwords[rank - 1]
    if site.given:
        site.base["accounts"] = base_accounts
    if 465 in services:
        _needs_setting(product, "submissions", "services", t("spraying.needs.port_465"))
        settings["submissions"] = True
    restrictions: list = []
    if "postscreen" in chosen:
        _needs_setting(product, "master_cf_submission", "defences", t("spraying.needs.postscreen"))
        restrictions.append(Postscreen(listed=["203.0.113.0/24", "198.18.0.0/15"], site_ip=names.address))
    if "fail2ban" in chosen:
        jails = ((("postfix-sasl", "auth_failure"),) if any(SERVICES[p] == "smtp" for p in services) else ()) + (
            (("dovecot", "pop3_failure"),) if 110 in services else ())
        for jail, event in jails:  # the jails for the lines the attacked services write
            restrictions.append(Fail2Ban(jail=jail, failregex=product.pattern(event), maxretry=maxretry,
                                         findtime=findtime, bantime=bantime, services=("smtp", "pop3")))
    if "account_jail" in chosen:
        restrictions.append(AccountJail(maxretry=maxretry, findtime=_seconds("jail_findtime", jail_findtime),
                                        bantime=_seconds("jail_bantime", jail_bantime), allow_nets=[names.lan]))
    if "lockout" in chosen:
        restrictions.append(LoginLockout(_whole("lockout_after", lockout_after),
                                         _seconds("lockout_seconds", lockout_seconds)))
    if "auth_penalty" in chosen:
        restrictions.append(DovecotAuthPenalty())
    if "anvil" in chosen:
        _needs_setting(product, "smtpd_client_auth_rate_limit", "defences", t("spraying.needs.anvil"))
        settings["smtpd_client_auth_rate_limit"] = _whole("auth_rate_limit", auth_rate_limit)

    submission_port = product.auth_submission_port()  # alice submits with AUTH where the product has a port for it
    actors = [
        StaffMember("bob (LAN)", "pc-bob", account="bob", password=base_accounts.get("bob", ""),
                    domain=names.domain, server=names.hostname, send_every=2 * HOUR, check_every=15 * 60,
                    recipients=("carol@remote.test",)),
        StaffMember("sales desk (LAN)", "pc-webmaster", account="sales", password=base_accounts.get("sales", ""),
                    domain=names.domain, server=names.hostname, send_every=0, check_every=15 * 60),
        StaffMember("webmaster (LAN)", "pc-webmaster", account="webmaster",
                    password=base_accounts.get("webmaster", ""), domain=names.domain, server=names.hostname,
                    send_every=0, check_every=30 * 60),
        StaffMember("alice (roaming)", "roaming", account="alice", password=base_accounts.get("alice", ""),
                    domain=names.domain, server=names.hostname, send_every=HOUR, check_every=20 * 60,
                    recipients=("carol@remote.test",), use_auth=submission_port is not None, port=submission_port),
        SprayingBotnet("botnet", "attacker", server=names.hostname, size=botnet_size,
                       attempts_per_address=attempts_per_address, pace=pace, start_spread=start_spread, at=HOUR,
                       users=users, passwords=passwords, services=services, tally_at=duration),
    ]
    knobs = dict(locals_knobs(locals()))
    for key in ("chosen", "weak", "base_accounts", "jail", "jails", "event", "account", "rank", "port",
                "submission_port"):
        knobs.pop(key, None)
    return _scenario(site, "password_spraying", "Password spraying from a botnet", settings, actors, duration,
                     restrictions=restrictions, knobs=knobs)


def _needs_setting(product, setting: str, knob: str, what: str) -> None:
    """``what``: the feature, already worded (it is the error's value)."""
    if setting not in product.setting_names:
        raise ConfigError(knob, what, t("spraying.error.not_in_product", product=product.label,
                                        setting=setting),
                          t("spraying.expected.postfix_preset", preset="postfix"))


def first_compromise(summary: Mapping[str, int]) -> float | None:
    """Seconds from the campaign's start to the first account lost, or None when none was."""
    value = summary.get("first_compromise_s", -1)
    return None if value is None or value < 0 else float(value)


def spraying_sweep(sizes: Sequence[int] = (1, 10, 100, 1000, 2000, 10000), seeds: Sequence[int] = (1,),
                   executor="serial", **knobs):
    """The scenario over botnet sizes (:func:`simlab.sweep`): one row per size and seed, with
    ``first_compromise_min`` (minutes, NaN when no account fell) beside the counts."""
    from simlab.sweep import sweep

    table = sweep(password_spraying, [{**knobs, "botnet_size": size} for size in sizes], seeds=seeds,
                  executor=executor)
    table["first_compromise_min"] = [value / 60 if value >= 0 else float("nan")
                                   for value in table["first_compromise_s"]]
    return table

"""Lesson 01 (S1): stop the POP3 password guesser without locking the roaming user out.

The thread's admin saw ``POP3 wrong password for webmaster from ...`` lines
and feared a break-in. The lines record *refused* guesses; a guess that
works writes no error line at all. The defences the thread named - restrict
POP3 by client address in the server (EIMS 2.1 IP Range Restriction) or at
the router - and today's additions (account lockout, fail2ban, Dovecot's
failure delay) are all knobs of :func:`guessing_day`, which both the lesson's
panel and :func:`check_no_break_in` run.

The feedback and :data:`SOLUTION` come from the message catalogs (ids ``exercise.password.*``) in the
language current when they are shown; the log lines and replies they quote stay as the products wrote them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any, NamedTuple

from simlab import products
from simlab.addresses.networks import parse_networks
from simlab.engine.result import Result, event_rows
from simlab.errors import ConfigError
from simlab.exercises.common import Feedback, checker, lazy_constants, parse_count, parse_switch
from simlab.i18n import t, tn
from simlab.restrictions.access import RouterFilter
from simlab.scenarios import run, wrong_password
from simlab.scenarios.base import DAY, Scenario
from simlab.scenarios.site import ACCOUNTS, LAN, ROAMING_IP

__all__ = ["guessing_day", "break_ins", "BreakIn", "staff_refusals", "check_no_break_in", "STRONG_PASSWORDS", "STAFF",
           "SOLUTION"]

#: The site's accounts once nobody's password is the account's own name.
STRONG_PASSWORDS = {**ACCOUNTS, "webmaster": "c0rrect-h0rse", "info": "b4ttery-st4ple"}
#: The staff in every scenario, with the address each reads mail from.
STAFF = {"bob (LAN)": "192.0.2.101", "alice (roaming)": ROAMING_IP}


def _ranges(value: Any, setting: str) -> list[str] | None:
    """The allowed ranges of a defence that is off (``None``, ``False``, ``"no"``), the LAN (``True``, ``"yes"``),
    or a list of ranges, from a list or from text as a student types it (``"a, b c"``; read by
    :func:`simlab.addresses.networks.parse_networks` as every address field is)."""
    if value is None:
        return None
    if isinstance(value, bool) or (isinstance(value, int) and value in (0, 1)) or (
            isinstance(value, str) and value.strip().lower() in _SWITCH_WORDS):
        return [LAN] if parse_switch(value, setting) else None
    items = parse_networks(value, setting)
    if not items:
        raise ConfigError(setting, value, t("exercise.password.no_range"),
                          t("exercise.password.expected_range", example="'192.0.2.1-192.0.2.254'"))
    return items


_SWITCH_WORDS = frozenset({"yes", "no", "true", "false", "on", "off"})


def guessing_day(preset: str = "eims-2.1", *, ip_range_restriction: Iterable[str] | str | bool | None = None,
                 router_filter: Iterable[str] | str | bool | None = None, lockout: int = 0, fail2ban: bool = False,
                 bantime: float = 600.0, failure_delay: bool = False, strong_passwords: bool = False,
                 guesser_ips: int = 1, pace: float = 120.0, duration: float = DAY) -> Scenario:
    """The S1 day (:func:`simlab.scenarios.wrong_password`) with the defences named as the products name them.

    Args:
        ip_range_restriction: EIMS 2.1 IP Range Restriction on POP3: the allowed ranges (``None``: off;
            ``True``: the LAN only).
        router_filter: the networks the router lets through to POP3 (``None``: no filter; ``True``: LAN only).
        lockout: lock an account for 30 minutes after this many failed logins (0 or False: off; True: 5).
        fail2ban, bantime: fail2ban's POP3 jail (5 failures in 10 minutes) and how long a ban lasts, in seconds.
        failure_delay: Dovecot's failure delay with its per-address penalty.
        strong_passwords: give webmaster and info passwords that are not their own names.
        guesser_ips, pace: the guesser's pool of addresses and seconds between guesses.
    """
    product = products.get(preset)
    ip_range_restriction = _ranges(ip_range_restriction, "ip_range_restriction")
    router_filter = _ranges(router_filter, "router_filter")
    if isinstance(lockout, bool):  # as in the sandbox: True is 5 failures
        lockout = 5 if lockout else 0
    lockout = parse_count(lockout, "lockout", 0, expected=t("exercise.password.expected_lockout"))
    fail2ban = parse_switch(fail2ban, "fail2ban")
    failure_delay = parse_switch(failure_delay, "failure_delay")
    strong_passwords = parse_switch(strong_passwords, "strong_passwords")
    guesser_ips = parse_count(guesser_ips, "guesser_ips", 1, 100)
    bantime = _seconds(bantime, "bantime")
    pace = _seconds(pace, "pace")
    if ip_range_restriction is not None and not product.can(products.IP_RANGE_RESTRICTION):
        owners = ", ".join(repr(p.name) for p in products.with_capability(products.IP_RANGE_RESTRICTION))
        raise ConfigError("ip_range_restriction", preset, t("exercise.password.no_ip_range_restriction"),
                          t("exercise.password.expected_ip_range_product", owners=owners or "none"))
    scenario = wrong_password(preset=preset, duration=duration, guesser_ips=guesser_ips, pace=pace,
                              pop3_ip_restriction=ip_range_restriction is not None,
                              router_filter=router_filter is not None, lockout=lockout,
                              fail2ban=fail2ban, bantime=bantime, failure_delay=failure_delay)
    if ip_range_restriction is not None:
        scenario.settings.update(product.ip_range("pop3", ip_range_restriction))
    if router_filter is not None:
        scenario.router_filters = [RouterFilter(allow=router_filter, services=("pop3",))]
    if strong_passwords:
        scenario.settings["accounts"] = dict(STRONG_PASSWORDS)
    return scenario


def _seconds(value: Any, setting: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0 or value == float("inf"):
        raise ConfigError(setting, value, t("exercise.password.not_a_time"), t("exercise.password.expected_seconds"))
    return float(value)


class BreakIn(NamedTuple):
    """A login by the guesser that worked: which account, from where, when."""

    account: str
    client_ip: str
    time: datetime

    def __str__(self) -> str:
        return t("exercise.password.break_in", account=self.account, client_ip=self.client_ip,
                 time=self.time.strftime("%H:%M"))


def break_ins(result: Result, actor: str = "guesser") -> list[BreakIn]:
    """Each POP3 login of ``actor`` that got ``+OK`` to PASS."""
    found = []
    for record in result.transcripts:
        if record.actor != actor or record.service != "pop3":
            continue
        user = next((line[8:] for line in record.lines if line.startswith("C: USER ")), None)
        if user and _logged_in(record.lines):
            found.append(BreakIn(user, record.client_ip, result.start + timedelta(seconds=record.start)))
    return found


def _logged_in(lines: Sequence[str]) -> bool:
    return any(line.startswith("C: PASS") and nxt.startswith("S: +OK") for line, nxt in pairwise(lines))


def staff_refusals(result: Result, staff: Iterable[str] = tuple(STAFF)) -> Counter[str]:
    """How many times each member of staff failed to read their mail (refused, dropped, or locked out)."""
    refused: Counter[str] = Counter()
    staff = tuple(staff)
    for record in result.transcripts:
        if record.actor in staff and record.service == "pop3" and not _logged_in(record.lines):
            refused[record.actor] += 1
    # connections the router filtered never reach a server, so they leave no dialogue
    refused.update(row.actor for row in event_rows(result, command="CONNECT", actor=staff,
                                                   outcome=("filtered", "down", "refused")))
    return refused


def _feedback_lines(result: Result) -> tuple[list[str], list[str]]:
    problems, facts = [], []
    fell = break_ins(result)
    if fell:
        where = t("exercise.common.list_separator").join(str(b) for b in fell)
        problems.append(tn("exercise.password.broken_into", len(fell), where=where))
    refused = staff_refusals(result)
    for actor, count in sorted(refused.items()):
        problems.append(tn("exercise.password.could_not_read", count, actor=actor, ip=STAFF.get(actor, "?")))
    s = result.summary
    failed, ok = tn("exercise.password.failed_logins", s["login_failures"]), tn("exercise.password.staff_logins",
                                                                                 s["logins_ok"])
    if s.get("bans"):
        facts.append(t("exercise.password.day_with_bans", failed=failed, ok=ok,
                       bans=tn("exercise.password.bans", s["bans"])))
    else:
        facts.append(t("exercise.password.day", failed=failed, ok=ok))
    return problems, facts


#: The keywords of :func:`check_no_break_in`'s defences.
DEFENCE_NAMES = ("ip_range_restriction", "router_filter", "lockout", "fail2ban", "bantime", "failure_delay")


@checker
def check_no_break_in(preset: str = "eims-2.1", seed: int = 1, guesser_ips: int = 1, **defences: Any) -> Feedback:
    """Run the guessing day with ``defences`` (the keywords of :func:`guessing_day`) and judge it.

    Passes when no account is broken into and no member of staff - bob on the LAN,
    alice roaming at 198.51.100.77 - is refused when reading mail. Passwords may not
    be changed in this exercise (``strong_passwords`` is refused). Switches (``fail2ban``,
    ``failure_delay``) take ``True``/``False`` or yes/no, true/false, on/off, 1/0; a bad value is a
    failed verdict naming it.
    """
    if "strong_passwords" in defences and parse_switch(defences["strong_passwords"], "strong_passwords"):
        return Feedback(False, [t("exercise.password.keep_passwords")])
    unknown = sorted(set(defences) - {*DEFENCE_NAMES, "strong_passwords"})
    if unknown:
        return Feedback(False, [t("exercise.password.not_a_defence", names=", ".join(unknown),
                                  defences=", ".join(DEFENCE_NAMES))])
    result = run(guessing_day(preset, guesser_ips=guesser_ips, **defences), seed=parse_count(seed, "seed"))
    problems, facts = _feedback_lines(result)
    if problems:
        return Feedback(False, problems + facts)
    return Feedback(True, [t("exercise.password.passed"), *facts])


#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.password.solution")


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution})

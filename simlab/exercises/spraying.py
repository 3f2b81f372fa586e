"""Lesson 10: password spraying from a botnet, and which defence holds.

The thread's first case was one address guessing POP3 passwords; fail2ban-style bans on that address
stop it. A botnet sprays instead: 2,000 addresses, three attempts each, one common password across every
account name before the next. Per-address defences - fail2ban's ``[postfix-sasl]`` and ``[dovecot]``
jails, anvil's ``smtpd_client_auth_rate_limit``, Dovecot's auth penalty - never see enough from any one
address. Counting per *account* holds (:class:`~simlab.restrictions.logins.AccountJail`,
:class:`~simlab.restrictions.logins.LoginLockout`); the lockout also locks the staff out.

The exercise: choose defences that lose no account to the 2,000-address botnet and refuse fewer staff
logins than the lockout does.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from simlab.exercises.common import Feedback, checker
from simlab.scenarios import run
from simlab.scenarios.spraying import DEFENCES, first_compromise, password_spraying

__all__ = ["DEFENCE_NAMES", "SIZES", "EXERCISE_SIZE", "spraying_day", "size_sweep", "check_spraying_defence",
           "SOLUTION", "COSTS_KEYS", "staff_refusals", "BOTNET"]

#: The botnet's actor name in events and transcripts.
BOTNET = "botnet"

#: The defences of :func:`simlab.scenarios.password_spraying`, in plain words.
DEFENCE_NAMES = {
    "fail2ban": "fail2ban per address ([postfix-sasl], [dovecot])",
    "anvil": "Postfix anvil: smtpd_client_auth_rate_limit",
    "auth_penalty": "Dovecot auth penalty (2 s doubling to 15 s)",
    "account_jail": "fail2ban per account (jail the user name)",
    "lockout": "account lockout after 5 failures",
    "postscreen": "postscreen on port 25",
}
#: The botnet sizes the lesson's sweep runs.
SIZES = (1, 10, 100, 1000, 2000, 10000)
#: The exercise's botnet.
EXERCISE_SIZE = 2000
#: What each run is scored on.
COSTS_KEYS = ("accounts_compromised", "legit_logins_refused", "spray_attempts", "spray_refused_fail2ban",
              "spray_refused_anvil", "bans", "account_bans", "lockouts")

SOLUTION = """Count per account, not per address, and leave the site's own network out of it:

    check_spraying_defence(["account_jail"])

The 2,000 bots make three attempts each, so no address ever reaches fail2ban's maxretry of 5 in
10 minutes, and anvil's AUTH limit and Dovecot's penalty (which 15 quiet seconds clear) never see two
attempts close together. Every account, though, is tried about twice a minute: the per-account jail
shuts each one after its fifth failure, for an hour, and the right passwords of info, sales and
webmaster come while their accounts are shut - refused like wrong ones, so the bots go on down the
list. The jail's action still lets the account in from the LAN (192.0.2.0/24), so bob and the
webmaster keep reading mail; alice, outside, is refused while her account is jailed.

What fails:
  ["fail2ban"], ["anvil"], ["auth_penalty"], ["postscreen"], or all four: the three weak accounts
    fall all the same (postscreen guards only port 25; the bots use 587, 465 and 110).
  ["lockout"]: no account falls, but every sprayed account is locked, from everywhere - bob on the
    LAN included: more staff logins refused than with the jail.

A jail cannot save a password near the top of the list: with weak_passwords={"info": 3} the third
try is right, before the fifth failure shuts the account. Only not having such a password does."""


def spraying_day(defences: Sequence[str] = (), botnet_size: int = EXERCISE_SIZE, attempts_per_address: int = 3,
                 **knobs):
    """The lesson's day: :func:`~simlab.scenarios.password_spraying` on the standard Postfix site."""
    return password_spraying(botnet_size=botnet_size, attempts_per_address=attempts_per_address,
                             defences=tuple(defences), **knobs)


def size_sweep(defence_sets: dict[str, Sequence[str]], sizes: Iterable[int] = SIZES, seed: int = 1,
               attempts_per_address: int = 3, pace: float = 600.0) -> dict[str, list[dict]]:
    """For each named set of defences, one summary per botnet size: ``{name: [summary, ...]}`` in size order,
    each with ``botnet_size`` and ``first_compromise_min`` (minutes; None when no account fell) added."""
    out: dict[str, list[dict]] = {}
    for name, defences in defence_sets.items():
        rows = []
        for size in sizes:
            summary = dict(run(spraying_day(defences, size, attempts_per_address, pace=pace), seed=seed,
                               counts_only=True, transcripts=False).summary)
            seconds = first_compromise(summary)
            summary["botnet_size"] = size
            summary["first_compromise_min"] = None if seconds is None else seconds / 60
            rows.append(summary)
        out[name] = rows
    return out


def staff_refusals(result) -> dict[str, int]:
    """Staff logins refused, by member of staff: POP3 sessions that never logged in, submissions whose AUTH
    was refused (from the run's transcripts; a typo put right in the same session is not a refusal)."""
    out: dict[str, int] = {}
    for record in result.transcripts:
        if record.actor == BOTNET:
            continue
        lines = record.lines
        if record.service == "pop3":
            tried = any(line.startswith("C: PASS") for line in lines)
            refused = tried and not any(line.startswith("S: +OK Logged in") for line in lines)
            label = record.actor
        else:
            refused = any(line.startswith("C: AUTH") for line in lines) and not any(
                line.startswith("S: 235") for line in lines)
            label = f"{record.actor}, sending"
        if refused:
            out[label] = out.get(label, 0) + 1
    return out


@checker
def check_spraying_defence(defences: Sequence[str], botnet_size: int = EXERCISE_SIZE, seed: int = 1) -> Feedback:
    """Pass when the defences lose no account to the botnet and refuse fewer staff logins than a lockout does."""
    if isinstance(defences, str):
        defences = [defences]
    unknown = [d for d in defences if d not in DEFENCES]
    if unknown:
        return Feedback(False, [f"defences: {unknown[0]!r} is not a defence; expected some of "
                                f"{', '.join(DEFENCES)}"])
    result = run(spraying_day(defences, botnet_size), seed=seed, counts_only=True).summary
    lockout = run(spraying_day(("lockout",), botnet_size), seed=seed, counts_only=True).summary
    problems = []
    lost, refused = result["accounts_compromised"], result["legit_logins_refused"]
    if lost:
        problems.append(f"{lost} account(s) fell to the {botnet_size}-address botnet (the first after "
                        f"{first_compromise(result) / 60:.0f} minutes): no single address sent enough to be "
                        "noticed - count per account, not per address")
    if refused >= lockout["legit_logins_refused"]:
        problems.append(f"{refused} staff logins were refused - no fewer than a plain lockout's "
                        f"{lockout['legit_logins_refused']}: let the site's own network in")
    if problems:
        return Feedback(False, problems)
    return Feedback(True, [f"no account lost to {botnet_size} addresses, and {refused} staff login(s) refused "
                           f"against the lockout's {lockout['legit_logins_refused']}"])

"""Lesson 10: password spraying from a botnet, and which defence holds.

The thread's first case was one address guessing POP3 passwords; fail2ban-style bans on that address
stop it. A botnet sprays instead: 2,000 addresses, three attempts each, one common password across every
account name before the next. Per-address defences - fail2ban's ``[postfix-sasl]`` and ``[dovecot]``
jails, anvil's ``smtpd_client_auth_rate_limit``, Dovecot's auth penalty - never see enough from any one
address. Counting per *account* holds (:class:`~simlab.restrictions.logins.AccountJail`,
:class:`~simlab.restrictions.logins.LoginLockout`); the lockout also locks the staff out.

The exercise: choose defences that lose no account to the 2,000-address botnet and refuse fewer staff
logins than the lockout does.

The defences' names (:data:`DEFENCE_NAMES`), the feedback and :data:`SOLUTION` come from the message catalogs
(ids ``exercise.spraying.*``) in the language current when they are read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from simlab.errors import ConfigError
from simlab.exercises.common import Feedback, LazyTexts, checker, lazy_constants
from simlab.i18n import t, tn
from simlab.scenarios import run
from simlab.scenarios.spraying import DEFENCES, first_compromise, password_spraying

__all__ = ["DEFENCE_NAMES", "SIZES", "EXERCISE_SIZE", "spraying_day", "size_sweep", "sweep_row", "sized",
           "check_spraying_defence", "SOLUTION", "COSTS_KEYS", "staff_refusals", "BOTNET"]

#: The botnet's actor name in events and transcripts.
BOTNET = "botnet"

#: The defences of :func:`simlab.scenarios.password_spraying`, in plain words (in the language current when read).
DEFENCE_NAMES = LazyTexts({"fail2ban": lambda: t("exercise.spraying.defence.fail2ban"),
                           "anvil": lambda: t("exercise.spraying.defence.anvil"),
                           "auth_penalty": lambda: t("exercise.spraying.defence.auth_penalty"),
                           "account_jail": lambda: t("exercise.spraying.defence.account_jail"),
                           "lockout": lambda: t("exercise.spraying.defence.lockout"),
                           "postscreen": lambda: t("exercise.spraying.defence.postscreen")})
#: The botnet sizes the lesson's sweep runs.
SIZES = (1, 10, 100, 1000, 2000, 10000)
#: The exercise's botnet.
EXERCISE_SIZE = 2000
#: What each run is scored on.
COSTS_KEYS = ("accounts_compromised", "legit_logins_refused", "spray_attempts", "spray_refused_fail2ban",
              "spray_refused_anvil", "bans", "account_bans", "lockouts")

#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.spraying.solution")


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution})


def spraying_day(defences: Sequence[str] = (), botnet_size: int = EXERCISE_SIZE, attempts_per_address: int = 3,
                 **knobs):
    """The lesson's day: :func:`~simlab.scenarios.password_spraying` on the standard Postfix site."""
    return password_spraying(botnet_size=botnet_size, attempts_per_address=attempts_per_address,
                             defences=tuple(defences), **knobs)


def size_sweep(defence_sets: dict[str, Sequence[str]], sizes: Iterable[int] = SIZES, seed: int = 1,
               attempts_per_address: int = 3, pace: float = 600.0) -> dict[str, list[dict]]:
    """For each named set of defences, one summary per botnet size: ``{name: [summary, ...]}`` in size order,
    each with ``botnet_size`` and ``first_compromise_min`` (minutes; None when no account fell) added."""
    return {name: [sweep_row(defences, size, seed, attempts_per_address, pace) for size in sizes]
            for name, defences in defence_sets.items()}


def sweep_row(defences: Sequence[str], botnet_size: int, seed: int = 1, attempts_per_address: int = 3,
              pace: float = 600.0) -> dict:
    """One row of :func:`size_sweep`: the summary of one counts-only run of :func:`spraying_day`, with
    ``botnet_size`` and ``first_compromise_min`` (see :func:`sized`)."""
    return sized(run(spraying_day(defences, botnet_size, attempts_per_address, pace=pace), seed=seed,
                     counts_only=True, transcripts=False).summary, botnet_size)


def sized(summary, botnet_size: int) -> dict:
    """A copy of a spraying run's summary with ``botnet_size`` and ``first_compromise_min`` (minutes from the
    campaign's start to the first account lost; None when none was) added: a row of :func:`size_sweep`."""
    row = dict(summary)
    seconds = first_compromise(row)
    row["botnet_size"] = botnet_size
    row["first_compromise_min"] = None if seconds is None else seconds / 60
    return row


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
            label = t("exercise.spraying.sending", actor=record.actor)
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
        return Feedback(False, [str(ConfigError("defences", unknown[0], t("exercise.spraying.not_a_defence"),
                                                t("exercise.spraying.expected_defences",
                                                  defences=", ".join(DEFENCES))))])
    result = run(spraying_day(defences, botnet_size), seed=seed, counts_only=True).summary
    lockout = run(spraying_day(("lockout",), botnet_size), seed=seed, counts_only=True).summary
    problems = []
    lost, refused = result["accounts_compromised"], result["legit_logins_refused"]
    if lost:
        problems.append(tn("exercise.spraying.accounts_lost", lost, size=botnet_size,
                           minutes=format(first_compromise(result) / 60, ".0f")))
    if refused >= lockout["legit_logins_refused"]:
        problems.append(tn("exercise.spraying.too_many_refused", refused,
                           lockout=lockout["legit_logins_refused"]))
    if problems:
        return Feedback(False, problems)
    return Feedback(True, [tn("exercise.spraying.passed", refused, size=botnet_size,
                              lockout=lockout["legit_logins_refused"])])

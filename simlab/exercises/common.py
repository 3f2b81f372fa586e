"""What every exercise checker shares: the verdict with specific feedback, and evidence from a run.

A checker runs the student's settings through the same simulation as the
lesson and answers with a :class:`Feedback`: passed or not, and sentences
that say exactly what went wrong ("still relayed: 3 messages from
203.0.113.0/24 got 250 at RCPT"), never just "wrong".

Every sentence is looked up in the message catalogs (:mod:`simlab.i18n`, ids
``exercise.<module>.*``) when the checker runs or the text is shown, so it speaks
the language current at that moment. What a product writes (an SMTP reply, a
log line, a setting's name) is passed in as it is, never translated. Module
constants that hold learner text (a lesson's ``SOLUTION``) stay importable by
name through a module ``__getattr__`` (PEP 562, :func:`lazy_constants`), and
texts inside data (:class:`LazyTexts`, :class:`LearnerText`) are looked up
when read.
"""

from __future__ import annotations

import base64
import functools
import html
import inspect
import ipaddress
import numbers
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from simlab.addresses.networks import parse_networks
from simlab.engine.result import Result
from simlab.errors import ConfigError
from simlab.i18n import LazyTexts, t, tn

__all__ = ["Feedback", "relayed_by_network", "refused_legit", "split_list", "auth_plain", "auth_plain_line",
           "send_until_closed", "parse_switch", "parse_count", "parse_networks", "checked_settings", "checker",
           "SWITCH_EXPECTED", "NETWORK_SETTINGS", "LazyTexts", "LearnerText", "lazy_constants", "relayed_counts",
           "staff_logins_refused", "ok_line", "problem_line", "is_ok_line"]

#: The words a switch accepts, case-insensitive.
_ON = frozenset({"yes", "true", "on", "1"})
_OFF = frozenset({"no", "false", "off", "0"})
#: Product settings that hold client addresses, read by :func:`parse_networks` before the product sees them.
NETWORK_SETTINGS = frozenset({"valid_ips", "client_hosts", "mynetworks", "relay_from_hosts", "login_trusted_networks",
                              "smtpd_client_event_limit_exceptions", "ip_range_restriction"})


# --- learner text looked up when shown (simlab.i18n) ----------------------------------------------------------


class LearnerText:
    """A dataclass field holding learner text: a callable given for it (``lambda: t("id")``) is called each
    time the field is read, so the text speaks the current language; plain text is returned as given.

    Declared as ``label: str = LearnerText()``, the field keeps no default (the descriptor answers
    ``AttributeError`` on the class) and the constructor's signature stays ``Problem(key, label, ...)``.
    """

    def __set_name__(self, owner: type, name: str) -> None:
        self._slot = f"_text_{name}"

    def __get__(self, instance: object, owner: type | None = None) -> str:
        if instance is None:
            raise AttributeError(self._slot)
        value = instance.__dict__[self._slot]
        return value() if callable(value) else value

    def __set__(self, instance: object, value: str | Callable[[], str]) -> None:
        instance.__dict__[self._slot] = value


def lazy_constants(module: str, lookups: Mapping[str, Callable[[], object]]):
    """A module ``__getattr__`` (PEP 562) serving ``lookups``' names - ``{"SOLUTION": _solution}`` - by calling
    them at each access: ``from simlab.exercises.relay import SOLUTION`` gets the text in the current language."""

    def __getattr__(name: str) -> object:
        if name in lookups:
            return lookups[name]()
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


#: What a switch accepts, in words: in the language current at each access (the module's ``__getattr__``).
SWITCH_EXPECTED: str


def _switch_expected() -> str:
    return t("exercise.common.switch_expected")


__getattr__ = lazy_constants(__name__, {"SWITCH_EXPECTED": _switch_expected})


def parse_switch(value: object, setting: str) -> bool:
    """A switch: ``True``/``False``, or yes/no, true/false, on/off, 1/0 (as words or numbers, any case).

    Anything else - ``"maybe"``, ``2``, ``None``, a list - raises :class:`ConfigError` naming
    ``setting``: the string ``"no"`` is truthy in Python, so a switch is never read with ``bool()``.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _ON:
            return True
        if word in _OFF:
            return False
    if type(value).__name__ == "bool_":  # numpy's bool, from a table
        return bool(value)
    raise ConfigError(setting, value, t("exercise.common.not_a_switch"), _switch_expected())


def parse_count(value: object, setting: str, low: int = 0, high: int | None = None, expected: str = "") -> int:
    """A whole number from ``low`` to ``high`` (a bool, a float or a word is refused with :class:`ConfigError`)."""
    wanted = expected or (t("exercise.common.expected_count_between", low=low, high=high) if high is not None
                          else t("exercise.common.expected_count_from", low=low))
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(setting, value, t("exercise.common.not_a_whole_number"), wanted)
    if value < low or (high is not None and value > high):
        raise ConfigError(setting, value, t("exercise.common.out_of_range"), wanted)
    return int(value)


def checked_settings(preset: str, settings: object) -> dict[str, Any]:
    """A checker's product settings, read strictly before the product sees them.

    ``settings`` must be a mapping of the product's own setting names (:class:`ConfigError` if not,
    or for a name the product does not have); each switch of the product (a setting whose default is
    ``True`` or ``False``) goes through :func:`parse_switch`, each list of client addresses through
    :func:`parse_networks`.
    """
    from simlab import products

    if settings is None:
        return {}
    if not isinstance(settings, Mapping):
        raise ConfigError("settings", settings, t("exercise.common.not_settings"),
                          t("exercise.common.expected_settings", example="{'relay_restriction': True}"))
    product = products.get(preset)
    parameters = inspect.signature(product.factory).parameters
    out: dict[str, Any] = {}
    for name, value in settings.items():
        if name not in product.setting_names:
            raise ConfigError("settings", name, t("exercise.common.not_a_setting_of", product=product.name),
                              t("expected.one_of", choices=", ".join(sorted(product.setting_names))))
        default = parameters[name].default if name in parameters else None
        if isinstance(default, bool):
            value = parse_switch(value, name)
        elif name == "ip_range_restriction" and isinstance(value, Mapping):
            value = {service: ranges if ranges is None else parse_networks(ranges, f"{name}[{service!r}]")
                     for service, ranges in value.items()}
        elif name in NETWORK_SETTINGS and value is not None:
            value = parse_networks(value, name)
        out[name] = value
    return out


def checker(function: Callable[..., Feedback]) -> Callable[..., Feedback]:
    """Make a checker answer bad input with a failed :class:`Feedback`, never a traceback.

    A :class:`ConfigError` becomes its own text (the setting, the value, what was expected); a
    ``TypeError`` from a call that does not fit the checker (an unknown keyword, a missing argument)
    names the checker's signature.
    """
    signature = inspect.signature(function)
    shown = ", ".join(("**" if p.kind is p.VAR_KEYWORD else "") + p.name
                      + ("" if p.default is p.empty else f"={p.default!r}") for p in signature.parameters.values())
    call = f"{function.__name__}({shown})"

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Feedback:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            return Feedback(False, [t("exercise.common.wrong_call", error=exc, call=call)])
        try:
            return function(*args, **kwargs)
        except ConfigError as exc:
            return Feedback(False, [str(exc)])

    return checked


def split_list(text: str) -> list[str]:
    """``"a, b c"`` -> ``["a", "b", "c"]``: what a student types in a list field."""
    return [item for item in text.replace(",", " ").split() if item]


def auth_plain(user: str, password: str) -> str:
    """The ``AUTH PLAIN`` argument for ``user`` (RFC 4616: base64 of ``\\0user\\0password``)."""
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def auth_plain_line(user: str, password: str) -> str:
    """The whole ``AUTH PLAIN ...`` command line for ``user``."""
    return f"AUTH PLAIN {auth_plain(user, password)}"


def send_until_closed(session, lines: Iterable[str]) -> list[str]:
    """Send ``lines`` to an SMTP or POP3 session one by one until the server closes the connection.

    Returns the lines the server never read (empty when it read them all).
    """
    lines = list(lines)
    for n, line in enumerate(lines):
        if session.closed:
            return lines[n:]
        session.send(line)
    return []


@dataclass
class Feedback:
    """The verdict of a checker."""

    passed: bool
    messages: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return self.passed

    def _head(self) -> str:
        return t("exercise.common.correct") if self.passed else t("exercise.common.not_yet")

    def __str__(self) -> str:
        return "\n".join([self._head(), *(f"- {m}" for m in self.messages)])

    def _repr_html_(self) -> str:
        colour, head = ("#2e7d32" if self.passed else "#b00020"), self._head()
        items = "".join(f"<li>{html.escape(m)}</li>" for m in self.messages)
        return (f"<div style='border-left:4px solid {colour};padding:4px 10px'><b style='color:{colour}'>{head}</b>"
                f"<ul style='margin:4px 0'>{items}</ul></div>")


def relayed_by_network(result: Result, actors: tuple[str, ...] | None = None) -> list[str]:
    """Sentences naming who still got a foreign recipient accepted, grouped by /24 network."""
    return [tn("exercise.common.still_relayed", n, network=net, actor=actor)
            for (actor, net), n in relayed_counts(result, actors)]


def relayed_counts(result: Result, actors: tuple[str, ...] | None = None) -> list[tuple[tuple[str, str], int]]:
    """``((actor, /24 network), recipients accepted at RCPT)`` for who relayed through the site, sorted."""
    events = result.events
    if events.empty:
        return []
    rows = events[(events.command == "RCPT") & (events.reply_code == 250) & (events.host == "mail.example.com")]
    if actors is not None:
        rows = rows[rows.actor.isin(actors)]
    else:
        rows = rows[~rows.client_ip.str.startswith("192.0.2.")]
    counts: Counter[tuple[str, str]] = Counter()
    for actor, ip in zip(rows.actor, rows.client_ip, strict=True):
        if actor.endswith("(relay)") or "MTA" in actor or "roaming" in actor:
            continue
        network = ipaddress.ip_network(f"{ip}/24", strict=False)
        counts[(actor, str(network))] += 1
    return sorted(counts.items())


def refused_legit(result: Result) -> list[str]:
    """Sentences about legitimate mail and logins the settings cost."""
    s = result.summary
    out = []
    if s.get("legit_refused"):
        out.append(tn("exercise.common.legit_lost", s["legit_refused"]))
    if s.get("legit_logins_refused"):
        out.append(staff_logins_refused(s["legit_logins_refused"]))
    return out


def staff_logins_refused(count: int) -> str:
    """"staff could not read their mail N times": the sentence several checkers share."""
    return tn("exercise.common.staff_logins_refused", count)


def ok_line(text: str) -> str:
    """A line of feedback that says what went right in an attempt (``ok: ...``), in the current language."""
    return t("exercise.common.ok_line", text=text)


def problem_line(text: str) -> str:
    """A line of feedback that says what is still wrong (``problem: ...``), in the current language."""
    return t("exercise.common.problem_line", text=text)


def is_ok_line(message: str) -> bool:
    """Whether a recorded message is an :func:`ok_line` - in English (``ok:``) or Japanese (``OK:``)."""
    return message[:3].lower() == "ok:"


# --- results without nbgrader: each student's attempts in a JSON-lines file, and the class's overview ----------


def record(feedback: Feedback, exercise: str, student: str | None = None, path: Any = None) -> Feedback:
    """Append one attempt - student, exercise, passed, messages, time (UTC) - to a JSON-lines file; return ``feedback``.

    ``record(check_no_break_in(lockout=3), "01")`` shows the checker's feedback as before and keeps it.
    ``student`` defaults to ``$SIMLAB_STUDENT``, else the login name; ``path`` to ``$SIMLAB_RESULTS``, else
    ``simlab-results.jsonl`` here. A ``path`` that is a folder gets one file per student, ``<student>.jsonl``:
    the instructor gathers such files into one folder and reads it with :func:`class_overview`.
    """
    import datetime
    import getpass
    import json
    import os
    from pathlib import Path

    if not isinstance(feedback, Feedback):
        raise TypeError(t("exercise.common.record_needs_feedback", kind=type(feedback).__name__))
    student = student or os.environ.get("SIMLAB_STUDENT") or getpass.getuser()
    target = Path(path or os.environ.get("SIMLAB_RESULTS") or "simlab-results.jsonl")
    if target.is_dir():
        target = target / f"{''.join(c if c.isalnum() or c in '-_.' else '_' for c in student)}.jsonl"
    line = {"student": student, "exercise": str(exercise), "passed": bool(feedback.passed),
            "messages": [str(m) for m in feedback.messages],
            "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")}
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("a", encoding="utf-8") as file:
        file.write(json.dumps(line, ensure_ascii=False) + "\n")
    return feedback


def read_results(folder: Any):
    """Every attempt :func:`record` wrote under ``folder`` (``*.jsonl``, subfolders too), as a pandas table with
    the columns student, exercise, passed, messages, time - oldest first. Blank lines are skipped; a line that
    is not a record raises ``ValueError`` naming the file and line."""
    import json
    from pathlib import Path

    import pandas as pd

    columns = ["student", "exercise", "passed", "messages", "time"]
    rows = []
    for file in sorted(Path(folder).rglob("*.jsonl")):
        for n, text in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
                rows.append({key: row[key] for key in columns})
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(t("exercise.common.not_a_result_line", file=file, line=n, error=exc)) from exc
    table = pd.DataFrame(rows, columns=columns)
    table["time"] = pd.to_datetime(table["time"], utc=True)
    table["passed"] = table["passed"].astype(bool)
    return table.sort_values("time", kind="stable").reset_index(drop=True)


def class_overview(folder: Any):
    """Who solved what: one row per student and exercise tried - attempts, solved, solved_at (the first pass),
    attempts_to_solve, and last_messages (the checker's words at the last attempt)."""
    import pandas as pd

    results = read_results(folder)
    columns = ["student", "exercise", "attempts", "solved", "solved_at", "attempts_to_solve", "last_messages"]
    rows = []
    for (student, exercise), group in results.groupby(["student", "exercise"], sort=True):
        passes = group[group.passed]
        first = passes.index[0] if len(passes) else None
        rows.append({"student": student, "exercise": exercise, "attempts": len(group), "solved": first is not None,
                     "solved_at": group.time[first] if first is not None else pd.NaT,
                     "attempts_to_solve": int((group.index <= first).sum()) if first is not None else pd.NA,
                     "last_messages": list(group.messages.iloc[-1])})
    return pd.DataFrame(rows, columns=columns)


def common_wrong_answers(folder: Any, top: int = 10):
    """The checkers' messages on failed attempts, most common first: exercise, message, students (how many
    had it), attempts. Lines a checker marks ``ok:`` (what went right in a failed attempt; ``OK:`` when it spoke
    Japanese, :func:`is_ok_line`) are left out."""
    import pandas as pd

    results = read_results(folder)
    failed = results[~results.passed].explode("messages").dropna(subset=["messages"])
    failed = failed[~failed.messages.map(is_ok_line)]
    columns = ["exercise", "message", "students", "attempts"]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    table = (failed.groupby(["exercise", "messages"]).agg(students=("student", "nunique"),
                                                          attempts=("student", "size"))
             .reset_index().rename(columns={"messages": "message"}))
    table = table.sort_values(["students", "attempts", "exercise"], ascending=[False, False, True], kind="stable")
    return table.head(top).reset_index(drop=True)[columns]

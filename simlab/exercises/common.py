"""What every exercise checker shares: the verdict with specific feedback, and evidence from a run.

A checker runs the student's settings through the same simulation as the
lesson and answers with a :class:`Feedback`: passed or not, and sentences
that say exactly what went wrong ("still relayed: 3 messages from
203.0.113.0/24 got 250 at RCPT"), never just "wrong".
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

__all__ = ["Feedback", "relayed_by_network", "refused_legit", "split_list", "auth_plain", "auth_plain_line",
           "send_until_closed", "parse_switch", "parse_count", "parse_networks", "checked_settings", "checker",
           "SWITCH_EXPECTED", "NETWORK_SETTINGS"]

#: The words a switch accepts, case-insensitive.
_ON = frozenset({"yes", "true", "on", "1"})
_OFF = frozenset({"no", "false", "off", "0"})
SWITCH_EXPECTED = "True or False (or the words yes/no, true/false, on/off, 1/0)"
#: Product settings that hold client addresses, read by :func:`parse_networks` before the product sees them.
NETWORK_SETTINGS = frozenset({"valid_ips", "client_hosts", "mynetworks", "relay_from_hosts", "login_trusted_networks",
                              "smtpd_client_event_limit_exceptions", "ip_range_restriction"})


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
    raise ConfigError(setting, value, "is not a switch", SWITCH_EXPECTED)


def parse_count(value: object, setting: str, low: int = 0, high: int | None = None, expected: str = "") -> int:
    """A whole number from ``low`` to ``high`` (a bool, a float or a word is refused with :class:`ConfigError`)."""
    wanted = expected or (f"a whole number from {low} to {high}" if high is not None else f"a whole number >= {low}")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ConfigError(setting, value, "is not a whole number", wanted)
    if value < low or (high is not None and value > high):
        raise ConfigError(setting, value, "is out of range", wanted)
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
        raise ConfigError("settings", settings, "is not a mapping of product settings",
                          "a dict such as {'relay_restriction': True}")
    product = products.get(preset)
    parameters = inspect.signature(product.factory).parameters
    out: dict[str, Any] = {}
    for name, value in settings.items():
        if name not in product.setting_names:
            raise ConfigError("settings", name, f"is not a setting of {product.name}",
                              f"one of {', '.join(sorted(product.setting_names))}")
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

    @functools.wraps(function)
    def checked(*args: Any, **kwargs: Any) -> Feedback:
        try:
            signature.bind(*args, **kwargs)
        except TypeError as exc:
            return Feedback(False, [f"{exc}; expected {function.__name__}({shown})"])
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

    def __str__(self) -> str:
        head = "Correct." if self.passed else "Not yet."
        return "\n".join([head, *(f"- {m}" for m in self.messages)])

    def _repr_html_(self) -> str:
        colour, head = ("#2e7d32", "Correct.") if self.passed else ("#b00020", "Not yet.")
        items = "".join(f"<li>{html.escape(m)}</li>" for m in self.messages)
        return (f"<div style='border-left:4px solid {colour};padding:4px 10px'><b style='color:{colour}'>{head}</b>"
                f"<ul style='margin:4px 0'>{items}</ul></div>")


def relayed_by_network(result: Result, actors: tuple[str, ...] | None = None) -> list[str]:
    """Sentences naming who still got a foreign recipient accepted, grouped by /24 network."""
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
    return [f"still relayed: {n} message{'s' if n != 1 else ''} from {net} ({actor}) got 250 at RCPT"
            for (actor, net), n in sorted(counts.items())]


def refused_legit(result: Result) -> list[str]:
    """Sentences about legitimate mail and logins the settings cost."""
    s = result.summary
    out = []
    if s.get("legit_refused"):
        out.append(f"legitimate mail lost: {s['legit_refused']} message(s) from staff or correspondents")
    if s.get("legit_logins_refused"):
        out.append(f"staff could not read their mail {s['legit_logins_refused']} time(s)")
    return out


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
        raise TypeError(f"record() takes a checker's Feedback, not {type(feedback).__name__}")
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
                raise ValueError(f"{file}:{n}: not a simlab result line ({exc})") from exc
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
    had it), attempts. Lines a checker marks ``ok:`` (what went right in a failed attempt) are left out."""
    import pandas as pd

    results = read_results(folder)
    failed = results[~results.passed].explode("messages").dropna(subset=["messages"])
    failed = failed[~failed.messages.str.startswith("ok:")]
    columns = ["exercise", "message", "students", "attempts"]
    if failed.empty:
        return pd.DataFrame(columns=columns)
    table = (failed.groupby(["exercise", "messages"]).agg(students=("student", "nunique"),
                                                          attempts=("student", "size"))
             .reset_index().rename(columns={"messages": "message"}))
    table = table.sort_values(["students", "attempts", "exercise"], ascending=[False, False, True], kind="stable")
    return table.head(top).reset_index(drop=True)[columns]

"""What every exercise checker shares: the verdict with specific feedback, and evidence from a run.

A checker runs the student's settings through the same simulation as the
lesson and answers with a :class:`Feedback`: passed or not, and sentences
that say exactly what went wrong ("still relayed: 3 messages from
203.0.113.0/24 got 250 at RCPT"), never just "wrong".
"""

from __future__ import annotations

import base64
import html
import ipaddress
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from simlab.engine.result import Result

__all__ = ["Feedback", "relayed_by_network", "refused_legit", "split_list", "auth_plain", "auth_plain_line",
           "send_until_closed"]


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

"""Helpers for the tests: documentation addresses and short dialogues."""

from __future__ import annotations

LAN = "192.0.2.10"
OUTSIDE = "203.0.113.7"


def talk(session, *lines):
    """Send lines; return the replies as wire text (None inside DATA)."""
    out = []
    for line in lines:
        reply = session.send(line)
        out.append(None if reply is None else str(reply))
    return out


def codes(session, *lines):
    return [None if r is None else int(r[:3]) for r in talk(session, *lines)]

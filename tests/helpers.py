"""Helpers for the tests: documentation addresses, short dialogues, recorded dialogues, and the scripts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
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


def replay_commands(session, commands) -> list[str | None]:
    """A recorded case's commands on ``session``, one reply each (None once the server has closed).

    A command holding line breaks is a message body: its lines are sent one by one and the reply
    to the last (the final ``.``) is the one kept.
    """
    replies: list[str | None] = []
    for command in commands:
        if session.closed:
            replies.append(None)
            continue
        reply = None
        for line in command.split("\n"):
            reply = session.send(line)
        replies.append(None if reply is None else str(reply))
    return replies


def load_script(stem: str, name: str | None = None):
    """``scripts/<stem>.py`` as a module (scripts/ is not a package), loaded once per test session."""
    name = name or stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{stem}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses in it look their module up
    spec.loader.exec_module(module)
    return module

"""Lesson 00: the first exercise, and sending typed SMTP lines to a server.

The exercise asks for the reply EIMS 2.1 gives, as installed, to ``RCPT TO``
for a foreign address from outside: the thread's S3 ("anti-relay is off by
default"). :func:`run_dialogue` is what lesson 00's panel (and lesson 03's)
sends a student's lines with. Its feedback and :data:`SOLUTION` come from the message catalogs
(ids ``exercise.start.*``) in the language current when they are shown; the SMTP lines and replies they
quote stay as the server wrote them.
"""

from __future__ import annotations

import re

from simlab import products
from simlab.errors import ConfigError
from simlab.exercises.common import Feedback, checker, lazy_constants, send_until_closed
from simlab.i18n import t
from simlab.presets import eims_2_1

__all__ = ["dialogue_lines", "run_dialogue", "check_rcpt_reply", "SOLUTION"]


def dialogue_lines(text: str) -> list[str]:
    """The lines a student typed, trailing blank lines dropped; :class:`ConfigError` when there are none."""
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not any(line.strip() for line in lines):
        raise ConfigError(t("exercise.start.smtp_lines"), text, t("exercise.start.no_command"),
                          t("exercise.start.expected_command", example="'HELO client.test'"))
    return lines


def run_dialogue(server, client_ip: str, text: str, port: int = 25):
    """Open a session from ``client_ip`` to ``server`` and send each typed line.

    Returns ``(session, unsent)``: the finished session, and the lines the
    server never read because it had already closed the connection. A
    session the client leaves without ``QUIT`` is closed as a client would
    (the server may log a lost connection).
    """
    lines = dialogue_lines(text)
    address = str(client_ip).strip()
    if not address:
        raise ConfigError(t("exercise.start.client_address"), client_ip, t("exercise.start.empty"),
                          t("exercise.start.expected_address", example="'203.0.113.7'"))
    session = server.smtp_session(client_ip=address, port=port)
    unsent = send_until_closed(session, lines)
    session.close()
    return session, unsent


# --- the exercise --------------------------------------------------------------------------------------------

#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.start.solution", choice=_as_installed())


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution})


def _rcpt_reply_of_default_eims() -> tuple[int, str]:
    server = eims_2_1()
    session, _ = run_dialogue(server, "203.0.113.7", "HELO client.remote.test\nMAIL FROM:<carol@remote.test>\n"
                                                      "RCPT TO:<dave@remote.test>\nQUIT")
    replies = session.transcript
    index = replies.index("C: RCPT TO:<dave@remote.test>")
    line = replies[index + 1][3:]
    return int(line[:3]), line


@checker
def check_rcpt_reply(answer: object):
    """Is ``answer`` the reply code EIMS 2.1 as installed gives to ``RCPT TO`` for a foreign address from outside?

    ``answer`` may be the code (``250``) or the whole reply line (``"250 Recipient ... OK"``).
    """
    code, line = _rcpt_reply_of_default_eims()
    match = re.match(r"\s*(\d{3})\b", str(answer))
    if isinstance(answer, bool) or match is None:
        return Feedback(False, [t("exercise.start.not_a_code", answer=repr(answer), example="check_rcpt_reply(550)")])
    given = int(match.group(1))
    if given == code:
        return Feedback(True, [t("exercise.start.passed", line=line)])
    return Feedback(False, [t("exercise.start.hint", given=given, choice=_as_installed())])


def _as_installed() -> str:
    """How the panel's server menu names EIMS 2.1 as installed: its product's panel choice with no settings."""
    product = products.get("eims-2.1")
    return next((label for label, given in product.panel_choices if not dict(given)), product.label)

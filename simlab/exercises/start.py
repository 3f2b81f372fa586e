"""Lesson 00: the first exercise, and sending typed SMTP lines to a server.

The exercise asks for the reply EIMS 2.1 gives, as installed, to ``RCPT TO``
for a foreign address from outside: the thread's S3 ("anti-relay is off by
default"). :func:`run_dialogue` is what lesson 00's panel (and lesson 03's)
sends a student's lines with.
"""

from __future__ import annotations

import re

from simlab.errors import ConfigError
from simlab.exercises.common import Feedback, checker, send_until_closed
from simlab.presets import eims_2_1

__all__ = ["dialogue_lines", "run_dialogue", "check_rcpt_reply", "SOLUTION"]


def dialogue_lines(text: str) -> list[str]:
    """The lines a student typed, trailing blank lines dropped; :class:`ConfigError` when there are none."""
    lines = text.replace("\r\n", "\n").split("\n")
    while lines and not lines[-1].strip():
        lines.pop()
    if not any(line.strip() for line in lines):
        raise ConfigError("SMTP lines", text, "has no SMTP command", "one command per line, e.g. 'HELO client.test'")
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
        raise ConfigError("client address", client_ip, "is empty", "an address such as '203.0.113.7'")
    session = server.smtp_session(client_ip=address, port=port)
    unsent = send_until_closed(session, lines)
    session.close()
    return session, unsent


# --- the exercise --------------------------------------------------------------------------------------------

SOLUTION = """Open the panel with the server set to "EIMS 2.1 (as installed)", keep the client address
203.0.113.7 (an outside host), add the line RCPT TO:<dave@remote.test> below RCPT TO:<bob@example.com>,
and read the S: line right after C: RCPT TO:<dave@remote.test>:

    S: 250 Recipient <dave@remote.test> OK

So the answer is 250:

    check_rcpt_reply(250)

A 2xx reply to RCPT for a foreign domain, from a client the server does not know, means the
server will relay: EIMS 2.1 as installed is still an open relay, because its Relay Restriction
is off until the admin turns it on (the thread's S3). Postfix answers 454 4.7.1 ... Relay access
denied, SIMS 550 ... relaying prohibited. Lesson 02 closes the relay."""


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
        return Feedback(False, [f"{answer!r} is not a reply code: give the three digits at the start of the "
                                "server's line, e.g. check_rcpt_reply(550)"])
    given = int(match.group(1))
    if given == code:
        return Feedback(True, [f"EIMS 2.1 as installed answers '{line}': a 2xx to a foreign recipient from an "
                               "outside client, so it will relay for anyone - an open relay until Relay "
                               "Restriction is turned on"])
    hint = (f"{given} is not what EIMS 2.1 answers here: set the panel to 'EIMS 2.1 (as installed)' and client "
            "203.0.113.7, add the line RCPT TO:<dave@remote.test> under RCPT TO:<bob@example.com>, and read the "
            "S: line right after it")
    return Feedback(False, [hint])

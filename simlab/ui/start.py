"""Lesson 00 panel: talk SMTP to a simulated 1998 server by hand, plus the lesson's first exercise.

The panel opens one SMTP session (RFC 5321) from an address the student picks
to the site's server - EIMS 1.2, EIMS 2.1 as installed, SIMS or Postfix, each
configured as :func:`simlab.scenarios.site.site_server` builds it - sends the
typed lines one by one, and shows both sides of the dialogue, the server's log
as its admin saw it, and what the server kept (mailboxes and relay queue).

The exercise asks for the reply EIMS 2.1 gives, as installed, to ``RCPT TO``
for a foreign address from outside: the thread's S3 ("anti-relay is off by
default"). The checker lives here because lesson 00 has no exercise module of
its own.
"""

from __future__ import annotations

import html
import importlib.util
import re

import ipywidgets as widgets

from simlab.errors import ConfigError
from simlab.plots import ROLE_COLOURS, network_figure
from simlab.presets import eims_2_1
from simlab.scenarios.site import site_server
from simlab.ui.common import Panel, log_html, transcript_html

__all__ = ["session_lab", "run_dialogue", "draw_when_shown", "network_picture", "check_rcpt_reply", "SOLUTION",
           "PRESET_CHOICES", "DEMO_LINES", "REFUSALS"]

PRESET_CHOICES = [("EIMS 1.2", "eims-1.2"), ("EIMS 2.1 (as installed)", "eims-2.1"), ("SIMS", "sims"),
                  ("Postfix 3.7", "postfix")]

#: Log lines that record a refusal, in any product's words.
REFUSALS = r"reject|refused|denied|prohibited|not permitted|wrong password|failed"
#: A short dialogue: one message for a local user (the exercise adds a recipient elsewhere).
DEMO_LINES = "\n".join([
    "HELO client.remote.test",
    "MAIL FROM:<carol@remote.test>",
    "RCPT TO:<bob@example.com>",
    "DATA",
    "Subject: hello",
    "",
    "Just testing.",
    ".",
    "QUIT",
])


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
    unsent: list[str] = []
    for n, line in enumerate(lines):
        if session.closed:
            unsent = lines[n:]
            break
        session.send(line)
    session.close()
    return session, unsent


def kept_html(server) -> str:
    """What the server holds after the session: mail for local users, and mail waiting to be relayed."""
    rows = []
    for account, box in sorted(server.mailboxes.items()):
        for message in box:
            rows.append(("mailbox of " + account, message.sender or "<>", ", ".join(message.recipients),
                         message.client_ip))
    for message in server.queue:
        rows.append(("relay queue (to go elsewhere)", message.sender or "<>", ", ".join(message.recipients),
                     message.client_ip))
    if not rows:
        return "<p>The server kept nothing: no message was accepted.</p>"
    cells = "".join("<tr>" + "".join(f"<td style='padding:1px 10px 1px 0'>{html.escape(c)}</td>" for c in row)
                    + "</tr>" for row in rows)
    head = "".join(f"<th style='text-align:left;padding-right:10px'>{h}</th>"
                   for h in ("where", "sender (MAIL FROM)", "recipients (RCPT TO)", "from client"))
    return f"<table style='font-size:12px'><tr>{head}</tr>{cells}</table>"


def session_lab(preset: str = "eims-2.1", client_ip: str = "203.0.113.7", lines: str = DEMO_LINES) -> Panel:
    """Type SMTP lines to the site's server and read its replies and its log.

    Controls: the product, the client's address, and the lines to send (one
    command per line; after ``DATA`` the message follows, ending with a line
    holding only ``.``). Views: the dialogue, the server log, and what the
    server kept.
    """
    controls = [
        {"name": "preset", "type": "Dropdown", "options": PRESET_CHOICES, "value": preset, "description": "server"},
        {"name": "client_ip", "type": "Text", "value": client_ip, "description": "client address",
         "placeholder": "203.0.113.7"},
        {"name": "lines", "type": "Textarea", "value": lines, "description": "you type",
         "layout": widgets.Layout(width="100%", height="190px")},
    ]

    def compute(v: dict):
        server = site_server(v["preset"])
        session, unsent = run_dialogue(server, v["client_ip"], v["lines"])
        return {"server": server, "session": session, "unsent": unsent}

    views = {"the dialogue": widgets.HTML(), "server log": widgets.HTML(), "what the server kept": widgets.HTML()}

    def render(panel: Panel, outcome: dict) -> None:
        session, server = outcome["session"], outcome["server"]
        shown = transcript_html(session.transcript)
        if session.dropped is not None:
            shown = f"<p>No banner: the connection was dropped ({html.escape(session.dropped.reason)}).</p>"
        if outcome["unsent"]:
            shown += (f"<p style='font-size:12px'>The server had closed the connection; "
                      f"{len(outcome['unsent'])} line(s) were never read.</p>")
        panel.views["the dialogue"].value = shown
        panel.views["server log"].value = log_html(server.log, highlight=REFUSALS)
        panel.views["what the server kept"].value = kept_html(server)

    return Panel("Talk to a mail server", controls, compute, render, views, columns=2)


# --- drawing only what is on screen ----------------------------------------------------------------------


def draw_when_shown(panel: Panel, title: str, draw) -> None:
    """Run ``draw()`` for the view ``title`` now if its tab is showing, else when the student opens that tab.

    A picture costs a tenth of a second or more to draw; a panel with several
    picture tabs stays quick by drawing only the one in view. A newer ``draw``
    for the same view replaces a pending one.
    """
    pending = getattr(panel, "_pending_draws", None)
    if pending is None:
        pending = panel._pending_draws = {}
        panel.tabs.observe(lambda _change: _draw_pending(panel), names="selected_index")
    pending[title] = draw
    _draw_pending(panel)


def _draw_pending(panel: Panel) -> None:
    titles = list(panel.views)
    shown = titles[panel.tabs.selected_index or 0]
    draw = panel._pending_draws.pop(shown, None)
    if draw is not None:
        draw()


# --- the network picture ---------------------------------------------------------------------------------


def network_picture(network, title: str = ""):
    """The simulated network as a figure: :func:`simlab.plots.network_figure` when it can draw.

    ``network_figure`` lays the graph out with networkx's Kamada-Kawai layout,
    which needs SciPy; simlab does not depend on SciPy, so without it the same
    picture is drawn with a seeded spring layout instead.
    """
    if importlib.util.find_spec("scipy") is None:  # network_figure's layout imports it
        return _spring_network_figure(network, title)
    return network_figure(network, title)


def _spring_network_figure(network, title: str = ""):
    import networkx as nx
    from matplotlib.figure import Figure

    fig = Figure(figsize=(8.0, 5.0), layout="constrained")
    ax = fig.add_subplot()
    graph = network.graph
    pos = nx.spring_layout(graph, seed=7, k=0.9, iterations=200)
    colours = [ROLE_COLOURS.get(graph.nodes[n]["role"], "#cccccc") for n in graph.nodes]
    nx.draw_networkx_edges(graph, pos, ax=ax, edge_color="#999999")
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=colours, node_size=900, edgecolors="#333333")
    nx.draw_networkx_labels(graph, pos, {n: f"{n}\n{graph.nodes[n]['ip']}" for n in graph.nodes}, ax=ax,
                            font_size=7)
    ax.set_axis_off()
    if title:
        ax.set_title(title, loc="left")
    return fig


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


def check_rcpt_reply(answer: object):
    """Is ``answer`` the reply code EIMS 2.1 as installed gives to ``RCPT TO`` for a foreign address from outside?

    ``answer`` may be the code (``250``) or the whole reply line (``"250 Recipient ... OK"``).
    """
    from simlab.exercises.common import Feedback

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

"""Lesson 00 panel: talk SMTP to a simulated 1998 server by hand, plus the lesson's first exercise.

The panel opens one SMTP session (RFC 5321) from an address the student picks
to the site's server - EIMS 1.2, EIMS 2.1 as installed, SIMS or Postfix, each
configured as :func:`simlab.scenarios.site.site_server` builds it - sends the
typed lines one by one, and shows both sides of the dialogue, the server's log
as its admin saw it, and what the server kept (mailboxes and relay queue).

The exercise asks for the reply EIMS 2.1 gives, as installed, to ``RCPT TO``
for a foreign address from outside: the thread's S3 ("anti-relay is off by
default"). It, and :func:`run_dialogue`, live in :mod:`simlab.exercises.start`
and are re-exported here.
"""

from __future__ import annotations

import html
import importlib.util

import ipywidgets as widgets

from simlab.exercises.start import SOLUTION, check_rcpt_reply, run_dialogue
from simlab.i18n import t, tn
from simlab.plots import ROLE_COLOURS, network_figure
from simlab.scenarios.site import site_server
from simlab.ui.common import Panel, choice_label, log_html, product_menu, transcript_html

__all__ = ["session_lab", "run_dialogue", "draw_when_shown", "network_picture", "check_rcpt_reply", "SOLUTION",
           "DEMO_LINES", "REFUSALS"]

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


def kept_html(server) -> str:
    """What the server holds after the session: mail for local users, and mail waiting to be relayed."""
    rows = []
    for account, box in sorted(server.mailboxes.items()):
        for message in box:
            rows.append((t("ui.start.mailbox_of", account=account), message.sender or "<>",
                         ", ".join(message.recipients), message.client_ip))
    for message in server.queue:
        rows.append((t("ui.start.relay_queue"), message.sender or "<>", ", ".join(message.recipients),
                     message.client_ip))
    if not rows:
        return "<p>" + html.escape(t("ui.start.kept_nothing"), quote=False) + "</p>"
    cells = "".join("<tr>" + "".join(f"<td style='padding:1px 10px 1px 0'>{html.escape(c)}</td>" for c in row)
                    + "</tr>" for row in rows)
    head = "".join(f"<th style='text-align:left;padding-right:10px'>{html.escape(h, quote=False)}</th>"
                   for h in (t("ui.start.column.where"), t("ui.start.column.sender"), t("ui.start.column.recipients"),
                             t("ui.start.column.client")))
    return f"<table style='font-size:12px'><tr>{head}</tr>{cells}</table>"


def session_lab(preset: str = "eims-2.1", client_ip: str = "203.0.113.7", lines: str = DEMO_LINES) -> Panel:
    """Type SMTP lines to the site's server and read its replies and its log.

    Controls: the product, the client's address, and the lines to send (one
    command per line; after ``DATA`` the message follows, ending with a line
    holding only ``.``). Views: the dialogue, the server log, and what the
    server kept.
    """
    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(label=choice_label), "value": preset,
         "description": t("ui.common.server"), "fallback": "eims-2.1"},
        {"name": "client_ip", "type": "Text", "value": client_ip, "description": t("ui.common.client_address"),
         "placeholder": "203.0.113.7"},
        {"name": "lines", "type": "Textarea", "value": lines, "description": t("ui.common.you_type"),
         "layout": widgets.Layout(width="100%", height="190px")},
    ]

    def compute(v: dict):
        server = site_server(v["preset"])
        session, unsent = run_dialogue(server, v["client_ip"], v["lines"])
        return {"server": server, "session": session, "unsent": unsent}

    views = {"the dialogue": widgets.HTML(), "server log": widgets.HTML(), "what the server kept": widgets.HTML()}
    titles = {"the dialogue": t("ui.common.tab.the_dialogue"), "server log": t("ui.common.tab.server_log"),
              "what the server kept": t("ui.start.tab.kept")}

    def render(panel: Panel, outcome: dict) -> None:
        session, server = outcome["session"], outcome["server"]
        shown = transcript_html(session.transcript)
        if session.dropped is not None:
            shown = "<p>" + html.escape(t("ui.start.no_banner", reason=session.dropped.reason)) + "</p>"
        if outcome["unsent"]:
            unread = tn("ui.start.never_read", len(outcome["unsent"]))
            shown += f"<p style='font-size:12px'>{html.escape(unread, quote=False)}</p>"
        panel.views["the dialogue"].value = shown
        panel.views["server log"].value = log_html(server.log, highlight=REFUSALS)
        panel.views["what the server kept"].value = kept_html(server)

    return Panel(t("ui.start.title"), controls, compute, render, views, columns=2, titles=titles)


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

    from simlab.plots import use_language_font

    use_language_font()  # Japanese chart text needs a Japanese font
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

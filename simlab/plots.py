"""Pictures for the lessons: the network, outcome bars, timelines and SMTP sequence diagrams.

Each function returns a :class:`matplotlib.figure.Figure` built without
pyplot's global state, so it works the same in a notebook, a test or a
widget callback; a notebook cell ending in one shows the picture. Matplotlib
is imported only when a picture is drawn.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simlab.engine.network import Network
    from simlab.engine.result import Result

__all__ = ["outcome_bars", "compare_bars", "timeline", "network_figure", "sequence_diagram", "to_png", "LABELS",
           "PROBE_LINE", "probe_lines_per_hour", "tidy_counts"]

#: Plain words for the summary keys, as lessons show them.
LABELS = {
    "legit_delivered": "legitimate mail delivered",
    "legit_refused": "legitimate mail lost",
    "spam_relayed": "spam relayed",
    "spam_refused": "spam refused",
    "spam_delivered_local": "spam to our users",
    "bounces_to_postmaster": "bounces to postmaster",
    "login_failures": "failed logins",
    "accounts_compromised": "accounts broken into",
    "legit_logins_refused": "staff logins refused",
    "bans": "addresses banned",
    "connections_dropped": "connections unanswered or reset",
    "connections_refused": "connections refused by the server",
    "complaints_sent": "'please stop' mails sent",
    "guess_succeeded": "guesses that worked",
    "log_lines": "log lines",
}
COLOURS = {"legit_delivered": "#4c9a2a", "legit_refused": "#d1495b", "spam_relayed": "#edae49",
           "spam_refused": "#00798c", "accounts_compromised": "#8f2d56", "legit_logins_refused": "#e07a5f",
           "login_failures": "#30638e", "bans": "#66a182", "bounces_to_postmaster": "#edae49",
           "connections_dropped": "#7d7d7d", "connections_refused": "#a0a0a0", "log_lines": "#30638e",
           "guess_succeeded": "#8f2d56", "spam_delivered_local": "#f4a259"}


def _figure(width: float = 6.4, height: float = 3.2, layout: str | None = "constrained") -> Figure:
    """A figure that shows itself as a picture in a notebook, with no pyplot and no ``%matplotlib``.

    ``layout=None`` leaves the margins to the caller: constrained layout draws a figure twice
    on save, which panels that redraw on every change cannot afford.
    """
    from matplotlib.figure import Figure

    class LessonFigure(Figure):
        def _repr_png_(self) -> bytes:
            return to_png(self)

    return LessonFigure(figsize=(width, height), layout=layout)


def to_png(figure: Figure, dpi: int = 90) -> bytes:
    """The figure as PNG bytes (for image widgets)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def outcome_bars(summary: Mapping[str, int], keys: Sequence[str] = ("legit_delivered", "legit_refused",
                                                                    "spam_relayed", "spam_refused"),
                 title: str = "") -> Figure:
    """Horizontal bars, one per summary key, with the count at the end of each bar."""
    height = 0.45 * len(keys) + 0.9
    fig = _figure(6.4, height, layout=None)
    labels = [LABELS.get(k, k) for k in keys]
    # fixed margins sized to the longest label (about 0.075 in a character at 10 pt), instead of a layout pass
    left = min(0.6, (0.075 * max(len(label) for label in labels) + 0.25) / 6.4)
    fig.subplots_adjust(left=left, right=0.95, top=1 - 0.45 / height, bottom=0.12 / height)
    ax = fig.add_subplot()
    values = [summary.get(k, 0) for k in keys]
    bars = ax.barh(labels, values, color=[COLOURS.get(k, "#30638e") for k in keys])
    ax.bar_label(bars, padding=3)
    ax.invert_yaxis()
    ax.set_xlim(0, max([*values, 1]) * 1.2)
    ax.xaxis.set_visible(False)  # each bar carries its count; an axis would only cost drawing time
    ax.spines[["top", "right", "bottom"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    return fig


def compare_bars(rows: Mapping[str, Mapping[str, int]], keys: Sequence[str] = ("spam_relayed", "legit_refused"),
                 title: str = "") -> Figure:
    """Grouped bars: one group per setting (``rows``), one bar per key - e.g. spam relayed vs legitimate mail lost."""
    fig = _figure(6.8, 3.2)
    ax = fig.add_subplot()
    names = list(rows)
    width = 0.8 / max(1, len(keys))
    for i, key in enumerate(keys):
        xs = [n + i * width for n in range(len(names))]
        bars = ax.bar(xs, [rows[name].get(key, 0) for name in names], width, label=LABELS.get(key, key),
                      color=COLOURS.get(key))
        ax.bar_label(bars, padding=2, fontsize=8)
    ax.set_xticks([n + width * (len(keys) - 1) / 2 for n in range(len(names))], names, rotation=15, ha="right")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    return fig


def timeline(result: Result, what: Sequence[str] = ("spam_relayed", "legit_refused", "log_lines"),
             freq: str = "1h", title: str = "") -> Figure:
    """Counts per time bin for each item of ``what`` (log lines per hour, bans, spam relayed ...)."""
    fig = _figure(7.0, 3.0)
    ax = fig.add_subplot()
    table = result.series(freq)
    for key in what:
        if key in getattr(table, "columns", ()):
            ax.step(table.index, table[key], where="post", label=LABELS.get(key, key), color=COLOURS.get(key))
    ax.set_ylabel(f"per {freq}")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    if title:
        ax.set_title(title, loc="left")
    return fig


ROLE_COLOURS = {"mail server": "#edae49", "router": "#30638e", "LAN switch": "#9bb1c4", "LAN client": "#66a182",
                "roaming user": "#66a182", "Internet": "#d9d9d9", "attacker": "#d1495b", "remote MTA": "#00798c",
                "provider MX": "#00798c", "DNS resolver": "#9bb1c4"}


def network_figure(network: Network, title: str = "") -> Figure:
    """The simulated network: hosts coloured by role (see the legend), labelled with name and address."""
    import networkx as nx
    from matplotlib.lines import Line2D

    fig = _figure(8.0, 5.2)
    ax = fig.add_subplot()
    graph = network.graph
    pos = nx.spring_layout(graph, seed=7, k=0.9)
    roles = [graph.nodes[n]["role"] for n in graph.nodes]
    nx.draw_networkx_edges(graph, pos, ax=ax, edge_color="#999999")
    nx.draw_networkx_nodes(graph, pos, ax=ax, node_color=[ROLE_COLOURS.get(r, "#cccccc") for r in roles],
                           node_size=350, edgecolors="#333333")
    labels = {n: f"{n}\n{graph.nodes[n]['ip']}" for n in graph.nodes}
    below = {n: (x, y - 0.09) for n, (x, y) in pos.items()}
    nx.draw_networkx_labels(graph, below, labels, ax=ax, font_size=7, verticalalignment="top",
                            bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 0.5})
    shown = [role for role in ROLE_COLOURS if role in roles]
    ax.legend([Line2D([], [], marker="o", linestyle="", markersize=8, markerfacecolor=ROLE_COLOURS[r],
                      markeredgecolor="#333333") for r in shown], shown, loc="upper left", fontsize=7,
              frameon=False, ncols=2)
    ax.margins(0.12)
    ax.set_axis_off()
    if title:
        ax.set_title(title, loc="left")
    return fig


def sequence_diagram(transcript: Sequence[str], client: str = "client", server: str = "server",
                     title: str = "", max_lines: int = 30) -> Figure:
    """A session as a sequence diagram: client and server lanes, one arrow per line (``C:``/``S:``)."""
    lines = [line for line in transcript if line[:3] in ("C: ", "S: ")][:max_lines]
    fig = _figure(7.0, 0.32 * len(lines) + 1.0)
    ax = fig.add_subplot()
    ax.set_xlim(0, 1)
    ax.set_ylim(len(lines) + 0.5, -0.8)
    for x, name in ((0.08, client), (0.92, server)):
        ax.axvline(x, color="#777777", lw=1)
        ax.text(x, -0.6, name, ha="center", va="center", fontsize=9, weight="bold")
    for i, line in enumerate(lines):
        from_client = line.startswith("C: ")
        text = line[3:]
        start, end = (0.08, 0.92) if from_client else (0.92, 0.08)
        colour = "#30638e" if from_client else ("#d1495b" if text[:1] in "45" or text.startswith("-ERR")
                                                else "#4c9a2a")
        ax.annotate("", xy=(end, i + 0.15), xytext=(start, i), arrowprops={"arrowstyle": "->", "color": colour})
        ax.text(0.5, i - 0.05, text if len(text) < 70 else text[:67] + "...", ha="center", va="bottom",
                fontsize=7.5, family="monospace", color=colour)
    ax.set_axis_off()
    if title:
        ax.set_title(title, loc="left")
    return fig


#: Log lines that belong to the relay probe (lesson 02): its domain, and the returns it caused.
PROBE_LINE = re.compile(r"survey\.test|returning to sender|Returned message")


def probe_lines_per_hour(result: Result, title: str = "") -> Figure:
    """Log lines per hour, the relay probe's apart from everyone else's, on a y-axis that starts at 0."""
    start = result.start.replace(minute=0, second=0, microsecond=0)
    offset = (result.start - start).total_seconds()
    records = [(int((seconds + offset) // 3600), line) for seconds, line in result.server.log_records]
    hours = max((hour for hour, _line in records), default=0) + 1
    probe, other = [0] * hours, [0] * hours
    for hour, line in records:
        (probe if PROBE_LINE.search(line) else other)[hour] += 1
    fig = _figure(7.0, 3.0)
    ax = fig.add_subplot()
    xs = list(range(hours))
    ax.bar(xs, other, color="#9bb1c4", label="everyone else's lines")
    ax.bar(xs, probe, bottom=other, color="#d1495b", label="the probe's lines")
    ax.set_xticks(xs[::2], [f"{(start.hour + h) % 24}:00" for h in xs[::2]], rotation=45, ha="right", fontsize=8)
    ax.set_ylim(bottom=0)
    ax.set_ylabel("log lines per hour")
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    return fig


def tidy_counts(figure: Figure) -> Figure:
    """Make a bar chart of counts readable: whole-number ticks, and the legend in a row above the bars.

    :func:`compare_bars` leaves matplotlib's defaults, which can put a legend on a bar and ticks at
    0.5 when the counts are small.
    """
    from matplotlib.ticker import MaxNLocator

    for ax in figure.axes:
        top = max([patch.get_height() for patch in ax.patches] + [1])
        ax.set_ylim(0, top * 1.45 + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        handles, labels = ax.get_legend_handles_labels()
        if handles:
            ax.legend(handles, labels, frameon=False, loc="upper left", ncols=len(handles))
    return figure

"""Pictures for the lessons: the network, outcome bars, timelines and SMTP sequence diagrams.

Each function returns a :class:`matplotlib.figure.Figure` built without
pyplot's global state, so it works the same in a notebook, a test or a
widget callback; a notebook cell ending in one shows the picture. Matplotlib
is imported only when a picture is drawn.

The lessons' own figures (:func:`guessing_timeline`, :func:`mail_paths_figure`,
:func:`pool_sweep_figure`, :func:`bans_figure`, :func:`costs_figure`,
:func:`flood_timeline`, :func:`readable_timeline`) live here too. They take a
run's result and plain data; a lesson's constants (the flooder's name, the
staff, the defences' labels) are arguments, which the panel modules in
:mod:`simlab.ui` fill in. This module imports neither :mod:`simlab.ui` nor
:mod:`simlab.exercises`.

Every word a figure shows - titles, axis labels, legends, annotations - is
looked up in the current language (:mod:`simlab.i18n`) when the figure is
drawn; :data:`LABELS` and :data:`TIMELINE_LABELS` are :class:`LazyLabels`,
read-only mappings that look their texts up when read, so the names stay
importable. What a product wrote (a log line, a reply code) is drawn as it is.
A figure built while the language is Japanese adds a Japanese font to the end
of matplotlib's font list (:func:`use_language_font`,
:func:`simlab.plots.fonts.use_japanese_fallback`), so no label shows as boxes.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from simlab import i18n
from simlab.i18n import LazyTexts
from simlab.scenarios.site import DOMAIN, HOSTNAME, PROVIDER, PROVIDER_IP, SERVER_IP, SPOOFER_IP

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from simlab.engine.network import Network
    from simlab.engine.result import Result

__all__ = ["comparison_bars",
           "outcome_bars", "compare_bars", "timeline", "network_figure", "sequence_diagram", "to_png", "LABELS",
           "PROBE_LINE", "probe_lines_per_hour", "tidy_counts", "guessing_timeline", "mail_paths_figure",
           "MAIL_PATH_PLACES", "pool_sweep_figure", "bans_figure", "costs_figure", "flood_timeline", "FLOOD_COLOURS",
           "readable_timeline", "TIMELINE_LABELS", "TIMELINE_COLOURS", "flood_series", "LazyLabels", "time_of_day",
           "use_language_font", "ROLE_LABELS"]


#: The figures' lazily looked-up label tables are :class:`simlab.i18n.LazyTexts` (the name kept for imports).
LazyLabels = LazyTexts


def use_language_font() -> None:
    """Before a figure is built: in Japanese, chart text falls back to a Japanese font
    (:func:`simlab.plots.fonts.use_japanese_fallback`), so no label shows as missing-glyph boxes."""
    if i18n.language() == "ja":
        from simlab.plots.fonts import use_japanese_fallback

        use_japanese_fallback()


def _monospace() -> str | list[str]:
    """The monospace family; in Japanese with the Japanese font after it (a family given by name gets no
    fallback from ``rcParams``, so DejaVu Sans Mono alone would draw Japanese as boxes)."""
    if i18n.language() == "ja":
        from simlab.plots.fonts import JAPANESE_FAMILY

        return ["monospace", JAPANESE_FAMILY]
    return "monospace"


def _strong() -> str:
    """The weight of a figure's emphasised labels: bold, except in Japanese, whose font (IPAex Gothic) has no
    bold face - matplotlib would fall back with a warning on the lesson's page."""
    return "normal" if i18n.language() == "ja" else "bold"


def _width(text: str) -> int:
    """How many Latin characters ``text`` is as wide as: a Japanese character counts two."""
    return sum(2 if ord(c) >= 0x2E80 else 1 for c in text)

#: Plain words for the summary keys, as lessons show them (in the current language, looked up when read).
LABELS = LazyLabels({
    "legit_delivered": lambda: i18n.t("plots.label.legit_delivered"),
    "legit_refused": lambda: i18n.t("plots.label.legit_refused"),
    "spam_relayed": lambda: i18n.t("plots.label.spam_relayed"),
    "spam_refused": lambda: i18n.t("plots.label.spam_refused"),
    "spam_delivered_local": lambda: i18n.t("plots.label.spam_delivered_local"),
    "bounces_to_postmaster": lambda: i18n.t("plots.label.bounces_to_postmaster"),
    "login_failures": lambda: i18n.t("plots.label.login_failures"),
    "accounts_compromised": lambda: i18n.t("plots.label.accounts_compromised"),
    "legit_logins_refused": lambda: i18n.t("plots.label.legit_logins_refused"),
    "bans": lambda: i18n.t("plots.label.bans"),
    "connections_dropped": lambda: i18n.t("plots.label.connections_dropped"),
    "connections_refused": lambda: i18n.t("plots.label.connections_refused"),
    "complaints_sent": lambda: i18n.t("plots.label.complaints_sent"),
    "guess_succeeded": lambda: i18n.t("plots.label.guess_succeeded"),
    "log_lines": lambda: i18n.t("plots.label.log_lines"),
    # lesson 06's counts of refused connections (simlab.ui.flood): the key is the English text
    "legitimate connections refused": lambda: i18n.t("plots.label.legit_connections_refused"),
    "flooder's connections refused": lambda: i18n.t("plots.label.flooder_connections_refused"),
})
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

    use_language_font()

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
    left = min(0.6, (0.075 * max(_width(label) for label in labels) + 0.25) / 6.4)
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


def comparison_bars(comparison: Any, keys: Sequence[str] | None = None, title: str = "") -> Figure:
    """What a change caused, on the same traffic: the mean paired difference per figure, with its interval.

    ``comparison`` is a :class:`simlab.comparison.Comparison`; ``keys`` default to the figures that moved,
    with legitimate mail lost always shown. One horizontal bar per figure, coloured as the figure is
    elsewhere; the whisker is the 95 % interval over the seeds.
    """
    from simlab.comparison import HEADLINE

    table = comparison.table
    if keys is None:
        keys = [k for k in HEADLINE if k != "legit_refused" and k in table.index and table.loc[k, "seeds_changed"] > 0]
        keys.append("legit_refused")
    keys = [k for k in keys if k in table.index]
    fig = _figure(6.4, 0.45 * len(keys) + 1.1)
    ax = fig.add_subplot()
    ys = list(range(len(keys)))[::-1]
    values = [float(table.loc[k, "difference"]) for k in keys]
    errors = [[v - float(table.loc[k, "low"]) for k, v in zip(keys, values, strict=True)],
              [float(table.loc[k, "high"]) - v for k, v in zip(keys, values, strict=True)]]
    bars = ax.barh(ys, values, xerr=errors, color=[COLOURS.get(k, "#9bb1c4") for k in keys], height=0.6,
                   error_kw={"ecolor": "#555555", "capsize": 3, "lw": 1})
    ax.bar_label(bars, labels=["0" if v == 0 else f"{v:+.0f}" if v == round(v) else f"{v:+.1f}" for v in values],
                 padding=4, fontsize=8)
    ax.set_yticks(ys, [LABELS.get(k, k.replace("_", " ")) for k in keys])
    ax.axvline(0, color="#333333", lw=0.8)
    span = max([abs(float(table.loc[k, c])) for k in keys for c in ("low", "high")] + [1.0])
    ax.set_xlim(-span * 1.35, span * 1.35)
    seeds = comparison.runs["seed"].nunique()
    ax.set_xlabel(i18n.tn("plots.comparison.xlabel", seeds))
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
    ax.set_ylabel(i18n.t("plots.per", unit=freq))
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.autofmt_xdate()
    if title:
        ax.set_title(title, loc="left")
    return fig


ROLE_COLOURS = {"mail server": "#edae49", "router": "#30638e", "LAN switch": "#9bb1c4", "LAN client": "#66a182",
                "roaming user": "#66a182", "Internet": "#d9d9d9", "attacker": "#d1495b", "remote MTA": "#00798c",
                "provider MX": "#00798c", "DNS resolver": "#9bb1c4"}
#: The roles' names in the network figure's legend (the role names themselves are identifiers of the network).
ROLE_LABELS = LazyLabels({
    "mail server": lambda: i18n.t("plots.role.mail_server"), "router": lambda: i18n.t("plots.role.router"),
    "LAN switch": lambda: i18n.t("plots.role.lan_switch"), "LAN client": lambda: i18n.t("plots.role.lan_client"),
    "roaming user": lambda: i18n.t("plots.role.roaming_user"), "Internet": lambda: i18n.t("plots.role.internet"),
    "attacker": lambda: i18n.t("plots.role.attacker"), "remote MTA": lambda: i18n.t("plots.role.remote_mta"),
    "provider MX": lambda: i18n.t("plots.role.provider_mx"), "DNS resolver": lambda: i18n.t("plots.role.dns_resolver"),
})


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
                      markeredgecolor="#333333") for r in shown], [ROLE_LABELS.get(r, r) for r in shown],
              loc="upper left", fontsize=7,
              frameon=False, ncols=2)
    ax.margins(0.12)
    ax.set_axis_off()
    if title:
        ax.set_title(title, loc="left")
    return fig


def sequence_diagram(transcript: Sequence[str], client: str | None = None, server: str | None = None,
                     title: str = "", max_lines: int = 30) -> Figure:
    """A session as a sequence diagram: client and server lanes, one arrow per line (``C:``/``S:``); the lanes
    are named ``client`` and ``server`` (by default the words "client" and "server" in the current language)."""
    client = i18n.t("plots.sequence.client") if client is None else client
    server = i18n.t("plots.sequence.server") if server is None else server
    lines = [line for line in transcript if line[:3] in ("C: ", "S: ")][:max_lines]
    fig = _figure(7.0, 0.32 * len(lines) + 1.0)
    ax = fig.add_subplot()
    ax.set_xlim(0, 1)
    ax.set_ylim(len(lines) + 0.5, -0.8)
    for x, name in ((0.08, client), (0.92, server)):
        ax.axvline(x, color="#777777", lw=1)
        ax.text(x, -0.6, name, ha="center", va="center", fontsize=9, weight=_strong())
    for i, line in enumerate(lines):
        from_client = line.startswith("C: ")
        text = line[3:]
        start, end = (0.08, 0.92) if from_client else (0.92, 0.08)
        colour = "#30638e" if from_client else ("#d1495b" if text[:1] in "45" or text.startswith("-ERR")
                                                else "#4c9a2a")
        ax.annotate("", xy=(end, i + 0.15), xytext=(start, i), arrowprops={"arrowstyle": "->", "color": colour})
        ax.text(0.5, i - 0.05, text if len(text) < 70 else text[:67] + "...", ha="center", va="bottom",
                fontsize=7.5, family=_monospace(), color=colour)
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
    ax.bar(xs, other, color="#9bb1c4", label=i18n.t("plots.probe.others_lines"))
    ax.bar(xs, probe, bottom=other, color="#d1495b", label=i18n.t("plots.probe.probe_lines"))
    ax.set_xticks(xs[::2], [f"{(start.hour + h) % 24}:00" for h in xs[::2]], rotation=45, ha="right", fontsize=8)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(i18n.t("plots.probe.ylabel"))
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


# --- the lessons' own figures -------------------------------------------------------------------
# Drawn from a run's result and plain data; the lesson's constants (who the flooder is, the
# staff, the defences' names) come in as arguments from the panel modules in simlab.ui.


def _ban_times(result: Result) -> list[float]:
    return [ban.time for restriction in result.server.restrictions for ban in getattr(restriction, "bans", ())]


def guessing_timeline(result: Result, staff: Iterable[str], breaches: Iterable[Any], title: str = "") -> Figure:
    """Failed logins per hour (the guesser's and the staff's), guesses stopped before login, bans and break-ins.

    ``staff`` names the actors whose refused logins are the staff's; ``breaches`` are the break-ins
    to mark, each with a ``time`` (a datetime) and an ``account``
    (:func:`simlab.exercises.password.break_ins`). Lesson 01.
    """
    from matplotlib.figure import Figure

    staff = tuple(staff)
    use_language_font()
    fig = Figure(figsize=(7.0, 2.8), layout="constrained")
    ax = fig.add_subplot()
    midnight = result.start.replace(hour=0, minute=0, second=0, microsecond=0)
    edges = list(range(result.start.hour, result.start.hour + 26))

    def hours(times) -> list[float]:
        return [(t - midnight).total_seconds() / 3600 for t in times]

    events = result.events
    if not events.empty:
        site = events[events.host == HOSTNAME]
        guesser = site.actor == "guesser"
        failed = (site.command == "PASS") & (site.reply_code == "-ERR")
        stopped = (site.command == "CONNECT") & ((site.outcome != "greeting") | (site.reply_code == "-ERR"))
        series = {
            i18n.t("plots.guessing.guesser_wrong"): (site[guesser & failed], "#30638e"),
            i18n.t("plots.guessing.guesser_refused"): (site[guesser & stopped], "#66a182"),
            i18n.t("plots.guessing.staff_refused"): (site[site.actor.isin(staff) & (failed | stopped)], "#d1495b"),
        }
        for label, (rows, colour) in series.items():
            per_hour = Counter(int(h) for h in hours(rows.time))
            counts = [per_hour.get(h, 0) for h in edges]
            if any(counts):
                ax.step(edges, counts, where="post", label=label, color=colour)
    for n, when in enumerate(_ban_times(result)):
        ax.axvline((result.start - midnight).total_seconds() / 3600 + when / 3600, color=COLOURS["bans"], ls="--",
                   lw=1, label=i18n.t("plots.guessing.ban") if n == 0 else None)
    for n, breach in enumerate(breaches):
        [x] = hours([breach.time])
        ax.plot([x], [0], marker="X", ms=10, color=COLOURS["accounts_compromised"], ls="none",
                label=i18n.t("plots.guessing.broken_into") if n == 0 else None)
        ax.annotate(f"{breach.account} {breach.time:%H:%M}", (x, 0), textcoords="offset points",
                    xytext=(6, 8 + 14 * n), fontsize=8, color=COLOURS["accounts_compromised"],
                    bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.8})
    ticks = edges[::3]
    ax.set_xticks(ticks, [f"{h % 24:02d}:00" for h in ticks], fontsize=8)
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(bottom=-0.6)
    ax.set_ylabel(i18n.t("plots.per_hour"))
    if ax.get_legend_handles_labels()[0]:
        ax.legend(frameon=False, fontsize=8, loc="upper right")
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    return fig


#: Where each sender sits in :func:`mail_paths_figure` (x, y), by address.
MAIL_PATH_PLACES = {"198.51.100.90": (0.0, 2.0), "198.51.100.80": (0.0, 1.0), SPOOFER_IP: (0.0, 0.0),
                    PROVIDER_IP: (1.0, 1.5), "192.0.2.101": (2.0, -0.1), SERVER_IP: (2.0, 1.0)}


def _edge(centre: tuple[float, float], towards: tuple[float, float]) -> tuple[float, float]:
    """Where a line from ``centre`` to ``towards`` leaves a node's box (0.36 wide, 0.22 high, in data units)."""
    dx, dy = towards[0] - centre[0], towards[1] - centre[1]
    scale = min(0.36 / abs(dx) if dx else float("inf"), 0.22 / abs(dy) if dy else float("inf"))
    return centre[0] + dx * scale, centre[1] + dy * scale


def mail_paths_figure(result: Result, title: str = "") -> Figure:
    """Who connected to the site's server (and to the provider) over SMTP, with the greetings they got.

    One arrow per path, labelled with how many connections got ``220`` (welcome, green) and
    ``554`` (refused at connect, red). Drawn from the run's events. Lesson 04.
    """
    from matplotlib.figure import Figure

    events = result.events
    smtp = events[(events.command == "CONNECT") & events.host.isin([HOSTNAME, PROVIDER])
                  & events.reply_code.isin([220, 554])]
    names = {SERVER_IP: f"{HOSTNAME}\n{SERVER_IP}"}
    paths: dict[tuple[str, str], dict[int, int]] = {}
    for actor, ip, host, code in zip(smtp.actor, smtp.client_ip, smtp.host, smtp.reply_code, strict=True):
        who = i18n.t("plots.paths.provider") if actor.endswith("(relay)") else actor
        names.setdefault(ip, f"{who}\n{ip}")
        target = SERVER_IP if host == HOSTNAME else PROVIDER_IP
        names.setdefault(target, f"{PROVIDER}\n{PROVIDER_IP}" if target == PROVIDER_IP else names[SERVER_IP])
        paths.setdefault((ip, target), {220: 0, 554: 0})[int(code)] += 1
    use_language_font()
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    ax.set_xlim(-0.45, 2.45)
    ax.set_ylim(-0.55, 2.45)
    ax.set_axis_off()
    for (src, dst), codes in paths.items():
        if src not in MAIL_PATH_PLACES:
            continue
        refused = codes[554] > codes[220]
        colour = "#b00020" if refused else "#2e7d32"
        (x0, y0), (x1, y1) = MAIL_PATH_PLACES[src], MAIL_PATH_PLACES[dst]
        ax.annotate("", xy=_edge((x1, y1), (x0, y0)), xytext=_edge((x0, y0), (x1, y1)),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.6, "shrinkA": 0, "shrinkB": 0})
        label = "  ".join(f"{n}× {code}" for code, n in codes.items() if n)
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.08, label, ha="center", fontsize=8, color=colour,
                bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none"})
    for ip, (x, y) in MAIL_PATH_PLACES.items():
        if ip in names:
            colour = "#edae49" if ip == SERVER_IP else "#8fc9cf" if ip == PROVIDER_IP else "#9bb1c4"
            ax.text(x, y, names[ip], ha="center", va="center", fontsize=8,
                    bbox={"boxstyle": "round,pad=0.35", "fc": colour, "ec": "#333333"})
    mx = result.world.dns.mx[DOMAIN][0]
    ax.set_title(title or i18n.t("plots.paths.title", mx=mx), loc="left", fontsize=10)
    return fig


def pool_sweep_figure(sweep: Mapping[str, Mapping[int, Mapping[str, int]]], sent: int | None = None,
                      title: str = "", labels: Mapping[str, str] | None = None) -> Figure:
    """Spam relayed in a day against the spammer's pool size, one line per defence.

    ``sweep`` is what :func:`simlab.exercises.rotation.pool_sweep` returns; ``sent``, if given,
    draws the number of spams sent as a dotted line; ``labels`` names the defences in the legend
    (:data:`simlab.exercises.rotation.DEFENCES`). The pool sizes are spaced evenly and
    labelled with their values (a category axis), and each point carries its count. Lesson 05.
    """
    from matplotlib.figure import Figure

    labels = labels or {}
    use_language_font()
    fig = Figure(figsize=(7.0, 3.6), layout="constrained")
    ax = fig.add_subplot()
    colours = ["#d1495b", "#00798c", "#edae49", "#30638e", "#66a182"]
    sizes = sorted({size for by_size in sweep.values() for size in by_size})
    position = {size: n for n, size in enumerate(sizes)}
    top = max([sent or 0, *(r["spam_relayed"] for by_size in sweep.values() for r in by_size.values()), 1])
    for n, (colour, (defence, by_size)) in enumerate(zip(colours, sweep.items(), strict=False)):
        points = sorted(by_size)
        values = [by_size[size]["spam_relayed"] for size in points]
        ax.plot([position[size] for size in points], values, "o-", color=colour, label=labels.get(defence, defence))
        below = n % 2 == 1  # alternate lines put their counts below the points, so that labels do not collide
        for size, value in zip(points, values, strict=True):
            ax.annotate(str(value), (position[size], value), xytext=(0, -13 if below else 7),
                        textcoords="offset points", ha="center", fontsize=8, color=colour)
    if sent:
        ax.axhline(sent, color="#777777", ls=":", lw=1)
        ax.text(0.01, sent, i18n.t("plots.sweep.sent", sent=sent), va="bottom", fontsize=8, color="#777777",
                transform=ax.get_yaxis_transform())
    ax.set_xticks(range(len(sizes)), [str(size) for size in sizes])
    ax.set_xlim(-0.4, len(sizes) - 0.6)
    ax.set_ylim(-0.12 * top, top * 1.25)
    ax.set_xlabel(i18n.t("plots.sweep.xlabel"))
    ax.set_ylabel(i18n.t("plots.sweep.ylabel"))
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(0.0, 0.76))
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title or i18n.t("plots.sweep.title"), loc="left", fontsize=10)
    return fig


def bans_figure(result: Result, bans: Sequence[tuple[float, str, str]], title: str = "") -> Figure:
    """The day in time, two panels on one clock.

    Above: spam relayed so far, and each ban of ``bans`` - ``(seconds into the run, address, by whom)``
    as :func:`simlab.exercises.rotation.bans_in_order` lists them - as a tick (red and named: an
    address that is not the spammer's). Below, on its own scale: legitimate mail lost so far - a
    handful of messages that would be invisible on the spam's scale. Lesson 05.
    """
    from matplotlib.dates import DateFormatter
    from matplotlib.figure import Figure

    use_language_font()
    fig = Figure(figsize=(7.0, 4.4), layout="constrained")
    ax, below = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.4]})
    start = result.start
    end = start + timedelta(seconds=result.world.loop.now)
    relayed = sorted(t for t, what in result.timeline if what == "spam_relayed")
    lost = sorted(t for t, what in result.timeline if what == "legit_refused")
    for axis, times, key in ((ax, relayed, "spam_relayed"), (below, lost, "legit_refused")):
        clock = [start, *(start + timedelta(seconds=t) for t in times), end]
        counts = [0, *range(1, len(times) + 1), len(times)]
        axis.step(clock, counts, where="post", color=COLOURS[key],
                   label=i18n.t("plots.bans.so_far", what=LABELS[key], count=len(times)))
        axis.legend(frameon=False, fontsize=8, loc="upper left")
        axis.spines[["top", "right"]].set_visible(False)
    top = max(len(relayed), 1)
    for t, ip, by in bans:
        staff = not ip.startswith("203.0.113.")
        ax.plot([start + timedelta(seconds=t)] * 2, [-0.06 * top, -0.01 * top], color="#b00020" if staff else "#777777",
                lw=2.5 if staff else 1)
        if staff:
            ax.annotate(i18n.t("plots.bans.banned", ip=ip, by=by), (start + timedelta(seconds=t), -0.06 * top),
                        xytext=(0, -14), textcoords="offset points", ha="center", fontsize=8, color="#b00020")
    if bans:
        ax.plot([], [], color="#777777", label=i18n.tn("plots.bans.a_ban", len(bans)))
        ax.legend(frameon=False, fontsize=8, loc="upper left")
    ax.set_ylim(-0.16 * top, top * 1.08)
    ax.set_yticks([tick for tick in ax.get_yticks() if 0 <= tick <= top * 1.08])
    ax.set_ylabel(i18n.t("plots.bans.spam_messages"))
    below.set_ylim(0, max(len(lost), 1) * 1.3)
    below.set_ylabel(i18n.t("plots.bans.mail_lost"))
    below.yaxis.get_major_locator().set_params(integer=True)
    below.xaxis.set_major_formatter(DateFormatter("%H:%M"))
    ax.set_title(title or i18n.t("plots.bans.title", preset=result.preset), loc="left", fontsize=10)
    return fig


#: Lesson 06's colours: refused connections, lost mail and refused logins, each its own.
FLOOD_COLOURS = {"legitimate connections refused": "#edae49", "legit_refused": COLOURS["legit_refused"],
                 "legit_logins_refused": "#8f2d56"}


def costs_figure(rows: Mapping[str, Result], title: str = "") -> Figure:
    """:func:`compare_bars` of mail lost and logins refused, one group per run.

    ``rows`` maps a label to a run's result. The library draws both keys in the same red; here
    the refused logins get their own colour. Lesson 06.
    """
    fig = compare_bars({label: result.summary for label, result in rows.items()},
                       keys=("legit_refused", "legit_logins_refused"), title=title)
    ax = fig.axes[0]
    for bar in ax.containers[1]:
        bar.set_facecolor(FLOOD_COLOURS["legit_logins_refused"])
    highest = max([1, *(bar.get_height() for container in ax.containers for bar in container)])
    ax.set_ylim(0, highest * 1.45)  # room above the bars for the legend, which must not hide one
    ax.legend(frameon=False, ncols=2, loc="upper left", fontsize=8)
    return fig


def flood_series(result: Result, flooder: str, minutes: int = 10) -> dict[str, Any]:
    """What :func:`flood_timeline` draws, counted from the run's raw events (no table is built): ``series`` (the
    three counts per bin, by name), ``flooded`` (the flooder's refusals per bin), ``count`` bins of ``step``
    seconds from the run's start, their ``edges`` (clock times) and the ``attack``'s first and last clock time."""
    import numpy as np

    step = minutes * 60.0
    count = int(result.world.loop.now // step) + 1

    def binned(seconds: Iterable[float]) -> np.ndarray:
        slots = np.asarray([int(t // step) for t in seconds], dtype=int)
        return np.bincount(slots[slots < count], minlength=count)

    others, flooder_refused, attack = [], [], []
    for t, host, _ip, actor, command, code, outcome in result._events:
        if actor == flooder:
            attack.append(t)
        if command == "CONNECT" and host == HOSTNAME and (outcome == "refused" or code == 421):
            (flooder_refused if actor == flooder else others).append(t)
    series = {
        "legitimate connections refused": binned(others),
        "legit_refused": binned([t for t, w in result.timeline if w == "legit_refused"]),
        "legit_logins_refused": binned([t for t, w in result.timeline if w == "legit_logins_refused"]),
    }
    start = result.start
    return {"series": series, "flooded": binned(flooder_refused), "count": count, "step": step,
            "edges": [start + timedelta(seconds=n * step) for n in range(count)],
            "attack": (start + timedelta(seconds=min(attack)), start + timedelta(seconds=max(attack))) if attack
            else None}


def flood_timeline(result: Result, flooder: str, minutes: int = 10, title: str = "",
                   figure: Figure | None = None) -> Figure:
    """Per ``minutes``: legitimate connections refused, mail lost and logins refused; the refusals of the
    actor named ``flooder`` on the right-hand axis; the attack shaded. Lesson 06.

    ``figure``: a figure this function drew before; when the run has as many bins, its artists get the new
    counts in place and it is returned (no new figure, and fixed margins: no layout pass), else a new one.
    """
    from matplotlib.dates import DateFormatter

    data = flood_series(result, flooder, minutes)
    title = title or i18n.t("plots.flood.title", preset=result.preset, minutes=minutes)
    drawn = getattr(figure, "_simlab_flood", None)
    if drawn is None or drawn["count"] != data["count"] or drawn["step"] != data["step"]:
        figure = _figure(7.0, 3.2, layout=None)
        figure.subplots_adjust(left=0.1, right=0.9, top=0.9, bottom=0.1)
        ax = figure.add_subplot()
        width = timedelta(minutes=minutes) / (len(data["series"]) + 1)
        bars = {}
        for i, (name, values) in enumerate(data["series"].items()):
            bars[name] = ax.bar([edge + width * (i + 0.5) for edge in data["edges"]], values, width=width,
                                align="edge", color=FLOOD_COLOURS[name], label=LABELS.get(name, name))
        ax.set_ylabel(i18n.t("plots.per_minutes", minutes=minutes))
        right = ax.twinx()
        (step_line,) = right.step(data["edges"], data["flooded"], where="post", color="#7d7d7d", lw=1, ls="--",
                                  label=i18n.t("plots.flood.flooder_refused_right"))
        right.set_ylabel(i18n.t("plots.flood.flooder_refused"), color="#7d7d7d")
        ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))
        ax.spines[["top"]].set_visible(False)
        drawn = {"count": data["count"], "step": data["step"], "ax": ax, "right": right, "bars": bars,
                 "step_line": step_line, "span": None, "width": width}
        figure._simlab_flood = drawn
        _flood_span(drawn, data["attack"])
        ax.set_title(title, loc="left", fontsize=10)
    else:
        ax, right, width = drawn["ax"], drawn["right"], drawn["width"]
        for i, (name, values) in enumerate(data["series"].items()):
            for bar, edge, value in zip(drawn["bars"][name], data["edges"], values, strict=True):
                bar.set_height(value)
                bar.set_x(ax.convert_xunits(edge + width * (i + 0.5)))
        drawn["step_line"].set_data(data["edges"], data["flooded"])
        _flood_span(drawn, data["attack"])
        ax.set_title(title, loc="left", fontsize=10)
    right.set_ylim(0, max(1, int(data["flooded"].max())) * 1.15)
    handles, labels = ax.get_legend_handles_labels()
    more, more_labels = right.get_legend_handles_labels()
    ax.legend(handles + more, labels + more_labels, frameon=False, fontsize=7.5, loc="upper right")
    ax.set_ylim(0, max([1, *(int(v.max()) for v in data["series"].values())]) * 1.9)
    return figure


def _flood_span(drawn: dict[str, Any], attack: tuple[Any, Any] | None) -> None:
    """The shaded attack of :func:`flood_timeline`, drawn again for a new run (one patch)."""
    if drawn["span"] is not None:
        drawn["span"].remove()
        drawn["span"] = None
    if attack is not None:
        drawn["span"] = drawn["ax"].axvspan(attack[0], attack[1], color="#d1495b", alpha=0.07,
                                              label=i18n.t("plots.flood.the_flood"))


#: Plain words for :func:`readable_timeline`'s series, beyond :data:`LABELS`.
TIMELINE_LABELS = LABELS | LazyLabels({"guess_succeeded": lambda: i18n.t("plots.timeline.guess_succeeded"),
                                        "guesser_blocked": lambda: i18n.t("plots.timeline.guesser_blocked")})
#: One clearly different colour per series (spam orange, losses red, break-ins purple, as elsewhere).
TIMELINE_COLOURS = {"spam_relayed": "#edae49", "spam_refused": "#00798c", "legit_refused": "#d1495b",
                    "legit_delivered": "#4c9a2a", "guess_succeeded": "#8f2d56", "guesser_blocked": "#66a182",
                    "bans": "#30638e", "log_lines": "#7d7d7d"}


def readable_timeline(result: Result, what: tuple[str, ...], title: str = "", freq: str = "1h") -> Figure:
    """:func:`timeline` with plain labels, distinct colours and ``HH:MM`` ticks. Lesson 08."""
    from matplotlib.dates import DateFormatter
    from matplotlib.ticker import MaxNLocator

    figure = timeline(result, what=what, freq=freq, title=title)
    ax = figure.axes[0]
    by_label = {LABELS.get(key, key): key for key in what}
    for line in ax.get_lines():
        key = by_label.get(line.get_label())
        if key is not None:
            line.set_label(TIMELINE_LABELS.get(key, key))
            line.set_color(TIMELINE_COLOURS.get(key, line.get_color()))
    if ax.get_lines():
        ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.22), ncols=min(3, len(ax.get_lines())))
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.xaxis.set_major_formatter(DateFormatter("%H:%M"))
    ax.tick_params(axis="x", labelrotation=0)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("center")
    start = getattr(result, "start", None)
    ax.set_xlabel(time_of_day(start))
    ax.set_ylabel(i18n.t("plots.per_hour") if freq == "1h" else i18n.t("plots.per", unit=freq))
    return figure


def time_of_day(start: Any) -> str:
    """The time axis' label: ``"time of day (05 March 1998)"``, or ``"time of day"`` without a date."""
    if not hasattr(start, "strftime"):
        return i18n.t("plots.time_of_day")
    date_format = i18n.t("plots.date_format")  # a strftime format: "%d %B %Y", "%Y年%m月%d日"
    return i18n.t("plots.time_of_day_on", date=start.strftime(date_format))


def class_overview_figure(overview: Any, title: str = "") -> Figure:
    """Stacked bars, one per exercise: students who solved it, and students who tried and have not yet
    (``overview`` is :func:`simlab.exercises.common.class_overview`'s table)."""
    fig = _figure(6.4, 3.2)
    ax = fig.add_subplot()
    exercises = sorted(set(overview["exercise"]))
    solved = [int(overview[(overview.exercise == e) & overview.solved].shape[0]) for e in exercises]
    tried = [int(overview[(overview.exercise == e) & ~overview.solved].shape[0]) for e in exercises]
    bars = ax.bar(exercises, solved, color="#2e7d32", label=i18n.t("plots.overview.solved"))
    ax.bar_label(bars, labels=[str(n) if n else "" for n in solved], label_type="center", color="white", fontsize=8)
    bars = ax.bar(exercises, tried, bottom=solved, color="#b00020", label=i18n.t("plots.overview.tried"))
    ax.bar_label(bars, labels=[str(n) if n else "" for n in tried], label_type="center", color="white", fontsize=8)
    ax.set_ylabel(i18n.t("plots.overview.students"))
    ax.set_xlabel(i18n.t("plots.overview.exercise"))
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.legend(frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    if title:
        ax.set_title(title, loc="left")
    return fig

"""Charts the browser draws: SVG for the pictures a panel redraws on every change.

A matplotlib picture costs a panel 60-200 ms to draw on a classroom laptop (text layout and
rasterising, then PNG encoding); the same picture as SVG is a string made in about a
millisecond, and the browser draws it sharp at any zoom. Each function here draws what its
matplotlib twin in :mod:`simlab.plots` draws - the same lanes, series, colours and words - for
a panel's view; the notebooks keep the matplotlib figures.

* :func:`sequence_svg`: an SMTP/POP3 session as a sequence diagram (:func:`simlab.plots.sequence_diagram`).
* :func:`steps_svg`: counts per hour as step lines, with marks and vertical rules
  (:func:`simlab.plots.guessing_timeline`, :func:`simlab.plots.readable_timeline`).
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from simlab.i18n import t

__all__ = ["sequence_svg", "steps_svg", "binned_svg", "Steps", "Bars", "Rule", "Mark", "nice_ticks", "svg_texts"]

_FONT = "font-family='DejaVu Sans, Verdana, sans-serif'"
_MONO = "font-family='DejaVu Sans Mono, Menlo, Consolas, monospace'"


def _columns(text: str) -> int:
    """How many character widths ``text`` takes: a wide character (a Japanese label's kana and kanji) two, others one
    (Unicode's East Asian Width), so a legend of Japanese words gets room enough."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _text(x: float, y: float, text: str, size: float = 11, anchor: str = "start", colour: str = "#222",
          extra: str = "") -> str:
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' fill='{colour}' {_FONT} "
            f"{extra}>{html.escape(text)}</text>")


def _axes(frame, ticks, xticks) -> list[str]:
    """A plot's axes: the y ticks with their values, the x ticks with their labels, and the two axis lines."""
    out = []
    for tick in ticks:
        y = frame.y(tick)
        out.append(f"<line x1='{frame.left - 4:.1f}' y1='{y:.1f}' x2='{frame.left:.1f}' y2='{y:.1f}' stroke='#333'/>")
        out.append(_text(frame.left - 7, y + 4, str(tick), size=11, anchor="end"))
    for value, label in xticks:
        x = frame.x(value)
        out.append(f"<line x1='{x:.1f}' y1='{frame.bottom:.1f}' x2='{x:.1f}' y2='{frame.bottom + 4:.1f}' "
                   "stroke='#333'/>")
        out.append(_text(x, frame.bottom + 16, label, size=11, anchor="middle"))
    out.append(f"<path d='M{frame.left:.1f},{frame.top:.1f} V{frame.bottom:.1f} H{frame.right:.1f}' fill='none' "
               "stroke='#333' stroke-width='1'/>")
    return out


def sequence_svg(transcript: Sequence[str], client: str | None = None, server: str | None = None, title: str = "",
                 max_lines: int = 30, width: int = 630) -> str:
    """A session as a sequence diagram: client and server lanes, one arrow per line (``C:``/``S:``); the lanes
    are named ``client`` and ``server`` (by default the words "client" and "server" in the current language).

    As :func:`simlab.plots.sequence_diagram`: client lines blue, replies green, refusals (4xx, 5xx,
    ``-ERR``) red, long lines cut at 67 characters.
    """
    client = t("plots.sequence.client") if client is None else client
    server = t("plots.sequence.server") if server is None else server
    lines = [line for line in transcript if line[:3] in ("C: ", "S: ")][:max_lines]
    row, top = 26.0, 46.0 + (20 if title else 0)
    height = int(top + row * len(lines) + 14)
    left, right = width * 0.08, width * 0.92
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' class='simlab-sequence' role='img'>",
             "<defs>" + "".join(
                 f"<marker id='simlab-arrow-{name}' viewBox='0 0 10 10' refX='10' refY='5' markerWidth='7' "
                 f"markerHeight='7' orient='auto-start-reverse'><path d='M0,0 L10,5 L0,10' fill='none' "
                 f"stroke='{colour}' stroke-width='1.6'/></marker>"
                 for name, colour in (("c", "#30638e"), ("ok", "#4c9a2a"), ("no", "#d1495b"))) + "</defs>"]
    if title:
        parts.append(_text(4, 16, title, size=13))
    for x, name in ((left, client), (right, server)):
        parts.append(f"<line x1='{x:.1f}' y1='{top - 18:.1f}' x2='{x:.1f}' y2='{height - 4}' stroke='#777' "
                     "stroke-width='1'/>")
        parts.append(_text(x, top - 24, name, size=12, anchor="middle", extra="font-weight='bold'"))
    for i, line in enumerate(lines):
        from_client = line.startswith("C: ")
        text = line[3:]
        refused = not from_client and (text[:1] in "45" or text.startswith("-ERR"))
        kind, colour = ("c", "#30638e") if from_client else (("no", "#d1495b") if refused else ("ok", "#4c9a2a"))
        start, end = (left, right) if from_client else (right, left)
        y = top + row * i + 8
        parts.append(f"<line x1='{start:.1f}' y1='{y:.1f}' x2='{end:.1f}' y2='{y + 4:.1f}' stroke='{colour}' "
                     f"stroke-width='1.2' marker-end='url(#simlab-arrow-{kind})'/>")
        shown = text if len(text) < 70 else text[:67] + "..."
        parts.append(f"<text x='{width / 2:.1f}' y='{y - 3:.1f}' font-size='10' text-anchor='middle' "
                     f"fill='{colour}' {_MONO} xml:space='preserve'>{html.escape(shown)}</text>")
    parts.append("</svg>")
    return "".join(parts)


@dataclass
class Steps:
    """One series of :func:`steps_svg`: ``values[i]`` holds from ``xs[i]`` to ``xs[i + 1]`` (a step after)."""

    label: str
    xs: Sequence[float]
    values: Sequence[float]
    colour: str
    dashed: bool = False


@dataclass
class Rule:
    """A vertical line across the chart at ``x`` (a ban), in the legend once per label."""

    x: float
    colour: str
    label: str = ""
    dashed: bool = True


@dataclass
class Mark:
    """A marker at ``(x, y)`` with a note beside it (a break-in)."""

    x: float
    y: float
    colour: str
    note: str = ""
    label: str = ""


def nice_ticks(top: float, most: int = 6) -> list[int]:
    """Whole-number ticks from 0 to at least ``top``: steps of 1, 2, 5, 10, 20, 50 ... (at most ``most`` + 1)."""
    top = max(1.0, float(top))
    step = 1
    while top / step > most:
        for factor in (2, 2.5, 2):
            step = int(step * factor)
            if top / step <= most:
                break
    return list(range(0, math.ceil(top / step) * step + 1, step))


@dataclass
class _Frame:
    width: int
    height: int
    left: float
    right: float
    top: float
    bottom: float
    x0: float
    x1: float
    y1: float
    y0: float = 0.0
    parts: list[str] = field(default_factory=list)

    def x(self, value: float) -> float:
        return self.left + (value - self.x0) / (self.x1 - self.x0 or 1) * (self.right - self.left)

    def y(self, value: float) -> float:
        return self.bottom - (value - self.y0) / ((self.y1 - self.y0) or 1) * (self.bottom - self.top)


def steps_svg(series: Sequence[Steps], x_range: tuple[float, float], xticks: Sequence[tuple[float, str]],
              ylabel: str = "", title: str = "", xlabel: str = "", rules: Sequence[Rule] = (),
              marks: Sequence[Mark] = (), width: int = 630, height: int = 250,
              legend: str = "inside", y_floor: float = 0.0) -> str:
    """Counts as step lines on a whole-number y axis from 0, with vertical rules and marks.

    ``legend``: ``"inside"`` (top right, as matplotlib's ``upper right``) or ``"below"`` (in rows under the axis).
    ``y_floor``: where the x axis sits (below 0, e.g. -0.6, keeps a line at 0 clear of it). An empty chart (no
    series) still draws its axes.
    """
    drawn = [s for s in series if any(s.values)]
    top_value = max([1.0, *(max(s.values) for s in drawn)])
    ticks = nice_ticks(top_value * 1.05)
    entries = [(s.label, s.colour, "line-dash" if s.dashed else "line") for s in drawn]
    for rule in rules:
        if rule.label and (rule.label, rule.colour, "rule") not in entries:
            entries.append((rule.label, rule.colour, "rule"))
    for mark in marks:
        if mark.label and (mark.label, mark.colour, "mark") not in entries:
            entries.append((mark.label, mark.colour, "mark"))
    per_row = 3
    below = legend == "below" and entries
    legend_rows = math.ceil(len(entries) / per_row) if below else 0
    height += 18 * legend_rows
    tick_width = 7 * len(str(ticks[-1]))
    frame = _Frame(width, height, left=30 + tick_width + (16 if ylabel else 0), right=width - 24,
                   top=14 + (22 if title else 0),
                   bottom=height - 26 - (18 if xlabel else 0) - 18 * legend_rows - (6 if below else 0),
                   x0=x_range[0], x1=x_range[1], y1=ticks[-1], y0=min(0.0, y_floor))
    p = frame.parts
    p.append(f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' class='simlab-steps' role='img'>")
    if title:
        p.append(_text(frame.left, 18, title, size=13))
    p += _axes(frame, ticks, xticks)
    if ylabel:
        middle = (frame.top + frame.bottom) / 2
        p.append(_text(12, middle, ylabel, size=12, anchor="middle", extra=f"transform='rotate(-90 12 {middle:.1f})'"))
    if xlabel:
        p.append(_text((frame.left + frame.right) / 2, frame.bottom + 33, xlabel, size=12, anchor="middle"))
    for rule in rules:
        x = frame.x(rule.x)
        dash = " stroke-dasharray='5,3'" if rule.dashed else ""
        p.append(f"<line x1='{x:.1f}' y1='{frame.top:.1f}' x2='{x:.1f}' y2='{frame.bottom:.1f}' "
                 f"stroke='{rule.colour}' stroke-width='1'{dash}/>")
    for s in drawn:  # as matplotlib's step(where="post"): across at each value, then up or down to the next
        points = [f"M{frame.x(s.xs[0]):.1f},{frame.y(s.values[0]):.1f}"]
        for i, value in enumerate(s.values):
            if i:
                points.append(f"V{frame.y(value):.1f}")
            if i + 1 < len(s.xs):
                points.append(f"H{frame.x(s.xs[i + 1]):.1f}")
        dash = " stroke-dasharray='6,3'" if s.dashed else ""
        p.append(f"<path d='{' '.join(points)}' fill='none' stroke='{s.colour}' stroke-width='1.5'{dash}/>")
    for n, mark in enumerate(marks):
        x, y = frame.x(mark.x), frame.y(mark.y)
        p.append(f"<path d='M{x - 5:.1f},{y - 5:.1f} L{x + 5:.1f},{y + 5:.1f} M{x - 5:.1f},{y + 5:.1f} "
                 f"L{x + 5:.1f},{y - 5:.1f}' stroke='{mark.colour}' stroke-width='3'/>")
        if mark.note:
            p.append(f"<rect x='{x + 6:.1f}' y='{y - 21 - 14 * n:.1f}' width='{6.2 * _columns(mark.note) + 4:.1f}' "
                     "height='13' fill='white' fill-opacity='0.8'/>")
            p.append(_text(x + 8, y - 11 - 14 * n, mark.note, size=10, colour=mark.colour))
    p.append(_legend(frame, entries, legend, per_row, 18 if xlabel else 0))
    p.append("</svg>")
    return "".join(p)


def _legend(frame: _Frame, entries: Sequence[tuple[str, str, str]], where: str, per_row: int, lower: float) -> str:
    if not entries:
        return ""
    out = []

    def key(x: float, y: float, colour: str, kind: str) -> str:
        if kind == "mark":
            return (f"<path d='M{x + 8:.1f},{y - 4:.1f} L{x + 16:.1f},{y + 4:.1f} M{x + 8:.1f},{y + 4:.1f} "
                    f"L{x + 16:.1f},{y - 4:.1f}' stroke='{colour}' stroke-width='3'/>")
        dash = " stroke-dasharray='5,3'" if kind in ("rule", "line-dash") else ""
        return f"<line x1='{x:.1f}' y1='{y:.1f}' x2='{x + 24:.1f}' y2='{y:.1f}' stroke='{colour}' " \
               f"stroke-width='1.5'{dash}/>"

    if where == "below":
        column = (frame.right - frame.left) / per_row
        y0 = frame.bottom + 30 + lower
        for n, (label, colour, kind) in enumerate(entries):
            x, y = frame.left + column * (n % per_row), y0 + 18 * (n // per_row) + 6
            out.append(key(x, y - 4, colour, kind) + _text(x + 30, y, label, size=11))
        return "".join(out)
    longest = max(_columns(label) for label, _c, _k in entries)
    x = frame.right - 36 - 6.0 * longest
    for n, (label, colour, kind) in enumerate(entries):
        y = frame.top + 12 + 16 * n
        out.append(key(x, y - 4, colour, kind) + _text(x + 30, y, label, size=10))
    return "".join(out)


def svg_texts(svg: str) -> list[str]:
    """The texts of a chart, in order (what it says: for tests, and for a screen reader's summary)."""
    return [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@dataclass
class Bars:
    """One series of :func:`binned_svg`: a bar per bin, side by side with the other series' bars."""

    label: str
    values: Sequence[float]
    colour: str


def binned_svg(bars: Sequence[Bars], bins: int, xticks: Sequence[tuple[float, str]], ylabel: str = "",
               title: str = "", right: Steps | None = None, right_label: str = "",
               shade: tuple[float, float] | None = None, shade_label: str = "", headroom: float = 1.9,
               width: int = 630, height: int = 288) -> str:
    """Counts per time bin as grouped bars, an optional step line on its own right-hand axis, a shaded span.

    The x axis counts bins (bin ``n`` spans ``n`` to ``n + 1``; ``xticks`` and ``shade`` are in bins too).
    ``headroom`` leaves room above the highest bar for the legend, top right (as
    :func:`simlab.plots.flood_timeline` does with its ``1.9``).
    """
    top = max([1.0, *(max(b.values, default=0) for b in bars)])
    ticks = nice_ticks(top * headroom)
    right_ticks = nice_ticks(max([1.0, *right.values]) * 1.15) if right is not None else []
    right_margin = 14 + (7 * len(str(right_ticks[-1])) + 14 + (18 if right_label else 0) if right_ticks else 0)
    frame = _Frame(width, height, left=40 + (16 if ylabel else 0), right=width - right_margin,
                   top=14 + (22 if title else 0), bottom=height - 26, x0=0, x1=bins, y1=ticks[-1])
    p = frame.parts
    p.append(f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
             f"viewBox='0 0 {width} {height}' class='simlab-binned' role='img'>")
    if title:
        p.append(_text(frame.left, 18, title, size=13))
    if shade is not None:
        x0, x1 = frame.x(shade[0]), frame.x(shade[1])
        p.append(f"<rect x='{x0:.1f}' y='{frame.top:.1f}' width='{max(0.0, x1 - x0):.1f}' "
                 f"height='{frame.bottom - frame.top:.1f}' fill='#d1495b' fill-opacity='0.07'/>")
    slot = 1 / (len(bars) + 1)
    for i, series in enumerate(bars):
        for n, value in enumerate(series.values):
            if value <= 0:
                continue
            x, y = frame.x(n + slot * (i + 0.5)), frame.y(value)
            p.append(f"<rect x='{x:.2f}' y='{y:.1f}' width='{frame.x(slot) - frame.x(0):.2f}' "
                     f"height='{frame.bottom - y:.1f}' fill='{series.colour}'/>")
    p += _axes(frame, ticks, xticks)
    if ylabel:
        middle = (frame.top + frame.bottom) / 2
        p.append(_text(14, middle, ylabel, size=12, anchor="middle", extra=f"transform='rotate(-90 14 {middle:.1f})'"))
    entries: list[tuple[str, str, str]] = []
    if shade is not None and shade_label:
        entries.append((shade_label, "#d1495b", "shade"))
    entries += [(b.label, b.colour, "bar") for b in bars]
    if right is not None:
        scale = _Frame(width, height, frame.left, frame.right, frame.top, frame.bottom, 0, bins, right_ticks[-1])
        points = [f"M{frame.x(right.xs[0]):.1f},{scale.y(right.values[0]):.1f}"]
        for i, value in enumerate(right.values):
            if i:
                points.append(f"V{scale.y(value):.1f}")
            if i + 1 < len(right.xs):
                points.append(f"H{frame.x(right.xs[i + 1]):.1f}")
        p.append(f"<path d='{' '.join(points)}' fill='none' stroke='{right.colour}' stroke-width='1' "
                 "stroke-dasharray='5,3'/>")
        p.append(f"<line x1='{frame.right:.1f}' y1='{frame.top:.1f}' x2='{frame.right:.1f}' y2='{frame.bottom:.1f}' "
                 "stroke='#333'/>")
        for tick in right_ticks:
            y = scale.y(tick)
            p.append(f"<line x1='{frame.right:.1f}' y1='{y:.1f}' x2='{frame.right + 4:.1f}' y2='{y:.1f}' "
                     "stroke='#333'/>")
            p.append(_text(frame.right + 7, y + 4, str(tick), size=11))
        if right_label:
            middle, x = (frame.top + frame.bottom) / 2, width - 10
            p.append(_text(x, middle, right_label, size=12, anchor="middle", colour=right.colour,
                           extra=f"transform='rotate(-90 {x} {middle:.1f})'"))
        entries.append((right.label, right.colour, "line-dash"))
    if entries:
        longest = max(_columns(label) for label, _c, _k in entries)
        x = frame.right - 40 - 5.6 * longest
        for n, (label, colour, kind) in enumerate(entries):
            y = frame.top + 12 + 15 * n
            if kind in ("bar", "shade"):
                opacity = " fill-opacity='0.15'" if kind == "shade" else ""
                p.append(f"<rect x='{x:.1f}' y='{y - 9:.1f}' width='24' height='9' fill='{colour}'{opacity}/>")
            else:
                p.append(f"<line x1='{x:.1f}' y1='{y - 4:.1f}' x2='{x + 24:.1f}' y2='{y - 4:.1f}' stroke='{colour}' "
                         "stroke-width='1' stroke-dasharray='5,3'/>")
            p.append(_text(x + 30, y, label, size=10))
    p.append("</svg>")
    return "".join(p)

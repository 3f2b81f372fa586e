"""Lesson 10's sweep as SVG: what a password-spraying botnet wins as it grows, drawn by the browser.

What :func:`simlab.plots.spraying.spraying_sweep_figure` draws with matplotlib, for the panel's tab "as the
botnet grows": three charts side by side against the botnet's size on a log scale (1 to 10,000 addresses) -
accounts compromised, staff logins refused, minutes from the campaign's start to the first account lost - one
line with round markers per named set of defences, in the figure's colours and words (ids
``plots.spraying.*``). With one series, as in the panel, each point carries its value; every point names its
size and value as a tooltip. A chart with no point (no account fell at any size) says so. The SVG is a string
made in about a millisecond, where the figure took the panel 0.4 s to draw and encode as PNG.
"""

from __future__ import annotations

import html
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from simlab.i18n import t
from simlab.plots.spraying import PANEL_TITLES, PANELS, SERIES_COLOURS
from simlab.ui.charts import nice_ticks

__all__ = ["sweep_svg", "SIZE_TICKS"]

#: The x axis' ticks: botnet sizes, each a power of ten.
SIZE_TICKS = (1, 10, 100, 1000, 10000)
_X_RANGE = (math.log10(0.7), math.log10(15000))  # the figure's ``set_xlim(0.7, 15000)``
_FONT = "font-family='DejaVu Sans, Verdana, sans-serif'"


def _text(x: float, y: float, text: str, size: float = 11, anchor: str = "start", colour: str = "#222",
          extra: str = "") -> str:
    return (f"<text x='{x:.1f}' y='{y:.1f}' font-size='{size}' text-anchor='{anchor}' fill='{colour}' {_FONT}"
            f"{' ' + extra if extra else ''}>{html.escape(text)}</text>")


def _number(value: float) -> str:
    """A point's value as the chart writes it: whole numbers as they are, minutes to one decimal below 10."""
    if float(value).is_integer():
        return format(int(value), ",")
    return format(value, ".1f") if abs(value) < 10 else format(value, ",.0f")


def _columns(text: str) -> int:
    """Character widths: a wide character (kana, kanji) two, others one (Unicode's East Asian Width)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _wrap(text: str, room: float, per_column: float = 6.4) -> list[str]:
    """``text`` in lines of at most ``room`` pixels at 12 px (about ``per_column`` each), broken after a space or
    a list's comma (", " or the ideographic "、"); a word longer than a line keeps a line of its own."""
    lines = [""]
    for piece in re.split(r"(?<=[ 、])", text):
        if lines[-1] and _columns(lines[-1] + piece.rstrip()) * per_column > room:
            lines.append("")
        lines[-1] += piece
    return [line.rstrip() for line in lines]


def _points(rows: Sequence[Mapping[str, Any]], key: str) -> list[tuple[int, float]]:
    """``(size, value)`` of the rows that have a value for ``key`` (None and NaN are no point, as in the figure)."""
    out = []
    for row in rows:
        value = row.get(key)
        if value is not None and value == value:
            out.append((row["botnet_size"], float(value)))
    return out


def sweep_svg(sweep: Mapping[str, Sequence[Mapping[str, Any]]], title: str = "",
              labels: Mapping[str, str] | None = None, width: int = 880, height: int = 290) -> str:
    """The sweep (``{name: [row with botnet_size and the three keys of PANELS, ...]}``, as from
    :func:`simlab.exercises.spraying.size_sweep`) as three SVG line charts against botnet size."""
    names = {**{name: name for name in sweep}, **(labels or {})}
    series = [(names[name], SERIES_COLOURS[n % len(SERIES_COLOURS)], rows)
              for n, (name, rows) in enumerate(sweep.items())]
    label_points = len(series) == 1
    per_row = 1 if len(series) == 1 else 3
    room = (width - 52) / per_row  # a legend entry's width for its words: one row each, else three to a row
    wrapped = [_wrap(label, room) for label, _colour, _rows in series]
    rows_lines = [max(len(lines) for lines in wrapped[i:i + per_row]) for i in range(0, len(wrapped), per_row)]
    top = 24 if title else 0
    head = top + 16 * sum(rows_lines) + 4 * len(rows_lines)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height + head}' "
             f"viewBox='0 0 {width} {height + head}' class='simlab-sweep' role='img'>"]
    if title:
        parts.append(_text(width / 2, 17, title, size=14, anchor="middle"))
    column = width / 3
    for n, ((_label, colour, _rows), lines) in enumerate(zip(series, wrapped, strict=True)):
        row = n // per_row  # the legend, under the title: a line with its marker, then the words
        x = 12 + (width - 24) / per_row * (n % per_row)
        y = top + 12 + 16 * sum(rows_lines[:row]) + 4 * row
        parts.append(f"<line x1='{x:.1f}' y1='{y - 4:.1f}' x2='{x + 22:.1f}' y2='{y - 4:.1f}' stroke='{colour}' "
                     f"stroke-width='2'/><circle cx='{x + 11:.1f}' cy='{y - 4:.1f}' r='3.5' fill='{colour}'/>")
        parts += [_text(x + 28, y + 16 * i, line, size=12) for i, line in enumerate(lines)]
    for index, key in enumerate(PANELS):
        parts += _chart(key, series, column * index, head, column, height, label_points)
    parts.append("</svg>")
    return "".join(parts)


def _chart(key: str, series, x0: float, y0: float, width: float, height: float, label_points: bool) -> list[str]:
    """One of the three charts, in the box from ``(x0, y0)``: title, grid, axes, the series."""
    drawn = [(label, colour, _points(rows, key)) for label, colour, rows in series]
    top = max([1.0, *(value for _l, _c, points in drawn for _s, value in points)])
    ticks = nice_ticks(top * 1.15, most=5)
    left = x0 + 22 + 7 * len(format(ticks[-1], ","))
    right, upper, lower = x0 + width - 26, y0 + 28, y0 + height - 44

    def x(size: float) -> float:
        return left + (math.log10(size) - _X_RANGE[0]) / (_X_RANGE[1] - _X_RANGE[0]) * (right - left)

    def y(value: float) -> float:
        return lower - value / ticks[-1] * (lower - upper)

    out = [_text((left + right) / 2, y0 + 16, PANEL_TITLES[key], size=12, anchor="middle")]
    for tick in ticks:  # the grid (the figure's ``grid(alpha=0.3)``) and the y axis' numbers
        out.append(f"<line x1='{left:.1f}' y1='{y(tick):.1f}' x2='{right:.1f}' y2='{y(tick):.1f}' stroke='#ddd'/>")
        out.append(_text(left - 6, y(tick) + 4, format(tick, ","), size=11, anchor="end"))
    for size in SIZE_TICKS:
        out.append(f"<line x1='{x(size):.1f}' y1='{upper:.1f}' x2='{x(size):.1f}' y2='{lower + 4:.1f}' "
                   "stroke='#ddd'/>")
        out.append(_text(x(size), lower + 17, format(size, ","), size=11, anchor="middle"))
    out.append(f"<path d='M{left:.1f},{upper:.1f} V{lower:.1f} H{right:.1f}' fill='none' stroke='#333'/>")
    out.append(_text((left + right) / 2, lower + 35, t("plots.spraying.xlabel"), size=11, anchor="middle"))
    if not any(points for _l, _c, points in drawn):
        out.append(_text((left + right) / 2, (upper + lower) / 2, t("spraying.no_account_fell"), size=12,
                         anchor="middle", colour="#555"))
    for label, colour, points in drawn:
        if not points:
            continue
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(s):.1f},{y(v):.1f}" for i, (s, v) in enumerate(points))
        out.append(f"<path d='{path}' fill='none' stroke='{colour}' stroke-width='2'/>")
        for size, value in points:
            tip = html.escape(f"{label}: {t('spraying.addresses', count=format(size, ','))}: {_number(value)}")
            out.append(f"<circle cx='{x(size):.1f}' cy='{y(value):.1f}' r='4' fill='{colour}'>"
                       f"<title>{tip}</title></circle>")
            if label_points:
                out.append(_text(x(size), y(value) - 8, _number(value), size=10, anchor="middle", colour=colour))
    return out

"""Lesson 10's figure: what a password-spraying botnet wins as it grows, one line per defence.

Three panels against the botnet's size (a log scale: 1 to 10,000 addresses): accounts compromised,
legitimate logins refused (staff locked out), and minutes from the campaign's start to the first account
lost (no point where none fell). Input: :func:`simlab.exercises.spraying.size_sweep`'s table, or any
``{name: [summary with botnet_size and first_compromise_min, ...]}``.

Titles and axis labels come from the message catalogs (ids ``plots.spraying.*``) when the figure is drawn.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from simlab import i18n
from simlab.plots import LazyLabels, _figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["spraying_sweep_figure", "PANELS", "PANEL_TITLES", "SERIES_COLOURS"]

#: The three panels' summary keys.
PANELS = ("accounts_compromised", "legit_logins_refused", "first_compromise_min")
#: Each panel's title, in the language current when read.
PANEL_TITLES = LazyLabels({"accounts_compromised": lambda: i18n.t("plots.spraying.accounts_compromised"),
                           "legit_logins_refused": lambda: i18n.t("plots.spraying.legit_logins_refused"),
                           "first_compromise_min": lambda: i18n.t("plots.spraying.first_compromise_min")})
#: One colour per series (set of defences), in order (the panel's SVG twin, :mod:`simlab.ui.spraying_chart`, too).
SERIES_COLOURS = ("#d1495b", "#30638e", "#66a182", "#edae49", "#8f2d56", "#7d7d7d")


def spraying_sweep_figure(sweep: Mapping[str, Sequence[Mapping[str, Any]]], title: str = "",
                          labels: Mapping[str, str] | None = None) -> Figure:
    """Accounts compromised, staff logins refused and hours to the first compromise against botnet size."""
    figure = _figure(9.6, 3.0, layout=None)  # margins by hand: constrained layout draws twice (panels redraw often)
    figure.subplots_adjust(left=0.05, right=0.99, bottom=0.16, top=0.8 if title else 0.9, wspace=0.25)
    axes = figure.subplots(1, len(PANELS))
    for n, (name, rows) in enumerate(sweep.items()):
        sizes = [row["botnet_size"] for row in rows]
        for ax, key in zip(axes, PANELS, strict=True):
            values = [row.get(key) for row in rows]
            points = [(s, v) for s, v in zip(sizes, values, strict=True) if v is not None and v == v]
            if points:
                ax.plot([p[0] for p in points], [p[1] for p in points], marker="o",
                        color=SERIES_COLOURS[n % len(SERIES_COLOURS)], label=(labels or {}).get(name, name))
    from matplotlib.ticker import MaxNLocator

    for ax, key in zip(axes, PANELS, strict=True):
        ax.set_xscale("log")
        ax.set_xlim(0.7, 15000)
        if key != "first_compromise_min":
            ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_ylim(0, max(1.0, ax.get_ylim()[1]))
        ax.set_xlabel(i18n.t("plots.spraying.xlabel"))
        ax.set_title(PANEL_TITLES[key], fontsize=10)
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7, loc="upper left")
    if title:
        figure.suptitle(title, fontsize=11)
    return figure

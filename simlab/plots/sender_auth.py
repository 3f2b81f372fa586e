"""Lesson 11's figures: what became of each flow of mail at yourcompany.test, and setups side by side.

* :func:`flows_figure`: one bar per flow (forged or legitimate, by its path), split into delivered,
  quarantined (held by OpenDMARC) and refused. Input: ``{(kind, path): {outcome: count}}``, as
  :func:`simlab.exercises.sender_auth.flow_table` gives it.
* :func:`setups_figure`: for several setups, the forged messages that arrived (delivered or held) and
  the legitimate ones lost, side by side. Input: ``{label: table}`` of the same tables.

Chart words (:data:`OUTCOME_LABELS`, :data:`PATH_LABELS`, kinds, axes, legends) come from the message catalogs
(ids ``plots.sender_auth.*``) in the language current when a figure is drawn or a label read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from simlab.i18n import t
from simlab.plots import LazyLabels, _figure

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["flows_figure", "setups_figure", "OUTCOME_COLOURS", "OUTCOME_LABELS", "PATH_LABELS", "KIND_LABELS",
           "arrived_and_lost"]

OUTCOME_COLOURS = {"delivered": "#30638e", "quarantined": "#edae49", "refused": "#b0b0b0"}
#: The outcomes in words (in the language current when read).
OUTCOME_LABELS = LazyLabels({"delivered": lambda: t("plots.sender_auth.outcome.delivered"),
                             "quarantined": lambda: t("plots.sender_auth.outcome.quarantined"),
                             "refused": lambda: t("plots.sender_auth.outcome.refused")})
#: The paths in a few words, for chart rows.
PATH_LABELS = LazyLabels({"via_site": lambda: t("plots.sender_auth.path.via_site"),
                          "direct": lambda: t("plots.sender_auth.path.direct"),
                          "forwarded": lambda: t("plots.sender_auth.path.forwarded")})
#: The kinds of mail (forged or legitimate), for chart rows.
KIND_LABELS = LazyLabels({"forged": lambda: t("plots.sender_auth.kind.forged"),
                          "legit": lambda: t("plots.sender_auth.kind.legit")})

Table = Mapping[tuple[str, str], Mapping[str, int]]


def _row_label(kind: str, path: str) -> str:
    return t("plots.sender_auth.row", kind=KIND_LABELS.get(kind, kind), path=PATH_LABELS.get(path, path))


def flows_figure(table: Table, title: str = "") -> Figure:
    """Stacked horizontal bars: per flow, how many messages were delivered, held and refused."""
    rows = list(table.items())
    height = 0.42 * len(rows) + 1.1
    figure = _figure(7.2, height, layout=None)
    figure.subplots_adjust(left=0.3, right=0.97, top=1 - 0.5 / height, bottom=0.45 / height)
    ax = figure.add_subplot()
    labels = [_row_label(kind, path) for (kind, path), _ in rows]
    left = [0] * len(rows)
    for outcome, colour in OUTCOME_COLOURS.items():
        values = [counts.get(outcome, 0) for _key, counts in rows]
        bars = ax.barh(labels, values, left=left, color=colour, label=OUTCOME_LABELS[outcome])
        ax.bar_label(bars, labels=[str(v) if v else "" for v in values], label_type="center", fontsize=8)
        left = [a + b for a, b in zip(left, values, strict=True)]
    for tick, ((kind, _path), _counts) in zip(ax.get_yticklabels(), rows, strict=True):
        tick.set_color("#b00020" if kind == "forged" else "#1b5e20")
    ax.invert_yaxis()
    ax.set_xlim(0, max([*left, 1]) * 1.05)
    ax.set_xlabel(t("plots.sender_auth.messages"))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(ncol=3, fontsize=8, loc="lower right", frameon=False)
    if title:
        ax.set_title(title, loc="left", fontsize=10)
    return figure


def arrived_and_lost(table: Table) -> tuple[int, int]:
    """``(forged messages delivered or held, legitimate messages refused or held)`` over every path."""
    forged = sum(c.get("delivered", 0) + c.get("quarantined", 0) for (kind, _p), c in table.items() if kind == "forged")
    lost = sum(c.get("refused", 0) + c.get("quarantined", 0) for (kind, _p), c in table.items() if kind == "legit")
    return forged, lost


def setups_figure(tables: Mapping[str, Table], title: str = "") -> Figure:
    """Grouped bars, one group per setup: forged messages that arrived, legitimate messages lost."""
    names = list(tables)
    height = 0.55 * len(names) + 1.2
    figure = _figure(7.2, height, layout=None)
    figure.subplots_adjust(left=0.38, right=0.97, top=1 - 0.5 / height, bottom=0.45 / height)
    ax = figure.add_subplot()
    pairs = [arrived_and_lost(tables[n]) for n in names]
    positions = list(range(len(names)))
    forged = ax.barh([p - 0.2 for p in positions], [f for f, _ in pairs], height=0.4, color="#d1495b",
                     label=t("plots.sender_auth.forged_arrived"))
    lost = ax.barh([p + 0.2 for p in positions], [lo for _, lo in pairs], height=0.4, color="#30638e",
                   label=t("plots.sender_auth.legit_lost"))
    ax.bar_label(forged, padding=2, fontsize=8)
    ax.bar_label(lost, padding=2, fontsize=8)
    ax.set_yticks(positions, names, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max([v for pair in pairs for v in pair] + [1]) * 1.2)
    ax.set_xlabel(t("plots.sender_auth.messages_in_day"))
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=8, loc="lower right", frameon=False)
    if title:
        ax.set_title(title, loc="left", fontsize=10)
    return figure

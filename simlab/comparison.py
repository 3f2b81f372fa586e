"""Fair comparisons: the same traffic with and without one change, over several seeds.

:func:`compare` runs a scenario twice per seed - once with the ``baseline``
knobs, once with the ``change`` on top of them - and pairs the two runs of
each seed. Every actor draws from its own random stream (seeded by the run's
seed and the actor's name), so the two runs of a pair see the same ordinary
day; what differs between them is what the change caused (common random
numbers, the standard variance-reduction technique for comparing simulated
systems). The result is a table of every summary figure: its mean under the
baseline and under the change, the mean paired difference, and a 95 %
interval for that difference over the seeds (Student's t; with one seed the
interval is the difference itself).

The sentence speaks the learner's language (:mod:`simlab.i18n`, ids ``comparison.*``): its words are
looked up when it is made. The table's row and column names (``"spam_relayed"``, ``"difference"``) are
names for code, not words for a reader, and stay as they are.

>>> import simlab
>>> c = simlab.compare(simlab.scenarios.relay_probe, baseline={"preset": "eims-2.1"},
...                    change={"relay_restriction": True}, seeds=range(1, 3))
>>> float(c.table.loc["spam_relayed", "difference"])
-1.0
>>> c.sentence()
'-1 spam relayed, +1 spam refused, -1 bounces to postmaster, 0 legitimate lost'
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from simlab.errors import ConfigError
from simlab.i18n import t

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["Comparison", "compare", "change_between", "describe_change", "T_975"]

#: Two-sided 95 % critical values of Student's t by degrees of freedom (1-30); beyond, 1.96.
#: Source: NIST/SEMATECH e-Handbook of Statistical Methods, table 1.3.6.7.2 (upper 0.025 critical values).
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)



class _Words(Mapping[str, str]):
    """A read-only mapping whose words are looked up when read (in the language current at that moment)."""

    def __init__(self, lookups: Mapping[str, Callable[[], str]]) -> None:
        self._lookups = dict(lookups)

    def __getitem__(self, key: str) -> str:
        return self._lookups[key]()

    def __iter__(self) -> Iterator[str]:
        return iter(self._lookups)

    def __len__(self) -> int:
        return len(self._lookups)

    def __repr__(self) -> str:
        return repr(dict(self.items()))


#: Figures a lesson reads first, in the words a sentence uses for them (looked up when read; the order is fixed).
HEADLINE: Mapping[str, str] = _Words({
    "spam_relayed": lambda: t("comparison.headline.spam_relayed"),
    "spam_refused": lambda: t("comparison.headline.spam_refused"),
    "bounces_to_postmaster": lambda: t("comparison.headline.bounces_to_postmaster"),
    "accounts_compromised": lambda: t("comparison.headline.accounts_compromised"),
    "login_failures": lambda: t("comparison.headline.login_failures"),
    "bans": lambda: t("comparison.headline.bans"),
    "connections_refused": lambda: t("comparison.headline.connections_refused"),
    "legit_logins_refused": lambda: t("comparison.headline.legit_logins_refused"),
    "legit_pending": lambda: t("comparison.headline.legit_pending"),
    "legit_refused": lambda: t("comparison.headline.legit_refused"),
})


def describe_change(differences: Mapping[str, float], moved: Iterable[str] | None = None,
                    keys: Sequence[str] | None = None) -> str:
    """Differences in words: ``'-1 spam relayed, +1 spam refused, 0 legitimate lost'``.

    ``keys`` default to the headline figures in ``moved`` (default: those whose difference is not 0),
    always ending with legitimate mail lost.

    >>> describe_change({"spam_relayed": -3, "spam_refused": 3, "legit_refused": 0})
    '-3 spam relayed, +3 spam refused, 0 legitimate lost'
    """
    moved = {key for key, value in differences.items() if value} if moved is None else set(moved)
    if keys is None:
        keys = [key for key in HEADLINE if key != "legit_refused" and key in moved] + ["legit_refused"]
    parts = []
    for key in keys:
        value = float(differences.get(key, 0))
        number = "0" if value == 0 else f"{value:+.0f}" if value == round(value) else f"{value:+.1f}"
        what = HEADLINE[key] if key in HEADLINE else key.replace("_", " ")
        parts.append(t("comparison.part", number=number, what=what))
    return t("comparison.separator").join(parts)


def change_between(baseline: Mapping[str, float], change: Mapping[str, float],
                   keys: Sequence[str] | None = None) -> str:
    """What one run changed against another at the same seed (the same traffic), in words."""
    differences = {key: float(change.get(key, 0)) - float(baseline.get(key, 0)) for key in {*baseline, *change}}
    return describe_change(differences, keys=keys)


def _critical(df: int) -> float:
    return T_975[df - 1] if df <= len(T_975) else 1.96


@dataclass
class Comparison:
    """What :func:`compare` returns.

    Attributes:
        table: one row per summary figure: ``baseline``, ``change`` (means over the seeds), ``difference``
            (mean of change - baseline, seed by seed), ``low`` and ``high`` (its 95 % interval) and
            ``seeds_changed`` (in how many seeds the figure differed at all).
        runs: the paired runs, one row per seed and side (``"baseline"`` / ``"change"``), every figure.
        baseline, change: the knobs of each side (``change`` includes the baseline's).
    """

    table: pd.DataFrame
    runs: pd.DataFrame
    baseline: dict[str, Any]
    change: dict[str, Any]

    def changed(self) -> pd.DataFrame:
        """Only the figures the change moved in some seed."""
        return self.table[self.table["seeds_changed"] > 0]

    def sentence(self, keys: Sequence[str] | None = None) -> str:
        """The change in words, on the same traffic: ``'-1 spam relayed, ..., 0 legitimate lost'``.

        ``keys`` default to the headline figures that moved, and always end with legitimate mail lost.
        """
        moved = {key for key in self.table.index if self.table.loc[key, "seeds_changed"] > 0}
        return describe_change(self.table["difference"].to_dict(), moved, keys)

    def plot(self, keys: Sequence[str] | None = None, title: str = "") -> Figure:
        """The differences with their intervals, one bar per figure (see :func:`simlab.plots.comparison_bars`)."""
        from simlab import plots

        return plots.comparison_bars(self, keys=keys, title=title)


def compare(scenario: Any, baseline: Mapping[str, Any] | None = None, change: Mapping[str, Any] | None = None,
            seeds: Iterable[int] = range(1, 6), executor: Any = "serial", counts_only: bool = False) -> Comparison:
    """Paired runs of ``scenario`` with ``baseline`` knobs and with ``change`` on top, seed by seed.

    Args:
        scenario: a scenario function (``simlab.scenarios.relay_probe``) or its import path.
        baseline: the knobs both sides share (``{"preset": "eims-2.1"}``).
        change: the knobs that differ (``{"relay_restriction": True}``); must not be empty.
        seeds: the seeds; each gives one pair of runs.
        executor: as for :func:`simlab.sweep` (default ``"serial"``: here, one after the other).
        counts_only: counts-only runs: faster, but relayed mail is not followed, so no bounce comes back.
    """
    import pandas as pd

    from simlab.sweep import sweep

    base = dict(baseline or {})
    if not isinstance(change, Mapping) or not change:
        raise ConfigError("change", change, "is not a change", "a dict of the knobs that differ, e.g. "
                          "{'relay_restriction': True}")
    changed = base | dict(change)
    if changed == base:
        raise ConfigError("change", dict(change), "changes nothing", "a knob with a value other than the baseline's")
    table = sweep(scenario, [base, changed], seeds=seeds, executor=executor, counts_only=counts_only)
    seed_list = sorted(set(table["seed"]))
    n = len(seed_list)
    half = len(table) // 2
    before = table.iloc[:half].set_index("seed")
    after = table.iloc[half:].set_index("seed")
    figures = [c for c in table.columns if c not in base and c not in changed and c != "seed"]
    rows = {}
    for key in figures:
        diffs = [float(after.loc[seed, key]) - float(before.loc[seed, key]) for seed in seed_list]
        mean = statistics.fmean(diffs)
        spread = _critical(n - 1) * statistics.stdev(diffs) / math.sqrt(n) if n > 1 else 0.0
        rows[key] = {"baseline": statistics.fmean(float(before.loc[s, key]) for s in seed_list),
                     "change": statistics.fmean(float(after.loc[s, key]) for s in seed_list),
                     "difference": mean, "low": mean - spread, "high": mean + spread,
                     "seeds_changed": sum(1 for d in diffs if d != 0)}
    result = pd.DataFrame.from_dict(rows, orient="index")
    result.index.name = "figure"
    runs = pd.concat([before.assign(side="baseline"), after.assign(side="change")]).reset_index()
    return Comparison(result, runs[["seed", "side", *figures]], base, changed)

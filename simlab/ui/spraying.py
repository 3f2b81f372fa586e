"""Lesson 10 panel: a password-spraying botnet against the defences you tick.

Controls: the botnet's size, attempts per address, how often each bot tries, and one tick box per defence of
:func:`simlab.scenarios.password_spraying`. Views: accounts compromised, staff logins refused and time to
the first compromise for this botnet (with the comparison line against the starting settings), the
same three as the botnet grows from 1 to 10,000 addresses, and the server's log lines. A botnet of 5,000 or
more, or six attempts per address and more, runs in the busy state.

The sweep (tab "as the botnet grows") runs when its tab is opened: a counts-only run per size it has not
run yet, in the busy state with the progress bar moving over them all, drawn as SVG
(:func:`simlab.ui.spraying_chart.sweep_svg`, the browser draws it; no matplotlib). Each run's three figures
are kept by defences, size, attempts, pace and seed, and so is each drawn chart: the panel's own run at a
size the sweep has fills its row in (the lesson's 2,000: five runs, not six), a tab opened again or a choice
toggled back shows at once, and a change made with the tab open runs wholly in the busy state.
The panel's runs keep no session transcripts (it shows none): the same counts and log, less to keep.

Every word the panel shows comes from the message catalogs (ids ``spraying.*``) when it is built or drawn;
views and controls keep their English names (``panel.views["as the botnet grows"]``).
"""

from __future__ import annotations

import html
import re
from collections import OrderedDict

import ipywidgets as widgets

from simlab import i18n
from simlab.exercises.common import LazyTexts
from simlab.exercises.spraying import DEFENCE_NAMES, SIZES, sized, spraying_day, sweep_row
from simlab.i18n import t, tn
from simlab.plots.spraying import PANELS
from simlab.scenarios import run
from simlab.scenarios.run import reporting_progress
from simlab.scenarios.spraying import first_compromise
from simlab.ui.common import Panel, bars_html, log_html, summary_html
from simlab.ui.spraying_chart import sweep_svg
from simlab.ui.start import draw_when_shown

__all__ = ["spraying_lab", "KEYS", "BOTNET_SIZES", "SHORT_NAMES", "defence_controls", "ticked", "attack_lines",
           "FAILURE_LINES"]

KEYS = ("accounts_compromised", "legit_logins_refused", "spray_attempts", "spray_refused_fail2ban",
        "spray_refused_anvil", "bans", "account_bans", "lockouts")
#: The botnet sizes the size control offers.
BOTNET_SIZES = (1, 10, 100, 500, 1000, 2000, 5000, 10000)


#: The failure lines Postfix and Dovecot write for a refused login (highlighted in the log view).
FAILURE_LINES = r"SASL \w+ authentication failed|auth failed|rate limit exceeded"
_BOTS = re.compile(r"unknown\[(?:203\.0\.113|198\.1[89])\.|rip=(?:203\.0\.113|198\.1[89])\.")


def attack_lines(log: list[str], limit: int = 200) -> list[str]:
    """The first ``limit`` lines the botnet's sessions wrote (its addresses: 203.0.113.x, 198.18.0.0/15)."""
    return [line for line in log if _BOTS.search(line)][:limit]


#: The tick boxes' words: short enough for a panel column (:data:`~simlab.exercises.spraying.DEFENCE_NAMES` in full).
#: (In the language current when read.)
SHORT_NAMES = LazyTexts({"fail2ban": lambda: t("spraying.short.fail2ban"), "anvil": lambda: t("spraying.short.anvil"),
                         "auth_penalty": lambda: t("spraying.short.auth_penalty"),
                         "account_jail": lambda: t("spraying.short.account_jail"),
                         "lockout": lambda: t("spraying.short.lockout"),
                         "postscreen": lambda: t("spraying.short.postscreen")})
#: Row names of the botnet's own counts in the outcome table (in the language current when read).
ROW_NAMES = LazyTexts({"spray_attempts": lambda: t("spraying.row.spray_attempts"),
                       "spray_refused_fail2ban": lambda: t("spraying.row.spray_refused_fail2ban"),
                       "spray_refused_anvil": lambda: t("spraying.row.spray_refused_anvil"),
                       "account_bans": lambda: t("spraying.row.account_bans"),
                       "lockouts": lambda: t("spraying.row.lockouts")})


def defence_controls(on: tuple[str, ...] = ()) -> list[dict]:
    """One tick box per defence (name ``defence_<key>``), its full name as the tooltip."""
    return [{"name": f"defence_{key}", "type": "Checkbox", "value": key in on, "description": SHORT_NAMES[key],
             "tooltip": DEFENCE_NAMES[key]} for key in DEFENCE_NAMES]


def ticked(values: dict) -> tuple[str, ...]:
    """The defences ticked in a panel's values."""
    return tuple(key for key in DEFENCE_NAMES if values.get(f"defence_{key}"))


def _table_html(summary) -> str:
    """The outcome table: the common counts in the lessons' words, the botnet's own in ours."""
    html_rows = summary_html(summary, KEYS)
    for key, name in ROW_NAMES.items():
        html_rows = html_rows.replace(f"<td style='padding:1px 10px 1px 0'>{key}</td>",
                                      f"<td style='padding:1px 10px 1px 0'>{html.escape(name)}</td>")
    return html_rows


def _first_html(summary) -> str:
    seconds = first_compromise(summary)
    text = (t("spraying.no_account_fell") if seconds is None
            else t("spraying.first_account_lost", minutes=format(seconds / 60, ".0f")))
    return f"<p style='font-size:13px;margin:4px 0'><b>{html.escape(text)}</b></p>"


#: How many sweep runs (rows) and drawn sweeps a panel keeps.
KEEP_ROWS, KEEP_SWEEPS = 6 * 32, 32


def _keep(store: OrderedDict, key, value, most: int) -> None:
    store[key] = value
    store.move_to_end(key)
    while len(store) > most:
        store.popitem(last=False)


def _sweep_key(values: dict) -> tuple:
    """What the sweep depends on: the defences ticked, attempts per address, seed and pace (not the size)."""
    return ticked(values), values["attempts_per_address"], values["seed"], values["pace"]


class _Sweeps:
    """One panel's sweeps: each run's three figures by ``(defences, attempts, seed, pace, size)``, and each
    drawn chart by ``(defences, attempts, seed, pace, language)``."""

    def __init__(self) -> None:
        self.rows: OrderedDict[tuple, dict] = OrderedDict()
        self.drawn: OrderedDict[tuple, str] = OrderedDict()

    def keep_row(self, key: tuple, row: dict) -> None:
        """One run's figures, from a row of :func:`~simlab.exercises.spraying.size_sweep` (a counts-only run
        and a full one count the same three: the tests check it)."""
        _keep(self.rows, (*key, row["botnet_size"]), {k: row[k] for k in ("botnet_size", *PANELS)}, KEEP_ROWS)

    def is_drawn(self, key: tuple) -> bool:
        return (*key, i18n.language()) in self.drawn

    def draw(self, panel: Panel, key: tuple) -> None:
        """The sweep over botnet sizes for ``key``: the runs not kept yet, in the busy state (the bar moves over
        them all), then the chart (in the language current when drawn); both kept."""
        defences, attempts, seed, pace = key
        shown = (*key, i18n.language())
        if shown not in self.drawn:
            rows = self.rows
            for size in SIZES:  # the rows kept already, kept longest now
                if (*key, size) in rows:
                    rows.move_to_end((*key, size))
            missing = [size for size in SIZES if (*key, size) not in rows]
            if missing:
                with panel.busy(t("spraying.busy_sweep")):
                    for n, size in enumerate(missing):
                        def advance(fraction: float, n: int = n) -> None:
                            panel.progress.value = min(1.0, (n + fraction) / len(missing))

                        with reporting_progress(advance):
                            self.keep_row(key, sweep_row(defences, size, seed, attempts, pace))
            name = t("ui.common.list_separator").join(SHORT_NAMES[d] for d in defences) or t("spraying.no_defence")
            sweep = {name: [rows[(*key, size)] for size in SIZES]}
            _keep(self.drawn, shown, sweep_svg(sweep, title=tn("spraying.sweep_title", attempts)), KEEP_SWEEPS)
        else:
            self.drawn.move_to_end(shown)
        panel.views["as the botnet grows"].value = self.drawn[shown]


def _sweep_shown(panel: Panel) -> bool:
    return list(panel.views)[panel.tabs.selected_index or 0] == "as the botnet grows"


def spraying_lab(botnet_size: int = 2000, attempts_per_address: int = 3, seed: int = 1) -> Panel:
    """A botnet sprays common passwords over the site's account names on 587, 465 and 110."""
    controls = [
        {"name": "botnet_size", "type": "Dropdown",
         "options": [(t("spraying.addresses", count=format(n, ",")), n) for n in BOTNET_SIZES],
         "value": botnet_size, "description": t("spraying.botnet_size"), "fallback": 2000},
        {"name": "attempts_per_address", "type": "IntSlider", "value": attempts_per_address, "min": 1, "max": 10,
         "description": t("spraying.attempts_per_address")},
        {"name": "pace", "type": "Dropdown", "value": 600.0, "description": t("spraying.pace"),
         "options": [(t("spraying.pace.minute"), 60.0), (t("spraying.pace.ten_minutes"), 600.0),
                     (t("spraying.pace.hour"), 3600.0)]},
        *defence_controls(),
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20, "description": t("ui.common.seed")},
    ]

    sweeps = _Sweeps()

    def compute(v: dict):
        return run(spraying_day(ticked(v), v["botnet_size"], v["attempts_per_address"], pace=v["pace"]),
                   seed=v["seed"], transcripts=False)

    views = {"outcome": widgets.HBox([widgets.HTML(), widgets.HTML()]),
             "as the botnet grows": widgets.HTML(), "server log": widgets.HTML()}
    titles = {"outcome": t("ui.common.tab.outcome"), "as the botnet grows": t("spraying.tab.as_it_grows"),
              "server log": t("ui.common.tab.server_log")}

    def render(panel: Panel, result) -> None:
        chart, table = panel.views["outcome"].children
        chosen = [SHORT_NAMES[d] for d in ticked(panel.values())] or [t("spraying.no_defence")]
        chart.value = bars_html(result.summary, KEYS[:2],
                                title=t("spraying.chart_title", bots=format(panel.values()["botnet_size"], ","),
                                        defences=t("ui.common.list_separator").join(chosen)))
        table.value = _first_html(result.summary) + _table_html(result.summary)
        values = panel.values()
        key = _sweep_key(values)
        if values["botnet_size"] in SIZES:  # this run is one of the sweep's: it need not run again
            sweeps.keep_row(key, sized(result.summary, values["botnet_size"]))
        draw_when_shown(panel, "as the botnet grows", lambda: sweeps.draw(panel, key))
        panel.views["server log"].value = log_html(attack_lines(result.log), highlight=FAILURE_LINES)

    built: list[Panel] = []

    def heavy(v: dict) -> bool:
        """A big botnet, many attempts, or a change made with the sweep's tab open that the sweep has not run:
        the whole change in the busy state, not the run first without it and then the sweep with it."""
        if v["botnet_size"] >= 5000 or v["attempts_per_address"] >= 6:
            return True
        return bool(built) and _sweep_shown(built[0]) and not sweeps.is_drawn(_sweep_key(v))

    built.append(Panel(t("spraying.title"), controls, compute, render, views, compare_keep=("seed",),
                       cache=32, heavy=heavy, titles=titles))
    return built[0]

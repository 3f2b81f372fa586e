"""Lesson 08 panel: a sandbox - your own server, its settings, the traffic around it and the defences.

The product settings are not listed by hand: they are read from each preset
function's signature (:func:`inspect.signature`), so a setting added to a
preset appears here too. Booleans become checkboxes, whole numbers and lists
text fields (lists separated by commas or spaces, as in ``main.cf``). The
scenario itself is built by :func:`simlab.exercises.sandbox.sandbox_scenario`,
which a notebook can call with the same numbers.
"""

from __future__ import annotations

import html
import inspect
import sys
import types
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ipywidgets as widgets

from simlab import products
from simlab.addresses.networks import parse_networks
from simlab.engine.result import Result
from simlab.errors import ConfigError
from simlab.exercises.common import NETWORK_SETTINGS as _CHECKED_NETWORKS
from simlab.exercises.common import parse_switch, split_list
from simlab.exercises.sandbox import sandbox_scenario
from simlab.i18n import t
from simlab.plots import TIMELINE_COLOURS, TIMELINE_LABELS, readable_timeline, time_of_day
from simlab.restrictions.access import SERVICES
from simlab.scenarios import run
from simlab.scenarios.site import ACCOUNTS, LAN, site_server
from simlab.scenarios.site import site_settings as _site_settings
from simlab.ui.charts import Steps, steps_svg
from simlab.ui.common import Panel, bars_html, log_html, product_menu, summary_html
from simlab.ui.start import draw_when_shown

__all__ = ["sandbox", "SettingSpec", "setting_specs", "parse_setting", "product_settings", "sandbox_outcome",
           "SUMMARY_KEYS", "CHART_KEYS", "NETWORK_SETTINGS", "readable_timeline",
           "TIMELINE_LABELS", "TIMELINE_COLOURS", "heavy_run", "BUSY_AFTER_HOURS", "readable_timeline_svg",
           "TIMELINE_KEYS"]

#: Settings that hold client addresses: checked here too, since a preset may keep one unused (and so
#: unchecked) while the setting that reads it is off - EIMS 2.1's ``valid_ips`` without Relay Restriction.
NETWORK_SETTINGS = frozenset({"valid_ips", "client_hosts", "mynetworks", "ip_range_restriction"} | _CHECKED_NETWORKS)
SUMMARY_KEYS = ("spam_relayed", "spam_refused", "spam_delivered_local", "bounces_to_postmaster", "legit_delivered",
                "legit_refused", "accounts_compromised", "login_failures", "legit_logins_refused", "bans",
                "connections_dropped")
CHART_KEYS = ("spam_relayed", "spam_refused", "spam_delivered_local", "legit_delivered", "legit_refused",
              "accounts_compromised", "legit_logins_refused", "bans")


def _bantimes() -> list[tuple[str, int]]:
    """fail2ban's ``bantime`` choices, in the current language."""
    return [(t("ui.bantime.default"), 600), (t("ui.bantime.hour"), 3600), (t("ui.bantime.day"), 86400)]


#: Days longer than this many hours, and any day with the flooder, run in the panel's busy state (controls
#: disabled, a progress bar) - a 24-hour flood takes about half a second on a classroom laptop.
BUSY_AFTER_HOURS = 6


def heavy_run(values: Mapping[str, Any]) -> bool:
    """Whether the sandbox's ``values`` make a run long enough to show progress for."""
    return int(values.get("duration_hours", 6)) > BUSY_AFTER_HOURS or bool(values.get("flooder"))


@dataclass(frozen=True)
class SettingSpec:
    """One product setting as a control: ``kind`` is ``"bool"``, ``"int"`` or ``"list"``."""

    preset: str
    name: str
    kind: str
    default: Any

    @property
    def control(self) -> str:
        """The control's name in the panel: ``"eims-2.1:relay_restriction"``."""
        return f"{self.preset}:{self.name}"


def setting_specs(preset: str) -> list[SettingSpec]:
    """The settings of ``preset`` worth a control, from its function's signature, with the site's values.

    Left out: ``clock`` and ``restrictions`` (not settings), and what the product's registry entry hides
    from panels (:attr:`simlab.products.Product.panel_hidden_settings`: the site's identity, objects, fine tuning).
    """
    product = products.get(preset)
    site = _site_settings(preset, ACCOUNTS)
    specs = []
    for name, parameter in inspect.signature(product.factory).parameters.items():
        if name not in product.setting_names or name in product.panel_hidden_settings:
            continue
        default = site.get(name, parameter.default)
        if isinstance(parameter.default, bool):
            kind = "bool"
        elif isinstance(parameter.default, int):
            kind = "int"
        else:
            kind = "list"
        specs.append(SettingSpec(preset, name, kind, default))
    return specs


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, Mapping):
        return "; ".join(f"{k}: {', '.join(v)}" for k, v in value.items())
    return ", ".join(map(str, value))


def parse_setting(spec: SettingSpec, value: Any) -> Any:
    """A control's value as the preset wants it; a bad entry raises :class:`ConfigError`.

    Lists are split at commas and spaces; ``ip_range_restriction`` also takes ``"pop3: A-B; smtp: C"``
    (one service each) - empty means off.
    """
    if spec.kind == "bool":
        return parse_switch(value, spec.name)
    text = str(value).strip()
    if spec.kind == "int":
        try:
            return int(text)
        except ValueError:
            raise ConfigError(spec.name, text, t("setting.error.not_whole_number"),
                              t("ui.sandbox.expected_like", example=spec.default)) from None
    if spec.name == "ip_range_restriction":
        if not text:
            return None
        if ":" in text:
            ranges: dict[str, list[str]] = {}
            for part in text.split(";"):
                service, colon, items = part.partition(":")
                service = service.strip().lower()
                if not colon or service not in SERVICES:
                    raise ConfigError(spec.name, part.strip(), t("ui.sandbox.not_service_ranges"),
                                      t("ui.sandbox.expected_service_ranges"))
                ranges[service] = parse_networks(items, f"{spec.name}[{service!r}]")
            return ranges
    if spec.name in NETWORK_SETTINGS:
        return parse_networks(text, spec.name)
    return split_list(text)


def product_settings(preset: str, values: Mapping[str, Any]) -> dict[str, Any]:
    """The preset's settings from the panel's values (controls named ``"<preset>:<setting>"``)."""
    return {spec.name: parse_setting(spec, values.get(spec.control, _as_text(spec.default)
                                                       if spec.kind != "bool" else spec.default))
            for spec in setting_specs(preset)}


@dataclass
class SandboxOutcome:
    """A run of the sandbox: the result and what was asked for."""

    result: Result
    settings: dict[str, Any]
    description: list[str]
    hours: float


def sandbox_outcome(values: Mapping[str, Any]) -> SandboxOutcome:
    """Build and run the sandbox's scenario for the panel's ``values`` (pure; bad entries raise ConfigError)."""
    preset = values["preset"]
    settings = product_settings(preset, values)
    site_server(preset, settings)  # a bad setting is reported before the day runs
    router = parse_networks(values.get("router_filter", ""), "router_filter")
    defences = {"fail2ban": values.get("bantime", 600) if values.get("fail2ban") else False,
                "lockout": values.get("lockout", 0), "router_filter": router or False}
    attack = {
        "relay_scanner": values.get("scanner_probes", 1) if values.get("relay_scanner") else 0,
        "spoofing_spammer": values.get("spoof_per_day", 10) if values.get("spoofing_spammer") else 0,
        "rotating_spammer": values.get("rotating_per_day", 100) if values.get("rotating_spammer") else 0,
        "pool_size": values.get("pool_size", 50),
        "guesser": bool(values.get("guesser")), "guesser_ips": values.get("guesser_ips", 1),
        "flooder": values.get("flood_connections", 150) if values.get("flooder") else 0,
    }
    hours = values.get("duration_hours", 6)
    scenario = sandbox_scenario(preset, settings, defences, duration_hours=hours,
                                staff=bool(values.get("staff", True)),
                                staff_per_day=values.get("staff_per_day", 12),
                                correspondents=bool(values.get("correspondents", True)),
                                correspondents_per_day=values.get("correspondents_per_day", 24), **attack)
    result = run(scenario, seed=int(values.get("seed", 1)))
    product = result.server.persona.product
    description = [t("ui.sandbox.setup.restriction", product=product, restriction=r.describe())
                   for r in result.server.restrictions] or [t("ui.sandbox.setup.no_restriction", product=product)]
    description += [t("ui.sandbox.setup.router", filter=f.describe()) for f in scenario.router_filters]
    description += [t("ui.sandbox.setup.actor", actor=actor.name) for actor in scenario.actors]
    return SandboxOutcome(result, settings, description, hours)


#: What the sandbox's timeline shows.
TIMELINE_KEYS = ("spam_relayed", "spam_refused", "legit_refused", "bans", "log_lines")


def readable_timeline_svg(result: Result, what: tuple[str, ...] = TIMELINE_KEYS, title: str = "") -> str:
    """:func:`simlab.plots.readable_timeline` as the browser draws it (SVG, for the panel): counts per clock hour
    of each timeline item and of the log lines, with the same words and colours, the legend below.

    Counted without the pandas table, by clock hour as :meth:`simlab.engine.result.Result.series` bins them:
    every hour from the first with a count to the last.
    """
    counts: dict[str, Counter[datetime]] = {}
    moments = [(moment, item) for moment, item in result.timeline]
    if result.world is not None:
        moments += [(moment, "log_lines") for moment, _line in result.server.log_records]
    for moment, item in moments:
        hour = (result.start + timedelta(seconds=moment)).replace(minute=0, second=0, microsecond=0)
        counts.setdefault(item, Counter())[hour] += 1
    hours_seen = [hour for by_hour in counts.values() for hour in by_hour]
    if not hours_seen:
        return steps_svg([], (0, 1), [], ylabel=t("plots.per_hour"), title=title, legend="below")
    first, last = min(hours_seen), max(hours_seen)
    hours = [first + timedelta(hours=n) for n in range(int((last - first).total_seconds() // 3600) + 1)]
    xs = [(hour - first).total_seconds() / 3600 for hour in hours]
    series = [Steps(TIMELINE_LABELS.get(key, key), xs, [counts[key].get(hour, 0) for hour in hours],
                    TIMELINE_COLOURS.get(key, "#30638e")) for key in what if key in counts]
    every = max(1, -(-len(hours) // 8))
    ticks = [(x, f"{hour:%H:%M}") for x, hour in zip(xs, hours, strict=True)][::every]
    span = (0.0, max(xs[-1], 1.0))
    return steps_svg(series, span, ticks, ylabel=t("plots.per_hour"), title=title, legend="below",
                     xlabel=time_of_day(result.start))


def _events_html(result: Result, rows: int = 40) -> str:
    events = result.events
    interesting = events[events.actor.isin(["spoofing spammer", "rotating spammer", "guesser", "relay survey",
                                            "flooder"])]
    chosen = (interesting if not interesting.empty else events).head(rows).copy()
    chosen["time"] = chosen["time"].dt.strftime("%H:%M:%S")
    table = chosen.to_html(index=False, border=0, na_rep="")
    head = t("ui.sandbox.events_head", events=len(events), shown=len(chosen), table="<code>result.events</code>")
    return (f"<p style='margin:2px 0'>{head}</p><div style='max-height:300px;overflow:auto;"
            f"font-size:11px'>{table}</div>")


def sandbox(preset: str = "eims-2.1", seed: int = 1) -> Panel:
    """Build your own day: a product and its settings, who is around, for how long, and the defences.

    Controls: the product; its settings (from the preset's signature; only the chosen product's are
    shown); the site's staff and correspondents with their rates; the relay survey, the spoofing
    spammer, the rotating spammer (and its pool), the POP3 guesser (and its pool), the flooder; the
    duration and seed; fail2ban, account lockout and a router filter for POP3. Views: the day's
    counts, the server log, the head of the events table, a timeline (drawn when its tab is opened),
    and the server as configured.
    """
    setting_controls = []
    for name in products.names():
        for spec in setting_specs(name):
            control = {"name": spec.control, "description": spec.name}
            if spec.kind == "bool":
                control |= {"type": "Checkbox", "value": bool(spec.default)}
            else:
                control |= {"type": "Text", "value": _as_text(spec.default)}
                if spec.name == "ip_range_restriction":
                    control["placeholder"] = "pop3: 192.0.2.0/24"
            setting_controls.append(control)
    controls = [
        {"name": "preset", "type": "Dropdown", "options": product_menu(), "value": preset,
         "description": t("ui.common.server"), "fallback": "eims-2.1"},
        *setting_controls,
        {"name": "staff", "type": "Checkbox", "value": True, "description": t("ui.sandbox.staff")},
        {"name": "staff_per_day", "type": "IntSlider", "value": 12, "min": 1, "max": 48,
         "description": t("ui.sandbox.staff_per_day")},
        {"name": "correspondents", "type": "Checkbox", "value": True, "description": t("ui.sandbox.correspondents")},
        {"name": "correspondents_per_day", "type": "IntSlider", "value": 24, "min": 1, "max": 96,
         "description": t("ui.sandbox.correspondents_per_day")},
        {"name": "relay_scanner", "type": "Checkbox", "value": False, "description": t("ui.sandbox.relay_scanner")},
        {"name": "scanner_probes", "type": "IntSlider", "value": 1, "min": 1, "max": 10,
         "description": t("ui.sandbox.scanner_probes")},
        {"name": "spoofing_spammer", "type": "Checkbox", "value": True,
         "description": t("ui.sandbox.spoofing_spammer")},
        {"name": "spoof_per_day", "type": "IntSlider", "value": 10, "min": 1, "max": 100,
         "description": t("ui.sandbox.spams_a_day")},
        {"name": "rotating_spammer", "type": "Checkbox", "value": True,
         "description": t("ui.sandbox.rotating_spammer")},
        {"name": "rotating_per_day", "type": "IntSlider", "value": 100, "min": 10, "max": 500,
         "description": t("ui.sandbox.spams_a_day")},
        {"name": "pool_size", "type": "IntSlider", "value": 50, "min": 1, "max": 250,
         "description": t("ui.sandbox.its_addresses")},
        {"name": "guesser", "type": "Checkbox", "value": True, "description": t("ui.sandbox.guesser")},
        {"name": "guesser_ips", "type": "IntSlider", "value": 1, "min": 1, "max": 50,
         "description": t("ui.sandbox.its_addresses")},
        {"name": "flooder", "type": "Checkbox", "value": False, "description": t("ui.sandbox.flooder")},
        {"name": "flood_connections", "type": "IntSlider", "value": 150, "min": 10, "max": 300,
         "description": t("ui.sandbox.flood_connections")},
        {"name": "fail2ban", "type": "Checkbox", "value": False, "description": t("ui.sandbox.fail2ban")},
        {"name": "bantime", "type": "Dropdown", "options": _bantimes(), "value": 600, "description": "bantime"},
        {"name": "lockout", "type": "IntSlider", "value": 0, "min": 0, "max": 10,
         "description": t("ui.sandbox.lockout")},
        {"name": "router_filter", "type": "Text", "value": "", "placeholder": LAN,
         "description": t("ui.sandbox.router_filter")},
        {"name": "duration_hours", "type": "IntSlider", "value": 6, "min": 1, "max": 24,
         "description": t("ui.sandbox.hours")},
        {"name": "seed", "type": "IntSlider", "value": seed, "min": 1, "max": 20, "description": t("ui.common.seed")},
    ]

    views = {"summary": widgets.HBox([widgets.HTML(), widgets.HTML()]), "server log": widgets.HTML(),
             "events": widgets.HTML(), "timeline": widgets.HTML(), "the setup": widgets.HTML()}
    titles = {"summary": t("ui.sandbox.tab.summary"), "server log": t("ui.common.tab.server_log"),
              "events": t("ui.sandbox.tab.events"), "timeline": t("ui.flood.tab.timeline"),
              "the setup": t("ui.sandbox.tab.setup")}

    def draw_timeline(panel: Panel, result: Result) -> None:
        # drawn by the browser (SVG): a millisecond or two, where the matplotlib picture took a tenth of a second
        title = t("ui.sandbox.timeline_title", preset=result.preset)
        panel.views["timeline"].value = readable_timeline_svg(result, title=title)
        panel.timeline_drawn = panel.runs

    def render(panel: Panel, outcome: SandboxOutcome) -> None:
        result = outcome.result
        chart, table = panel.views["summary"].children
        chart.value = bars_html(result.summary, CHART_KEYS, title=t("ui.sandbox.chart_title", preset=result.preset,
                                                                    hours=format(outcome.hours, "g")))
        table.value = summary_html(result.summary, SUMMARY_KEYS)
        panel.views["server log"].value = log_html(
            result.log, highlight=r"wrong password|relay|refused|reject|prohibited|failed|Access denied")
        panel.views["the setup"].value = "<pre style='font-size:12px'>" + html.escape("\n".join(
            outcome.description)) + "</pre>"
        # the events table and the timeline are drawn when their tab is opened (each picture once per setting)
        draw_when_shown(panel, "events", lambda: setattr(panel.views["events"], "value", _events_html(result)))
        draw_when_shown(panel, "timeline", lambda: draw_timeline(panel, result))

    panel = Panel(t("ui.sandbox.title"), controls, sandbox_outcome, render, views,
                  columns=3, cache=16, heavy=heavy_run, titles=titles)
    panel.timeline_drawn = -1

    def show_product(_change: dict | None = None) -> None:
        chosen = panel.controls["preset"].value
        for name, control in panel.controls.items():
            if ":" in name:
                control.layout.display = None if name.startswith(f"{chosen}:") else "none"

    panel.controls["preset"].observe(show_product, names="value")
    show_product()
    return panel


class _PanelModule(types.ModuleType):
    """This module, callable as its panel: the package's name ``simlab.ui.sandbox`` is bound to the module once
    it is imported (``from simlab.ui.sandbox import ...``), and ``simlab.ui.sandbox()`` must still build the panel."""

    def __call__(self, *args: Any, **kwargs: Any) -> Panel:
        return sandbox(*args, **kwargs)


sys.modules[__name__].__class__ = _PanelModule

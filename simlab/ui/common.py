"""Building blocks of the lesson panels: controls declared as data, and views of a result.

A panel is a thin view: its controls are declared as a list of dicts (as in
Mesa's model parameters), every change calls one pure function that runs the
simulation, and the result is drawn into a chart, the server log and a
transcript. A bad entry shows a message in the panel - never a traceback -
and nothing the student typed is lost: the controls keep their values and the
last good result stays on screen.

Every word a panel shows - heading, control labels, tab titles, messages, chart words - is looked up in
the message catalogs (:mod:`simlab.i18n`, ids ``ui.<panel>.*``) when the panel is built or redrawn, so a
panel built after ``simlab.set_language("ja")`` speaks Japanese. Its views keep their English names as
keys (``panel.views["server log"]``) and show a title in the learner's language (``Panel(..., titles=)``).
What a product writes (replies, log lines, its setting names) is shown as the product wrote it.

Keeping up on a classroom laptop (the issue "Panels that keep up"):

* ``Panel(..., cache=32)`` keeps the last outcomes by the controls' values (the seed is one of
  them), so a student toggling back and forth never waits twice; ``compute`` must be pure.
* ``Panel(..., heavy=lambda values: ...)``: a run the predicate calls heavy (a long day, a flood)
  disables the controls and shows a progress bar fed by :func:`simlab.scenarios.run.reporting_progress`
  until it is drawn, also when it fails; :meth:`Panel.busy` does the same for any slow step.
  Any other run still going after ``busy_after`` seconds (0.1 s), and not about to end, enters the busy
  state for the rest of it at its next progress report: a slow click never looks ignored, a quick one
  never flashes.
* ``Panel(..., view_only=("message",))``: controls that only choose what is shown redraw the outcome
  they share with the other values, without a run.
* :func:`bars_html`: an outcome chart of a few counts as HTML bars, drawn by the browser (no
  matplotlib, nothing to encode); :mod:`simlab.ui.charts`: timelines and sequence diagrams as SVG;
  :class:`FigureView`: for a picture that must stay matplotlib, one figure per view, made once and
  updated in place (new data on the same artists, no new figure, no new layout), each key's PNG kept;
  :meth:`Panel.show_picture`: a new figure per key, its PNG kept.
* :func:`event_rows`: a run's events without the pandas table, so that a first view need not import pandas.
* :meth:`Panel.follow`: a control that others follow (a slider set from the product) changes them
  before the panel's one run.
* The first panel of a kernel moves every object alive then - the imported libraries, the lesson's
  earlier cells - out of the garbage collector's sight (:func:`gc.freeze`): a full collection walks
  every object, and with matplotlib, pandas and ipywidgets loaded one took 70-200 ms, landing on
  whichever change happened to trigger it. Those objects live as long as the kernel anyway.
"""

from __future__ import annotations

import gc
import html
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from typing import Any

import ipywidgets as widgets

from simlab import products
from simlab.engine.result import EventRow, event_rows  # the pandas-free rows live below the views
from simlab.errors import ConfigError
from simlab.i18n import t, tn
from simlab.plots import COLOURS, LABELS, to_png
from simlab.scenarios.run import reporting_progress

__all__ = ["Panel", "build_control", "checked_start", "bars_html", "FigureView", "values_key", "event_rows",
           "EventRow", "BUSY_AFTER",
           "log_html", "transcript_html", "summary_html", "solution_button", "CONTROL_TYPES",
           "product_menu", "choice_label", "setting_description", "enable_by_product", "allowlist_controls"]


#: Seconds after which a run that was not called heavy shows the busy state for the rest of it (``Panel(busy_after=)``):
#: the issue's p95 for a panel that keeps up is 100 ms, so a run past it is one a student should see working.
BUSY_AFTER = 0.1

_frozen = False


def _freeze_what_is_loaded() -> None:
    """Once per kernel, at its first panel: leave the objects alive now out of later garbage collections.

    What is alive when a lesson's first panel is built is the libraries and the lesson's earlier cells, which
    live as long as the kernel; a full collection would otherwise walk all of them again and again (tens of
    milliseconds each time, on whichever widget change set it off). Objects made later - runs, panels - are
    collected as before. ``gc.unfreeze()`` undoes it.
    """
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()

def choice_label(product: products.Product, settings: Mapping[str, Any] | None = None) -> str:
    """How a panel names ``product`` run with ``settings``: the label of its panel choice with exactly these
    settings (``"EIMS 2.1 (as installed)"``), else its label."""
    wanted = dict(settings or {})
    return next((label for label, given in product.panel_choices if dict(given) == wanted), product.label)


def product_menu(*capabilities: str, label: Callable[[products.Product], str] | None = None) -> list[tuple[str, str]]:
    """A panel's product menu: ``(label, name)`` for every registered product with all ``capabilities``,
    in the registry's order. ``label`` names each entry (default: the product's label)."""
    name = label or (lambda product: product.label)
    return [(name(p), p.name) for p in products.PRODUCTS.values() if all(p.can(c) for c in capabilities)]


def allowlist_controls(value: str, exclude: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """One text control per relay allow-list that decides by default (SIMS Client Hosts, Postfix mynetworks),
    named by the product's setting and described in its words: ``"Client Hosts (SIMS)"``."""
    by_setting: dict[str, list[products.Product]] = {}
    for product in products.with_capability(products.RELAY_BY_CLIENT_IP):
        if product.relay_allowlist_by_default and product.relay_allowlist_setting not in exclude:
            by_setting.setdefault(product.relay_allowlist_setting, []).append(product)
    return [{"name": setting, "type": "Text", "value": value,
             "description": " / ".join(f"{p.setting_label(setting)} ({p.label})" for p in owners)}
            for setting, owners in by_setting.items()]


def setting_description(capability: str, setting: Callable[[products.Product], str | None], what: str = "") -> str:
    """A control's description for a setting that only products with ``capability`` have, in their own words:
    ``"Client Hosts (SIMS) / mynetworks (Postfix 3.7)"``; ``what`` (e.g. ``"on POP3"``) follows each name."""
    parts: dict[str, list[str]] = {}
    for product in products.with_capability(capability):
        name = setting(product)
        if name is not None:
            parts.setdefault(product.setting_label(name) + (f" {what}" if what else ""), []).append(product.label)
    return " / ".join(f"{words} ({', '.join(labels)})" for words, labels in parts.items())

CONTROL_TYPES = {
    "Dropdown": widgets.Dropdown, "Checkbox": widgets.Checkbox, "Text": widgets.Text,
    "Textarea": widgets.Textarea, "IntSlider": widgets.IntSlider, "FloatSlider": widgets.FloatSlider,
    "ToggleButtons": widgets.ToggleButtons, "SelectMultiple": widgets.SelectMultiple,
}


def build_control(spec: Mapping[str, Any]) -> widgets.Widget:
    """One control from its declaration, e.g. ``{"name": "pool_size", "type": "IntSlider", "value": 50, ...}``.

    Sliders and text fields report only finished edits (``continuous_update=False``).
    """
    spec = dict(spec)
    kind = spec.pop("type")
    name = spec.pop("name")
    spec.pop("fallback", None)
    if kind not in CONTROL_TYPES:
        raise ConfigError(t("ui.common.control_type", name=repr(name)), kind, t("ui.common.not_a_control_type"),
                          t("expected.one_of", choices=str(sorted(CONTROL_TYPES))))
    if kind in ("IntSlider", "FloatSlider", "Text", "Textarea"):
        spec.setdefault("continuous_update", False)
    spec.setdefault("description", name.replace("_", " "))
    spec.setdefault("style", {"description_width": "initial"})
    if kind in ("Text", "Textarea", "Dropdown", "IntSlider", "FloatSlider"):
        spec.setdefault("layout", widgets.Layout(width="auto" if kind in ("Text", "Dropdown") else "100%"))
    return CONTROL_TYPES[kind](**spec)


_CHOICES = ("Dropdown", "ToggleButtons")
_SLIDERS = {"IntSlider": (0, 100), "FloatSlider": (0.0, 100.0)}


def checked_start(spec: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A control's declaration with a starting value it can hold, and the message for one it could not.

    A panel's arguments (``preset=``, ``seed=``) become the starting values of its controls, and a
    widget given a value it cannot show either raises (a Dropdown: ``TraitError``) or quietly changes
    it (a slider clamps 500 to its maximum). Here such a value is refused with a :class:`ConfigError`'s
    text - the control, the value, what was expected - and the control starts at its ``fallback``
    (else its first choice, or its slider's minimum).
    """
    spec = dict(spec)
    kind, name, value = spec["type"], spec["name"], spec.get("value")
    problem = None
    if kind in _CHOICES and "options" in spec:
        allowed = [option[1] if isinstance(option, tuple) else option for option in spec["options"]]
        if not any(value == choice and type(value) is type(choice) for choice in allowed):
            shown = ", ".join(repr(choice) for choice in allowed)
            problem = str(ConfigError(name, value, t("ui.common.not_a_choice"), t("expected.one_of", choices=shown)))
            spec["value"] = spec.get("fallback", allowed[0] if allowed else None)
    elif kind in _SLIDERS:
        low, high = spec.get("min", _SLIDERS[kind][0]), spec.get("max", _SLIDERS[kind][1])
        whole = kind == "IntSlider"
        number = isinstance(value, int | float) and not isinstance(value, bool) and value == value \
            and (not whole or float(value).is_integer())
        if not number or not low <= value <= high:
            problem = str(ConfigError(
                name, value, t("ui.common.outside_slider") if number else
                t("ui.common.not_a_whole_number") if whole else t("ui.common.not_a_number"),
                t("ui.common.whole_number_between", low=low, high=high) if whole else
                t("ui.common.number_between", low=low, high=high)))
            spec["value"] = spec.get("fallback", low)
        elif whole:
            spec["value"] = int(value)
    return spec, problem


_PRE = ("<pre style='font-size:11px;line-height:1.35;max-height:{h}px;overflow:auto;background:#fafafa;"
        "border:1px solid #ddd;padding:6px;margin:0'>{body}</pre>")


def _summary_of(outcome: Any) -> Mapping[str, int] | None:
    """The summary counts inside a panel's outcome: a Result, or the first one in a tuple or a dict."""
    if hasattr(outcome, "summary"):
        return outcome.summary
    items = outcome.values() if isinstance(outcome, Mapping) else outcome if isinstance(outcome, tuple | list) else ()
    return next((item.summary for item in items if hasattr(item, "summary")), None)


def log_html(lines: Sequence[str], highlight: str | None = None, limit: int = 200, height: int = 260) -> str:
    """Log lines as an HTML block, the last ``limit`` of them; lines matching ``highlight`` in bold red."""
    shown = list(lines)[-limit:]
    pattern = re.compile(highlight) if highlight else None
    body = []
    for line in shown:
        text = html.escape(line)
        if pattern and pattern.search(line):
            text = f"<b style='color:#b00020'>{text}</b>"
        body.append(text)
    more = tn("ui.common.earlier_lines", len(lines) - len(shown)) + "\n" if len(lines) > len(shown) else ""
    empty = html.escape(t("ui.common.no_log_lines"), quote=False)
    return _PRE.format(h=height, body=html.escape(more) + "\n".join(body) or empty)


def transcript_html(lines: Sequence[str], height: int = 260) -> str:
    """A session's dialogue, client lines in blue, refusals in red."""
    body = []
    for line in lines:
        text = html.escape(line)
        if line.startswith("C: "):
            text = f"<span style='color:#30638e'>{text}</span>"
        elif line[3:4] in ("4", "5") or line.startswith("S: -ERR"):
            text = f"<span style='color:#b00020'>{text}</span>"
        body.append(text)
    return _PRE.format(h=height, body="\n".join(body) or html.escape(t("ui.common.no_session"), quote=False))


def summary_html(summary: Mapping[str, int], keys: Iterable[str]) -> str:
    """A small two-column table of chosen summary counts."""
    rows = "".join(f"<tr data-key='{html.escape(k)}'><td style='padding:1px 10px 1px 0'>"
                   f"{html.escape(LABELS.get(k, k))}</td>"
                   f"<td style='text-align:right'><b>{summary.get(k, 0)}</b></td></tr>" for k in keys)
    return f"<table class='simlab-summary' style='font-size:12px'>{rows}</table>"


def bars_html(counts: Mapping[str, int], keys: Sequence[str], title: str = "", width: int = 520,
              labels: Mapping[str, str] | None = None, colours: Mapping[str, str] | None = None) -> str:
    """Horizontal bars, one per key, with the count at the end of each bar: the browser draws them.

    What :func:`simlab.plots.outcome_bars` draws with matplotlib (the same labels, colours and order,
    the longest bar at 5/6 of the width), as HTML: a panel redraws it in well under a millisecond.
    """
    names = {**LABELS, **(labels or {})}
    palette = {**COLOURS, **(colours or {})}
    values = [int(counts.get(k, 0)) for k in keys]
    top = max([*values, 1]) * 1.2
    rows = []
    for key, value in zip(keys, values, strict=True):
        share = 100.0 * value / top
        rows.append(
            f"<div class='simlab-bar' data-key='{html.escape(key)}' style='display:flex;align-items:center;"
            "height:38px'><div style='flex:0 0 42%;text-align:right;padding-right:8px;font-size:14px;"
            f"color:#222;white-space:nowrap;overflow:hidden;text-overflow:ellipsis'>{html.escape(names.get(key, key))}"
            "</div><div style='flex:1 1 auto;display:flex;align-items:center;height:100%;border-left:1px solid #333'>"
            f"<div style='width:{share:.2f}%;height:28px;background:{palette.get(key, '#30638e')}'></div>"
            f"<span style='font-size:13px;padding-left:4px;color:#222'>{value}</span></div></div>")
    head = (f"<div style='font-size:15px;margin:0 0 6px;color:#222'>{html.escape(title)}</div>" if title else "")
    return (f"<div class='simlab-bars' style='width:{width}px;max-width:100%;padding:8px 12px 8px 0;"
            f"font-family:sans-serif'>{head}{''.join(rows)}</div>")


def values_key(values: Mapping[str, Any]) -> str:
    """A panel's values as a cache key: the same settings give the same key, in any order."""
    return repr(sorted(values.items()))


class FigureView:
    """One matplotlib figure shown in one image widget, made once and then updated in place.

    ``draw(figure, data)`` gets the figure it returned last time (``None`` the first time) and returns the
    figure to show: a drawing function that can, changes that figure's artists (bar heights, line data,
    texts, limits) and returns it - no new Figure, no new layout (e.g. :func:`simlab.plots.flood_timeline`
    with ``figure=``). The PNG of each ``key`` drawn is kept, so a toggle back shows its picture at once.
    ``widget`` is the :class:`ipywidgets.Image` to put in a view.
    """

    def __init__(self, draw: Callable[[Any, Any], Any], keep: int = 32, widget: widgets.Image | None = None) -> None:
        self.widget = widget if widget is not None else widgets.Image(format="png")
        self.draw = draw
        self.figure: Any = None
        self.keep = keep
        self._pictures: OrderedDict[Any, bytes] = OrderedDict()
        #: How many times a picture was drawn (one shown again from ``key`` does not count).
        self.drawn = 0

    def has(self, key: Any) -> bool:
        """Whether the picture for ``key`` was drawn and is kept (showing it costs nothing)."""
        return key is not None and key in self._pictures

    def show(self, data: Any, key: Any = None) -> None:
        """Draw ``data``, or show again the picture drawn for ``key`` if ``key`` was drawn before."""
        if key is not None and key in self._pictures:
            self._pictures.move_to_end(key)
            self.widget.value = self._pictures[key]
            return
        self.figure = self.draw(self.figure, data)
        picture = to_png(self.figure)
        self.drawn += 1
        if key is not None:
            self._pictures[key] = picture
            while len(self._pictures) > self.keep:
                self._pictures.popitem(last=False)
        self.widget.value = picture


class Panel(widgets.VBox):
    """A lesson panel: controls, a message line, and views that follow the controls.

    Args:
        title: shown on top.
        controls: declarations for :func:`build_control`.
        compute: ``values -> outcome``; pure, may raise :class:`ConfigError` for a bad entry.
        render: ``(panel, outcome) -> None``; fills the views from the outcome.
        views: the view widgets to show below the controls, by name (the name also titles the tab).
        titles: the tab title to show for a view's name, in the learner's language (``{"server log":
            t("ui.common.tab.server_log")}``); a view without one is titled by its name. Code and tests reach
            a view by its name (``panel.views["server log"]``) whatever the language.
        compare_keep: with it, the panel also says what the student's settings changed against its starting
            settings, on the same traffic: the controls named here (the product, the seed) keep the student's
            values, every other control its starting value; that run is made once per product and seed.
            Every actor draws from its own random stream, so only what the settings cause differs.
        cache: keep this many outcomes by the controls' values (:func:`values_key`), so that settings
            seen before are not run again (0: no cache). Only for a pure ``compute``.
        heavy: ``values -> bool``; a run it calls heavy is made in the busy state (:meth:`busy`): the
            controls disabled and a progress bar shown until the result is drawn.
        busy_after: seconds after which any other run still going, and not about to end, enters the busy
            state at its next progress report (:data:`BUSY_AFTER` by default; ``None``: never).
        view_only: controls that only choose what is shown (``render`` reads them): the cache keys
            leave them out, so changing one redraws the outcome of the other values without a run.

    Attributes:
        controls: the control widgets by name (set ``.value`` to drive the panel from code).
        outcome: the last good outcome; ``error``: the message of the last bad entry, else ``None``.
        runs: how many results were drawn; ``computed``: how many times ``compute`` ran (a cached
            outcome does not count); ``is_busy``: whether a heavy step is under way; ``progress``: the bar.
    """

    def __init__(self, title: str, controls: Sequence[Mapping[str, Any]], compute: Callable[[dict], Any],
                 render: Callable[[Panel, Any], None], views: Mapping[str, widgets.Widget],
                 columns: int = 2, compare_keep: Sequence[str] | None = None, cache: int = 0,
                 heavy: Callable[[dict], bool] | None = None, titles: Mapping[str, str] | None = None,
                 busy_after: float | None = BUSY_AFTER, view_only: Sequence[str] = ()) -> None:
        _freeze_what_is_loaded()
        self.cache_size = int(cache)
        self.busy_after = busy_after
        self.view_only = frozenset(view_only)
        self._cache: OrderedDict[str, Any] = OrderedDict()
        self.computed = 0
        self.heavy = heavy
        self.is_busy = False
        self.progress = widgets.FloatProgress(value=0.0, min=0.0, max=1.0, bar_style="info",
                                              description=t("ui.common.running"),
                                              layout=widgets.Layout(display="none"))
        checked = [checked_start(spec) for spec in controls]
        self.compare_keep = tuple(compare_keep) if compare_keep is not None else None
        self._labels = {spec["name"]: spec.get("description") or spec["name"] for spec, _ in checked}
        #: What the last change did against the starting settings, in words (empty without compare_keep).
        self.comparison = widgets.HTML()
        self._baseline: tuple[str, Any] = ("", None)
        #: Messages for starting values the controls could not hold (a preset not offered, a seed off the slider).
        self.start_problems: list[str] = [problem for _spec, problem in checked if problem]
        self.controls: dict[str, widgets.Widget] = {spec["name"]: build_control(spec) for spec, _ in checked}
        self.message = widgets.HTML()
        self.views = dict(views)
        self.compute = compute
        self.render = render
        self.outcome: Any = None
        self.error: str | None = None
        self.runs = 0
        self._quiet = False
        grid = widgets.GridBox(list(self.controls.values()), layout=widgets.Layout(
            grid_template_columns=" ".join(["1fr"] * columns), grid_gap="4px 16px"))
        tabs = widgets.Tab(children=list(self.views.values()))
        shown_titles = dict(titles or {})
        for i, name in enumerate(self.views):
            tabs.set_title(i, shown_titles.get(name, name))
        self.tabs = tabs
        super().__init__([widgets.HTML(f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>"), grid, self.message,
                          self.progress, self.comparison, tabs])
        self.start_values = self.values()
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        self.refresh()
        if self.start_problems:
            shown = [t("ui.common.shows_default", problem=problem) for problem in self.start_problems]
            self._show_error("; ".join(shown + ([self.error] if self.error else [])))

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _changed(self, _change: dict) -> None:
        if not self._quiet:
            self.refresh()

    def follow(self, control: str, handler: Callable[[dict], None]) -> None:
        """Call ``handler(change)`` when ``control`` changes, *before* the panel runs for the new value.

        For a control that others follow (the process limit that follows the product): what the handler sets
        is changed quietly, and the one run that follows sees all of it.
        """
        widget = self.controls[control]
        widget.unobserve(self._changed, names="value")

        def quiet(change: dict) -> None:
            with self.quietly():
                handler(change)

        widget.observe(quiet, names="value")
        widget.observe(self._changed, names="value")

    @contextmanager
    def quietly(self):
        """Change controls from code without a rerun per change (e.g. a slider that follows the product)."""
        was, self._quiet = self._quiet, True
        try:
            yield self
        finally:
            self._quiet = was

    @contextmanager
    def busy(self, what: str | None = None) -> Iterator[Panel]:
        """The busy state, for a slow step: the controls disabled and the progress bar shown, both undone on
        leaving (also after an error). Within it, every run of :func:`simlab.scenarios.run` moves the bar.
        ``what`` labels the bar (default: "running", in the learner's language)."""
        if self.is_busy:  # nested: the outer block owns the state
            yield self
            return
        was = {name: control.disabled for name, control in self.controls.items()}
        self.is_busy = True
        for control in self.controls.values():
            control.disabled = True
        self.progress.description = what if what is not None else t("ui.common.running")
        self.progress.value = 0.0
        self.progress.layout.display = None
        try:
            with reporting_progress(self._advance):
                yield self
        finally:
            self.progress.layout.display = "none"
            for name, control in self.controls.items():
                control.disabled = was[name]
            self.is_busy = False

    def _advance(self, fraction: float) -> None:
        self.progress.value = max(0.0, min(1.0, fraction))

    def outcome_for(self, values: Mapping[str, Any]) -> Any:
        """``compute(values)``, from the cache when these values were run before (see ``cache``)."""
        if self.cache_size <= 0:
            self.computed += 1
            return self.compute(dict(values))
        key = self._key(values)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        self.computed += 1
        outcome = self.compute(dict(values))
        self._cache[key] = outcome
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return outcome

    def cached(self, values: Mapping[str, Any]) -> bool:
        """Whether the outcome of ``values`` is in the cache (its run would cost nothing)."""
        return self.cache_size > 0 and self._key(values) in self._cache

    def _key(self, values: Mapping[str, Any]) -> str:
        if not self.view_only:
            return values_key(values)
        return values_key({name: value for name, value in values.items() if name not in self.view_only})

    def refresh(self) -> None:
        """Run the simulation for the current values and redraw; a bad entry shows a message instead."""
        values = self.values()
        heavy = self.heavy is not None and not self.cached(values) and self._is_heavy(values)
        if heavy:
            with self.busy():
                self._refresh(values)
        elif self.busy_after is not None and not self.cached(values):
            with self._busy_if_slow():
                self._refresh(values)
        else:
            self._refresh(values)

    @contextmanager
    def _busy_if_slow(self) -> Iterator[None]:
        """Within it, a run still going after :attr:`busy_after` seconds enters the busy state at its next
        progress report (a tenth of its simulated time), and moves the bar from there; left on leaving.
        A run whose pace so far says it will be done within another :attr:`busy_after` does not: the busy
        state would only flash. Progress reports come between slices of the run and cannot change it."""
        started = time.perf_counter()
        state = ExitStack()

        def heard(fraction: float) -> None:
            if not self.is_busy and 0.0 < fraction < 1.0:
                spent = time.perf_counter() - started
                if spent > self.busy_after and spent * (1.0 - fraction) / fraction >= self.busy_after:
                    state.enter_context(self.busy())
            if self.is_busy:
                self._advance(fraction)

        with reporting_progress(heard), state:
            yield

    def _is_heavy(self, values: dict) -> bool:
        try:
            return bool(self.heavy(values))
        except Exception:  # a bad entry is compute's to report
            return False

    def _refresh(self, values: dict) -> None:
        try:
            outcome = self.outcome_for(values)
        except ConfigError as exc:
            self._show_error(str(exc))
            return
        except Exception as exc:  # a panel must never show a traceback to a student
            self._show_error(t("ui.common.could_not_run", error=exc))
            return
        self.error = None
        self.message.value = ""
        self.outcome = outcome
        self.runs += 1
        self.render(self, outcome)
        if self.compare_keep is not None:
            self._show_comparison(outcome)

    def _shown(self, name: str, value: Any) -> str:
        """A control's value as the student sees it: a menu's label, on/off, or the text typed."""
        for option in getattr(self.controls[name], "options", ()):
            if isinstance(option, tuple) and option[1] == value:
                return str(option[0])
        if isinstance(value, bool):
            return t("ui.common.on") if value else t("ui.common.off")
        return str(value) if value != "" else t("ui.common.empty")

    def _show_comparison(self, outcome: Any) -> None:
        """Say what the settings changed against the starting ones, on the same traffic (same product and seed)."""
        from simlab.comparison import change_between

        values = self.values()
        base = {**self.start_values, **{k: values[k] for k in self.compare_keep if k in values}}
        changed = [name for name in values if values[name] != base[name]]
        if not changed:
            hint = html.escape(t("ui.common.starting_settings"), quote=False)
            self.comparison.value = f"<p style='font-size:12px;color:#555;margin:4px 0'>{hint}</p>"
            return
        key = repr(sorted(base.items()))
        if self._baseline[0] != key:
            try:
                self._baseline = (key, self.outcome_for(base))
            except Exception:  # the starting settings always run; if not, say nothing rather than guess
                self.comparison.value = ""
                return
        before, after = _summary_of(self._baseline[1]), _summary_of(outcome)
        if before is None or after is None:
            self.comparison.value = ""
            return
        what = "; ".join(f"{html.escape(str(self._labels[n]))}: {html.escape(self._shown(n, base[n]))} → "
                         f"{html.escape(self._shown(n, values[n]))}" for n in changed)
        change = "<b>" + html.escape(change_between(before, after)) + "</b>"
        said = t("ui.common.against_start", what=what, change=change)
        self.comparison.value = (
            "<p style='font-size:13px;margin:4px 0;padding:4px 8px;background:#f2f7f9;border-left:4px solid "
            f"#00798c'>{said}</p>")

    def _show_error(self, text: str) -> None:
        self.error = text
        self.message.value = (f"<div style='color:#b00020;border-left:4px solid #b00020;padding:4px 8px;"
                              f"background:#fff4f4'>{html.escape(text)}</div>")

    # --- helpers for render functions --------------------------------------------------
    @staticmethod
    def image(figure) -> widgets.Image:
        return widgets.Image(value=to_png(figure), format="png")

    @staticmethod
    def set_figure(view: widgets.Image, figure) -> None:
        view.value = to_png(figure)

    def show_picture(self, title: str, key: Any, make: Callable[[], Any], keep: int = 32) -> None:
        """Show in the image view ``title`` the picture of ``make()`` (a figure), drawn once per ``key``.

        The key names what the picture shows (e.g. :func:`values_key` of the values it was run with); a key
        seen before shows its PNG again at once, with no figure made.
        """
        pictures = self.__dict__.setdefault("_pictures", {}).setdefault(title, OrderedDict())
        if key in pictures:
            pictures.move_to_end(key)
        else:
            with self.busy(t("ui.common.drawing")):  # a picture takes a tenth of a second or more: say so meanwhile
                pictures[key] = to_png(make())
            while len(pictures) > keep:
                pictures.popitem(last=False)
        self.views[title].value = pictures[key]


def solution_button(text: str, label: str | None = None) -> widgets.VBox:
    """A button that shows a worked solution when clicked (and hides it again); ``label`` defaults to
    "Reveal the worked solution" in the learner's language."""
    label = label if label is not None else t("ui.common.reveal_solution")
    body = widgets.HTML(f"<pre style='white-space:pre-wrap;font-size:12px'>{html.escape(text)}</pre>")
    body.layout.display = "none"
    button = widgets.Button(description=label, layout=widgets.Layout(width="auto"))

    def toggle(_button) -> None:
        shown = body.layout.display != "none"
        body.layout.display = "none" if shown else "block"
        button.description = label if shown else t("ui.common.hide_solution")

    button.on_click(toggle)
    return widgets.VBox([button, body])


def enable_by_product(panel: Panel, applies: Mapping[str, Callable[[products.Product], bool]],
                      control: str = "preset") -> None:
    """Enable each named control only while the product chosen in ``control`` has what it needs.

    ``applies`` maps a control's name to a question about the product (e.g.
    ``lambda p: p.can(products.CLIENT_CONNECTION_LIMIT)``); the controls follow every change of product.
    """
    def follow(_change: dict | None = None) -> None:
        product = products.get(panel.controls[control].value)
        for name, question in applies.items():
            panel.controls[name].disabled = not question(product)

    panel.controls[control].observe(follow, names="value")
    follow()

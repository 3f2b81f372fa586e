"""Building blocks of the lesson panels: controls declared as data, and views of a result.

A panel is a thin view: its controls are declared as a list of dicts (as in
Mesa's model parameters), every change calls one pure function that runs the
simulation, and the result is drawn into a chart, the server log and a
transcript. A bad entry shows a message in the panel - never a traceback -
and nothing the student typed is lost: the controls keep their values and the
last good result stays on screen.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import ipywidgets as widgets

from simlab import products
from simlab.errors import ConfigError
from simlab.plots import LABELS, to_png

__all__ = ["Panel", "build_control", "checked_start",
           "log_html", "transcript_html", "summary_html", "solution_button", "CONTROL_TYPES",
           "product_menu", "choice_label", "setting_description", "enable_by_product", "allowlist_controls"]


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
        raise ConfigError(f"control {name!r} type", kind, "is not a control type", f"one of {sorted(CONTROL_TYPES)}")
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
            problem = str(ConfigError(name, value, "is not a choice of this panel", f"one of {shown}"))
            spec["value"] = spec.get("fallback", allowed[0] if allowed else None)
    elif kind in _SLIDERS:
        low, high = spec.get("min", _SLIDERS[kind][0]), spec.get("max", _SLIDERS[kind][1])
        whole = kind == "IntSlider"
        number = isinstance(value, int | float) and not isinstance(value, bool) and value == value \
            and (not whole or float(value).is_integer())
        if not number or not low <= value <= high:
            what = "a whole number" if whole else "a number"
            problem = str(ConfigError(name, value, "is outside what this panel's slider holds" if number else
                                      f"is not {what}", f"{what} from {low} to {high}"))
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
    more = f"... {len(lines) - len(shown)} earlier lines\n" if len(lines) > len(shown) else ""
    return _PRE.format(h=height, body=html.escape(more) + "\n".join(body) or "(no log lines)")


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
    return _PRE.format(h=height, body="\n".join(body) or "(no session)")


def summary_html(summary: Mapping[str, int], keys: Iterable[str]) -> str:
    """A small two-column table of chosen summary counts."""
    rows = "".join(f"<tr data-key='{html.escape(k)}'><td style='padding:1px 10px 1px 0'>"
                   f"{html.escape(LABELS.get(k, k))}</td>"
                   f"<td style='text-align:right'><b>{summary.get(k, 0)}</b></td></tr>" for k in keys)
    return f"<table class='simlab-summary' style='font-size:12px'>{rows}</table>"


class Panel(widgets.VBox):
    """A lesson panel: controls, a message line, and views that follow the controls.

    Args:
        title: shown on top.
        controls: declarations for :func:`build_control`.
        compute: ``values -> outcome``; pure, may raise :class:`ConfigError` for a bad entry.
        render: ``(panel, outcome) -> None``; fills the views from the outcome.
        views: the view widgets to show below the controls, by tab title.
        compare_keep: with it, the panel also says what the student's settings changed against its starting
            settings, on the same traffic: the controls named here (the product, the seed) keep the student's
            values, every other control its starting value; that run is made once per product and seed.
            Every actor draws from its own random stream, so only what the settings cause differs.

    Attributes:
        controls: the control widgets by name (set ``.value`` to drive the panel from code).
        outcome: the last good outcome; ``error``: the message of the last bad entry, else ``None``.
    """

    def __init__(self, title: str, controls: Sequence[Mapping[str, Any]], compute: Callable[[dict], Any],
                 render: Callable[[Panel, Any], None], views: Mapping[str, widgets.Widget],
                 columns: int = 2, compare_keep: Sequence[str] | None = None) -> None:
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
        for i, name in enumerate(self.views):
            tabs.set_title(i, name)
        self.tabs = tabs
        super().__init__([widgets.HTML(f"<h3 style='margin:4px 0'>{html.escape(title)}</h3>"), grid, self.message,
                          self.comparison, tabs])
        self.start_values = self.values()
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        self.refresh()
        if self.start_problems:
            shown = [f"{problem} - the panel shows its default instead" for problem in self.start_problems]
            self._show_error("; ".join(shown + ([self.error] if self.error else [])))

    def values(self) -> dict[str, Any]:
        return {name: control.value for name, control in self.controls.items()}

    def _changed(self, _change: dict) -> None:
        if not self._quiet:
            self.refresh()

    @contextmanager
    def quietly(self):
        """Change controls from code without a rerun per change (e.g. a slider that follows the product)."""
        self._quiet = True
        try:
            yield self
        finally:
            self._quiet = False

    def refresh(self) -> None:
        """Run the simulation for the current values and redraw; a bad entry shows a message instead."""
        try:
            outcome = self.compute(self.values())
        except ConfigError as exc:
            self._show_error(str(exc))
            return
        except Exception as exc:  # a panel must never show a traceback to a student
            self._show_error(f"simlab could not run these settings: {exc}")
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
            return "on" if value else "off"
        return str(value) if value != "" else "(empty)"

    def _show_comparison(self, outcome: Any) -> None:
        """Say what the settings changed against the starting ones, on the same traffic (same product and seed)."""
        from simlab.comparison import change_between

        values = self.values()
        base = {**self.start_values, **{k: values[k] for k in self.compare_keep if k in values}}
        changed = [name for name in values if values[name] != base[name]]
        if not changed:
            self.comparison.value = ("<p style='font-size:12px;color:#555;margin:4px 0'>These are the panel's "
                                     "starting settings: change one to see what it changes on the same traffic.</p>")
            return
        key = repr(sorted(base.items()))
        if self._baseline[0] != key:
            try:
                self._baseline = (key, self.compute(base))
            except Exception:  # the starting settings always run; if not, say nothing rather than guess
                self.comparison.value = ""
                return
        before, after = _summary_of(self._baseline[1]), _summary_of(outcome)
        if before is None or after is None:
            self.comparison.value = ""
            return
        what = "; ".join(f"{html.escape(str(self._labels[n]))}: {html.escape(self._shown(n, base[n]))} → "
                         f"{html.escape(self._shown(n, values[n]))}" for n in changed)
        self.comparison.value = (
            "<p style='font-size:13px;margin:4px 0;padding:4px 8px;background:#f2f7f9;border-left:4px solid "
            f"#00798c'>Against the starting settings ({what}), on the same traffic: "
            f"<b>{html.escape(change_between(before, after))}</b></p>")

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


def solution_button(text: str, label: str = "Reveal the worked solution") -> widgets.VBox:
    """A button that shows a worked solution when clicked (and hides it again)."""
    body = widgets.HTML(f"<pre style='white-space:pre-wrap;font-size:12px'>{html.escape(text)}</pre>")
    body.layout.display = "none"
    button = widgets.Button(description=label, layout=widgets.Layout(width="auto"))

    def toggle(_button) -> None:
        shown = body.layout.display != "none"
        body.layout.display = "none" if shown else "block"
        button.description = label if shown else "Hide the solution"

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

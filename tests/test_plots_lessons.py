"""The lessons' figures live in simlab.plots and take plain data; the panels only fill in the lesson's names.

The layering: simlab.plots imports neither simlab.ui nor simlab.exercises, simlab.exercises never imports
simlab.ui, and the names notebooks import from the panel modules are still there.
"""

import ast
import pathlib

import pytest

import simlab
from simlab import plots
from simlab.plots import to_png
from simlab.scenarios import run

PNG = b"\x89PNG\r\n\x1a\n"
PACKAGE = pathlib.Path(simlab.__file__).parent


def _imports(path: pathlib.Path) -> set[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("path", sorted((PACKAGE / "plots").glob("*.py")), ids=lambda p: p.name)
def test_plots_imports_neither_the_panels_nor_the_exercises(path):
    imported = _imports(path)
    assert not {name for name in imported if name.startswith(("simlab.ui", "simlab.exercises"))}
    assert "simlab.ui" not in imported and "simlab.exercises" not in imported


@pytest.mark.parametrize("path", sorted((PACKAGE / "exercises").glob("*.py")), ids=lambda p: p.name)
def test_exercises_never_import_the_panels(path):
    assert not {name for name in _imports(path) if name.startswith("simlab.ui")}


@pytest.mark.parametrize("module, names", [
    ("simlab.ui.password", ["guessing_timeline"]),
    ("simlab.ui.iprange", ["mail_paths_figure"]),
    ("simlab.ui.rotation", ["pool_sweep_figure", "bans_figure"]),
    ("simlab.ui.flood", ["costs_figure", "flood_timeline"]),
    ("simlab.ui.sandbox", ["readable_timeline", "TIMELINE_LABELS", "TIMELINE_COLOURS"]),
])
def test_the_panel_modules_still_offer_their_figures(module, names):
    import importlib

    panel_module = importlib.import_module(module)
    for name in names:
        assert name in panel_module.__all__ and hasattr(plots, name), name


def test_figures_without_lesson_names_are_the_plots_own():
    from simlab.ui import flood, iprange, sandbox

    assert flood.costs_figure is plots.costs_figure
    assert iprange.mail_paths_figure is plots.mail_paths_figure
    assert sandbox.readable_timeline is plots.readable_timeline
    assert sandbox.TIMELINE_LABELS is plots.TIMELINE_LABELS and sandbox.TIMELINE_COLOURS is plots.TIMELINE_COLOURS


def test_flood_timeline_takes_the_flooders_name():
    from simlab.exercises.flood import FLOODER, flood_day

    day = run(flood_day("eims-2.1", connections=60, duration=2 * 3600.0), seed=1)
    named = plots.flood_timeline(day, flooder=FLOODER, minutes=20)
    right = named.axes[1].get_lines()[0].get_ydata()
    assert max(right) > 0  # the flooder's refusals, on the right-hand axis
    nobody = plots.flood_timeline(day, flooder="nobody", minutes=20)
    assert max(nobody.axes[1].get_lines()[0].get_ydata()) == 0
    assert to_png(named)[:8] == PNG


def test_pool_sweep_and_bans_figures_take_plain_data():
    sweep = {"per_ip_ban": {1: {"spam_relayed": 3}, 30: {"spam_relayed": 40}},
             "allowlist": {1: {"spam_relayed": 0}, 30: {"spam_relayed": 0}}}
    figure = plots.pool_sweep_figure(sweep, sent=60, labels={"per_ip_ban": "ban each address"})
    legend = [t.get_text() for t in figure.axes[0].get_legend().get_texts()]
    assert legend == ["ban each address", "allowlist"]
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["1", "30"]

    from simlab.exercises.rotation import rotation_day

    day = run(rotation_day("eims-2.1", "per_ip_ban", pool_size=5, duration=4 * 3600.0), seed=1)
    bans = [(600.0, "198.51.100.77", "fail2ban"), (900.0, "203.0.113.9", "fail2ban")]
    drawn = plots.bans_figure(day, bans=bans)
    texts = [t.get_text() for t in drawn.axes[0].texts]
    assert texts == ["198.51.100.77 banned (fail2ban)"]  # only the address that is not the spammer's is named
    assert "a ban (2 in all)" in [t.get_text() for t in drawn.axes[0].get_legend().get_texts()]
    assert to_png(drawn)[:8] == PNG


def test_guessing_timeline_marks_the_break_ins_it_is_given():
    from datetime import timedelta
    from types import SimpleNamespace

    from simlab.exercises.password import STAFF, guessing_day

    day = run(guessing_day("eims-2.1", guesser_ips=1), seed=1)
    when = day.start + timedelta(hours=3)
    figure = plots.guessing_timeline(day, staff=STAFF, breaches=[SimpleNamespace(account="info", time=when)])
    assert [t.get_text() for t in figure.axes[0].texts] == [f"info {when:%H:%M}"]
    assert not plots.guessing_timeline(day, staff=(), breaches=[]).axes[0].texts
    assert to_png(figure)[:8] == PNG

"""``import simlab`` stays light: widgets, plots, tables and graphs load only when used (issue: speed and scale).

Behaviour, not time: each check runs in a fresh interpreter and looks at ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("ipywidgets", "matplotlib", "pandas", "networkx")


def loaded_after(code: str) -> set[str]:
    """The heavy packages a fresh interpreter holds after running ``code``."""
    probe = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_simlab_loads_no_widgets_plots_tables_or_graphs():
    assert loaded_after("import simlab") == set()


@pytest.mark.parametrize("code", [
    "import simlab; simlab.scenarios.relay_probe(); simlab.presets.postfix()",
    "import simlab; simlab.sweep; simlab.SmtpSession; simlab.run",
    "from simlab import sweep",
])
def test_building_and_naming_things_loads_none_either(code):
    assert loaded_after(code) == set()


def test_a_run_needs_the_network_graph_but_no_tables_or_plots():
    loaded = loaded_after("import simlab; simlab.run(simlab.scenarios.relay_probe(), seed=1, counts_only=True)")
    assert loaded <= {"networkx"}


def test_the_heavy_parts_load_when_used():
    assert "pandas" in loaded_after("import simlab; simlab.run(simlab.scenarios.relay_probe(), seed=1).events")

"""scripts/editions.py: the student edition keeps no solution, the instructor edition keeps them, both run."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import nbformat
import pytest
from helpers import load_script

ROOT = Path(__file__).resolve().parent.parent


def _load_editions():
    """scripts/editions.py as a module (scripts/ is not a package), loaded once for both test files."""
    return load_script("editions", "simlab_editions_script")


editions = _load_editions()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("editions")
    editions.build(out, quiet=True)
    return out


def _texts(folder: Path) -> dict[str, str]:
    """Each notebook's strings (sources, outputs, metadata) joined, as a student's browser would show them."""
    return {p.name: "\n".join(editions._strings(json.loads(p.read_text(encoding="utf-8"))))
            for p in sorted(folder.glob("*.ipynb"))}


def test_both_editions_hold_every_lesson(built):
    lessons = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.name for p in (built / "student").glob("*.ipynb")) == lessons
    assert sorted(p.name for p in (built / "instructor").glob("*.ipynb")) == lessons


def test_no_solution_text_reaches_the_student_edition(built):
    solutions = editions.solution_texts()
    assert {"simlab.exercises.password", "simlab.exercises.relay", "simlab.exercises.spoof"} <= set(solutions)
    for name, text in _texts(built / "student").items():
        for module, solution in solutions.items():
            assert solution.strip() not in text, (name, module)
            for line in solution.splitlines():
                if len(line.strip()) > 30:
                    assert line.strip() not in text, (name, module, line)
        assert "solution_button" not in text, name
        assert not re.search(r"import[^\n]*\bSOLUTION\b", text), name
        assert not re.search(r"\bSOLUTION\b", text), name


def test_the_japanese_edition_is_built_beside_the_english_one_without_any_solution(built):
    lessons = sorted(p.name for p in (ROOT / "notebooks" / "ja").glob("[0-9][0-9]_*.ipynb"))
    assert lessons, "notebooks/ja holds no lesson"
    for edition in ("student", "instructor"):
        assert sorted(p.name for p in (built / edition / "ja").glob("*.ipynb")) == lessons
        assert (built / edition / "ja" / ".simlab-language").read_text(encoding="utf-8").strip() == "ja"
    solutions = editions.solution_texts()
    japanese = {module: text for module, text in solutions.items() if module.endswith("[ja]")}
    assert "simlab.exercises.relay[ja]" in japanese  # the Japanese solutions are searched for too
    assert japanese["simlab.exercises.relay[ja]"] != solutions["simlab.exercises.relay"]
    for name, text in _texts(built / "student" / "ja").items():
        for module, solution in solutions.items():
            assert solution.strip() not in text, (name, module)
        assert not re.search(r"\bSOLUTION\b|solution_button", text), name
    for path in (ROOT / "notebooks" / "ja").glob("[0-9][0-9]_*.ipynb"):
        assert (built / "instructor" / "ja" / path.name).read_bytes() == path.read_bytes()


def test_the_instructor_edition_is_the_lessons_as_they_are(built):
    for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"):
        assert (built / "instructor" / path.name).read_bytes() == path.read_bytes()
    texts = _texts(built / "instructor")
    for name, text in texts.items():
        if name != "09_live_lab.ipynb":  # the live lab has no exercise
            assert "solution_button(SOLUTION)" in text and re.search(r"import SOLUTION, check_", text), name


def test_only_the_solution_cells_change(built):
    """Nothing but the Reveal cell and SOLUTION in the exercise's import differs between the editions."""
    for path in sorted((built / "instructor").glob("*.ipynb")):
        teacher = nbformat.read(path, as_version=4)
        student = nbformat.read(built / "student" / path.name, as_version=4)
        assert student.metadata == teacher.metadata
        kept = {cell.id: cell for cell in student.cells}
        for cell in teacher.cells:
            if cell.id not in kept:
                assert "solution_button(" in cell.source, (path.name, cell.id)
            elif kept[cell.id] != cell:
                assert cell.source.replace("import SOLUTION, ", "import ") == kept[cell.id].source
                assert {k: v for k, v in cell.items() if k != "source"} == \
                       {k: v for k, v in kept[cell.id].items() if k != "source"}
        assert [c.id for c in teacher.cells if c.id in kept] == [c.id for c in student.cells]


def _lesson(*cells: str, tags: dict[int, list[str]] | None = None) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A lesson")]
                                  + [nbformat.v4.new_code_cell(source) for source in cells])
    for n, cell_tags in (tags or {}).items():
        nb.cells[n].metadata["tags"] = cell_tags
    return nb


def test_solution_cells_are_found_by_the_call_not_the_position():
    nb = _lesson("%matplotlib inline\nimport simlab",
                 "from simlab.ui.common import solution_button\nsolution_button(SOLUTION)",
                 "from simlab.exercises.relay import (\n    SOLUTION,\n    check_no_open_relay,  # the checker\n)\n"
                 "check_no_open_relay('eims-2.1')",
                 "print('hint')", tags={4: ["solution"]})
    edition = editions.student_edition(nb, "made-up", solutions={})
    sources = [c.source for c in edition.notebook.cells]
    assert sources[:2] == ["# A lesson", "%matplotlib inline\nimport simlab"]
    assert sources[2] == "from simlab.exercises.relay import check_no_open_relay\ncheck_no_open_relay('eims-2.1')"
    assert len(sources) == 3 and len(edition.removed) == 2 and edition.exercises == ["check_no_open_relay"]
    assert len(nb.cells) == 5  # the lesson itself is untouched


@pytest.mark.parametrize(("cells", "why"), [
    (("from simlab.exercises.relay import check_no_open_relay\ncheck_no_open_relay('eims-2.1')",),
     "no solution cell"),
    (("from simlab.exercises.relay import SOLUTION, check_no_open_relay\ncheck_no_open_relay('eims-2.1')",
      "x = 1\nsimlab.ui.solution_button(SOLUTION)"), "also does something else"),
    (("import simlab.exercises.relay as relay\nrelay.check_no_open_relay('eims-2.1')\nprint(relay.SOLUTION)",
      "simlab.ui.solution_button(relay.SOLUTION)"), "still reaches the solution"),
    (("from simlab.exercises.relay import *\ncheck_no_open_relay('eims-2.1')",
      "simlab.ui.solution_button(SOLUTION)"), "import \\*"),
])
def test_a_lesson_the_script_cannot_clean_fails_the_build(cells, why):
    with pytest.raises(editions.EditionError, match=why):
        editions.student_edition(_lesson(*cells), "made-up", solutions={})


def test_a_solution_left_in_an_output_fails_the_build():
    from simlab.exercises import relay

    nb = _lesson("from simlab.exercises.relay import SOLUTION, check_no_open_relay\ncheck_no_open_relay('eims-2.1')",
                 "simlab.ui.solution_button(SOLUTION)")
    line = [x for x in relay.SOLUTION.splitlines() if len(x) > 40][1]
    nb.cells[1].outputs = [nbformat.v4.new_output("stream", text=f"a saved output: {line}")]
    with pytest.raises(editions.EditionError, match="solution text left"):
        editions.student_edition(nb, "made-up", solutions={"simlab.exercises.relay": relay.SOLUTION})


def test_a_student_notebook_runs(built):
    """The fastest lesson of the student edition, executed (nbmake runs every lesson as it is elsewhere)."""
    from nbclient import NotebookClient

    path = built / "student" / "00_start_here.ipynb"
    nb = nbformat.read(path, as_version=4)
    start = time.monotonic()
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    assert time.monotonic() - start < 90
    outputs = "\n".join(str(o) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert "Not yet." in outputs  # the exercise cell ran its checker on the starting answer
    assert not any(o.get("output_type") == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)

"""The nbgrader course: generated from the lessons, released and autograded; and the path without nbgrader."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

import nbformat
import pytest
from test_editions import editions

from simlab import plots
from simlab.exercises.common import Feedback, class_overview, common_wrong_answers, read_results, record

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
STUB = "# YOUR CODE HERE\nraise NotImplementedError()"


def test_the_course_source_is_up_to_date_with_the_lessons():
    assert editions.write_course(COURSE, check=True) == [], "run `make course` and commit course/source"
    assert sorted(p.name for p in (COURSE / "source").iterdir()) == sorted(editions.COURSE)


def _nbgrader(course: Path, *args: str) -> None:
    """nbgrader's own command line, run from the course folder (its alembic needs the venv's bin on PATH)."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=240)
    assert done.returncode == 0 and "ERROR" not in done.stderr, done.stderr[-3000:]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A tmp copy of the course, released, with a right and a wrong submission per assignment, autograded."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(COURSE / "nbgrader_config.py", course)
    shutil.copytree(COURSE / "source", course / "source")
    start = time.monotonic()
    _nbgrader(course, "generate_assignment", "*")
    answers = editions.sample_answers()
    for assignment, sample in answers.items():
        release = (course / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
        nb = nbformat.reads(release, as_version=4)
        for student, which in (("right", "right"), ("wrong", "wrong")):
            cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution"))
            original = cell.source
            assert STUB in original
            cell.source = original.replace(STUB, f"answer = {sample[which]}")
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            nbformat.write(nb, folder / f"{assignment}.ipynb")
            cell.source = original
    _nbgrader(course, "autograde", "*")
    return course, answers, time.monotonic() - start


def test_the_release_has_no_solution_and_no_hidden_test(graded):
    course, answers, _ = graded
    for assignment, sample in answers.items():
        text = (course / "release" / assignment / f"{assignment}.ipynb").read_text(encoding="utf-8")
        assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text and "_feedback" not in text
        assert sample["right"] not in text.replace('\\"', '"')
        assert not editions.find_leaks(nbformat.reads(text, as_version=4))


def test_autograde_gives_full_points_to_the_right_answer_and_none_to_the_wrong(graded):
    from nbgrader.api import Gradebook

    course, answers, seconds = graded
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SQLAlchemy's and nbgrader's own deprecations are not ours
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
            for assignment in answers:
                right = gradebook.find_submission(assignment, "right")
                wrong = gradebook.find_submission(assignment, "wrong")
                assert right.max_score == editions.COURSE[assignment] > 0
                assert (right.score, wrong.score) == (right.max_score, 0), assignment
    assert seconds < 90


def test_the_graders_messages_are_the_checkers(graded):
    """A wrong answer's autograded notebook carries the checker's own words, as the lesson shows them."""
    course, _, _ = graded
    nb = nbformat.read(course / "autograded" / "wrong" / "02_open_relay_probe" / "02_open_relay_probe.ipynb", 4)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors and "still relayed" in errors[-1]["evalue"]


# --- without nbgrader: record, read_results, class_overview, common_wrong_answers ------------------------------


def test_record_appends_one_line_per_attempt(tmp_path):
    fail = Feedback(False, ["still relayed: 1 message"])
    assert record(fail, "02", "ana", tmp_path) is fail
    record(Feedback(True, ["refused"]), "02", "ana", tmp_path)
    record(Feedback(True, []), 1, "b/en", tmp_path / "one.jsonl")
    lines = [json.loads(x) for x in (tmp_path / "ana.jsonl").read_text().splitlines()]
    assert [(x["student"], x["exercise"], x["passed"], x["messages"]) for x in lines] == \
           [("ana", "02", False, ["still relayed: 1 message"]), ("ana", "02", True, ["refused"])]
    assert lines[0]["time"].endswith("+00:00")
    assert json.loads((tmp_path / "one.jsonl").read_text())["exercise"] == "1"
    with pytest.raises(TypeError):
        record(True, "02", "ana", tmp_path)


def test_record_reads_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SIMLAB_RESULTS", str(tmp_path))
    monkeypatch.setenv("SIMLAB_STUDENT", "chen")
    record(Feedback(False, ["x"]), "03")
    assert json.loads((tmp_path / "chen.jsonl").read_text())["student"] == "chen"


def test_the_class_overview(tmp_path):
    from simlab.exercises.relay import check_no_open_relay

    record(check_no_open_relay("eims-2.1"), "02", "ana", tmp_path)
    record(check_no_open_relay("eims-2.1", relay_restriction=True), "02", "ana", tmp_path)
    (tmp_path / "gathered").mkdir()
    record(check_no_open_relay("eims-2.1"), "02", "ben", tmp_path / "gathered")
    record(Feedback(False, ["ok: bob's mail got through", "the spoofer got 250"]), "03", "ben", tmp_path)
    with (tmp_path / "gathered" / "ben.jsonl").open("a") as file:
        file.write("\n")
    assert len(read_results(tmp_path)) == 4
    overview = class_overview(tmp_path)
    table = overview.set_index(["student", "exercise"])
    assert table.loc[("ana", "02"), "solved"] and table.loc[("ana", "02"), "attempts_to_solve"] == 2
    assert not table.loc[("ben", "02"), "solved"] and table.loc[("ben", "02"), "attempts"] == 1
    assert overview.pivot(index="student", columns="exercise", values="solved").shape == (2, 2)
    wrong = common_wrong_answers(tmp_path)
    assert set(wrong.message[:2]) == {"1 bounce reached postmaster",
                                      "still relayed: 1 message from 203.0.113.0/24 (relay survey) got 250 at RCPT"}
    assert list(wrong.students[:2]) == [2, 2] and list(wrong.students[2:]) == [1]
    assert "ok: bob's mail got through" not in set(wrong.message)
    figure = plots.class_overview_figure(overview)
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()] == ["02", "03"]
    (tmp_path / "bad.jsonl").write_text('{"student": "x"}\n')
    with pytest.raises(ValueError, match=r"bad\.jsonl:1"):
        read_results(tmp_path)


def test_the_class_overview_notebook_runs_standalone(tmp_path):
    from nbclient import NotebookClient

    nb = nbformat.read(COURSE / "class_overview.ipynb", as_version=4)
    assert not any(c.get("outputs") for c in nb.cells), "keep course/class_overview.ipynb stripped of outputs"
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = "\n".join(str(o) for c in nb.cells for o in c.get("outputs", []))
    assert "still relayed" in shown and "image/png" in shown

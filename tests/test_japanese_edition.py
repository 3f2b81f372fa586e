"""The Japanese edition, notebooks/ja/: a twin for every lesson, with the English lesson's code cells unchanged.

A Japanese lesson is its English twin with the prose rewritten for Japanese readers: the code cells are the
same cells in the same order, byte for byte (so a fix to a lesson's code is a fix to both, and this test fails
until the twin follows). Kernels started in ``notebooks/ja`` speak Japanese because of its
``.simlab-language`` file (:mod:`simlab.i18n`); ``make lab-ja`` opens them in JupyterLab's Japanese interface.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
ENGLISH = ROOT / "notebooks"
JAPANESE = ENGLISH / "ja"
LESSONS = sorted(path.stem for path in ENGLISH.glob("[0-9][0-9]_*.py"))
TWINS = sorted(path.stem for path in JAPANESE.glob("[0-9][0-9]_*.py"))
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _cells(path: Path, kind: str) -> list[str]:
    return [cell.source for cell in jupytext.read(path).cells if cell.cell_type == kind]


def _japanese_share(text: str) -> float:
    letters = [ch for ch in text if ch.isalpha()]
    japanese = [ch for ch in letters if unicodedata.name(ch, "").startswith(("CJK", "HIRAGANA", "KATAKANA"))]
    return len(japanese) / max(len(letters), 1)


def test_every_lesson_has_a_japanese_twin():
    assert TWINS, "notebooks/ja/ holds no lesson"
    assert sorted(set(LESSONS) - set(TWINS)) == []
    assert sorted(set(TWINS) - set(LESSONS)) == []


def test_kernels_in_the_japanese_folder_speak_japanese():
    assert (JAPANESE / ".simlab-language").read_text(encoding="utf-8").strip() == "ja"


@pytest.mark.parametrize("lesson", TWINS)
def test_code_cells_are_the_english_lessons_cells(lesson):
    english, japanese = _cells(ENGLISH / f"{lesson}.py", "code"), _cells(JAPANESE / f"{lesson}.py", "code")
    for number, (ours, theirs) in enumerate(zip(english, japanese, strict=False), start=1):
        assert theirs == ours, f"code cell {number} of notebooks/ja/{lesson}.py differs from the English lesson's"
    assert len(japanese) == len(english), "the Japanese lesson has a different number of code cells"


@pytest.mark.parametrize("lesson", TWINS)
def test_the_notebook_is_the_text_twin_with_outputs_stripped(lesson):
    text, notebook = JAPANESE / f"{lesson}.py", JAPANESE / f"{lesson}.ipynb"
    assert notebook.exists(), f"notebooks/ja/{lesson}.ipynb is missing (jupytext --to ipynb)"
    paired = jupytext.read(notebook)
    assert [(c.cell_type, c.source) for c in paired.cells] == [(c.cell_type, c.source)
                                                               for c in jupytext.read(text).cells]
    raw = json.loads(notebook.read_text(encoding="utf-8"))
    assert all(not cell.get("outputs") and not cell.get("execution_count")
               for cell in raw["cells"] if cell["cell_type"] == "code")


@pytest.mark.parametrize("lesson", TWINS)
def test_the_prose_is_japanese(lesson):
    prose = "\n".join(_cells(JAPANESE / f"{lesson}.py", "markdown"))
    without_code = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", prose, flags=re.S))
    assert _japanese_share(without_code) > 0.5, "most of the lesson's words should be Japanese"


@pytest.mark.parametrize("lesson", TWINS)
def test_relative_links_resolve_from_the_japanese_folder(lesson):
    for target in LINK.findall("\n".join(_cells(JAPANESE / f"{lesson}.py", "markdown"))):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = (JAPANESE / target.split("#")[0]).resolve()
        assert path.exists(), f"notebooks/ja/{lesson}.py links to {target}, which does not exist"


def test_make_lab_ja_opens_the_japanese_lessons_in_a_japanese_jupyterlab():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\nlab-ja:", 1)[1].split("\n\n", 1)[0]
    assert "notebooks/ja/00_start_here.ipynb" in recipe
    assert '{"locale": "ja_JP"}' in recipe and "translation-extension" in recipe
    assert "SIMLAB_LANG=ja" in recipe
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "jupyterlab-language-pack-ja-JP" in pyproject

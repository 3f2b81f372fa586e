"""Every Japanese lesson in JupyterLab's Japanese interface, in a real browser (as ``make lab-ja`` opens them).

Each lesson of ``notebooks/ja`` is opened, run from top to bottom and saved; the page must show no error
output or traceback, JupyterLab's menus must be Japanese (its language pack), the lesson's own heading must be
on the page, and the kernel must speak Japanese (the first panel or checker shows Japanese text). A screenshot
of each lesson (at its first panel) is saved as ``tests/browser/screenshots/ja-NN_name.png``; Chromium
draws the Japanese with Debian's fonts-noto-cjk, which ``.ci/run`` installs.
"""

from __future__ import annotations

import re
from pathlib import Path

import jupytext
import pytest
from pages import SCREENSHOTS, errors_on_page, open_notebook, run_all, saved_errors, shut_down_kernels
from playwright.sync_api import expect

JAPANESE = Path(__file__).resolve().parents[2] / "notebooks" / "ja"
LESSONS = sorted(path.name for path in JAPANESE.glob("[0-9][0-9]_*.ipynb"))
KANA = re.compile(r"[\u3040-\u30ff]")


def _title(notebook: str) -> str:
    """The lesson's first heading, as its first markdown cell writes it."""
    for cell in jupytext.read(JAPANESE / notebook).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise AssertionError(f"{notebook} has no '# ' heading")


@pytest.mark.parametrize("notebook", LESSONS)
def test_japanese_lesson_in_japanese_jupyterlab(notebook, jupyterlab_ja, browser):
    page = browser.new_page()
    shot = SCREENSHOTS / f"ja-{notebook.replace('.ipynb', '.png')}"
    try:
        open_notebook(page, jupyterlab_ja, notebook)
        expect(page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^編集$"))).to_be_visible()
        run_all(page)
        title = _title(notebook)
        assert KANA.search(title), f"the heading of {notebook} is not Japanese: {title}"
        expect(page.locator(".jp-RenderedMarkdown h1", has_text=title).first).to_be_visible()
        outputs = " ".join(page.locator(".jp-NotebookPanel .jp-OutputArea").all_inner_texts())
        assert KANA.search(outputs), "no output of the lesson's code is in Japanese: the kernel spoke English"
        panels = page.locator(".widget-vbox h3")
        if panels.count():  # the picture a student looks at: the lesson's first panel
            panels.first.scroll_into_view_if_needed()
        page.screenshot(path=str(shot), full_page=False)
        assert errors_on_page(page) == []
        page.keyboard.press("Control+s")
        page.wait_for_timeout(1500)
        assert saved_errors(jupyterlab_ja, notebook) == []
    except Exception:
        page.screenshot(path=str(shot.with_name("FAILED-" + shot.name)))
        raise
    finally:
        page.close()
        shut_down_kernels(jupyterlab_ja)

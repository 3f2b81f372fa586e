"""Every lesson in a real browser: open it, run all cells, use its panel as a person would.

Each case names the notebook, the panel's heading, what to do (click, pick, keyboard)
and how the visible outcome must change as the simulation says it should. Any error
output or traceback on the page fails the test; a screenshot of each lesson is saved
in ``tests/browser/screenshots/`` (ignored by git).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Callable

import pytest
from pages import SCREENSHOTS, errors_on_page, open_notebook, panel, run_all, saved_errors, summary_value
from playwright.sync_api import expect


@dataclass
class Lesson:
    notebook: str
    title: str
    act: Callable  # (box, page) -> None: what the student does
    key: str  # summary row that must change
    before: Callable[[int], bool]
    after: Callable[[int], bool]


def relay_lab_steps(box, page) -> None:
    box.locator("select").first.select_option(label="EIMS 2.1")
    page.wait_for_timeout(500)
    box.locator(".widget-checkbox", has_text="Relay Restriction (EIMS 2.1)").locator("input").click()


LESSONS = [
    Lesson("02_open_relay_probe.ipynb", "The open-relay probe (S2, S3)", relay_lab_steps, "spam_relayed",
           before=lambda n: n > 0, after=lambda n: n == 0),
]


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.notebook for lesson in LESSONS])
def test_lesson_in_jupyterlab(lesson, jupyterlab, browser):
    page = browser.new_page()
    try:
        open_notebook(page, jupyterlab, lesson.notebook)
        run_all(page)
        box = panel(page, lesson.title)
        first = summary_value(box, lesson.key)
        assert lesson.before(first), f"{lesson.key} before the change: {first}"
        lesson.act(box, page)
        expect(box.locator(f"table.simlab-summary tr[data-key='{lesson.key}'] b").first).not_to_have_text(
            str(first), timeout=30_000)
        assert lesson.after(summary_value(box, lesson.key))
        page.screenshot(path=str(SCREENSHOTS / lesson.notebook.replace(".ipynb", ".png")))
        assert errors_on_page(page) == []
        page.keyboard.press("Control+s")
        page.wait_for_timeout(1500)
        assert saved_errors(jupyterlab, lesson.notebook) == []
    finally:
        page.close()

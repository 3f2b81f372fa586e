"""Every lesson in a real browser: open it, run all cells, use its panel as a person would.

Each case names the notebook, the panel's heading, what to do (click, pick, keyboard)
and how the visible outcome must change as the simulation says it should. Any error
output or traceback on the page fails the test; a screenshot of each lesson is saved
in ``tests/browser/screenshots/`` (ignored by git).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from pages import (
    SCREENSHOTS,
    errors_on_page,
    open_notebook,
    panel,
    run_all,
    saved_errors,
    shut_down_kernels,
    summary_value,
)
from playwright.sync_api import expect


@dataclass
class Lesson:
    notebook: str
    title: str  # the panel's heading ("" for a lesson without a panel)
    act: Callable | None = None  # (box, page) -> None: what the student does
    key: str = ""  # summary row that must change
    before: Callable[[int], bool] = lambda n: True
    after: Callable[[int], bool] = lambda n: True
    shows: str = ""  # text the panel must show after the change (when there is no summary row)


def pick(label: str, index: int = 0):
    def act(box, page) -> None:
        box.locator("select").nth(index).select_option(label=label)
    return act


def choose(description: str, label: str):
    """Pick ``label`` in the dropdown whose description is ``description``."""
    def act(box, page) -> None:
        named = page.locator("label", has_text=re.compile(rf"^{re.escape(description)}$"))
        box.locator(".widget-dropdown").filter(has=named).locator("select").first.select_option(label=label)
    return act


def tick(description: str):
    def act(box, page) -> None:
        box.locator(".widget-checkbox", has_text=description).locator("input").first.click()
    return act


def type_into(description: str, text: str):
    def act(box, page) -> None:
        field = box.locator(".widget-text", has_text=description).locator("input").first
        field.fill(text)
        field.press("Enter")
    return act


def steps(*actions):
    def act(box, page) -> None:
        for action in actions:
            action(box, page)
            page.wait_for_timeout(700)
    return act


LESSONS = [
    Lesson("00_start_here.ipynb", "Talk to a mail server", pick("Postfix 3.7"), shows="ESMTP Postfix"),
    Lesson("01_wrong_password.ipynb", "Wrong passwords in the POP3 log (S1)",
           tick("IP Range Restriction on POP3 (EIMS 2.1)"), "accounts_compromised", lambda n: n > 0, lambda n: n == 0),
    Lesson("02_open_relay_probe.ipynb", "The open-relay probe (S2, S3)",
           steps(pick("EIMS 2.1"), tick("Relay Restriction (EIMS 2.1)")), "spam_relayed",
           lambda n: n > 0, lambda n: n == 0),
    Lesson("03_spoofed_postmaster.ipynb", "The spoofed Postmaster (S4)", pick("SIMS"), "spam_relayed",
           lambda n: n > 0, lambda n: n == 0),
    Lesson("04_strict_ip_range.ipynb", "IP Range Restriction on SMTP (S5)",
           steps(type_into("allowed ranges", "192.0.2.1-192.0.2.254, 198.51.100.25"),
                 tick("MX record points at the provider")), "legit_refused", lambda n: n > 0, lambda n: n == 0),
    Lesson("05_ip_rotation.ipynb", "A spammer rotating IP addresses",
           choose("defence", "allow-list: relay only for the site's network"), "spam_relayed",
           lambda n: n > 0, lambda n: n == 0),
    Lesson("06_denial_of_service.ipynb", "Knocked offline: a connection flood", pick("Postfix 3.7"), "legit_refused",
           lambda n: n > 0, lambda n: n == 0),
    Lesson("07_today.ipynb", "From 1998 to today: Postfix settings for each problem",
           steps(pick("DNS blocklists (SIMS 1.6 had one)"),
                 choose("blocklist", "reject_rbl_client bl.example.test (a broken list: 'listed' for everything)")),
           "legit_refused", lambda n: n == 0, lambda n: n > 0),
    Lesson("08_sandbox.ipynb", "Sandbox: your server, your attackers, your defences", pick("SIMS"), "spam_relayed",
           lambda n: n > 0, lambda n: n == 0),
    Lesson("09_live_lab.ipynb", ""),
    Lesson("10_password_spraying.ipynb", "Password spraying from a botnet",
           tick("fail2ban per account"), "accounts_compromised", lambda n: n > 0,
           lambda n: n == 0),
    Lesson("11_sender_authentication.ipynb", "SPF, DKIM and DMARC against the spoofed Postmaster",
           pick("Postfix 3.7"), "spam_relayed", lambda n: n > 0, lambda n: n == 0),
]


@pytest.mark.parametrize("lesson", LESSONS, ids=[lesson.notebook for lesson in LESSONS])
def test_lesson_in_jupyterlab(lesson, jupyterlab, browser):
    page = browser.new_page()
    try:
        open_notebook(page, jupyterlab, lesson.notebook)
        run_all(page)
        if lesson.title:
            box = panel(page, lesson.title)
            if lesson.key:
                first = summary_value(box, lesson.key)
                assert lesson.before(first), f"{lesson.key} before the change: {first}"
            lesson.act(box, page)
            if lesson.key:
                row = box.locator(f"table.simlab-summary tr[data-key='{lesson.key}'] b").first
                expect(row).not_to_have_text(str(first), timeout=60_000)
                assert lesson.after(summary_value(box, lesson.key))
            if lesson.shows:
                expect(box).to_contain_text(lesson.shows, timeout=60_000)
            box.scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / lesson.notebook.replace(".ipynb", ".png")))
        assert errors_on_page(page) == []
        page.keyboard.press("Control+s")
        page.wait_for_timeout(1500)
        assert saved_errors(jupyterlab, lesson.notebook) == []
    except Exception:
        page.screenshot(path=str(SCREENSHOTS / ("FAILED-" + lesson.notebook.replace(".ipynb", ".png"))))
        raise
    finally:
        page.close()
        shut_down_kernels(jupyterlab)

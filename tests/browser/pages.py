"""What a person does in JupyterLab and Voila, as Playwright steps."""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, expect

__all__ = ["SCREENSHOTS", "errors_on_page", "open_notebook", "panel", "run_all", "saved_errors", "shut_down_kernels",
           "summary_value"]

#: Where each lesson's screenshot goes (ignored by git).
SCREENSHOTS = Path(__file__).parent / "screenshots"


#: The kernel's idle state in the status bar, in JupyterLab's English or Japanese interface.
IDLE = re.compile(r"Idle|アイドル")


def dismiss_dialogs(page: Page) -> None:
    """Answer the kernel chooser (take the preferred kernel) if JupyterLab shows it."""
    dialog = page.locator(".jp-Dialog")
    if dialog.count() and dialog.first.is_visible():
        dialog.locator("button", has_text=re.compile(r"^(Select|選択)")).first.click()


def open_notebook(page: Page, base: str, notebook: str, timeout: float = 90.0) -> None:
    """Open ``notebook`` alone, in a workspace of its own, and wait for its kernel."""
    workspace = re.sub(r"\W", "-", notebook)
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{notebook}?reset")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout * 1000)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dismiss_dialogs(page)
        if page.locator("#jp-main-statusbar", has_text=IDLE).count():
            return
        page.wait_for_timeout(500)
    raise TimeoutError(f"the kernel of {notebook} did not start")


def run_all(page: Page, timeout: float = 240.0) -> None:
    """Run > Run All Cells, then wait until every code cell shows its execution number."""
    page.locator(".jp-NotebookPanel .jp-Cell").first.click()
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^(Run|実行)$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^(Run All Cells|すべてのセルを実行)$")).click()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dismiss_dialogs(page)
        prompts = page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt").all_inner_texts()
        idle = page.locator("#jp-main-statusbar", has_text=IDLE).count() > 0
        if prompts and idle and all(re.search(r"\[\d+\]", p) for p in prompts):
            return
        page.wait_for_timeout(500)
    raise TimeoutError("the notebook did not finish running")


def panel(page: Page, title: str):
    """The widget box of the panel whose heading is ``title``."""
    heading = page.locator("h3", has_text=title).first
    expect(heading).to_be_visible(timeout=60_000)
    box = heading.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]")
    box.scroll_into_view_if_needed()
    return box


def summary_value(box, key: str) -> int:
    cell = box.locator(f"table.simlab-summary tr[data-key='{key}'] b").first
    return int(cell.text_content())


def errors_on_page(page: Page) -> list[str]:
    """Error outputs and tracebacks visible anywhere in the notebook or app."""
    texts = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr'], "
                         ".jp-RenderedText[data-mime-type='application/vnd.jupyter.error']").all_inner_texts()
    body = page.locator("body").inner_text()
    found = [t for t in texts if t.strip()]
    if "Traceback (most recent call last)" in body:
        found.append("a traceback is shown on the page")
    return found


def shut_down_kernels(base: str) -> None:
    """End every kernel session of the server (one lesson at a time keeps memory low)."""
    with urllib.request.urlopen(f"{base}/api/sessions", timeout=10) as response:
        sessions = json.load(response)
    for session in sessions:
        request = urllib.request.Request(f"{base}/api/sessions/{session['id']}", method="DELETE")
        urllib.request.urlopen(request, timeout=20).close()


def saved_errors(base: str, notebook: str) -> list[str]:
    """Error outputs in the notebook as the server saved it."""
    with urllib.request.urlopen(f"{base}/api/contents/{notebook}?content=1", timeout=10) as response:
        model = json.load(response)
    errors = []
    for cell in model["content"]["cells"]:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                errors.append(f"{output.get('ename')}: {output.get('evalue')}")
    return errors

"""The relay lab as a Voila app, and what Binder would build from this repository."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pages import SCREENSHOTS, errors_on_page, summary_value
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]


def test_relay_lab_as_a_voila_app(voila, browser):
    page = browser.new_page()
    try:
        page.goto(voila, timeout=120_000)
        heading = page.locator("h3", has_text="The open-relay probe (S2, S3)").first
        expect(heading).to_be_visible(timeout=120_000)
        box = heading.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]")
        box.scroll_into_view_if_needed()
        assert summary_value(box, "spam_relayed") == 1
        box.locator("select").first.select_option(label="Postfix 3.7")
        expect(box.locator("table.simlab-summary tr[data-key='spam_relayed'] b").first).to_have_text(
            "0", timeout=30_000)
        # keyboard on a slider: the seed moves and the run follows
        handle = box.locator(".widget-slider", has_text="seed").locator(".noUi-handle").first
        handle.focus()
        page.keyboard.press("ArrowRight")
        expect(box.locator(".widget-slider", has_text="seed").locator(".widget-readout").first).to_have_text(
            "2", timeout=30_000)
        page.screenshot(path=str(SCREENSHOTS / "voila_relay_lab.png"))
        assert errors_on_page(page) == []
        assert "Traceback" not in page.content()
    finally:
        page.close()


def test_binder_build_installs_the_package_and_pins_python():
    repo2docker = shutil.which("jupyter-repo2docker") or str(Path(sys.executable).parent / "jupyter-repo2docker")
    if not Path(repo2docker).exists():
        pytest.fail("jupyter-repo2docker is not installed (pip install jupyter-repo2docker)")
    done = subprocess.run([repo2docker, "--no-build", "--no-run", "--debug", str(ROOT)], capture_output=True,
                          text=True, timeout=300)
    dockerfile = done.stdout + done.stderr
    assert done.returncode == 0, dockerfile[-2000:]
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    version = runtime.removeprefix("python-")
    assert re.search(rf"python{re.escape(version)}|python={re.escape(version)}|PYTHON_VERSION={re.escape(version)}",
                     dockerfile), "the Dockerfile does not install the Python of binder/runtime.txt"
    assert "binder/requirements.txt" in dockerfile, "the Dockerfile does not install binder/requirements.txt"
    for package in ("swaks", "nmap", "telnet", "netcat-openbsd"):  # binder/apt.txt, for lesson 09's terminal
        assert re.search(rf"\b{package}\b", dockerfile), f"the Dockerfile does not install {package} (binder/apt.txt)"
    requirements = (ROOT / "binder" / "requirements.txt").read_text()
    assert re.search(r"^(-e\s+)?\.(\[[^\]]*lab[^\]]*\])?\s*$", requirements.replace("../", ""), re.M) or \
        re.search(r"^(-e\s+)?\.\.?(/)?(\[[^\]]*\])?\s*$", requirements, re.M), \
        "binder/requirements.txt does not install the package"

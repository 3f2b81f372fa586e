"""Servers and a browser for the browser tests: JupyterLab and Voila on loopback, Debian's Chromium.

JupyterLab and Voila are started here on 127.0.0.1, on free ports, with an
empty token, serving a temporary copy of the lessons (so that autosave never
writes outputs into the repository), and stopped afterwards with their
kernels. Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright;
no browser is ever downloaded.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # the page helpers beside this file

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("SIMLAB_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def stop(process: subprocess.Popen) -> None:
    """Stop a server and everything it started (its kernels) by process group."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def root_flag() -> list[str]:
    return ["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


@pytest.fixture(scope="session")
def lessons_copy(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("lessons")
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, target / notebook.name)
    return target


@pytest.fixture(scope="session")
def lessons_copy_ja(tmp_path_factory) -> Path:
    """The Japanese edition with its .simlab-language file (kernels started there speak Japanese)."""
    target = tmp_path_factory.mktemp("lessons-ja")
    for path in (ROOT / "notebooks" / "ja").glob("*"):
        if path.suffix == ".ipynb" or path.name == ".simlab-language":
            shutil.copy(path, target / path.name)
    return target


@pytest.fixture(scope="session")
def jupyterlab(lessons_copy, tmp_path_factory):
    yield from _jupyterlab(lessons_copy, tmp_path_factory)


@pytest.fixture(scope="session")
def jupyterlab_ja(lessons_copy_ja, tmp_path_factory):
    """JupyterLab in Japanese (its language pack, chosen as `make lab-ja` chooses it) on the Japanese lessons."""
    yield from _jupyterlab(lessons_copy_ja, tmp_path_factory, locale="ja_JP")


def _jupyterlab(lessons_copy: Path, tmp_path_factory, locale: str | None = None):
    port = free_port()
    runtime = tmp_path_factory.mktemp("jupyter-runtime")
    if locale:
        translation = runtime / "lab-settings" / "@jupyterlab" / "translation-extension"
        translation.mkdir(parents=True)
        (translation / "plugin.jupyterlab-settings").write_text(f'{{"locale": "{locale}"}}')
    settings = runtime / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # render every cell (no windowing), so that every output can be checked on the page
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    notices = runtime / "lab-settings" / "@jupyterlab" / "apputils-extension"
    notices.mkdir(parents=True)
    (notices / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    workspaces = runtime / "workspaces"
    workspaces.mkdir()
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime), JUPYTER_CONFIG_DIR=str(runtime / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(runtime / "lab-settings"), JUPYTERLAB_WORKSPACES_DIR=str(workspaces))
    log = (runtime / "lab.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         "--IdentityProvider.token=", "--ServerApp.password=", f"--ServerApp.root_dir={lessons_copy}",
         "--ServerApp.disable_check_xsrf=True",
         "--ServerApp.open_browser=False", "--LabApp.news_url=", "--LabApp.check_for_updates_class="
         "jupyterlab.NeverCheckForUpdate", *root_flag()],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=lessons_copy)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/status", process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="session")
def voila(lessons_copy, tmp_path_factory):
    port = free_port()
    runtime = tmp_path_factory.mktemp("voila-runtime")
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime))
    log = (runtime / "voila.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "voila", "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
         "--ServerApp.token=", str(lessons_copy / "02_open_relay_probe.ipynb")],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env, cwd=lessons_copy)
    try:
        wait_for(f"http://127.0.0.1:{port}/", process, timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Debian's Chromium is needed at {CHROMIUM} (apt-get install chromium)")
    from pages import SCREENSHOTS
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(exist_ok=True)
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()

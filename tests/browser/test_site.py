"""The static student site (``make site``) in Chromium, served from 127.0.0.1 with nothing else reachable.

The site is the one in ``site/_build`` when it is a build of the present lessons and code, else it is
built there first (``scripts/build_site.py``; half a minute to a few minutes). Each lesson page must
draw its first panel from the embedded widget state - its pictures loaded, or its text shown - with no
widget error, no error output, no request to another host and no failed request. A screenshot of each
page is saved in ``tests/browser/screenshots/`` as ``site-NN_name.png``.
"""

from __future__ import annotations

import functools
import json
import re
import threading
from dataclasses import dataclass
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlparse

import pytest
from helpers import load_script
from pages import SCREENSHOTS, errors_on_page
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
LESSONS = sorted(path.stem for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STATE = "application/vnd.jupyter.widget-state+json"
VIEW = "application/vnd.jupyter.widget-view+json"


def _builder():
    return load_script("build_site")


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args) -> None:  # keep the test output clean
        pass


@pytest.fixture(scope="session")
def site_dir() -> Path:
    builder = _builder()
    return builder.ensure_built(builder.DEFAULT_OUT, ROOT, log=lambda *_: None, edition="student")


@pytest.fixture(scope="session")
def site(site_dir):
    """The built site over HTTP on 127.0.0.1 (Python's http.server in a thread)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site_dir)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _scripts(page_html: str, kind: str) -> list[dict]:
    found = re.findall(rf'<script type="{re.escape(kind)}">(.*?)</script>', page_html, re.S)
    return [json.loads(text) for text in found]


@dataclass
class Panel:
    index: int  # among the page's widget views
    pictures: int  # pictures it shows at first
    by_tab: list[int]  # pictures it shows with each tab of its first Tab open


def first_panel(page_html: str) -> Panel | None:
    """The first widget view that is a lesson panel (a box with an <h3> heading), from the page's embedded
    state; ``None`` when the page shows no panel."""
    states = _scripts(page_html, STATE)
    if not states:
        return None
    models = states[0]["state"]

    def shown(model_id: str, chosen: dict[str, int]):
        """The model and every model it shows (of a Tab, Accordion or Stack: only the selected child)."""
        model = models.get(model_id)
        if model is None:
            return
        yield model_id, model
        children = model["state"].get("children", [])
        if model["model_name"] in ("TabModel", "AccordionModel", "StackModel"):
            selected = chosen.get(model_id, model["state"].get("selected_index"))
            children = children[selected:selected + 1] if selected is not None else []
        for child in children:
            yield from shown(child.removeprefix("IPY_MODEL_"), chosen)

    def pictures(root: str, chosen: dict[str, int]) -> int:
        return sum(m["model_name"] == "ImageModel" and any(b["data"] for b in m.get("buffers", []))
                   for _, m in shown(root, chosen))

    for index, view in enumerate(_scripts(page_html, VIEW)):
        root = view["model_id"]
        members = dict(shown(root, {}))
        if any(m["model_name"] == "HTMLModel" and "<h3" in m["state"].get("value", "") for m in members.values()):
            tab = next((i for i, m in members.items() if m["model_name"] == "TabModel"), None)
            count = len(models[tab]["state"]["children"]) if tab else 0
            return Panel(index, pictures(root, {}), [pictures(root, {tab: i}) for i in range(count)])
    return None


def watch(page) -> dict[str, list[str]]:
    """Record what a page asks of other hosts, what fails, and the errors it reports."""
    seen = {"other hosts": [], "failed": [], "console": []}

    def request(req) -> None:
        url = urlparse(req.url)
        if url.scheme not in ("data", "blob") and url.hostname != "127.0.0.1":
            seen["other hosts"].append(req.url)

    def response(res) -> None:
        if res.status >= 400:
            seen["failed"].append(f"{res.status} {res.url}")

    page.on("request", request)
    page.on("response", response)
    page.on("requestfailed", lambda req: seen["failed"].append(f"{req.failure} {req.url}"))
    page.on("console", lambda msg: seen["console"].append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda error: seen["console"].append(str(error)))
    return seen


def test_index_links_every_lesson(site, site_dir, browser):
    page = browser.new_page()
    try:
        seen = watch(page)
        page.goto(f"{site}/index.html")
        links = page.locator("ul.simlab-lessons a")
        expect(links).to_have_count(len(LESSONS))
        expect(page.locator("p.simlab-edition")).to_contain_text("Student edition")
        assert [link.get_attribute("href") for link in links.all()] == [f"{name}.html" for name in LESSONS]
        for href in page.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
            if not re.match(r"^[a-z]+:", href):
                assert (site_dir / href).is_file(), f"the index links to {href}, which the site lacks"
        assert seen == {"other hosts": [], "failed": [], "console": []}
    finally:
        page.close()


def pictures_drawn(page, box, count: int) -> None:
    """``box`` shows ``count`` pictures, each loaded (a PNG from the widget state, as a blob: or data: URL)."""
    images = box.locator("img:visible")
    expect(images).to_have_count(count, timeout=30_000)
    page.wait_for_function(
        "box => [...box.querySelectorAll('img')].filter(i => i.offsetParent !== null)"
        ".every(i => i.complete && i.naturalWidth > 0)", arg=box.element_handle(), timeout=30_000)
    sources = images.evaluate_all("imgs => imgs.map(i => i.src)")
    assert all(src.startswith(("blob:", "data:image/png")) for src in sources), sources


@pytest.mark.parametrize("name", LESSONS)
def test_lesson_page_shows_its_panel_offline(name, site, site_dir, browser):
    page_html = (site_dir / f"{name}.html").read_text(encoding="utf-8")
    panel = first_panel(page_html)
    page = browser.new_page()
    try:
        seen = watch(page)
        page.goto(f"{site}/{name}.html", wait_until="load")
        if panel is not None:
            box = page.locator("div.jupyter-widgets.jp-OutputArea-output").nth(panel.index)
            expect(box.locator(".widget-vbox h3").first).to_be_visible(timeout=30_000)
            if panel.pictures:
                pictures_drawn(page, box, panel.pictures)
            else:  # a panel of text (the start lesson's dialogue): more than its heading
                heading = box.locator(".widget-vbox h3").first.inner_text()
                assert len(box.inner_text().strip()) > len(heading) + 20
            tabs = box.locator(".widget-tab .lm-TabBar-tab")
            expect(tabs).to_have_count(len(panel.by_tab))
            for i, expected in enumerate(panel.by_tab):  # every tab shows what the lesson drew into it
                tabs.nth(i).click()
                pictures_drawn(page, box, expected)
            if panel.by_tab:
                tabs.first.click()
            box.scroll_into_view_if_needed()
        else:
            assert not _scripts(page_html, VIEW), "widget views on the page but no panel among them"
        page.wait_for_timeout(300)  # late requests (fonts, icons) land in `seen`
        page.screenshot(path=str(SCREENSHOTS / f"site-{name}.png"))
        body = page.locator("body").inner_text()
        assert "Error displaying widget" not in body
        assert errors_on_page(page) == []
        assert seen == {"other hosts": [], "failed": [], "console": []}
    except Exception:
        page.screenshot(path=str(SCREENSHOTS / f"FAILED-site-{name}.png"))
        raise
    finally:
        page.close()

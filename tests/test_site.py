"""The static site of the lessons (``make site``, ``scripts/build_site.py``), without a browser.

One HTML page per lesson, each with the widget state of its panels embedded, every script and
stylesheet on the site itself (none from a CDN); docs/**/*.md rendered as pages; a lesson that fails
stops the build. The lessons' site is ``site/_build`` when it is a build of the present inputs, else it
is built there first (as ``tests/browser/test_site.py`` does); the rest builds tiny sites of its own.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
STATE = "application/vnd.jupyter.widget-state+json"
VIEW = "application/vnd.jupyter.widget-view+json"


def _builder():
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


builder = _builder()


def quiet(*_args) -> None:
    pass


@pytest.fixture(scope="module")
def site() -> Path:
    return builder.ensure_built(builder.DEFAULT_OUT, ROOT, log=quiet)


class Resources(HTMLParser):
    """Every URL a page loads by itself: scripts, stylesheets, icons, images, frames, and CSS imports."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self._style = False

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag in ("script", "img", "iframe", "source", "embed") and attrs.get("src"):
            self.urls.append(attrs["src"])
        if tag == "link" and attrs.get("href"):
            self.urls.append(attrs["href"])
        self._style = tag == "style"

    def handle_data(self, data) -> None:
        if self._style:
            self.urls += re.findall(r"@import\s+(?:url\()?['\"]?([^'\")\s;]+)", data)
            self.urls += re.findall(r"url\(['\"]?(https?://[^'\")]+)", data)

    def handle_endtag(self, tag) -> None:
        self._style = False


def loaded_urls(page: str) -> list[str]:
    parser = Resources()
    parser.feed(page)
    return parser.urls


def scripts(page: str, kind: str) -> list[dict]:
    return [json.loads(text) for text in re.findall(rf'<script type="{re.escape(kind)}">(.*?)</script>', page, re.S)]


def lesson_names(root: Path = ROOT) -> list[str]:
    return sorted(path.stem for path in (root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def test_one_page_per_lesson_and_an_index(site):
    assert lesson_names(), "no lessons found"
    pages = sorted(path.stem for path in site.glob("[0-9][0-9]_*.html"))
    assert pages == lesson_names()
    index = (site / "index.html").read_text(encoding="utf-8")
    for name in lesson_names():
        assert f'href="{name}.html"' in index
    for doc in sorted((ROOT / "docs").rglob("*.md")):  # the instructor's material, when there is some
        page = "docs/" + doc.relative_to(ROOT / "docs").with_suffix(".html").as_posix()
        assert (site / page).is_file() and f'href="{page}"' in index, page


def test_every_widget_on_a_page_is_in_its_embedded_state(site):
    with_panels = 0
    for name in lesson_names():
        page = (site / f"{name}.html").read_text(encoding="utf-8")
        views = scripts(page, VIEW)
        if not views:
            continue
        with_panels += 1
        states = scripts(page, STATE)
        assert len(states) == 1, f"{name}: {len(states)} widget states"
        models = states[0]["state"]
        assert {view["model_id"] for view in views} <= set(models), f"{name}: views without state"
        # the pictures travel with it: the panels' PNG charts as buffers of their Image models
        buffers = [b for m in models.values() if m["model_name"] == "ImageModel" for b in m.get("buffers", [])]
        assert all(b["encoding"] == "base64" and b["path"] == ["value"] for b in buffers), name
        assert all(b["data"] for b in buffers), f"{name}: a picture left empty (a tab the build did not open?)"
        modules = {m["model_module"] for m in models.values()}
        modules |= {m["state"].get("_view_module") for m in models.values()}
        assert modules - {None} <= builder.BUILTIN_WIDGET_MODULES, f"{name}: {modules}"
    assert with_panels >= len(lesson_names()) - 2, "most lessons have a panel: the state went missing"


@pytest.mark.parametrize("name", ["index", *lesson_names()])
def test_every_script_and_stylesheet_is_on_the_site(site, name):
    page = (site / f"{name}.html").read_text(encoding="utf-8")
    urls = loaded_urls(page)
    assert any(url.endswith("require.js") for url in urls) or name == "index"
    for url in urls:
        if url.startswith("data:"):
            continue
        assert not re.match(r"^(https?:)?//", url), f"{name} loads {url} from another host"
        assert (site / url.partition("?")[0]).is_file(), f"{name} loads {url}, which the site lacks"
    for cdn in ("unpkg.com", "cdn.jsdelivr.net", "cdnjs.cloudflare.com", "fonts.googleapis.com"):
        assert cdn not in page, f"{name} names {cdn}"
    if scripts(page, VIEW):  # the widget manager, its modules and its fonts, all from _static/
        assert builder.EMBED_JS in page and f'data-jupyter-widgets-cdn="{builder.WIDGETS_CDN}"' in page
        assert f'__jupyter_widgets_assets_path__ = "{builder.WIDGET_ASSETS}"' in page
        config = json.loads(re.search(r"require\.config\((.*?)\);</script>", page).group(1))
        assert config["paths"]["@jupyter-widgets/controls"] == builder.EMBED_JS.removesuffix(".js")


def test_the_widget_manager_is_the_one_for_the_installed_ipywidgets(site):
    builder.check_html_manager_matches_ipywidgets()
    embed = (site / builder.EMBED_JS).read_text(encoding="utf-8")
    for module in builder.BUILTIN_WIDGET_MODULES - {"@jupyter-widgets/output"}:  # output: inside html-manager
        assert f'define("{module}"' in embed, f"embed-amd.js does not define {module}"
    modules = builder.amd_modules(site / builder.EMBED_JS)
    assert {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/html-manager"} <= set(modules)
    assert (site / builder.REQUIRE_JS).stat().st_size > 10_000


# --- the build itself, on tiny sites -------------------------------------------------------------------------


def write_lesson(path: Path, *cells) -> None:
    nb = nbformat.v4.new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


def test_build_renders_docs_and_relinks_lessons(tmp_path):
    root = tmp_path / "repo"
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    write_lesson(root / "notebooks" / "00_first.ipynb", md("# 00 · First\n\nOn to [the next](01_second.ipynb#top)."),
                 code("import ipywidgets as w\nw.VBox([w.HTML('<h3>A panel</h3>'), w.IntSlider(value=3)])"))
    write_lesson(root / "notebooks" / "01_second.ipynb", md("# 01 · Second"), code("print('no widgets here')"))
    guide = root / "docs" / "instructor" / "index.md"
    guide.parent.mkdir(parents=True)
    guide.write_text("# Instructor guide\n\n| lesson | minutes |\n|---|---|\n| [first](../../notebooks/00_first.ipynb) "
                     "| 20 |\n\nSee ~~nothing~~ [the timing notes](timing.md#day-1) and <https://example.org/>.\n")
    (guide.parent / "timing.md").write_text("## Timing\n\nTwo hours.\n")

    built = builder.build(tmp_path / "out", root=root, cache=builder.DEFAULT_CACHE, log=quiet)

    assert [p.name for p in built.pages] == ["00_first.html", "01_second.html"]
    first = (tmp_path / "out" / "00_first.html").read_text(encoding="utf-8")
    assert STATE in first and 'href="01_second.html#top"' in first and 'rel="next"' in first
    assert STATE not in (tmp_path / "out" / "01_second.html").read_text(encoding="utf-8")
    page = (tmp_path / "out" / "docs" / "instructor" / "index.html").read_text(encoding="utf-8")
    assert "<table>" in page and "<s>nothing</s>" in page
    assert 'href="../../00_first.html"' in page and 'href="timing.html#day-1"' in page
    assert 'href="https://example.org/"' in page and 'href="../../index.html"' in page
    assert '<link rel="stylesheet" href="../../_static/site.css">' in page
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="docs/instructor/index.html">Instructor guide<' in index
    assert 'href="docs/instructor/timing.html">Timing<' in index
    assert builder.is_current(tmp_path / "out", root)
    guide.write_text("# Instructor guide, revised\n")
    assert not builder.is_current(tmp_path / "out", root)


def test_a_lesson_that_fails_stops_the_build_and_keeps_the_old_site(tmp_path):
    root = tmp_path / "repo"
    write_lesson(root / "notebooks" / "00_broken.ipynb", nbformat.v4.new_code_cell("1 / 0"))
    out = tmp_path / "out"
    out.mkdir()
    (out / "index.html").write_text("the old site")
    with pytest.raises(builder.BuildError, match=r"00_broken\.ipynb failed to run"):
        builder.build(out, root=root, cache=builder.DEFAULT_CACHE, log=quiet)
    assert (out / "index.html").read_text() == "the old site"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "repo"]  # no half-built site left

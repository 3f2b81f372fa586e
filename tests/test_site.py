"""The static site of the lessons (``make site``, ``scripts/build_site.py``), without a browser.

One HTML page per lesson, each with the widget state of its panels embedded, every script and
stylesheet on the site itself (none from a CDN); docs/**/*.md rendered as pages; a lesson that fails
stops the build. The student site (``make site``) holds no worked solution - no exercise module's
``SOLUTION`` text, no Reveal button - and nothing from docs/instructor/; the instructor's site
(``make site-instructor``) has the lessons as they are and the guide.

The student site is ``site/_build`` when it is a build of the present inputs, else it is built there
first (as ``tests/browser/test_site.py`` does); the instructor's site, likewise, is
``site/_build_instructor``; the rest builds tiny sites of its own.
"""

from __future__ import annotations

import html
import importlib
import importlib.util
import json
import pkgutil
import re
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest
from helpers import load_script

ROOT = Path(__file__).resolve().parents[1]
STATE = "application/vnd.jupyter.widget-state+json"
VIEW = "application/vnd.jupyter.widget-view+json"


def _builder():
    return load_script("build_site")


builder = _builder()


def quiet(*_args) -> None:
    pass


@pytest.fixture(scope="module")
def site() -> Path:
    return builder.ensure_built(builder.DEFAULT_OUT, ROOT, log=quiet, edition="student")


@pytest.fixture(scope="module")
def instructor_site() -> Path:
    return builder.ensure_built(builder.DEFAULT_INSTRUCTOR_OUT, ROOT, log=quiet, edition="instructor")


def solution_texts() -> dict[str, str]:
    """Each ``simlab.exercises.*`` module's ``SOLUTION``, imported here (not taken from the build script)."""
    import simlab.exercises

    texts = {}
    for info in pkgutil.iter_modules(simlab.exercises.__path__, "simlab.exercises."):
        text = getattr(importlib.import_module(info.name), "SOLUTION", None)
        if isinstance(text, str):
            texts[info.name] = text
    return texts


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in [str(key), *strings(item)]]
    if isinstance(value, list):
        return [s for item in value for s in strings(item)]
    return []


def as_text(page: str) -> str:
    """A page as it is, unescaped, and the strings of its embedded JSON (where quotes and newlines are escaped), as
    they are and unescaped."""
    found = re.findall(r'<script type="application/[^"]*json">(.*?)</script>', page, re.S)
    inside = [s for text in found for s in strings(json.loads(text))]  # an HTML widget's value is escaped HTML
    return "\n".join([page, html.unescape(page), *inside, *map(html.unescape, inside)])


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
    assert 'data-edition="student"' in index and "Student edition" in index
    for doc in sorted((ROOT / "docs").rglob("*.md")):  # what docs/ holds beside the instructor's guide
        rel = doc.relative_to(ROOT / "docs")
        if rel.parts[0] == "instructor":
            continue
        page = "docs/" + rel.with_suffix(".html").as_posix()
        assert (site / page).is_file() and f'href="{page}"' in index, page


def test_the_student_site_holds_no_solution(site):
    solutions = solution_texts()
    assert {"simlab.exercises.password", "simlab.exercises.relay", "simlab.exercises.spoof"} <= set(solutions)
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > len(lesson_names())
    for path in pages:
        name = path.relative_to(site).with_suffix("").as_posix()
        page = path.read_text(encoding="utf-8")
        text = as_text(page)
        shown = builder.SHOWN_BY_LESSON.get(name, set())  # lines the lesson's own code prints, on its page only
        for module, solution in solutions.items():
            assert solution.strip() not in text, (name, module)
            for line in solution.splitlines():
                if len(line.strip()) > 30 and line.strip() not in shown:
                    assert line.strip() not in text, (name, module, line)
        assert "solution_button" not in text and "Reveal the worked solution" not in text, name
        assert not re.search(r"import[^\n]*\bSOLUTION\b", text), name
        for state in scripts(page, STATE):  # no Reveal button among the widgets, whatever its label
            buttons = [m["state"].get("description", "") for m in state["state"].values()
                       if m["model_name"] == "ButtonModel"]
            assert not [b for b in buttons if "solution" in b.lower()], (name, buttons)


def test_the_few_solution_lines_a_lesson_shows_are_its_own_output(site):
    """SHOWN_BY_LESSON is for lines a lesson's own code prints (a server's reply the SOLUTION quotes): each is
    in one of the lesson's cell outputs, never in its text or code, and the list stays short."""
    assert sum(len(lines) for lines in builder.SHOWN_BY_LESSON.values()) <= 3
    for name, lines in builder.SHOWN_BY_LESSON.items():
        nb = nbformat.read(ROOT / "notebooks" / f"{name}.ipynb", as_version=4)
        sources = "\n".join(cell.source for cell in nb.cells)
        page = (site / f"{name}.html").read_text(encoding="utf-8")
        outputs = [html.unescape(re.sub(r"<[^>]+>", "", output))  # the text of each printed output
                   for output in re.findall(r'<div class="jp-RenderedText[^>]*>\s*<pre>(.*?)</pre>', page, re.S)]
        for line in lines:
            assert line not in sources, (name, line)
            assert any(line in output for output in outputs), (name, line)


def test_the_student_site_has_no_instructor_material(site):
    assert not (site / "docs" / "instructor").exists()
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "docs/instructor" not in index and "For instructors" not in index
    guide = {doc.relative_to(ROOT / "docs" / "instructor").with_suffix(".html").as_posix()
             for doc in (ROOT / "docs" / "instructor").rglob("*.md")}
    assert guide, "docs/instructor/ holds the guide"
    for path in site.rglob("*.html"):
        assert not (path.is_relative_to(site / "docs") and "instructor" in path.relative_to(site / "docs").parts)
        assert "docs/instructor/" not in path.read_text(encoding="utf-8"), path
    assert json.loads((site / builder.BUILD_INFO).read_text())["edition"] == "student"


def test_the_instructor_site_has_the_solutions_and_the_guide(instructor_site):
    index = (instructor_site / "index.html").read_text(encoding="utf-8")
    assert 'data-edition="instructor"' in index and "Instructor edition" in index and "For instructors" in index
    for doc in sorted((ROOT / "docs").rglob("*.md")):
        page = "docs/" + doc.relative_to(ROOT / "docs").with_suffix(".html").as_posix()
        assert (instructor_site / page).is_file() and f'href="{page}"' in index, page
    assert sorted(p.stem for p in instructor_site.glob("[0-9][0-9]_*.html")) == lesson_names()
    solutions = solution_texts()
    with_reveal = 0
    for name in lesson_names():
        text = as_text((instructor_site / f"{name}.html").read_text(encoding="utf-8"))
        if "Reveal the worked solution" in text:
            with_reveal += 1
            assert any(max(s.splitlines(), key=len).strip() in text for s in solutions.values()), name
    assert with_reveal >= len(lesson_names()) - 2  # every lesson with an exercise (the live lab has none)


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


def tiny_repo(root: Path) -> Path:
    """Two lessons (the second with an exercise and its Reveal button), the instructor's guide and a student note."""
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    write_lesson(root / "notebooks" / "00_first.ipynb", md("# 00 · First\n\nOn to [the next](01_second.ipynb#top)."),
                 code("import ipywidgets as w\nw.VBox([w.HTML('<h3>A panel</h3>'), w.IntSlider(value=3)])"))
    write_lesson(root / "notebooks" / "01_second.ipynb", md("# 01 · Second"), code("print('no widgets here')"),
                 code("from simlab.exercises.relay import SOLUTION  # noqa: E402"),
                 code("import simlab.ui\n\nsimlab.ui.solution_button(SOLUTION)"))
    guide = root / "docs" / "instructor" / "index.md"
    guide.parent.mkdir(parents=True)
    guide.write_text("# Instructor guide\n\n| lesson | minutes |\n|---|---|\n| [first](../../notebooks/00_first.ipynb) "
                     "| 20 |\n\nSee ~~nothing~~ [the timing notes](timing.md#day-1) and <https://example.org/>.\n")
    (guide.parent / "timing.md").write_text("## Timing\n\nTwo hours.\n")
    (root / "docs" / "reading.md").write_text("# Further reading\n\nThe [guide](instructor/index.md) is not here.\n")
    return guide


def test_the_student_build_leaves_out_solutions_and_the_guide(tmp_path):
    root = tmp_path / "repo"
    tiny_repo(root)
    built = builder.build(tmp_path / "out", root=root, cache=builder.DEFAULT_CACHE, log=quiet)

    assert built.edition == "student" and [d.rel for d in built.docs] == ["reading.md"]
    second = as_text((tmp_path / "out" / "01_second.html").read_text(encoding="utf-8"))
    assert "no widgets here" in second and "solution_button" not in second and "SOLUTION" not in second
    assert "Reveal the worked solution" not in second
    assert not (tmp_path / "out" / "docs" / "instructor").exists()
    reading = (tmp_path / "out" / "docs" / "reading.html").read_text(encoding="utf-8")
    assert 'href="instructor/index.md"' in reading  # left as written: the page is not on this site
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'data-edition="student"' in index and 'href="docs/reading.html">Further reading<' in index
    assert "instructor/" not in index
    assert builder.is_current(tmp_path / "out", root) and not builder.is_current(tmp_path / "out", root, "instructor")


def test_a_solution_left_in_a_student_page_stops_the_build(tmp_path):
    root = tmp_path / "repo"
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    write_lesson(root / "notebooks" / "00_leaky.ipynb", md("# 00 · Leaky"),
                 code("import importlib\n\n"  # past the student edition's checks, which read the code
                      "print(getattr(importlib.import_module('simlab.exercises.relay'), 'SOL' + 'UTION'))"))
    with pytest.raises(builder.BuildError, match=r"00_leaky\.ipynb: solution text .*simlab\.exercises\.relay"):
        builder.build(tmp_path / "out", root=root, cache=builder.DEFAULT_CACHE, log=quiet)
    assert not (tmp_path / "out").exists()


def test_build_renders_docs_and_relinks_lessons(tmp_path):
    root = tmp_path / "repo"
    guide = tiny_repo(root)

    built = builder.build(tmp_path / "out", root=root, cache=builder.DEFAULT_CACHE, log=quiet, edition="instructor")

    assert [p.name for p in built.pages] == ["00_first.html", "01_second.html"]
    first = (tmp_path / "out" / "00_first.html").read_text(encoding="utf-8")
    assert STATE in first and 'href="01_second.html#top"' in first and 'rel="next"' in first
    second = (tmp_path / "out" / "01_second.html").read_text(encoding="utf-8")
    assert STATE in second and "Reveal the worked solution" in second  # the instructor's: the Reveal button
    page = (tmp_path / "out" / "docs" / "instructor" / "index.html").read_text(encoding="utf-8")
    assert "<table>" in page and "<s>nothing</s>" in page
    assert 'href="../../00_first.html"' in page and 'href="timing.html#day-1"' in page
    assert 'href="https://example.org/"' in page and 'href="../../index.html"' in page
    assert '<link rel="stylesheet" href="../../_static/site.css">' in page
    index = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    assert 'href="docs/instructor/index.html">Instructor guide<' in index
    assert 'href="docs/instructor/timing.html">Timing<' in index and 'data-edition="instructor"' in index
    reading = (tmp_path / "out" / "docs" / "reading.html").read_text(encoding="utf-8")
    assert 'href="instructor/index.html"' in reading
    assert builder.is_current(tmp_path / "out", root, "instructor") and not builder.is_current(tmp_path / "out", root)
    guide.write_text("# Instructor guide, revised\n")
    assert not builder.is_current(tmp_path / "out", root, "instructor")


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

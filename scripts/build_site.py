"""Build the lessons as a static HTML site that works offline: ``make site`` (or ``python scripts/build_site.py``).

The site comes in two editions (``--edition``), as the lessons do (``scripts/editions.py``):

* **student** (the default, ``make site`` -> ``site/_build``): each lesson's student edition - no
  "Reveal the worked solution" cells, no ``SOLUTION`` imports - and only the docs that are not the
  instructor's material (everything under ``docs/`` but ``docs/instructor/``). The build stops if any
  exercise module's ``SOLUTION`` text (or one of its lines longer than 30 characters) is still in an
  executed lesson or a page. This is the site to give to students.
* **instructor** (``make site-instructor`` -> ``site/_build_instructor``): the lessons as they are, with
  their Reveal buttons, and every doc under ``docs/``, the instructor's guide with its answer keys.

Every lesson ``notebooks/NN_name.ipynb`` is executed (nbconvert's ``ExecutePreprocessor``, i.e. nbclient,
with ``store_widget_state=True``, two at a time) and converted with nbconvert's ``HTMLExporter`` into
``NN_name.html``; every Markdown file of the edition under ``docs/`` becomes an HTML page (markdown-it-py);
``index.html`` lists them all and says which edition the site is.

No page loads anything from another host. nbconvert's template takes require.js and the widget
manager (``@jupyter-widgets/html-manager``'s ``embed-amd.js``) from CDNs; here both come from the npm
registry at build time (``npm pack``, checked against the integrity pinned below, kept in
``site/_cache/``) and are copied into ``_static/``. ``embed-amd.js`` defines the widget modules the
lessons use (``@jupyter-widgets/base``, ``controls``, ``output``) itself, so it never needs its CDN;
its CDN attribute (``data-jupyter-widgets-cdn``) points into ``_static/`` all the same, and the build
refuses widget state that needs any other module. Each page maps those modules to ``embed-amd.js`` in
require.js's ``paths`` (each bundle looks for its fonts and icons beside its module's URL, else in
``./@jupyter-widgets/``). MathJax and Mermaid, which the template would also take from a CDN, are left
out (no lesson uses them).

Each panel shows the view its notebook drew on execution: a static copy, without a kernel; the page
says so and links to the live lesson. Panels that draw a tab only when it is opened are opened tab by
tab after the lesson's last cell (a cell the page does not show), so that every tab has its picture.

Usage: ``python scripts/build_site.py [--edition student|instructor] [--out DIR] [--jobs 2]``. Needs the ``dev``
extra and npm.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import html
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "site" / "_build"  # the student site
DEFAULT_INSTRUCTOR_OUT = ROOT / "site" / "_build_instructor"
STUDENT, INSTRUCTOR = "student", "instructor"
EDITIONS = (STUDENT, INSTRUCTOR)
DEFAULT_OUTS = {STUDENT: DEFAULT_OUT, INSTRUCTOR: DEFAULT_INSTRUCTOR_OUT}
#: docs/ folders that are the instructor's material: on the instructor's site only.
INSTRUCTOR_DOCS = ("instructor",)
EDITIONS_SCRIPT = Path(__file__).resolve().parent / "editions.py"
DEFAULT_CACHE = ROOT / "site" / "_cache"
BUILD_INFO = ".build-info.json"
BINDER = "https://mybinder.org/v2/gh/simlab-project/simlab/HEAD?urlpath=lab/tree/notebooks/{name}"

#: npm packages copied into the site: version and the registry's integrity (``npm view NAME@VERSION dist.integrity``).
#: html-manager 1.x is the one for ipywidgets 8 (``ipywidgets._version.__html_manager_version__ == "^1.0.1"``).
NPM = {
    "@jupyter-widgets/html-manager": ("1.0.15", "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FU"
                                                "TopvFi//SABeNz1yp47bCrJ3CQA=="),
    "requirejs": ("2.3.8", "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFl"
                           "yQXSowL6Mw=="),
}
#: Widget modules that embed-amd.js defines itself; a lesson using any other would need it from a CDN.
BUILTIN_WIDGET_MODULES = {"@jupyter-widgets/base", "@jupyter-widgets/controls", "@jupyter-widgets/output"}
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

STATIC = "_static"
REQUIRE_JS = f"{STATIC}/require.js"
EMBED_JS = f"{STATIC}/html-manager/embed-amd.js"
#: Where the widget manager finds the fonts and icons of its stylesheets (Font Awesome, for buttons with an icon):
#: left to itself it looks beside the page, in @jupyter-widgets/.
WIDGET_ASSETS = f"{STATIC}/html-manager/"
WIDGETS_CDN = f"{STATIC}/widgets/"  # where embed-amd.js would look for a module it lacks: on this site, never elsewhere
SITE_CSS = f"{STATIC}/site.css"


class BuildError(RuntimeError):
    """The site cannot be built as asked (a lesson fails, a package is missing or does not match)."""


@dataclass
class Lesson:
    source: Path  # notebooks/NN_name.ipynb
    title: str

    @property
    def page(self) -> str:
        return self.source.with_suffix(".html").name


@dataclass
class Doc:
    source: Path  # docs/.../name.md
    rel: str  # its path under docs/, e.g. "instructor/index.md"
    title: str

    @property
    def page(self) -> str:
        return "docs/" + posixpath.splitext(self.rel)[0] + ".html"


@dataclass
class Site:
    out: Path
    lessons: list[Lesson]
    docs: list[Doc]
    edition: str = STUDENT
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def pages(self) -> list[Path]:
        return [self.out / lesson.page for lesson in self.lessons]


# --- what goes in -------------------------------------------------------------------------------------------


def find_lessons(notebooks: Path) -> list[Lesson]:
    import nbformat

    lessons = []
    for path in sorted(notebooks.glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        lessons.append(Lesson(path, _first_heading(
            "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")) or path.stem))
    return lessons


def is_instructor_doc(rel: str) -> bool:
    """Whether a doc (its path under docs/) is the instructor's material, kept off the student site."""
    return rel.split("/", 1)[0] in INSTRUCTOR_DOCS


def find_docs(docs: Path, edition: str = STUDENT) -> list[Doc]:
    """The docs of an edition: all of them for the instructor, all but docs/instructor/ for students."""
    _check_edition(edition)

    def order(path: Path):  # a folder's README.md or index.md first: its guide's front page
        return path.parent.relative_to(docs).parts, path.name not in ("README.md", "index.md"), path.name

    found = []
    for path in sorted(docs.rglob("*.md"), key=order) if docs.is_dir() else []:
        rel = path.relative_to(docs).as_posix()
        if edition == STUDENT and is_instructor_doc(rel):
            continue
        found.append(Doc(path, rel, _first_heading(path.read_text(encoding="utf-8")) or rel))
    return found


def _first_heading(markdown: str) -> str:
    match = re.search(r"^#{1,2}\s+(.+?)\s*#*\s*$", markdown, re.M)
    return match.group(1).strip() if match else ""


def _check_edition(edition: str) -> None:
    if edition not in EDITIONS:
        raise BuildError(f"unknown edition {edition!r}: one of {', '.join(EDITIONS)}")


def inputs_digest(root: Path = ROOT, edition: str = STUDENT) -> str:
    """A hash of everything a build of ``edition`` reads: the lessons, its docs, simlab's code, this script and
    scripts/editions.py, and the versions of the packages that run and convert the lessons."""
    from importlib.metadata import PackageNotFoundError, version

    _check_edition(edition)
    digest = hashlib.sha256(f"edition={edition}".encode())
    for package in ("nbconvert", "nbclient", "ipykernel", "ipywidgets", "matplotlib", "markdown-it-py"):
        try:
            digest.update(f"{package}=={version(package)}".encode())
        except PackageNotFoundError:
            digest.update(package.encode())
    paths = [*sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")),
             *sorted(doc.source for doc in find_docs(root / "docs", edition)),
             *sorted((root / "simlab").rglob("*.py")), Path(__file__).resolve(), EDITIONS_SCRIPT]
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(root) if path.is_relative_to(root) else path.name).encode())
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


# --- the student edition: scripts/editions.py ------------------------------------------------------------


def editions_module():
    """scripts/editions.py as a module (scripts/ is not a package), loaded once."""
    import importlib.util

    name = "simlab_editions_script"  # the name tests/test_editions.py loads it under: one module for both
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EDITIONS_SCRIPT)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclasses look their module up
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


def page_text(page: str) -> str:
    """Everything a page holds as text, for the search of solution texts: the HTML as it is, unescaped, and the
    strings of its embedded JSON (widget state and views, where quotes and newlines are escaped), as they are and
    unescaped."""
    parts = [page, html.unescape(page)]
    for text in re.findall(r'<script type="application/[^"]*json">(.*?)</script>', page, re.S):
        try:
            found = list(editions_module()._strings(json.loads(text)))
            parts += [*found, *map(html.unescape, found)]  # an HTML widget's value: HTML, escaped as such
        except ValueError:
            parts.append(html.unescape(text))
    return "\n".join(parts)


#: Lines of a SOLUTION text that a lesson's own (student) code prints as part of the lesson, by lesson: not the
#: answer, and on that lesson's page only. 03's cell "other = replay(...)" prints the 550 refusal that the spoof
#: SOLUTION quotes (the same server reply). Keep this short: rewording the quote in the SOLUTION removes the entry.
SHOWN_BY_LESSON = {
    "03_spoofed_postmaster": {"550 Relaying to <user_name@yourcompany.test> not permitted"},
}


def solution_leaks(text: str, solutions: dict[str, str], page: str = "") -> list[str]:
    """The ``SOLUTION`` texts (whole, or one of their lines longer than 30 characters) found in ``text``, but for
    the lines the lesson ``page`` (``NN_name``) shows as its own (:data:`SHOWN_BY_LESSON`)."""
    shown = SHOWN_BY_LESSON.get(page, set())
    lines = editions_module().leaked_lines(solutions)
    return sorted({f"{module}: {line[:70]!r}" for line, module in lines.items() if line in text and line not in shown})


# --- the JavaScript, from the npm registry ------------------------------------------------------------------


def _integrity(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def npm_tarball(name: str, cache: Path) -> Path:
    """The package's tarball from the npm registry (``npm pack``), kept in ``cache`` and checked against ``NPM``."""
    version, integrity = NPM[name]
    cache.mkdir(parents=True, exist_ok=True)
    tarball = cache / f"{name.lstrip('@').replace('/', '-')}-{version}.tgz"
    if not tarball.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise BuildError(f"npm is needed to fetch {name}@{version} from the npm registry (apt-get install npm)")
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run([npm, "pack", f"{name}@{version}", "--json", "--pack-destination", tmp],
                                  capture_output=True, text=True, cwd=tmp)
            if done.returncode != 0:
                raise BuildError(f"npm pack {name}@{version} failed:\n{done.stderr.strip()}")
            packed = Path(tmp) / json.loads(done.stdout)[0]["filename"]
            shutil.move(packed, tarball)
    if _integrity(tarball) != integrity:
        tarball.unlink()
        raise BuildError(f"{name}@{version} from npm does not match the integrity pinned in {Path(__file__).name}")
    return tarball


def check_html_manager_matches_ipywidgets() -> None:
    """The pinned html-manager must satisfy the range the installed ipywidgets asks for (a caret range)."""
    from ipywidgets._version import __html_manager_version__ as wanted

    version = NPM["@jupyter-widgets/html-manager"][0]
    lowest = tuple(int(p) for p in wanted.lstrip("^~").split("."))
    have = tuple(int(p) for p in version.split("."))
    if not (wanted.startswith("^") and have[0] == lowest[0] and have >= lowest):
        raise BuildError(f"ipywidgets wants @jupyter-widgets/html-manager@{wanted}; {Path(__file__).name} pins "
                         f"{version}: update NPM (version and integrity)")


def amd_modules(embed: Path) -> list[str]:
    """The AMD modules ``embed-amd.js`` defines by name (``@jupyter-widgets/base``, ``controls``, ...)."""
    return sorted(set(re.findall(r'\bdefine\("([^"]+)"', embed.read_text(encoding="utf-8"))))


def require_config(modules: Iterable[str]) -> str:
    """require.js paths from each module embed-amd.js defines to embed-amd.js itself: each bundle takes the folder
    of its module's URL as the place of its fonts and icons, and that URL is where require.js would load it from."""
    return json.dumps({"paths": {name: EMBED_JS.removesuffix(".js") for name in modules}}, sort_keys=True)


def copy_static(static: Path, cache: Path) -> None:
    """require.js, embed-amd.js with the fonts and icons it loads beside itself, and the site's stylesheet."""
    check_html_manager_matches_ipywidgets()
    manager = static / "html-manager"
    manager.mkdir(parents=True)
    with tarfile.open(npm_tarball("@jupyter-widgets/html-manager", cache)) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("package/")
            if not name.startswith("dist/") or "/" in name[5:] or name.endswith(".map"):
                continue
            if name in ("dist/embed.js", "dist/libembed-amd.js") or not member.isfile():
                continue  # embed.js: the non-AMD build; libembed-amd.js: already inside embed-amd.js
            (manager / name[5:]).write_bytes(tar.extractfile(member).read())
    with tarfile.open(npm_tarball("requirejs", cache)) as tar:
        (static / "require.js").write_bytes(tar.extractfile("package/require.js").read())
    (static / "widgets").mkdir()
    (static / "site.css").write_text(SITE_CSS_TEXT, encoding="utf-8")


# --- lessons ------------------------------------------------------------------------------------------------

LESSON_TEMPLATE = r"""{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}
<link rel="icon" href="data:,">
<script>window.__jupyter_widgets_assets_path__ = "{{ resources.site.widget_assets }}";</script>
<script src="{{ resources.require_js_url }}" data-jupyter-widgets-cdn="{{ resources.site.widgets_cdn }}"></script>
<script>require.config({{ resources.site.require_config }});</script>
{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}<link rel="stylesheet" href="{{ resources.site.css }}">{%- endblock html_head_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.site.nav_top }}
{%- endblock body_header -%}
{%- block body_footer -%}
{{ resources.site.nav_bottom }}
{{ super() }}
{%- endblock body_footer -%}
"""


def _lesson_nav(lessons: list[Lesson], index: int, notice: bool) -> str:
    """Links to the index and the lessons either side; on top, a word on what a static copy can do."""
    lesson = lessons[index]
    parts = ['<a href="index.html">simlab lessons</a>']
    if index > 0:
        before = lessons[index - 1]
        parts.append(f'<a rel="prev" href="{before.page}">&larr; {html.escape(before.title)}</a>')
    if index + 1 < len(lessons):
        after = lessons[index + 1]
        parts.append(f'<a rel="next" href="{after.page}">{html.escape(after.title)} &rarr;</a>')
    text = ""
    if notice:
        binder = BINDER.format(name=lesson.source.name)
        text = (f'<p class="simlab-static">A static copy: each panel shows its first view and does not follow its '
                f'controls. To use it, open <code>notebooks/{html.escape(lesson.source.name)}</code> with '
                f'<code>make lab</code> or <a href="{binder}">on Binder</a>.</p>')
    return f'<nav class="simlab-nav">{" · ".join(parts)}{text}</nav>'


def _modules_in(state: dict) -> set[str]:
    modules = set()
    for model in state.values():
        for key in ("model_module", "view_module"):
            if model.get(key):
                modules.add(model[key])
        for key in ("_model_module", "_view_module"):
            if model.get("state", {}).get(key):
                modules.add(model["state"][key])
    return modules


def _check_widgets(nb, name: str) -> None:
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    foreign = _modules_in(state) - BUILTIN_WIDGET_MODULES
    if foreign:
        raise BuildError(f"{name} uses widget modules that embed-amd.js does not define and would fetch from a CDN: "
                         f"{sorted(foreign)}; bring them into _static/widgets/ first")
    missing = [output.data[WIDGET_VIEW]["model_id"] for cell in nb.cells for output in cell.get("outputs", [])
               if WIDGET_VIEW in output.get("data", {}) and output.data[WIDGET_VIEW]["model_id"] not in state]
    if missing:
        raise BuildError(f"{name} displays widgets whose state was not saved: {missing[:3]}")


def _site_href(href: str, source_dir: Path, root: Path, page_dir: str, lessons: Iterable[Lesson],
               docs: Iterable[Doc] | None = None) -> str:
    """A relative link of a lesson or doc, as it points on the site (``01_x.ipynb`` -> ``01_x.html``); with
    ``docs``, only to those docs (a link to a doc the edition leaves out is left as it is)."""
    if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", href, re.I):
        return href
    path, _, anchor = href.partition("#")
    if not path.endswith((".ipynb", ".md")):
        return href
    target = Path(os.path.normpath(source_dir / path))
    site_path = None
    if target.is_relative_to(root / "docs") and target.suffix == ".md":
        rel = target.relative_to(root / "docs").as_posix()
        if docs is None or rel in {doc.rel for doc in docs}:
            site_path = "docs/" + posixpath.splitext(rel)[0] + ".html"
    for lesson in lessons:
        if target == lesson.source:
            site_path = lesson.page
    if site_path is None:
        return href
    return posixpath.relpath(site_path, page_dir or ".") + (f"#{anchor}" if anchor else "")


#: Run after a lesson's cells, then dropped: opens every tab of every panel and goes back to the tab it showed,
#: so that views a panel draws only when their tab is opened are drawn into the saved widget state too.
OPEN_EVERY_TAB = """\
import sys as _site_sys
if "ipywidgets" in _site_sys.modules:
    from ipywidgets import Tab as _SiteTab
    from ipywidgets.widgets.widget import _instances as _site_widgets
    for _site_tab in [w for w in list(_site_widgets.values()) if isinstance(w, _SiteTab)]:
        _site_shown = _site_tab.selected_index
        for _site_index in range(len(_site_tab.children)):
            _site_tab.selected_index = _site_index
        _site_tab.selected_index = _site_shown
    del _SiteTab, _site_widgets
del _site_sys
"""


def execute(nb, path: Path, timeout: int, name: str):
    """Run ``nb`` in ``path`` on a fresh kernel and keep its widget state in ``nb.metadata.widgets``."""
    import nbformat
    from jupyter_core.utils import ensure_event_loop
    from nbclient.exceptions import CellExecutionError
    from nbconvert.preprocessors import ExecutePreprocessor

    nb.cells.append(nbformat.v4.new_code_cell(OPEN_EVERY_TAB))
    executor = ExecutePreprocessor(timeout=timeout, kernel_name="python3", store_widget_state=True)
    try:
        executor.preprocess(nb, {"metadata": {"path": str(path)}})
    except CellExecutionError as exc:
        raise BuildError(f"{name} failed to run:\n{exc}") from None
    finally:  # nbclient ran on an event loop of this thread: close it (its sockets with it)
        nb.cells.pop()
        loop = ensure_event_loop()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
        asyncio.set_event_loop(None)
    return nb


def to_html(nb, site: dict) -> str:
    """The page of an executed notebook: nbconvert's lab template with the scripts of this site."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"simlab_lesson.html.j2": LESSON_TEMPLATE})],
                            template_file="simlab_lesson.html.j2")
    exporter.require_js_url = REQUIRE_JS
    exporter.widget_renderer_url = EMBED_JS
    body, _ = exporter.from_notebook_node(nb, resources={"site": site})
    return body


def warm_up(timeout: int) -> None:
    """Run and convert a one-cell notebook here first: traitlets resolves the classes that nbclient and nbconvert
    name as strings on first use, and two threads doing that at once can fail (``import_item accepts strings``)."""
    import nbformat

    nb = execute(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), Path.cwd(), timeout, "warm-up")
    to_html(nb, {"widgets_cdn": "", "widget_assets": "", "require_config": "{}", "css": "", "nav_top": "",
                 "nav_bottom": ""})


def build_lesson(lessons: list[Lesson], index: int, out: Path, root: Path, timeout: int, config: str,
                 solutions: dict[str, str] | None = None, docs: Iterable[Doc] | None = None) -> float:
    """Execute one lesson, with its widget state, and write its page; returns the seconds it took. With
    ``solutions`` (the student site) the lesson is its student edition, and neither the executed lesson nor its
    page may hold any of those texts."""
    import nbformat
    from markupsafe import Markup

    lesson = lessons[index]
    name = lesson.source.name
    started = time.monotonic()
    nb = nbformat.read(lesson.source, as_version=4)
    if solutions is not None:
        editions = editions_module()
        try:
            nb = editions.student_edition(nb, name, solutions).notebook
        except editions.EditionError as exc:
            raise BuildError(f"no student edition of {name}: {exc}") from None
    nb = execute(nb, lesson.source.parent, timeout, name)
    _check_widgets(nb, name)
    executed = "\n".join(editions_module()._strings(nb)) if solutions is not None else ""
    if solutions is not None and (leaks := solution_leaks(executed, solutions, lesson.source.stem)):
        raise BuildError(f"{name}: solution text in the executed student edition: {'; '.join(leaks)}")
    nb.metadata["title"] = lesson.title
    body = to_html(nb, {"widgets_cdn": WIDGETS_CDN, "widget_assets": WIDGET_ASSETS, "require_config": config,
                        "css": SITE_CSS, "nav_top": Markup(_lesson_nav(lessons, index, True)),
                        "nav_bottom": Markup(_lesson_nav(lessons, index, False))})

    def relink(match: re.Match) -> str:
        old = html.unescape(match.group(2))
        new = _site_href(old, lesson.source.parent, root, "", lessons, docs)
        return match.group(0) if new == old else f"{match.group(1)}{html.escape(new)}\""

    body = re.sub(r'(<a\b[^>]*?\bhref=")([^"]*)"', relink, body)
    if solutions is not None and (leaks := solution_leaks(page_text(body), solutions, lesson.source.stem)):
        raise BuildError(f"{name}: solution text on the student page: {'; '.join(leaks)}")
    (out / lesson.page).write_text(body, encoding="utf-8")
    return time.monotonic() - started


# --- docs and the index --------------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="{css}">
</head>
<body class="simlab-page">
<main>
{body}
</main>
</body>
</html>
"""


def markdown_to_html(text: str, relink=None) -> str:
    """CommonMark with tables and strikethrough (markdown-it-py); ``relink(href) -> href`` rewrites links."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    tokens = md.parse(text)
    if relink is not None:
        for token in tokens:
            for child in [token, *(token.children or [])]:
                if child.type == "link_open" and child.attrGet("href"):
                    child.attrSet("href", relink(child.attrGet("href")))
    return md.renderer.render(tokens, md.options, {})


def build_doc(doc: Doc, out: Path, root: Path, lessons: list[Lesson], docs: Iterable[Doc] | None = None) -> None:
    page_dir = posixpath.dirname(doc.page)
    body = markdown_to_html(doc.source.read_text(encoding="utf-8"),
                            lambda href: _site_href(href, doc.source.parent, root, page_dir, lessons, docs))
    up = posixpath.relpath(".", page_dir)
    nav = f'<nav class="simlab-nav"><a href="{up}/index.html">simlab lessons</a></nav>'
    target = out / doc.page
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(PAGE.format(title=html.escape(doc.title), css=f"{up}/{SITE_CSS}", body=nav + body),
                      encoding="utf-8")


EDITION_NOTE = {
    STUDENT: "Student edition: the lessons without their worked solutions, and without the instructor's guide.",
    INSTRUCTOR: "Instructor edition: the lessons with their worked solutions (the Reveal buttons) and the "
                "instructor's guide with its answer keys. Not for students: give them the student edition "
                "(<code>make site</code>).",
}


def build_index(out: Path, lessons: list[Lesson], docs: list[Doc], edition: str = STUDENT) -> None:
    items = "\n".join(f'<li><a href="{lesson.page}">{html.escape(lesson.title)}</a></li>' for lesson in lessons)
    body = ("<h1>simlab: mail-server security taught by simulation</h1>\n"
            f'<p class="simlab-edition" data-edition="{edition}"><strong>{EDITION_NOTE[edition]}</strong></p>\n'
            "<p>The lessons, run once and kept with their results. Each panel shows the view its lesson drew; "
            "to change its controls, open the lesson in JupyterLab (<code>make lab</code>) or on Binder.</p>\n"
            f'<h2>Lessons</h2>\n<ul class="simlab-lessons">\n{items}\n</ul>\n')
    for heading, group in (("Notes", [d for d in docs if not is_instructor_doc(d.rel)]),
                           ("For instructors", [d for d in docs if is_instructor_doc(d.rel)])):
        if group:
            entries = "\n".join(f'<li><a href="{doc.page}">{html.escape(doc.title)}</a></li>' for doc in group)
            body += f'<h2>{heading}</h2>\n<ul class="simlab-docs">\n{entries}\n</ul>\n'
    title = f"simlab lessons ({edition} edition)"
    (out / "index.html").write_text(PAGE.format(title=title, css=SITE_CSS, body=body), encoding="utf-8")


SITE_CSS_TEXT = """\
.simlab-nav { font: 14px/1.5 system-ui, sans-serif; padding: 8px 0; border-bottom: 1px solid #ddd; margin: 0 0 8px; }
.simlab-nav > a { margin-right: 4px; }
.jupyter-widgets, .jupyter-widgets .widget-html-content { font-family: var(--jp-ui-font-family, sans-serif); }
.simlab-static { margin: 4px 0 0; color: #555; font-size: 13px; }
body.jp-Notebook main { max-width: 1200px; margin: 0 auto; }
body.simlab-page { font: 16px/1.6 system-ui, sans-serif; color: #222; }
body.simlab-page main { max-width: 50em; margin: 0 auto; padding: 0 1em 3em; }
body.simlab-page pre { background: #f6f6f6; padding: 8px; overflow-x: auto; }
body.simlab-page table { border-collapse: collapse; }
body.simlab-page th, body.simlab-page td { border: 1px solid #ccc; padding: 4px 8px; }
"""


# --- the build -----------------------------------------------------------------------------------------------


def build(out: Path = DEFAULT_OUT, root: Path = ROOT, jobs: int = 2, cache: Path = DEFAULT_CACHE,
          timeout: int = 600, log=print, edition: str = STUDENT) -> Site:
    """Build the ``edition`` of the site into ``out`` (replaced only when the whole build succeeds) and describe
    it."""
    started = time.monotonic()
    _check_edition(edition)
    out, root = Path(out).resolve(), Path(root).resolve()
    lessons = find_lessons(root / "notebooks")
    if not lessons:
        raise BuildError(f"no lessons (NN_name.ipynb) in {root / 'notebooks'}")
    docs = find_docs(root / "docs", edition)
    digest = inputs_digest(root, edition)
    solutions = editions_module().solution_texts() if edition == STUDENT else None
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{out.name}.partial-", dir=out.parent))
    try:
        copy_static(staging / STATIC, Path(cache))
        config = require_config(amd_modules(staging / EMBED_JS))
        with ThreadPoolExecutor(max_workers=1) as alone:  # in a thread of its own, as the lessons: never on our loop
            alone.submit(warm_up, timeout).result()
        timings = {}
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = {lesson.source.name: pool.submit(build_lesson, lessons, i, staging, root, timeout, config,
                                                        solutions, docs)
                       for i, lesson in enumerate(lessons)}
            try:
                for name, future in futures.items():
                    timings[name] = round(future.result(), 1)
                    log(f"  {name}: {timings[name]} s")
            except BaseException:
                for future in futures.values():
                    future.cancel()
                raise
        for doc in docs:
            build_doc(doc, staging, root, lessons, docs)
        build_index(staging, lessons, docs, edition)
        if solutions is not None:
            for page in sorted(staging.rglob("*.html")):
                text = page_text(page.read_text(encoding="utf-8"))
                if leaks := solution_leaks(text, solutions, page.relative_to(staging).with_suffix("").as_posix()):
                    raise BuildError(f"{page.relative_to(staging)}: solution text on the student site: "
                                     + "; ".join(leaks))
        seconds = round(time.monotonic() - started, 1)
        (staging / BUILD_INFO).write_text(json.dumps({
            "edition": edition, "inputs": digest, "seconds": seconds, "lessons": timings, "docs": [d.rel for d in docs],
            "npm": {name: version for name, (version, _) in NPM.items()}}, indent=1), encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.chmod(0o755)  # mkdtemp made it private
        staging.rename(out)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return Site(out, lessons, docs, edition, seconds, timings)


def is_current(out: Path = DEFAULT_OUT, root: Path = ROOT, edition: str = STUDENT) -> bool:
    """Whether ``out`` holds a finished build of ``edition`` from the present lessons, docs and code."""
    info = Path(out) / BUILD_INFO
    try:
        built = json.loads(info.read_text())
        return built["edition"] == edition and built["inputs"] == inputs_digest(root, edition)
    except (OSError, ValueError, KeyError):
        return False


def ensure_built(out: Path = DEFAULT_OUT, root: Path = ROOT, log=print, edition: str = STUDENT) -> Path:
    """``out``, built first unless it already holds a build of ``edition`` from the present inputs (as the tests
    use it)."""
    if not is_current(out, root, edition):
        build(out, root, log=log, edition=edition)
    return Path(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edition", choices=EDITIONS, default=STUDENT,
                        help="student (default: no solutions, no instructor's guide) or instructor")
    parser.add_argument("--out", type=Path, help="output directory (default: site/_build for the student edition, "
                                                 "site/_build_instructor for the instructor's)")
    parser.add_argument("--jobs", type=int, default=2, help="lessons executed at once (default: 2)")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE, help="where npm tarballs are kept")
    args = parser.parse_args(argv)
    out = args.out or DEFAULT_OUTS[args.edition]
    print(f"Building the {args.edition} edition of the site into {out} ...")
    try:
        site = build(out, jobs=args.jobs, cache=args.cache, edition=args.edition)
    except BuildError as exc:
        print(f"build_site: {exc}", file=sys.stderr)
        return 1
    print(f"{site.edition} edition: {len(site.lessons)} lessons and {len(site.docs)} docs pages in {site.seconds} s: "
          f"{site.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

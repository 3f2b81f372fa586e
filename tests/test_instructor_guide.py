"""The instructor guide (docs/instructor/): one page per lesson, complete sections, sound arithmetic, live links.

Checked here:

* every lesson in notebooks/ (``NN_name.py`` / ``NN_name.ipynb``) has a page ``docs/instructor/NN_name.md``;
* each page has the headings Goals, Minutes, Discussion, Misconceptions and Answer key;
* every exercise checker a lesson imports (``check_...`` from ``simlab.exercises.*`` or ``simlab.ui.*``)
  is named in that page's answer key;
* the minutes of a page's "Minutes" table add up to the total it states, and the README's table of
  lesson lengths agrees with the pages;
* each course plan in the README (a heading ending "(N min)") has rows whose minutes add up to N and
  whose clock times run on without gaps, and every lesson a course path names exists;
* every relative link under docs/instructor/ points to a file that exists;
* the glossary defines the terms the brief lists.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "instructor"
NOTEBOOKS = ROOT / "notebooks"
SECTIONS = ("Goals", "Minutes", "Discussion", "Misconceptions", "Answer key")

LESSONS = sorted({p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py")}
                 | {p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")})
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
ROW = re.compile(r"^\|(.+)\|\s*$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CHECKER_IMPORT = re.compile(r"from\s+simlab\.(?:exercises|ui)\.\w+\s+import\s+([^\n#]+)")


def page(name: str) -> Path:
    return GUIDE / f"{name}.md"


def sections(text: str) -> list[tuple[int, str, list[str]]]:
    """``(level, title, lines)`` for each heading of a Markdown text (fenced code is skipped)."""
    out: list[tuple[int, str, list[str]]] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else HEADING.match(line)
        if match:
            out.append((len(match.group(1)), match.group(2), []))
        elif out:
            out[-1][2].append(line)
    return out


def section(text: str, title: str) -> str:
    """The text under the heading that starts with ``title``, down to the next heading of the same or higher level."""
    parts = sections(text)
    for n, (level, heading, lines) in enumerate(parts):
        if heading.lower().startswith(title.lower()):
            body = list(lines)
            for deeper_level, deeper, deeper_lines in parts[n + 1:]:
                if deeper_level <= level:
                    break
                body += [deeper, *deeper_lines]
            return "\n".join(body)
    raise AssertionError(f"no heading {title!r}")


def table_rows(text: str) -> list[list[str]]:
    """The cells of every table row of ``text`` (header separators dropped)."""
    rows = []
    for line in text.splitlines():
        match = ROW.match(line.strip())
        if not match:
            continue
        cells = [cell.strip() for cell in match.group(1).split("|")]
        if all(re.fullmatch(r":?-{2,}:?", cell) for cell in cells if cell):
            continue
        rows.append(cells)
    return rows


def number(cell: str) -> int | None:
    match = re.fullmatch(r"\**\s*(\d+)\s*\**", cell)
    return int(match.group(1)) if match else None


def minutes_table(text: str) -> tuple[list[int], int]:
    """The part minutes (last column) and the stated total of a page's Minutes section."""
    parts, totals = [], []
    for cells in table_rows(section(text, "Minutes")):
        minutes = number(cells[-1])
        if minutes is None:
            continue
        (totals if "total" in cells[0].lower() else parts).append(minutes)
    assert len(totals) == 1, "the Minutes table must have exactly one Total row"
    return parts, totals[0]


def checkers_of(lesson: str) -> set[str]:
    source = (NOTEBOOKS / f"{lesson}.py").read_text(encoding="utf-8")
    names = set()
    for imported in CHECKER_IMPORT.findall(source):
        names |= {name.strip(" ()") for name in imported.split(",") if name.strip(" ()").startswith("check_")}
    return names


def test_there_are_lessons():
    assert len(LESSONS) >= 10, LESSONS


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_lesson_has_a_page(lesson):
    assert page(lesson).is_file(), f"no guide page docs/instructor/{lesson}.md"


@pytest.mark.parametrize("lesson", LESSONS)
def test_page_has_the_sections(lesson):
    titles = [title.lower() for _level, title, _lines in sections(page(lesson).read_text(encoding="utf-8"))]
    for wanted in SECTIONS:
        assert any(title.startswith(wanted.lower()) for title in titles), f"{lesson}.md: no heading {wanted!r}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_answer_key_names_every_checker(lesson):
    key = section(page(lesson).read_text(encoding="utf-8"), "Answer key")
    for name in sorted(checkers_of(lesson)):
        assert name in key, f"{lesson}.md: the answer key does not name {name}"


def test_checkers_are_found_at_all():
    found = set().union(*(checkers_of(lesson) for lesson in LESSONS if (NOTEBOOKS / f"{lesson}.py").exists()))
    assert {"check_rcpt_reply", "check_no_open_relay", "check_spoof_refused"} <= found, found


@pytest.mark.parametrize("lesson", LESSONS)
def test_minutes_add_up(lesson):
    parts, total = minutes_table(page(lesson).read_text(encoding="utf-8"))
    assert parts, f"{lesson}.md: the Minutes table lists no parts"
    assert sum(parts) == total, f"{lesson}.md: parts add up to {sum(parts)}, the page states {total}"


def test_readme_lesson_lengths_match_the_pages():
    readme = (GUIDE / "README.md").read_text(encoding="utf-8")
    stated = {}
    for cells in table_rows(section(readme, "How long each lesson takes")):
        match = re.search(r"(\d\d_[a-z0-9_]+)\.md", cells[0])
        if match and number(cells[-1]) is not None:
            stated[match.group(1)] = number(cells[-1])
    assert set(stated) == set(LESSONS), f"lengths listed for {sorted(stated)}"
    for lesson, minutes in stated.items():
        assert minutes == minutes_table(page(lesson).read_text(encoding="utf-8"))[1], lesson


def plans(readme: str) -> list[tuple[str, int, list[list[str]]]]:
    out = []
    parts = sections(readme)
    for _level, title, lines in parts:
        match = re.search(r"\((\d+) min\)$", title)
        if match:
            out.append((title, int(match.group(1)), table_rows("\n".join(lines))))
    return out


def test_course_plans_add_up():
    readme = (GUIDE / "README.md").read_text(encoding="utf-8")
    found = plans(readme)
    assert {minutes for _t, minutes, _r in found} >= {45, 90}, [t for t, _m, _r in found]
    assert len(found) >= 4, "45 min, 90 min and two sessions of 90 min: four plans"
    for title, minutes, rows in found:
        clock = 0
        used = 0
        for cells in rows[1:]:  # the first row is the header
            span = re.fullmatch(r"(\d+)\s*[-–]\s*(\d+)", cells[0])
            length = number(cells[1])
            assert span and length is not None, f"{title}: row {cells[:2]} has no 'a-b' time and minutes"
            start, end = int(span.group(1)), int(span.group(2))
            assert start == clock, f"{title}: row {cells[0]} starts at {start}, the previous row ended at {clock}"
            assert end - start == length, f"{title}: row {cells[0]} says {length} minutes"
            clock, used = end, used + length
        assert used == minutes, f"{title}: the rows add up to {used} minutes"


def test_course_paths_name_existing_lessons():
    readme = (GUIDE / "README.md").read_text(encoding="utf-8")
    paths = section(readme, "Course paths")
    named = set(re.findall(r"\b(\d\d)_[a-z0-9_]+", paths)) | set(re.findall(r"\blesson (\d\d)\b", paths, re.I))
    assert named, "the course paths name no lesson"
    numbers = {lesson[:2] for lesson in LESSONS}
    assert named <= numbers, f"lessons that do not exist: {sorted(named - numbers)}"
    for full in re.findall(r"\b\d\d_[a-z0-9_]+\b", paths):
        assert full in LESSONS, f"the course paths name {full}, which is not a lesson"


def guide_files() -> list[Path]:
    return sorted(GUIDE.rglob("*.md"))


def test_guide_has_readme_and_glossary():
    assert (GUIDE / "README.md").is_file()
    assert (GUIDE / "glossary.md").is_file()


@pytest.mark.parametrize("path", guide_files(), ids=lambda p: p.name)
def test_relative_links_exist(path):
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = re.sub(r"`[^`\n]*`", "", text)
    for target in LINK.findall(text):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("#"):
            continue
        file_part = target.split("#", 1)[0]
        assert (path.parent / file_part).exists(), f"{path.name}: broken link {target}"


GLOSSARY_TERMS = ("open relay", "MX", "MAILER-DAEMON", "null sender", "DSN", "multipart/report", "SMTP AUTH",
                  "587", "enhanced status code", "mynetworks", "relay_from_hosts", "Client Hosts",
                  "Relay Restriction", "IP Range Restriction", "fail2ban", "ignoreip", "NAT", "anvil", "postscreen",
                  "DNSBL", "APOP", "Dovecot", "XCLIENT", "common random numbers", "seed")


def test_glossary_defines_the_terms():
    headings = " ".join(title for _l, title, _x in sections((GUIDE / "glossary.md").read_text(encoding="utf-8")))
    text = (GUIDE / "glossary.md").read_text(encoding="utf-8")
    terms = " ".join(re.findall(r"^\*\*(.+?)\*\*", text, re.M)) + " " + headings
    for term in GLOSSARY_TERMS:
        assert term.lower() in terms.lower(), f"glossary: no entry for {term!r}"

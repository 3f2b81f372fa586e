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
* the glossary defines the terms the brief lists;
* each course plan's rows say where their minutes come from ("02 part 3 (8)" is part 3 of lesson 02's
  Minutes table, at that page's minutes; "02 D1 (2)" a discussion question that exists), and the bracketed
  minutes add up to the row's; every discussion question a plan uses has the parts its lesson page says it
  needs ("*Needs part 5*") in the same plan, and an answer on the page; every plan is followed by what its
  live cells print and a "cut first if late" list;
* the "Before class" and "Grading" pages exist, are linked from the README and cover what they must.
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


PART = re.compile(r"\b(\d\d) part (\d+) \((\d+)\)")
DISCUSSION_REF = re.compile(r"\b(\d\d) (D\d+)\b")
BRACKETED = re.compile(r"\((\d+)\)")
NEEDS = re.compile(r"\*Needs parts? ([\d, and]+)")


def page_parts(lesson_number: str) -> list[int]:
    lesson = next(name for name in LESSONS if name.startswith(lesson_number + "_"))
    return minutes_table(page(lesson).read_text(encoding="utf-8"))[0]


def discussion_items(lesson_number: str) -> dict[str, str]:
    lesson = next(name for name in LESSONS if name.startswith(lesson_number + "_"))
    text = section(page(lesson).read_text(encoding="utf-8"), "Discussion")
    items: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        match = re.match(r"^- \*\*(D\d+)\b", line)
        if match:
            current = match.group(1)
            items[current] = line
        elif current and line.startswith("  "):
            items[current] += " " + line.strip()
        else:
            current = None
    return items


def plan_groups(readme: str) -> list[tuple[str, list[list[str]], list[tuple[str, str]]]]:
    """Each plan: its title, its table rows, and the (title, text) of the headings that follow it
    (down to the next plan or the next heading above level 4)."""
    parts = sections(readme)
    out = []
    for n, (level, title, lines) in enumerate(parts):
        if not re.search(r"\((\d+) min\)$", title):
            continue
        after = []
        for deeper_level, deeper, deeper_lines in parts[n + 1:]:
            if deeper_level < level or re.search(r"\((\d+) min\)$", deeper):
                break
            after.append((deeper, "\n".join(deeper_lines)))
        out.append((title, table_rows("\n".join(lines))[1:], after))
    return out


def test_plan_rows_say_where_their_minutes_come_from():
    readme = (GUIDE / "README.md").read_text(encoding="utf-8")
    for title, rows, _after in plan_groups(readme):
        for cells in rows:
            minutes, source = number(cells[1]), cells[2]
            bracketed = [int(m) for m in BRACKETED.findall(source)]
            assert bracketed, f"{title}: row {cells[0]} does not say where its minutes come from"
            assert sum(bracketed) == minutes, \
                f"{title}: row {cells[0]}: {source} adds up to {sum(bracketed)}, not {minutes}"
            for lesson, part, part_minutes in PART.findall(source):
                parts = page_parts(lesson)
                assert 1 <= int(part) <= len(parts), f"{title}: lesson {lesson} has no part {part}"
                assert parts[int(part) - 1] == int(part_minutes), \
                    f"{title}: {lesson} part {part} is {parts[int(part) - 1]} min on its page, not {part_minutes}"
            for lesson, question in DISCUSSION_REF.findall(source + " " + cells[5]):
                assert question in discussion_items(lesson), f"{title}: lesson {lesson} has no {question}"


def test_plan_discussions_have_their_prerequisites_and_answers():
    readme = (GUIDE / "README.md").read_text(encoding="utf-8")
    for title, rows, _after in plan_groups(readme):
        used_parts = {(lesson, int(part)) for cells in rows for lesson, part, _m in PART.findall(cells[2])}
        for cells in rows:
            for lesson, question in DISCUSSION_REF.findall(cells[2] + " " + cells[5]):
                item = discussion_items(lesson)[question]
                needs = NEEDS.search(item)
                assert needs, f"{lesson} {question}: the page does not say which part it needs (*Needs part N*)"
                for part in re.findall(r"\d+", needs.group(1)):
                    assert (lesson, int(part)) in used_parts, \
                        f"{title}: {lesson} {question} needs {lesson} part {part}, which the plan does not include"
                answered = "Suggested answer" in item or re.search(r"\((?!Needs)[^)]{15,}\)", item)
                assert answered, f"{lesson} {question}: no suggested answer on the page"


def test_every_plan_has_live_cells_and_a_cut_list():
    readme = (GUIDE / "README.md").read_text(encoding="utf-8")
    for title, _rows, after in plan_groups(readme):
        headings = {heading.lower(): text for heading, text in after}
        cut = [text for heading, text in headings.items() if "cut first if late" in heading]
        assert cut and re.search(r"^\d+\. ", cut[0], re.M), f"{title}: no 'cut first if late' list"
        live = [text for heading, text in headings.items() if "live cells" in heading]
        assert live, f"{title}: no 'live cells and what they print'"


def test_before_class_and_grading_pages():
    readme = (GUIDE / "README.md").read_text(encoding="utf-8")
    for name in ("before_class.md", "grading.md"):
        assert (GUIDE / name).is_file(), name
        assert f"({name})" in readme, f"the README does not link {name}"
    before = (GUIDE / "before_class.md").read_text(encoding="utf-8")
    for wanted in ("git clone", "make lab", "Python 3.11", "python3-venv", "PyPI", "--allow-root", "--port",
                   "make editions", "build/editions/student/", "make site", "Voila", "SOLUTION", "Binder", "kernel"):
        assert wanted in before, f"before_class.md does not mention {wanted!r}"
    grading = (GUIDE / "grading.md").read_text(encoding="utf-8")
    for wanted in ("make course", "make course-release", "autograde", "tests/test_nbgrader.py",
                   "simlab.exercises.common", "record(", "SIMLAB_RESULTS", "SIMLAB_STUDENT",
                   "course/class_overview.ipynb", "Rubric"):
        assert wanted in grading, f"grading.md does not mention {wanted!r}"
    for lesson in LESSONS:
        if (NOTEBOOKS / f"{lesson}.py").exists():
            for name in checkers_of(lesson):
                assert name in grading, f"grading.md's rubric does not name {name}"

"""The lessons in two editions, and the nbgrader course, all made from the one source: notebooks/*.ipynb.

    python scripts/editions.py build [--out build/editions] [--ref REF]   # make editions
    python scripts/editions.py course [--check]                          # course/source/ (make course)

* **instructor edition**: each lesson exactly as it is in the repository (bytes unchanged), with its
  "Reveal the worked solution" button.
* **student edition**: the same lessons with every cell that shows a solution removed - the
  ``solution_button(...)`` cells and any cell tagged ``solution`` - and ``SOLUTION`` taken out of the
  exercise's import (``from simlab.exercises.relay import SOLUTION, check_no_open_relay`` becomes
  ``from simlab.exercises.relay import check_no_open_relay``). Nothing else changes: the other cells,
  their ids, outputs and metadata, and the notebook's metadata stay as they are.

Solution cells are found by what the code does (parsed with :mod:`ast` after IPython's own cell
transforms, so ``%magics`` are fine), never by position. The build stops with :class:`EditionError`
when a lesson has an exercise (a call of a ``check_*`` checker) but no solution cell it can recognise,
when a solution cell also does something else (it cannot be removed cleanly), when ``SOLUTION`` or
``solution_button`` is still referenced after the removal (``module.SOLUTION``, ``import *``), or when any
exercise module's ``SOLUTION`` text (or one of its lines longer than 30 characters) is still somewhere
in a student notebook (a saved output or widget state, say).

The Japanese edition (``notebooks/ja/``) is built the same way into ``ja/`` beside them, with its
``.simlab-language`` file; the solution texts searched for are those of every language simlab speaks.

Lessons come from the notebooks git tracks under ``notebooks/`` (the working-tree files; with
``--ref REF`` the versions committed at REF, read with ``git show``, which changes nothing).

The nbgrader course (``course/source/<lesson>/<lesson>.ipynb``) holds one graded exercise per lesson
in :data:`COURSE`: the lesson's exercise text, an autograded answer cell (the checker's arguments as a
dict, the right ones between ``### BEGIN SOLUTION`` / ``### END SOLUTION``, taken from the module's
``SOLUTION``) and a hidden-tests cell that runs the lesson's checker on that answer.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LESSONS = "notebooks"
#: Translated editions: notebooks/<code>/ holds a lesson's twin in that language (same file name).
TRANSLATIONS = ("ja",)
#: Lines of a SOLUTION text at least this long must not appear in a student notebook.
LEAK_LINE = 30
SOLUTION_TAG = "solution"
#: The lessons that become nbgrader assignments, and the points of each.
COURSE = {"01_wrong_password": 1, "02_open_relay_probe": 1, "03_spoofed_postmaster": 1, "04_strict_ip_range": 1}
COURSE_DIR = ROOT / "course"


class EditionError(RuntimeError):
    """A lesson the script cannot turn into a student edition safely (the build stops)."""


# --- reading code cells ------------------------------------------------------------------------------------


def python_source(cell_source: str) -> str:
    """A code cell as plain Python (IPython's transforms: ``%magic`` and ``!cmd`` become calls)."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(cell_source)


def parse_cell(source: str, where: str) -> ast.Module:
    try:
        return ast.parse(python_source(source))
    except SyntaxError as exc:
        raise EditionError(f"{where}: the cell does not parse as Python ({exc})") from exc


def _called_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def calls(tree: ast.AST) -> Iterator[tuple[str, ast.Call]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and (name := _called_name(node)):
            yield name, node


def checker_calls(tree: ast.AST) -> list[tuple[str, ast.Call]]:
    """The exercise calls in a cell: calls of a ``check_*`` function."""
    return [(name, call) for name, call in calls(tree) if name.startswith("check_")]


def solution_mentions(tree: ast.AST) -> list[str]:
    """Every way the code still reaches a solution: the names ``SOLUTION``/``solution_button``, ``x.SOLUTION``,
    an import of them, or ``from simlab... import *`` (which brings ``SOLUTION`` in)."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id in ("SOLUTION", "solution_button"):
            found.append(node.id)
        elif isinstance(node, ast.Attribute) and node.attr in ("SOLUTION", "solution_button"):
            found.append(f"....{node.attr}")
        elif isinstance(node, ast.ImportFrom):
            for alias in node.names:
                if alias.name in ("SOLUTION", "solution_button"):
                    found.append(f"import of {alias.name}")
                if alias.name == "*" and (node.module or "").startswith("simlab"):
                    found.append(f"from {node.module} import *")
    return found


def _is_reveal_statement(statement: ast.stmt) -> bool:
    """A statement that belongs to a solution cell: a ``solution_button(...)`` call (its value shown or
    assigned), or an import of ``solution_button``/``SOLUTION`` alone."""
    value = statement.value if isinstance(statement, ast.Expr | ast.Assign) else None
    if isinstance(value, ast.Call) and _called_name(value) == "solution_button":
        return True
    if isinstance(statement, ast.ImportFrom):
        return all(alias.name in ("SOLUTION", "solution_button") for alias in statement.names)
    return isinstance(statement, ast.Import) and all(a.name in ("simlab", "simlab.ui") for a in statement.names)


def is_reveal_cell(tree: ast.Module) -> bool:
    return any(name == "solution_button" for name, _ in calls(tree))


# --- the student edition -----------------------------------------------------------------------------------


def _without_solution_import(source: str, tree: ast.Module, where: str) -> str:
    """``source`` with ``SOLUTION`` dropped from each ``from ... import`` that names it (the rest of the
    line, its comment included, unchanged); the statement goes when ``SOLUTION`` was all it imported."""
    lines = source.splitlines(keepends=True)
    edits = []
    for node in tree.body:
        if not isinstance(node, ast.ImportFrom) or not any(a.name == "SOLUTION" for a in node.names):
            continue
        first, last = node.lineno - 1, node.end_lineno - 1
        text = "".join(lines[first:last + 1])
        if "import" not in text or "SOLUTION" not in text or node.col_offset != 0:
            raise EditionError(f"{where}: cannot locate the SOLUTION import in the cell's text")
        kept = [a for a in node.names if a.name != "SOLUTION"]
        tail = lines[last][node.end_col_offset:]  # what follows on the line: a comment (noqa E402), the newline
        if kept:
            node_copy = ast.ImportFrom(module=node.module, names=kept, level=node.level)
            new = ast.unparse(node_copy) + tail
        else:
            new = ""
        edits.append((first, last, new))
    for first, last, new in reversed(edits):
        lines[first:last + 1] = [new]
    return "".join(lines)


def solution_texts(language: str | None = None) -> dict[str, str]:
    """Every exercise module's ``SOLUTION`` text, by module name (``simlab.exercises.*`` and ``simlab.ui.*``).

    In ``language`` (default: every language simlab speaks, keyed ``module`` for English and
    ``module[ja]`` for the others): a Japanese student edition must not hold the Japanese solutions either.
    """
    import simlab.exercises
    import simlab.ui
    from simlab import i18n

    before = i18n.language()
    texts = {}
    try:
        for code in (language,) if language else i18n.LANGUAGES:
            i18n.set_language(code)
            suffix = "" if code == i18n.LANGUAGES[0] else f"[{code}]"
            for package in (simlab.exercises, simlab.ui):
                for info in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
                    module = importlib.import_module(info.name)
                    text = getattr(module, "SOLUTION", None)
                    if isinstance(text, str):
                        texts[info.name + suffix] = text
    finally:
        i18n.set_language(before)
    return texts


def leaked_lines(solutions: dict[str, str]) -> dict[str, str]:
    """What must not appear in a student notebook: each ``SOLUTION`` whole, and each line longer than
    :data:`LEAK_LINE` characters (stripped), mapped to the module it comes from."""
    out = {}
    for module, text in solutions.items():
        out[text.strip()] = module
        for line in text.splitlines():
            if len(line.strip()) > LEAK_LINE:
                out[line.strip()] = module
    return out


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def find_leaks(nb: nbformat.NotebookNode, solutions: dict[str, str] | None = None) -> list[str]:
    """The solution texts (whole or a long line) found anywhere in ``nb``: sources, outputs, metadata."""
    solutions = solution_texts() if solutions is None else solutions
    text = "\n".join(_strings(nb))
    return sorted({f"{module}: {line[:70]!r}" for line, module in leaked_lines(solutions).items() if line in text})


@dataclass
class StudentEdition:
    notebook: nbformat.NotebookNode
    removed: list[str]  # the ids of the removed cells
    edited: list[str]  # the ids of the cells whose SOLUTION import was taken out
    exercises: list[str]  # the checkers the lesson calls


def student_edition(nb: nbformat.NotebookNode, name: str = "lesson",
                    solutions: dict[str, str] | None = None) -> StudentEdition:
    """The student edition of one lesson (a new notebook; ``nb`` is not changed)."""
    nb = copy.deepcopy(nb)
    kept, removed, edited, exercises = [], [], [], []
    for n, cell in enumerate(nb.cells):
        where = f"{name}, cell {n} (id {cell.get('id', '?')})"
        if SOLUTION_TAG in cell.get("metadata", {}).get("tags", []):
            removed.append(cell.get("id", str(n)))
            continue
        if cell.cell_type != "code":
            kept.append(cell)
            continue
        tree = parse_cell(cell.source, where)
        if is_reveal_cell(tree):
            others = [s for s in tree.body if not _is_reveal_statement(s)]
            if others:
                raise EditionError(f"{where}: the solution_button(...) cell also does something else "
                                   f"(line {others[0].lineno}: {ast.unparse(others[0])[:60]!r}); "
                                   "give the Reveal button a cell of its own")
            removed.append(cell.get("id", str(n)))
            continue
        exercises += [checker for checker, _ in checker_calls(tree)]
        source = _without_solution_import(cell.source, tree, where)
        if source != cell.source:
            cell.source = source
            edited.append(cell.get("id", str(n)))
            tree = parse_cell(source, where)
        if left := solution_mentions(tree):
            raise EditionError(f"{where}: still reaches the solution after the removal ({', '.join(left)}); "
                               "import SOLUTION by name and show it only with solution_button(SOLUTION)")
        kept.append(cell)
    if exercises and not removed:
        raise EditionError(f"{name}: has an exercise ({', '.join(sorted(set(exercises)))}) but no solution cell "
                           "(a cell calling solution_button(...), or a cell tagged 'solution')")
    nb.cells = kept
    if leaks := find_leaks(nb, solutions):
        raise EditionError(f"{name}: solution text left in the student edition: {'; '.join(leaks)}")
    nbformat.validate(nb)
    return StudentEdition(nb, removed, edited, sorted(set(exercises)))


# --- the lessons, from git ---------------------------------------------------------------------------------


def lesson_files(root: Path = ROOT, ref: str | None = None) -> dict[str, str | bytes]:
    """The lessons git tracks under notebooks/ (``NN_name.ipynb``) and the Japanese edition's under
    notebooks/ja/ (``ja/NN_name.ipynb``), by path inside notebooks/: their bytes in the working tree, or at ``ref``."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True, text=True).stdout

    def wanted(name: str) -> bool:
        inside = Path(name).relative_to(LESSONS)
        return name.endswith(".ipynb") and (len(inside.parts) == 1 or inside.parts[0] in TRANSLATIONS)

    if ref is None:
        names = git("ls-files", "--", f"{LESSONS}/*.ipynb").split()
        files = {Path(name).relative_to(LESSONS).as_posix(): (root / name).read_bytes()
                 for name in names if wanted(name) and (root / name).exists()}
    else:
        names = git("ls-tree", "-r", "--name-only", ref, f"{LESSONS}/").split()
        files = {Path(name).relative_to(LESSONS).as_posix():
                 subprocess.run(["git", "-C", str(root), "show", f"{ref}:{name}"], check=True,
                                capture_output=True).stdout
                 for name in names if wanted(name)}
    if not files:
        raise EditionError(f"no lessons found under {root / LESSONS}")
    return dict(sorted(files.items()))


def read_notebook(data: bytes) -> nbformat.NotebookNode:
    nb = nbformat.reads(data.decode("utf-8"), as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    return nb


def build(out: Path, root: Path = ROOT, ref: str | None = None, quiet: bool = False) -> dict[str, StudentEdition]:
    """Write ``out/instructor/`` and ``out/student/``; every lesson is checked before anything is written."""
    files = lesson_files(root, ref)
    solutions = solution_texts()
    editions = {name: student_edition(read_notebook(data), name, solutions) for name, data in files.items()}
    for edition in ("instructor", "student"):
        for folder in (out / edition, *(out / edition / code for code in TRANSLATIONS)):
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.ipynb"):
                old.unlink()
            for code in TRANSLATIONS:  # the kernels of a translated edition speak its language there too
                if folder.name == code:
                    (folder / ".simlab-language").write_text(code + "\n", encoding="utf-8")
    for name, data in files.items():
        (out / "instructor" / name).write_bytes(data)
        nbformat.write(editions[name].notebook, out / "student" / name)
        if not quiet:
            e = editions[name]
            print(f"{name}: removed {len(e.removed)} cell(s), edited {len(e.edited)} import(s)"
                  + (f" - exercise {', '.join(e.exercises)}" if e.exercises else ""))
    if not quiet:
        print(f"{len(files)} lessons -> {out / 'instructor'} and {out / 'student'}")
    return editions


# --- the nbgrader course -----------------------------------------------------------------------------------


@dataclass
class Exercise:
    """One lesson's exercise, read from the lesson and its checker's module."""

    lesson: str
    title: str
    module: str  # e.g. "simlab.exercises.relay"
    checker: str  # e.g. "check_no_open_relay"
    prose: str  # the lesson's exercise text: the markdown before the exercise cell, from its heading on
    start: str  # the lesson's starting call, e.g. 'check_no_open_relay("eims-2.1")'
    start_answer: str  # the same as the answer's dict: 'dict(preset="eims-2.1")'
    answer: str  # the right answer, from SOLUTION: 'dict(preset="eims-2.1", relay_restriction=True)'


def _as_dict(call: ast.Call, source: str, function) -> str:
    """A call's arguments as ``dict(name=value, ...)`` source, positional ones named by ``function``'s signature
    (each value's own source text, as written)."""
    params = list(inspect.signature(function).parameters.values())
    parts = []
    for param, arg in zip(params, call.args, strict=False):
        if param.kind not in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
            raise EditionError(f"cannot name the positional argument {ast.unparse(arg)} of {ast.unparse(call)}")
        parts.append(f"{param.name}={ast.get_source_segment(source, arg)}")
    for keyword in call.keywords:
        if keyword.arg is None:
            raise EditionError(f"cannot turn **{ast.unparse(keyword.value)} into an answer")
        parts.append(f"{keyword.arg}={ast.get_source_segment(source, keyword.value)}")
    return f"dict({', '.join(parts)})"


def _first_call_in_text(text: str, checker: str) -> tuple[ast.Call, str]:
    """The first complete ``checker(...)`` call in a SOLUTION text (indented code, possibly over lines)."""
    lines = text.splitlines()
    for n, line in enumerate(lines):
        if not line.lstrip().startswith(f"{checker}("):
            continue
        for end in range(n + 1, min(n + 12, len(lines)) + 1):
            chunk = "\n".join(x.strip() if i == 0 else x for i, x in enumerate(lines[n:end]))
            chunk = chunk.split("#")[0] if end == n + 1 else chunk
            try:
                tree = ast.parse(chunk.strip())
            except SyntaxError:
                continue
            node = tree.body[0].value if isinstance(tree.body[0], ast.Expr) else None
            if isinstance(node, ast.Call) and _called_name(node) == checker:
                return node, chunk.strip()
    raise EditionError(f"no {checker}(...) call found in SOLUTION")


def read_exercise(lesson: str, nb: nbformat.NotebookNode) -> Exercise:
    """The exercise of ``lesson``: the one cell that calls a ``check_*`` function imported from a simlab module."""
    found = []
    for n, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            tree = parse_cell(cell.source, f"{lesson}, cell {n}")
            imported = {alias.asname or alias.name: node.module for node in tree.body
                        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("simlab")
                        for alias in node.names}
            for name, call in checker_calls(tree):
                if name in imported:
                    found.append((n, imported[name], name, call, python_source(cell.source)))
    if len(found) != 1:
        raise EditionError(f"{lesson}: expected one exercise call, found {len(found)}")
    n, module_name, checker, call, source = found[0]
    module = importlib.import_module(module_name)
    function = getattr(module, checker)
    prose = []  # the markdown right before the exercise cell, from its "Exercise" heading on (even mid-cell)
    for cell in reversed(nb.cells[:n]):
        if cell.cell_type != "markdown":
            break
        prose.insert(0, cell.source)
    lines = "\n\n".join(prose).splitlines()
    headings = [i for i, line in enumerate(lines) if re.match(r"#{1,6}\s.*exercise", line, re.IGNORECASE)]
    prose = "\n".join(lines[headings[-1]:]) if headings else (prose[-1] if prose else "")
    title = nb.cells[0].source.splitlines()[0].lstrip("# ").strip() if nb.cells[0].cell_type == "markdown" else lesson
    right, right_source = _first_call_in_text(module.SOLUTION, checker)
    return Exercise(lesson=lesson, title=title, module=module_name, checker=checker, prose=prose,
                    start=ast.get_source_segment(source, call), start_answer=_as_dict(call, source, function),
                    answer=_as_dict(right, right_source, function))


def _nbgrader(grade_id: str, *, solution: bool, grade: bool, points: int = 0, locked: bool = False) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution}
    if grade:
        meta["points"] = points
    return {"nbgrader": meta}


def assignment_notebook(exercise: Exercise, points: int, kernelspec: dict) -> nbformat.NotebookNode:
    """The nbgrader source notebook of one exercise."""
    v4 = nbformat.v4
    e = exercise
    short = e.lesson.split("_")[0]
    header = v4.new_markdown_cell(
        f"# Graded exercise · {e.title}\n\n"
        f"This is the exercise of lesson `{e.lesson}.ipynb`: work through the lesson first, then answer here. "
        f"Your answer is the arguments of `{e.checker}` by name, as a dict: the lesson's starting point "
        f"`{e.start}` is `{e.start_answer}` here. Run the cell to see the checker's feedback, as in the lesson; "
        "the grader runs the same checker on your `answer`.\n\n"
        "*Generated from the lesson by `scripts/editions.py course`; edit the lesson, not this notebook.*",
        id=f"header-{short}", metadata=_nbgrader(f"header_{short}", solution=False, grade=False, locked=True))
    prose = [v4.new_markdown_cell(e.prose, id=f"exercise-{short}")] if e.prose else []
    answer = v4.new_code_cell(
        f"from {e.module} import {e.checker}\n\n"
        f"# answer = {e.start_answer}  # the lesson's starting point: change it until the checker passes\n"
        "### BEGIN SOLUTION\n"
        f"answer = {e.answer}\n"
        "### END SOLUTION\n"
        f"{e.checker}(**answer)",
        id=f"answer-{short}", metadata=_nbgrader(f"answer_{short}", solution=True, grade=False))
    tests = v4.new_code_cell(
        f'assert isinstance(answer, dict), "answer must be a dict of {e.checker}\'s arguments by name"\n'
        "### BEGIN HIDDEN TESTS\n"
        f"import {e.module} as _exercise\n\n"
        f"_feedback = _exercise.{e.checker}(**answer)\n"
        "assert _feedback.passed, str(_feedback)\n"
        "### END HIDDEN TESTS",
        id=f"tests-{short}", metadata=_nbgrader(f"tests_{short}", solution=False, grade=True, points=points,
                                                locked=True))
    nb = v4.new_notebook(cells=[header, *prose, answer, tests],
                         metadata={"kernelspec": kernelspec, "language_info": {"name": "python"}})
    nbformat.validate(nb)
    return nb


def course_sources(root: Path = ROOT, ref: str | None = None) -> dict[str, str]:
    """The course's generated files (path relative to ``course/`` -> text), from the lessons' student editions."""
    files = lesson_files(root, ref)
    solutions = solution_texts()
    out = {}
    for lesson, points in COURSE.items():
        nb = student_edition(read_notebook(files[f"{lesson}.ipynb"]), lesson, solutions).notebook
        exercise = read_exercise(lesson, nb)
        assignment = assignment_notebook(exercise, points, nb.metadata.get("kernelspec", {}))
        out[f"source/{lesson}/{lesson}.ipynb"] = nbformat.writes(assignment) + "\n"
    return out


def write_course(course: Path = COURSE_DIR, check: bool = False) -> list[str]:
    """Write the generated sources (or, with ``check``, list those that differ from the generator's)."""
    stale = []
    for relative, text in course_sources().items():
        path = course / relative
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(relative)
            if not check:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text, encoding="utf-8")
    return stale


def sample_answers(root: Path = ROOT) -> dict[str, dict[str, str]]:
    """Per assignment: the right answer (from SOLUTION) and the lesson's starting point (a wrong one), as source."""
    files = lesson_files(root)
    out = {}
    for lesson in COURSE:
        exercise = read_exercise(lesson, read_notebook(files[f"{lesson}.ipynb"]))
        out[lesson] = {"right": exercise.answer, "wrong": exercise.start_answer}
    return out


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="the student and instructor editions")
    b.add_argument("--out", type=Path, default=ROOT / "build" / "editions")
    b.add_argument("--ref", help="read the lessons as committed at this git ref (default: the working tree)")
    c = sub.add_parser("course", help="the nbgrader course's source notebooks")
    c.add_argument("--check", action="store_true", help="only say whether course/source is up to date")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        if args.command == "build":
            build(args.out, ref=args.ref)
        else:
            stale = write_course(check=args.check)
            if args.check and stale:
                print("out of date (run `python scripts/editions.py course`): " + ", ".join(stale), file=sys.stderr)
                return 1
            print(("up to date" if args.check else f"wrote {len(stale)} file(s)") + f" under {COURSE_DIR}")
    except EditionError as exc:
        print(f"editions: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

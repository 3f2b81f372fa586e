"""Keep simlab's message catalogs in step with the code: ``make catalogs``.

    .venv/bin/python scripts/catalogs.py          # add new message ids to every catalog, untranslated
    .venv/bin/python scripts/catalogs.py --check  # list what is missing or unused; exit 1 if anything is
    .venv/bin/python scripts/catalogs.py --prune  # also drop the ids the code no longer uses
    .venv/bin/python scripts/catalogs.py --merge texts.json  # set texts: {"id": {"en": "...", "ja": "..."}}

The ids are what the code passes to :func:`simlab.i18n.t` and :func:`simlab.i18n.tn`,
found by Babel's Python extractor (``babel.messages.extract.extract_from_dir``)
with those two names as keywords. A :func:`~simlab.i18n.tn` id stands for one
id per plural category of each language (``<id>.one`` and ``<id>.other`` in
English, ``<id>.other`` in Japanese: CLDR's rules, from Babel's locale data).
New ids are added with an empty text and the places that use them as comments;
a translator fills them in. ``tests/test_i18n.py`` runs the same check.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import sys
from collections.abc import Iterable
from pathlib import Path

from babel.core import Locale
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "simlab"
LOCALE_DIR = PACKAGE / "locale"
LANGUAGES = ("en", "ja")
KEYWORDS = {"t": None, "tn": None}


def used_ids() -> dict[str, set[str]]:
    """Every message id the package's code asks for, with the files asking: id -> {"simlab/cli.py", ...}.

    A :func:`~simlab.i18n.tn` id is returned as ``"<id>.*"`` (one per plural category of each language).
    """
    found: dict[str, set[str]] = {}
    plural_calls = _plural_call_ids()
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS, comment_tags=()):
        if not isinstance(message, str) or not message:
            continue
        key = f"{message}.*" if (message, filename, lineno) in plural_calls else message
        found.setdefault(key, set()).add(f"simlab/{filename}")
    return found


def _plural_call_ids() -> set[tuple[str, str, int]]:
    """(id, file, line) of every ``tn(...)`` call (Babel's extractor does not say which keyword matched)."""
    import ast

    calls = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "tn"
                    and node.args and isinstance(node.args[0], ast.Constant)):
                calls.add((node.args[0].value, str(path.relative_to(PACKAGE)), node.lineno))
    return calls


def expected_ids(code: str, used: Iterable[str]) -> set[str]:
    """The ids language ``code``'s catalog must hold for the ``used`` ids."""
    categories = Locale.parse(code).plural_form.tags | {"other"}
    out = set()
    for message_id in used:
        if message_id.endswith(".*"):
            out |= {f"{message_id[:-2]}.{category}" for category in categories}
        else:
            out.add(message_id)
    return out


def read_catalog(code: str) -> Catalog:
    path = LOCALE_DIR / code / "LC_MESSAGES" / "simlab.po"
    if not path.exists():
        return Catalog(locale=code, domain="simlab", project="simlab", version="0.1", fuzzy=False,
                       copyright_holder="the simlab authors", msgid_bugs_address="the simlab issue tracker",
                       header_comment=f"# simlab's learner-facing text in {Locale.parse(code).english_name}.\n"
                                      "# Kept in step with the code by scripts/catalogs.py (make catalogs).")
    with path.open("rb") as po:
        return read_po(po, locale=code, domain="simlab")


def problems(code: str, used: dict[str, set[str]]) -> tuple[list[str], list[str]]:
    """(ids missing or untranslated, ids no code uses) in language ``code``'s catalog."""
    catalog = read_catalog(code)
    wanted = expected_ids(code, used)
    have = {message.id for message in catalog if message.id and message.string}
    present = {message.id for message in catalog if message.id}
    return sorted(wanted - have), sorted(present - wanted)


@contextlib.contextmanager
def _locked():
    """One writer at a time (several people may run ``make catalogs`` or ``--merge`` in one checkout)."""
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALE_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _write(code: str, catalog: Catalog) -> None:
    path = LOCALE_DIR / code / "LC_MESSAGES" / "simlab.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as po:
        write_po(po, catalog, width=120, sort_output=True, omit_header=False, include_lineno=False,
                 ignore_obsolete=True)


def merge(texts: dict[str, dict[str, str]]) -> None:
    """Set the texts ``{"id": {"en": "...", "ja": "..."}}`` in the catalogs, adding ids that are new."""
    with _locked():
        for code in LANGUAGES:
            catalog = read_catalog(code)
            for message_id, by_language in texts.items():
                if code not in by_language:
                    continue
                if message_id in catalog:
                    catalog[message_id].string = by_language[code]
                else:
                    catalog.add(message_id, by_language[code])
            _write(code, catalog)


def prune(used: dict[str, set[str]]) -> list[str]:
    """Drop from every catalog the ids the code no longer uses (a text renamed, a plural made); returns them."""
    dropped = []
    with _locked():
        for code in LANGUAGES:
            catalog = read_catalog(code)
            _missing, unused = problems(code, used)
            for message_id in unused:
                catalog.delete(message_id)
                dropped.append(f"{code}: {message_id}")
            _write(code, catalog)
    return dropped


def update(used: dict[str, set[str]]) -> None:
    """Add every missing id to every catalog (empty text, the places using it as comments); sort by id."""
    with _locked():
        _update(used)


def _update(used: dict[str, set[str]]) -> None:
    for code in LANGUAGES:
        catalog = read_catalog(code)
        places = {}
        for message_id, where in used.items():
            for wanted in expected_ids(code, [message_id]):
                places[wanted] = where
        for message_id in sorted(places):
            if message_id not in catalog:
                catalog.add(message_id, "", auto_comments=sorted(places[message_id]))
        _write(code, catalog)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report; exit 1 on any gap")
    parser.add_argument("--merge", metavar="JSON", help='set texts from {"id": {"en": "...", "ja": "..."}}')
    parser.add_argument("--prune", action="store_true", help="drop the ids the code no longer uses")
    args = parser.parse_args(argv)
    if args.merge:
        merge(json.loads(Path(args.merge).read_text(encoding="utf-8")))
    used = used_ids()
    if not args.check:
        update(used)
        if args.prune:
            for dropped in prune(used):
                print(f"dropped {dropped}")
    failed = False
    for code in LANGUAGES:
        missing, unused = problems(code, used)
        for message_id in missing:
            print(f"{code}: missing or untranslated: {message_id}")
        for message_id in unused:
            print(f"{code}: not used by the code: {message_id}")
        failed |= bool(missing or unused)
    print(f"{len(used)} message ids used by the code")
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())

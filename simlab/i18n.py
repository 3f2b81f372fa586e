"""Learner-facing text in the learner's language: message catalogs keyed by message id.

Every text simlab writes *for a person* - a widget label, a chart title, a
checker's feedback, a :class:`~simlab.errors.ConfigError`, the command line's
help - is looked up here by a message id such as ``"cli.run.help"``. What a
simulated product writes on the wire or in its log is not: an SMTP reply or a
Postfix log line stays exactly as the product wrote it.

* :func:`t` - the text of a message id in the current language, with its
  ``{placeholders}`` filled: ``t("cli.error", message=...)``.
* :func:`tn` - the same for a text that depends on a count: the id gets the
  count's CLDR plural category (``"<id>.one"``/``"<id>.other"`` in English; Japanese
  has ``"<id>.other"`` only), from Babel's plural rules for the language.
* :func:`set_language` - ``"en"`` (the default) or ``"ja"``; the environment
  variable ``SIMLAB_LANG`` (``ja``, ``ja_JP.UTF-8``, ...) sets the language a
  new process starts in; without it, a file ``.simlab-language`` in the working
  directory does (a notebook's kernel starts in the notebook's directory, and
  ``notebooks/ja/.simlab-language`` says ``ja``). What is built after a switch (a panel, a figure, an
  error) speaks the new language; what was built before keeps its words.

The catalogs are gettext ``.po`` files, ``simlab/locale/<language>/LC_MESSAGES/simlab.po``,
read with Babel's public API (``babel.messages.pofile.read_po``, ``babel.messages.mofile.write_mo``)
and served by the standard library's :class:`gettext.GNUTranslations`. A message id missing from the
current language falls back to English with a :class:`MissingMessage` warning;
one missing from English too is shown as the id itself, so a lesson never stops
on a missing text (``tests/test_i18n.py`` fails on either). ``make catalogs``
(``scripts/catalogs.py``) extracts the ids the code uses with Babel's extractor
(keywords ``t`` and ``tn``) and adds the new ones to both catalogs, untranslated.
"""

from __future__ import annotations

import gettext
import io
import os
import warnings
from collections.abc import Callable, Mapping
from functools import cache
from pathlib import Path

__all__ = ["LANGUAGES", "ENVIRONMENT_VARIABLE", "LANGUAGE_FILE", "MissingMessage", "language", "set_language",
           "t", "tn", "catalog_path", "parse_language", "plural_id", "LazyTexts"]

#: The languages simlab speaks, English first (the default and the fallback).
LANGUAGES = ("en", "ja")
#: The environment variable a process reads its starting language from.
ENVIRONMENT_VARIABLE = "SIMLAB_LANG"
#: A file in the working directory naming the language a kernel started there speaks: the Japanese lessons'
#: directory ``notebooks/ja`` holds one (``ja``), so their code cells are the English lessons' cells, unchanged.
LANGUAGE_FILE = ".simlab-language"
#: The gettext domain of simlab's catalogs.
DOMAIN = "simlab"
LOCALE_DIR = Path(__file__).with_name("locale")


class MissingMessage(UserWarning):
    """A message id has no text in the current language's catalog (a gap a test should have caught)."""


def catalog_path(code: str) -> Path:
    """The ``.po`` file of language ``code``."""
    return LOCALE_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"


def parse_language(text: str, setting: str = "language") -> str:
    """``"ja"``, ``"ja_JP.UTF-8"``, ``"JA-jp"`` -> ``"ja"``; anything simlab does not speak is a ConfigError."""
    from simlab.errors import ConfigError

    code = str(text).strip().replace("-", "_").split(".")[0].split("_")[0].lower()
    if code not in LANGUAGES:
        raise ConfigError(setting, text, t("i18n.error.not_a_language"),
                          t("expected.one_of", choices=", ".join(LANGUAGES)))
    return code


def _starting_language() -> str:
    """``SIMLAB_LANG``, else the :data:`LANGUAGE_FILE` of the working directory, else English."""
    value, source = os.environ.get(ENVIRONMENT_VARIABLE, "").strip(), ENVIRONMENT_VARIABLE
    if not value:
        marker = Path.cwd() / LANGUAGE_FILE
        try:
            value, source = marker.read_text(encoding="utf-8").strip(), str(marker)
        except OSError:
            return LANGUAGES[0]
    try:
        return parse_language(value, source)
    except ValueError as exc:
        warnings.warn(f"{exc}; speaking English", MissingMessage, stacklevel=2)
        return LANGUAGES[0]


_current: str | None = None  # read from SIMLAB_LANG when first needed (its error message needs this module)


def language() -> str:
    """The current language code."""
    global _current
    if _current is None:
        _current = LANGUAGES[0]  # while SIMLAB_LANG is read, its own error message is in English
        _current = _starting_language()
    return _current


def set_language(code: str) -> str:
    """Speak ``code`` (``"en"`` or ``"ja"``, or a locale name such as ``"ja_JP.UTF-8"``) from now on.

    Returns the language code now in use. Panels, figures and messages built after the call use it.
    """
    global _current
    _current = parse_language(code)
    return _current


@cache
def _translations(code: str) -> gettext.GNUTranslations:
    """Language ``code``'s catalog, compiled in memory from its ``.po`` file (read once per process)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with catalog_path(code).open("rb") as po:
        catalog = read_po(po, locale=code, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


@cache
def _plural_rule(code: str):
    from babel.core import Locale

    return Locale.parse(code).plural_form


def plural_id(message_id: str, count: int, code: str) -> str:
    """The id :func:`tn` looks up for ``count`` in language ``code``: ``"<id>.<CLDR category>"``."""
    return f"{message_id}.{_plural_rule(code)(abs(count))}"


def _lookup(message_id: str, count: int | None) -> str:
    for code in dict.fromkeys((language(), LANGUAGES[0])):
        wanted = message_id if count is None else plural_id(message_id, count, code)
        text = _translations(code).gettext(wanted)
        if text != wanted:
            return text
        warnings.warn(f"message id {message_id!r} has no text in the {code!r} catalog", MissingMessage,
                      stacklevel=3)
    return message_id


def t(message_id: str, /, **params: object) -> str:
    """The text of ``message_id`` in the current language, ``{name}`` placeholders filled from ``params``."""
    text = _lookup(message_id, None)
    return text.format(**params) if params else text


def tn(message_id: str, count: int, /, **params: object) -> str:
    """The text of ``message_id`` for ``count`` things, ``{count}`` filled in too: ``tn("cli.seeds", 3)``."""
    return _lookup(message_id, int(count)).format(count=count, **params)


class LazyTexts(Mapping[str, str]):
    """A read-only mapping whose texts are looked up when read: ``{key: lambda: t("id")}``.

    ``DEFENCES["none"]`` is the text in the language current at that moment, however early the mapping
    was imported; keys and order are fixed. ``texts | {...}`` makes a new one (plain values stay as given).
    """

    def __init__(self, lookups: Mapping[str, Callable[[], str]]) -> None:
        self._lookups = dict(lookups)

    def __getitem__(self, key: str) -> str:
        return self._lookups[key]()

    def __iter__(self):
        return iter(self._lookups)

    def __len__(self) -> int:
        return len(self._lookups)

    def __or__(self, other: Mapping[str, object]) -> LazyTexts:
        more = other._lookups if isinstance(other, LazyTexts) else {k: (lambda v=v: v) for k, v in other.items()}
        return type(self)({**self._lookups, **more})

    def __repr__(self) -> str:
        return repr(dict(self.items()))

"""fail2ban's stock filters, read the way fail2ban reads them.

simlab ships Debian's copies of fail2ban's ``filter.d/dovecot.conf``,
``postfix.conf``, ``exim.conf`` and the files they include
(``simlab/data/fail2ban/``, fail2ban 1.0.2, GPL-2+). :func:`load_filter`
turns one of them into the regular expressions fail2ban itself would use:

* ``[INCLUDES]`` ``before``/``after`` are read first/last, recursively, with a
  ``.local`` beside any file that has one (fail2ban's order);
* options come from ``[Definition]`` and ``[DEFAULT]`` with fail2ban's
  ``%(name)s`` and ``%(section/name)s`` interpolation (Python's
  :mod:`configparser` with an :class:`configparser.Interpolation` of our own);
* ``<tag>`` substitution as fail2ban's ``substituteRecursiveTags`` does it,
  with the init options (``mode``, ``logtype``) first: ``<mdre-<mode>>``,
  ``<lt_<logtype>/__prefix_line>``; tags that name no option (``<HOST>``,
  ``<F-CONTENT>``) are left for the regex step;
* each regex: ``<HOST>`` (address or name), ``<ADDR>``, ``<IP4>``, ``<IP6>``,
  ``<DNS>``, ``<CIDR>``, ``<SUBNET>``, ``<F-ID/>``, ``<F-PORT/>`` and
  ``<F-NAME>...</F-NAME>`` groups as fail2ban expands them, global flags such
  as ``((?i)LOGIN|...)`` made local (``(?i:LOGIN|...)``), as fail2ban does;
* matching: the leading date is cut out (fail2ban's ``{^LN-BEG}`` date
  templates; the forms simlab writes: syslog ``Jun 11 01:25:32`` and Exim's
  ``2023-06-11 01:25:32``; unlike fail2ban, whose ``ExYear`` takes only
  years near today's, any year), ``prefregex`` is searched first and its
  ``<F-CONTENT>`` becomes the text the ``failregex`` lines are searched in;
  ``ignoreregex`` drops a match.

What is left out: multi-line filters (``maxlines``, ``<SKIPLINES>``,
``mlfid``), DNS resolution of a ``<HOST>`` that matched a name, the journal
(``logtype = journal``) and date templates other than the two above.
``tests/test_fail2ban_regex.py`` compares this reader with the real
``fail2ban-regex`` on simlab's logs.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from simlab.errors import ConfigError
from simlab.i18n import t

__all__ = ["FILTER_DIR", "FAIL2BAN_VERSION", "Fail2BanFilter", "StockFilter", "load_filter", "strip_date",
           "filter_names"]

#: Where the copied stock filters are.
FILTER_DIR = Path(__file__).resolve().parent.parent / "data" / "fail2ban" / "filter.d"
#: The Debian package they come from.
FAIL2BAN_VERSION = "1.0.2-2"

# --- fail2ban's host expressions (fail2ban/server/failregex.py, ipdns.py) --------------------------------
_IP4 = r"(?:\d{1,3}\.){3}\d{1,3}"
_IP6 = r"(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)"
_R_IP4 = rf"(?:::f{{4,6}}:)?(?P<ip4>{_IP4})"
_R_IP6 = rf"(?P<ip6>{_IP6})"
_R_DNS = r"(?P<dns>[\w\-.^_]*\w)"
_R_ADDR = rf"\[?(?:{_R_IP4}|{_R_IP6})\]?"
_R_CIDR = r"(?P<cidr>\d+)"
_STATIC_TAGS = {
    "IP4": _R_IP4, "F-IP4/": _R_IP4, "IP6": _R_IP6, "F-IP6/": _R_IP6, "ADDR": _R_ADDR, "F-ADDR/": _R_ADDR,
    "CIDR": _R_CIDR, "F-CIDR/": _R_CIDR,
    "SUBNET": rf"\[?(?:{_R_IP4}|{_R_IP6})(?:/{_R_CIDR})?\]?",
    "F-SUBNET/": rf"\[?(?:{_R_IP4}|{_R_IP6})(?:/{_R_CIDR})?\]?",
    "DNS": _R_DNS, "F-DNS/": _R_DNS, "F-ID/": r"(?P<fid>\S+)", "F-PORT/": r"(?P<fport>\w+)",
}
_GROUP_NAMES = {"id": "fid", "port": "fport"}
_REGEX_TAG = re.compile(r"</?[\w\-]+/?>")
_CUSTOM_TAG = re.compile(r"^(/?)F-([A-Z0-9_\-]+)$")
_GLOBAL_FLAGS = re.compile(r"(?<!\\)\((?:\?:)?(\(\?[a-z]+)\)")
_OPTION_TAG = re.compile(r"<([^ <>]+)>")
_SECTION_OPTION = re.compile(r"^([\w\-]+)/([^\s>]+)$")
_MAX_REPLACEMENTS = 50

#: The leading dates fail2ban's default ``{^LN-BEG}`` templates find in the lines simlab writes.
_DATE = re.compile(r"^(?:(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) )?[A-Z][a-z]{2} +\d{1,2} \d{1,2}:\d{2}:\d{2}(?:\.\d+)?"
                   r"|^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?")


def strip_date(line: str) -> str:
    """The line without its leading date, as fail2ban searches it (``" mail dovecot: ..."``)."""
    return _DATE.sub("", line, count=1)


def filter_names() -> tuple[str, ...]:
    """The stock filters simlab ships (``"dovecot"``, ``"postfix"``, ...)."""
    return tuple(sorted(p.stem for p in FILTER_DIR.glob("*.conf")))


class _Fail2BanInterpolation(configparser.Interpolation):
    """``%(name)s`` as in fail2ban, where ``name`` may be ``section/option`` (fail2ban's
    ``BasicInterpolationWithName``); ``%%`` is a ``%``."""

    _REFERENCE = re.compile(r"%\(([^)]+)\)s|%%")

    def before_get(self, parser, section, option, value, defaults):
        return self._expand(parser, value, defaults, 0)

    def _expand(self, parser, value, defaults, depth):
        if depth > configparser.MAX_INTERPOLATION_DEPTH:
            raise configparser.InterpolationDepthError("?", "?", value)

        def replace(match: re.Match) -> str:
            if match.group(0) == "%%":
                return "%"
            name = match.group(1)
            sopt = _SECTION_OPTION.match(name)
            if sopt and parser.optionxform(name) not in defaults:
                section, option = sopt.groups()
                section = "DEFAULT" if section.lower() == "default" else section
                raw = parser.get(section, option, raw=True)
            else:
                try:
                    raw = defaults[parser.optionxform(name)]
                except KeyError:
                    raise configparser.InterpolationMissingOptionError("?", "?", value, name) from None
            return self._expand(parser, raw, defaults, depth + 1)

        return self._REFERENCE.sub(replace, value)


def _parser(interpolation: configparser.Interpolation | None) -> configparser.ConfigParser:
    return configparser.ConfigParser(interpolation=interpolation, inline_comment_prefixes=(";",), strict=False,
                                     empty_lines_in_values=False)


def _included(path: Path, seen: tuple[Path, ...] = ()) -> list[Path]:
    """``path`` with its ``before``/``after`` includes, recursively, in fail2ban's reading order."""
    if path in seen or not path.is_file():
        return []
    files = [path]
    local = path.with_suffix(".local")
    if local.is_file():
        files.append(local)
    out: list[Path] = []
    after: list[Path] = []
    for file in files:
        own = _parser(None)
        own.read(file, encoding="utf-8")
        for option, into in (("before", out), ("after", after)):
            if own.has_option("INCLUDES", option):
                for name in own.get("INCLUDES", option).split("\n"):
                    if name.strip():
                        into.extend(_included(file.parent / name.strip(), (*seen, path)))
    return [*out, *files, *after]


@dataclass(frozen=True)
class Fail2BanFilter:
    """A stock filter turned into regexes: ``prefregex`` (or None), ``failregex`` and ``ignoreregex`` lists,
    as fail2ban would compile them, and the source text of each."""

    name: str
    mode: str
    prefregex: re.Pattern | None
    failregex: tuple[re.Pattern, ...]
    ignoreregex: tuple[re.Pattern, ...] = ()
    files: tuple[str, ...] = ()
    options: Mapping[str, str] = field(default_factory=dict)

    def match(self, line: str) -> dict[str, str | None] | None:
        """The named groups of the first failregex matching ``line`` (a whole log line with its date),
        ``prefregex`` groups included; None when no failregex matches or an ignoreregex does."""
        text = strip_date(line.rstrip("\r\n")) + "\n"
        if self.ignoreregex and len(self.ignoreregex) < len(self.failregex) - 2:
            if any(r.search(text) for r in self.ignoreregex):
                return None
        groups: dict[str, str | None] = {}
        if self.prefregex is not None:
            pre = self.prefregex.search(text)
            if pre is None:
                return None
            groups = pre.groupdict()
            content = groups.pop("content", None)
            if content:
                text = content + "\n"
        for regex in self.failregex:
            found = regex.search(text)
            if found is None:
                continue
            if any(r.search(text) for r in self.ignoreregex):
                return None
            return {**groups, **found.groupdict()}
        return None

    def host(self, line: str) -> str | None:
        """The address (or host name) ``line`` reports a failure for, else None."""
        groups = self.match(line)
        if groups is None:
            return None
        return groups.get("ip4") or groups.get("ip6") or groups.get("dns")


def _compile(regex: str, source: str) -> re.Pattern:
    """fail2ban's ``Regex``: tags to groups, global flags to local ones."""
    opened: set[str] = set()

    def tag(match: re.Match) -> str:
        text = match.group()
        name = text[1:-1]
        if name == "HOST":
            return rf"(?:{_R_ADDR}|{_R_DNS})"
        if name in _STATIC_TAGS:
            return _STATIC_TAGS[name]
        custom = _CUSTOM_TAG.match(name)
        if custom:
            closing, group = custom.groups()
            if closing:
                return ")" if group in opened else text
            opened.add(group)
            group = group.lower()
            return f"(?P<{_GROUP_NAMES.get(group, group)}>"
        return text

    expanded = _GLOBAL_FLAGS.sub(r"\1:", _REGEX_TAG.sub(tag, regex))
    try:
        return re.compile(expanded)
    except re.error as exc:  # pragma: no cover - the shipped filters compile
        raise ConfigError(source, regex, t("restriction.fail2ban.error.does_not_compile", reason=exc),
                          t("restriction.fail2ban.expected.filter")) from None


def _substitute(values: dict[str, str], init: Mapping[str, str], lookup) -> dict[str, str]:
    """fail2ban's ``substituteRecursiveTags`` for ``values``: ``<tag>`` replaced by the init option, another
    value or ``lookup(tag)``; tags naming nothing stay."""
    tags = {**values, **init}
    out: dict[str, str] = {}
    for key, value in values.items():
        counts: dict[str, int] = {}
        changed = True
        while changed:  # again while a replacement made a new tag (``<lt_<logtype>/...>``)
            changed = False
            match = _OPTION_TAG.search(value)
            while match:
                name = match.group(1)
                replacement = tags.get(name)
                if replacement is None:
                    replacement = lookup(name)
                if replacement is None:
                    match = _OPTION_TAG.search(value, match.end())
                    continue
                counts[name] = counts.get(name, 0) + 1
                if name == key or counts[name] > _MAX_REPLACEMENTS:
                    raise ConfigError(key, value, t("restriction.fail2ban.error.refers_to_itself"),
                                      t("restriction.fail2ban.expected.tags"))
                value = value.replace(f"<{name}>", replacement)
                changed = True
                match = _OPTION_TAG.search(value, match.start())
        out[key] = value
    return out


@lru_cache(maxsize=64)
def _load(name: str, init: tuple[tuple[str, str], ...]) -> Fail2BanFilter:
    path = Path(name) if name.endswith(".conf") else FILTER_DIR / f"{name}.conf"
    if not path.is_file():
        raise ConfigError("filter", name, t("restriction.fail2ban.error.not_shipped"),
                          t("expected.one_of", choices=list(filter_names())))
    files = _included(path)
    config = _parser(_Fail2BanInterpolation())
    for file in files:
        config.read(file, encoding="utf-8")
    options = dict(init)
    section = "Definition"

    def get(option: str) -> str | None:
        sopt = _SECTION_OPTION.match(option)
        try:
            if sopt:
                sec, opt = sopt.groups()
                if sec.lower() != "known":
                    sec = "DEFAULT" if sec.lower() == "default" else sec
                    if config.has_section(sec) or sec == "DEFAULT":
                        try:
                            return config.get(sec, opt)
                        except (configparser.NoOptionError, configparser.NoSectionError):
                            pass
            return config.get(section, option, vars=options)
        except (configparser.Error, ValueError, KeyError):
            return None

    wanted = {key: get(key) for key in ("prefregex", "failregex", "ignoreregex")}
    values = _substitute({k: v for k, v in wanted.items() if v is not None}, options, get)
    prefregex = values.get("prefregex")
    mode = options.get("mode") or get("mode") or ""
    source = path.stem

    def regexes(key: str) -> tuple[re.Pattern, ...]:
        return tuple(_compile(line, f"{source}.{key}") for line in values.get(key, "").split("\n") if line != "")

    return Fail2BanFilter(name=source, mode=mode, prefregex=_compile(prefregex, f"{source}.prefregex")
                          if prefregex else None, failregex=regexes("failregex"), ignoreregex=regexes("ignoreregex"),
                          files=tuple(f.name for f in files), options=values)


def load_filter(name: str, mode: str | None = None, **init: str) -> Fail2BanFilter:
    """A stock filter (``"postfix"``, ``"dovecot"``, ``"exim"``, or a path to a ``.conf``) as fail2ban reads it;
    ``mode`` and other ``init`` options are what a jail writes as ``filter = postfix[mode=auth]``."""
    if mode is not None:
        init["mode"] = mode
    return _load(name, tuple(sorted(init.items())))


class StockFilter(str):
    """A registry entry that points to a stock fail2ban filter.

    The string itself is one regular expression with ``<HOST>`` (the filter's ``prefregex`` with the
    ``failregex`` line that reads this event put in place of ``<F-CONTENT>``), for readers that search whole
    log lines; :class:`~simlab.restrictions.guards.Fail2Ban` given this entry uses the whole filter
    (:meth:`load`), every failregex of its mode, as fail2ban does.
    """

    filter: str
    mode: str | None
    line: int

    def __new__(cls, name: str, mode: str | None = None, line: int = 0) -> StockFilter:
        loaded = load_filter(name, mode)
        failregex = [r for r in loaded.options.get("failregex", "").split("\n") if r]
        chosen = failregex[line].removeprefix("^")
        prefix = loaded.options.get("prefregex", "")
        text = (prefix.removeprefix("^").replace("<F-CONTENT>.+</F-CONTENT>", chosen) if prefix else chosen)
        text = _CUSTOM_GROUPS.sub(_custom_group, _GLOBAL_FLAGS.sub(r"\1:", text))
        self = super().__new__(cls, text)
        self.filter, self.mode, self.line = name, mode, line
        return self

    def __reduce__(self):
        return (StockFilter, (self.filter, self.mode, self.line))

    @property
    def spec(self) -> str:
        """As a jail names it: ``postfix[mode=auth]``."""
        return f"{self.filter}[mode={self.mode}]" if self.mode else self.filter

    def load(self) -> Fail2BanFilter:
        return load_filter(self.filter, self.mode)


_CUSTOM_GROUPS = re.compile(r"</?F-([A-Z0-9_\-]+)>")


def _custom_group(match: re.Match) -> str:
    if match.group().startswith("</"):
        return ")"
    group = match.group(1).lower()
    return f"(?P<{_GROUP_NAMES.get(group, group)}>"

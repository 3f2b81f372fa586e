"""SPF, the Sender Policy Framework (RFC 7208): may this client send mail for this domain?

A domain publishes, in a DNS TXT record, the list of hosts allowed to send its mail
(``v=spf1 mx -all``: "my MX hosts, and nobody else"). A receiving server asks
:func:`check_host` with the client's address, the envelope sender (``MAIL FROM``) and the
``HELO`` name, and gets one of seven results: ``pass``, ``fail``, ``softfail``, ``neutral``,
``none``, ``permerror`` or ``temperror``. The DNS is data (a mapping of names to records, see
:func:`check_host`), so a check is a pure function of its inputs.

RFC 7208 sections followed:

* §2.4 the null sender (``MAIL FROM:<>``) is checked as ``postmaster@<HELO name>``;
  §4.3 a malformed or single-label domain gives ``none``; a sender without a local-part
  is ``postmaster``.
* §4.4, §4.5 record lookup and selection: TXT records only (§3.1, §14.1: type SPF (99) is
  not queried); character-strings are joined without separator (§3.3); ``v=spf1`` is
  case-insensitive and must end the record or be followed by a space; two SPF records are a
  ``permerror``; a timeout is a ``temperror``.
* §4.6, §12 (ABNF): the whole record is checked before evaluation, so a syntax error anywhere is a
  ``permerror``: terms separated by spaces only, printable ASCII only, mechanism and modifier
  names case-insensitive, ``redirect=`` and ``exp=`` at most once, unknown modifiers ignored
  but their macro syntax checked.
* §4.6.4 limits: at most 10 terms that query DNS (``include``, ``a``, ``mx``, ``ptr``,
  ``exists``, ``redirect``) in the whole check, at most 2 void lookups (no answer, or the
  name does not exist), more than 10 MX names is a ``permerror``, only the first 10 PTR
  names are used.
* §5 mechanisms ``all``, ``include`` (§5.2 result mapping: pass matches; fail, softfail and
  neutral do not; temperror and permerror propagate; none becomes permerror), ``a``, ``mx``
  (dual CIDR lengths ``/24//64``; §5.4 no implicit MX), ``ptr`` (§5.5 validated names),
  ``ip4``, ``ip6``, ``exists`` (always an A query); §5 an IPv4-mapped IPv6 client
  (``::ffff:192.0.2.1``) is an IPv4 client: it matches ``ip4`` and never ``ip6``.
* §6.1 ``redirect=`` (used only when no mechanism matched; none becomes permerror),
  §6.2 ``exp=`` (only for ``fail``; ignored on any DNS trouble, on zero or several TXT
  records, non-ASCII text or a macro error; the record that decided supplies it, so an
  included record's ``exp=`` is never used and a redirect replaces the first record's).
* §7 macros: letters ``s l o d i p v h`` everywhere and ``c r t`` in explanations only, upper
  case URL-escapes (RFC 3986 unreserved characters kept), transformers (digits, ``r``) and
  delimiters ``.-+,/_=``, ``%%``, ``%_``, ``%-``; an expanded domain name loses its trailing
  dot and, past 253 characters, its leftmost labels.

Deliberate choices where the RFC leaves room (each a modelling choice):

* A target name that cannot be put in a DNS query (an empty label, a label over 63 characters)
  matches nothing, like a name that does not exist, and is not counted as a void lookup;
  RFC 7208 leaves this undefined and the test suite accepts ``fail`` or ``permerror``.
* Lookups that return nothing for ``ptr`` (a spammer's missing reverse DNS), for the hosts of an
  ``mx``, for ``%{p}`` and for ``exp=`` are not counted as void lookups: the domain owner has no
  control over them. The ``a``, ``mx`` and ``exists`` queries are counted.
* A CNAME loop is a DNS error: ``temperror`` where a lookup error is one, skipped while
  validating PTR names (§5.5).
* ``%{i}`` writes an IPv6 address as upper-case nibbles, as the suite's ``v-macro-ip6`` test
  expects; ``%{c}`` writes RFC 5952 text (lower case).
* ``%{p}`` prefers the checked domain itself, then one of its subdomains, then the first other
  validated name (§7.3 "SHOULD"); no validated name gives ``unknown``.
* A sender without ``@`` is taken as a domain with the local-part ``postmaster``; a domain that is
  not ASCII (an IDN not written as A-labels) is malformed (``none``).
* ``now`` (``%{t}``) defaults to :data:`DEFAULT_NOW`, 1998-06-01T00:00:00Z (the month of the
  forum thread), so every run is the same; the default explanation is
  :data:`DEFAULT_EXPLANATION`.

For a receiver that checks many messages against one DNS (a run of the simulation),
:class:`SpfChecker` reads and indexes the DNS once and remembers each result by its arguments;
:func:`check_host` is one check from scratch. Both give the same results. Parsed records are kept by
their text.

The official test suite (``tests/data/rfc7208-tests.yml``, openspf.org release 2014.04 as pyspf
2.0.14 ships it) passes in full: ``tests/test_spf_rfc7208.py``.

>>> dns = {"example.com": [("TXT", "v=spf1 mx -all"), ("MX", (10, "mail.example.com"))],
...        "mail.example.com": [("A", "192.0.2.25")]}
>>> check_host("192.0.2.25", "bob@example.com", "mail.example.com", dns)
SpfResult('pass', mechanism='mx', domain='example.com', lookups=1)
>>> spoofed = check_host("203.0.113.50", "Postmaster@example.com", "mail.example.com", dns)
>>> spoofed == "fail", spoofed.mechanism
(True, '-all')
>>> spoofed.reason
"example.com does not allow 203.0.113.50 to send its mail ('-all' matched)."
"""

from __future__ import annotations

import copy
import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import quote

from simlab.errors import ConfigError
from simlab.i18n import language, t

__all__ = [
    "DEFAULT_EXPLANATION", "DEFAULT_NOW", "DNS_TERM_LIMIT", "MX_LIMIT", "PTR_LIMIT", "RESULTS", "TIMEOUT",
    "VOID_LOOKUP_LIMIT", "SpfChecker", "SpfResult", "check_host",
]

RESULTS = ("pass", "fail", "softfail", "neutral", "none", "permerror", "temperror")
"""The seven results of RFC 7208 §2.6."""

DNS_TERM_LIMIT = 10  # RFC 7208 §4.6.4: terms that cause DNS queries, per check
VOID_LOOKUP_LIMIT = 2  # RFC 7208 §4.6.4: the RECOMMENDED default
MX_LIMIT = 10  # RFC 7208 §4.6.4: more MX names than this is a permerror
PTR_LIMIT = 10  # RFC 7208 §4.6.4: PTR names past the tenth are ignored

DEFAULT_NOW = 896659200
"""``%{t}`` when ``now`` is not given: 1998-06-01T00:00:00Z, the month of the forum thread."""

DEFAULT_EXPLANATION = "domain of %{o} does not designate %{c} as permitted sender"
"""The explanation of a ``fail`` when the record has no usable ``exp=`` (RFC 7208 §6.2 leaves it to
the implementation). A modelling choice: the words of the comment pyspf 2.0.14 writes in its
Received-SPF header for a fail (``spf.py``, ``query.get_header_comment``)."""


class _Timeout:
    """The marker :data:`TIMEOUT`: a DNS value meaning "this lookup times out"."""

    __slots__ = ()
    _instance: _Timeout | None = None

    def __new__(cls) -> _Timeout:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "TIMEOUT"

    def __reduce__(self) -> str:
        return "TIMEOUT"


TIMEOUT = _Timeout()
"""In ``dns``: ``{name: TIMEOUT}`` (every query for the name times out), ``(rtype, TIMEOUT)``
(queries of that type time out) or a bare ``TIMEOUT`` / ``("TIMEOUT", None)`` in a record list
(queries for a type the list has no record of time out, as a server that drops them)."""


class SpfResult(str):
    """One of :data:`RESULTS`, with what led to it.

    Attributes:
        explanation: for ``fail``, the expanded ``exp=`` text or the default explanation; else None.
        mechanism: the term that matched, as written (``-all``, ``include:_spf.example.com``), or None.
        domain: the domain checked (the sender's, or the HELO name for the null sender).
        lookups: the DNS-querying terms counted (RFC 7208 §4.6.4).
        reason: one plain sentence saying why, for learners, in the language current when the check ran
            (:mod:`simlab.i18n`); the words on the wire and in logs never come from it.
    """

    _FIELDS = ("explanation", "mechanism", "domain", "lookups", "reason")

    def __new__(cls, value: str, *, explanation: str | None = None, mechanism: str | None = None,
                domain: str = "", lookups: int = 0, reason: str = "") -> SpfResult:
        if value not in RESULTS:
            raise ConfigError("result", value, t("spf.error.not_a_result"),
                              t("expected.one_of", choices=", ".join(RESULTS)))
        self = super().__new__(cls, value)
        self.explanation = explanation
        self.mechanism = mechanism
        self.domain = domain
        self.lookups = lookups
        self.reason = reason
        return self

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, object]]:
        return (str(self),), {name: getattr(self, name) for name in self._FIELDS}

    def __repr__(self) -> str:
        return (f"SpfResult({str(self)!r}, mechanism={self.mechanism!r}, domain={self.domain!r}, "
                f"lookups={self.lookups})")


# --------------------------------------------------------------------------- the DNS, as data

_RTYPES = frozenset({"A", "AAAA", "MX", "TXT", "PTR", "CNAME", "SPF"})
_CNAME_CHAIN_LIMIT = 16  # modelling choice: resolvers give up on longer chains


class _DnsError(Exception):
    """A lookup that timed out (or a CNAME loop): not an answer."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)


@dataclass
class _Node:
    records: dict[str, list] = field(default_factory=dict)
    timeouts: set[str] = field(default_factory=set)
    timeout_others: bool = False


def _norm(name: str) -> str:
    name = name.lower()
    return name[:-1] if name.endswith(".") else name


def _is_timeout(value: object) -> bool:
    return value is TIMEOUT or (type(value) is str and value == "TIMEOUT")


class _Zone:
    """The ``dns`` mapping, checked and indexed by lower-case name (RFC 4343: names are case-insensitive)."""

    def __init__(self, dns: Mapping) -> None:
        if not isinstance(dns, Mapping):
            raise ConfigError("dns", dns, t("spf.error.not_a_mapping"), t("spf.expected.dns"))
        self._nodes: dict[str, _Node | _Timeout] = {}
        for key, entry in dns.items():
            if not isinstance(key, str):
                raise ConfigError("dns", key, t("address.error.not_a_domain"), t("spf.expected.name_keys"))
            name = _norm(key)
            if _is_timeout(entry):
                self._nodes[name] = TIMEOUT
                continue
            node = self._nodes.setdefault(name, _Node())
            if node is TIMEOUT:
                continue
            if isinstance(entry, str | bytes) or not isinstance(entry, Sequence):
                raise ConfigError(f"dns[{key!r}]", entry, t("spf.error.not_records"), t("spf.expected.records"))
            for item in entry:
                self._add(node, key, item)

    def query(self, name: str, rtype: str) -> list | None:
        """Records of ``rtype`` at ``name``, following CNAMEs: a list (empty: no data) or None (NXDOMAIN).

        Raises _DnsError for a timeout or a CNAME loop (RFC 1034 §3.6.2: loops are an error).
        """
        current = _norm(name)
        seen: set[str] = set()
        while True:
            node = self._nodes.get(current)
            if node is None:
                return None
            if node is TIMEOUT or rtype in node.timeouts:
                raise _DnsError(t("spf.dns.timed_out", rtype=rtype, name=current))
            found = node.records.get(rtype)
            if found:
                return list(found)
            cnames = node.records.get("CNAME")
            if cnames and rtype != "CNAME":
                seen.add(current)
                current = _norm(cnames[0])
                if current in seen or len(seen) > _CNAME_CHAIN_LIMIT:
                    raise _DnsError(t("spf.dns.cname_loop", rtype=rtype, name=name))
                continue
            if node.timeout_others:
                raise _DnsError(t("spf.dns.timed_out", rtype=rtype, name=current))
            return []

    @staticmethod
    def _add(node: _Node, key: str, item: object) -> None:
        field_name = f"dns[{key!r}]"
        if _is_timeout(item):
            node.timeout_others = True
            return
        if isinstance(item, str | bytes) or not isinstance(item, Sequence) or len(item) != 2:
            raise ConfigError(field_name, item, t("spf.error.not_a_record"), t("spf.expected.record"))
        rtype, value = item
        if _is_timeout(rtype):
            node.timeout_others = True
            return
        if not isinstance(rtype, str) or rtype.upper() not in _RTYPES:
            raise ConfigError(field_name, rtype, t("spf.error.not_a_type"),
                              t("expected.one_of", choices=", ".join(sorted(_RTYPES))))
        rtype = rtype.upper()
        if value is TIMEOUT:
            node.timeouts.add(rtype)
            return
        node.records.setdefault(rtype, []).append(_record_value(field_name, rtype, value))


def _record_value(field_name: str, rtype: str, value: object) -> object:
    """A zone-data value in the form lookups use: addresses, (preference, host), tuples of strings, names."""
    if rtype in ("A", "AAAA"):
        kind = ipaddress.IPv4Address if rtype == "A" else ipaddress.IPv6Address
        try:
            return kind(str(value))
        except ValueError:
            raise ConfigError(field_name, value, t("spf.error.not_an_value", rtype=rtype),
                              t("spf.expected.ipv4") if rtype == "A" else t("spf.expected.ipv6")) from None
    if rtype == "MX":
        if isinstance(value, str):
            value = tuple(value.split())
        if (isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 2
                and isinstance(value[1], str) and not isinstance(value[0], bool)
                and (isinstance(value[0], int) or (isinstance(value[0], str) and value[0].isdigit()))
                and 0 <= int(value[0]) <= 65535):
            return int(value[0]), value[1]
        raise ConfigError(field_name, value, t("spf.error.not_an_value", rtype=rtype), t("spf.expected.mx"))
    if rtype in ("TXT", "SPF"):
        strings = (value,) if isinstance(value, str | bytes) else value
        if isinstance(strings, Sequence) and all(isinstance(s, str | bytes) for s in strings):
            # RFC 7208 §3.3: a record is one or more character-strings; bytes are taken octet for octet.
            return tuple(s.decode("latin-1") if isinstance(s, bytes) else s for s in strings)
        raise ConfigError(field_name, value, t("spf.error.not_a_value", rtype=rtype), t("spf.expected.strings"))
    if not isinstance(value, str):  # PTR, CNAME
        raise ConfigError(field_name, value, t("spf.error.not_a_value", rtype=rtype), t("spf.expected.domain"))
    return value


def _queryable(name: str) -> bool:
    """Whether ``name`` can be put in a DNS query (RFC 1035 §2.3.4: labels of 1-63 octets, 253 in all)."""
    name = name[:-1] if name.endswith(".") else name
    return 0 < len(name) <= 253 and all(0 < len(label) <= 63 for label in name.split("."))


# --------------------------------------------------------------------------- record syntax (RFC 7208 §12)

class _PermError(Exception):
    """A permanent error: the record is broken or a limit was exceeded."""


class _TempError(Exception):
    """A transient error: a DNS lookup timed out."""


_LETTERS = "slodiphv"  # RFC 7208 §7.2 macro-letter
_EXP_LETTERS = _LETTERS + "crt"  # RFC 7208 §7.2: c, r, t only in explanation strings
_MACRO_EXPAND = re.compile(r"%\{([A-Za-z])([0-9]*)([rR]?)([.\-+,/_=]*)\}")
_TOPLABEL = re.compile(r"[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9]")
_QNUM = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])"
_IP4_NETWORK = re.compile(rf"{_QNUM}\.{_QNUM}\.{_QNUM}\.{_QNUM}")
_IP6_CHARS = re.compile(r"[0-9A-Fa-f:.]+")
_CIDR_NUMBER = re.compile(r"0|[1-9][0-9]*")
_DUAL_CIDR = re.compile(r"(.*?)((?:/[0-9]+)?(?://[0-9]+)?)", re.S)
_DUAL_CIDR_PARTS = re.compile(r"(?:/([0-9]+))?(?://([0-9]+))?")
_MODIFIER = re.compile(r"([A-Za-z][A-Za-z0-9_.\-]*)=(.*)", re.S)
_MECHANISM = re.compile(r"([+\-~?]?)([A-Za-z][A-Za-z0-9]*)(.*)", re.S)
_QUALIFIERS = {"": "pass", "+": "pass", "-": "fail", "~": "softfail", "?": "neutral"}


@dataclass(frozen=True)
class _Macro:
    letter: str  # lower case
    digits: int | None
    reverse: bool
    delimiters: str
    escape: bool  # upper-case letter: URL-escape the result (RFC 7208 §7.3)


@lru_cache(maxsize=1024)
def _macro_string(text: str, *, explanation: bool = False) -> tuple[tuple, bool, str]:
    """Parse a macro-string (or explain-string): tokens, whether it ends in a macro-expand, the literal tail.

    Kept per text (a pure function of it; a malformed one raises each time, in the current language)."""
    letters = _EXP_LETTERS if explanation else _LETTERS
    tokens: list = []
    literal: list[str] = []
    ends_with_macro = False
    tail: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            nxt = text[i + 1:i + 2]
            if nxt in ("%", "_", "-"):
                literal.append({"%": "%", "_": " ", "-": "%20"}[nxt])
                i += 2
            elif nxt == "{":
                match = _MACRO_EXPAND.match(text, i)
                if match is None:
                    raise _PermError(t("spf.perm.malformed_macro", text=repr(text), at=repr(text[i:i + 8])))
                letter, digits, reverse, delimiters = match.groups()
                if letter.lower() not in letters:
                    if letter.lower() in _EXP_LETTERS:
                        raise _PermError(t("spf.perm.explanation_letter", text=repr(text), letter=repr(letter)))
                    raise _PermError(t("spf.perm.not_a_letter", text=repr(text), letter=repr(letter)))
                if digits and int(digits) == 0:
                    raise _PermError(t("spf.perm.zero_parts", text=repr(text)))
                if literal:
                    tokens.append("".join(literal))
                    literal = []
                tokens.append(_Macro(letter.lower(), int(digits) if digits else None, bool(reverse),
                                     delimiters, letter.isupper()))
                i = match.end()
            else:
                raise _PermError(t("spf.perm.bare_percent", text=repr(text)))
            ends_with_macro, tail = True, []
            continue
        if not ("!" <= ch <= "~" or (explanation and ch == " ")):
            raise _PermError(t("spf.perm.not_printable", text=repr(text), char=repr(ch)))
        literal.append(ch)
        tail.append(ch)
        ends_with_macro = False
        i += 1
    if literal:
        tokens.append("".join(literal))
    return tuple(tokens), ends_with_macro, "".join(tail)


def _domain_spec(text: str, term: str) -> list:
    """RFC 7208 §7.1: domain-spec = macro-string domain-end; domain-end = "." toplabel ["."] / macro-expand."""
    if not text:
        raise _PermError(t("spf.perm.no_domain", term=term))
    tokens, ends_with_macro, tail = _macro_string(text)
    if not ends_with_macro:
        name = tail[:-1] if tail.endswith(".") else tail
        if "." not in name or not _TOPLABEL.fullmatch(name.rsplit(".", 1)[1]):
            if _IP4_NETWORK.fullmatch(name):
                raise _PermError(t("spf.perm.address_not_domain", term=term, text=repr(text)))
            raise _PermError(t("spf.perm.not_a_domain", term=term, text=repr(text)))
    return tokens


def _cidr(text: str | None, maximum: int, term: str) -> int:
    if text is None:
        return maximum
    if not _CIDR_NUMBER.fullmatch(text) or int(text) > maximum:
        raise _PermError(t("spf.perm.bad_prefix", term=term, length=text, maximum=maximum))
    return int(text)


@dataclass(frozen=True)
class _Mechanism:
    text: str  # as written
    qualifier: str
    name: str  # lower case
    target: list | None = None  # domain-spec tokens
    network: ipaddress.IPv4Address | ipaddress.IPv6Address | None = None
    cidr4: int = 32
    cidr6: int = 128


@dataclass(frozen=True)
class _Record:
    mechanisms: tuple[_Mechanism, ...]
    redirect: tuple[str, list] | None  # (term as written, domain-spec tokens)
    exp: list | None


def _parse_mechanism(term: str) -> _Mechanism:
    match = _MECHANISM.fullmatch(term)
    if match is None:
        raise _PermError(t("spf.perm.not_a_term", term=term))
    qualifier, name, rest = match.group(1), match.group(2).lower(), match.group(3)
    if name == "all":
        if rest:
            raise _PermError(t("spf.perm.all_argument", term=term))
        return _Mechanism(term, qualifier, name)
    if name in ("include", "exists"):
        if not rest.startswith(":"):
            raise _PermError(t("spf.perm.needs_domain", term=term, name=name))
        return _Mechanism(term, qualifier, name, _domain_spec(rest[1:], term))
    if name == "ptr":
        if rest and not rest.startswith(":"):
            raise _PermError(t("spf.perm.ptr_only_domain", term=term))
        return _Mechanism(term, qualifier, name, _domain_spec(rest[1:], term) if rest else None)
    if name in ("a", "mx"):
        spec, cidrs = _DUAL_CIDR.fullmatch(rest).groups()
        if spec and not spec.startswith(":"):
            raise _PermError(t("spf.perm.a_mx_syntax", term=term, name=name))
        cidr4, cidr6 = _DUAL_CIDR_PARTS.fullmatch(cidrs).groups()
        target = _domain_spec(spec[1:], term) if spec else None
        return _Mechanism(term, qualifier, name, target, cidr4=_cidr(cidr4, 32, term), cidr6=_cidr(cidr6, 128, term))
    if name in ("ip4", "ip6"):
        if not rest.startswith(":"):
            raise _PermError(t("spf.perm.needs_address", term=term, name=name))
        network, _, cidr = rest[1:].partition("/")
        if name == "ip4":
            if not _IP4_NETWORK.fullmatch(network):
                raise _PermError(t("spf.perm.not_ip4", term=term, network=repr(network)))
            return _Mechanism(term, qualifier, name, network=ipaddress.IPv4Address(network),
                              cidr4=_cidr(cidr if "/" in rest else None, 32, term))
        try:
            if not _IP6_CHARS.fullmatch(network):
                raise ValueError(network)
            address = ipaddress.IPv6Address(network)
        except ValueError:
            raise _PermError(t("spf.perm.not_ip6", term=term, network=repr(network))) from None
        return _Mechanism(term, qualifier, name, network=address, cidr6=_cidr(cidr if "/" in rest else None, 128, term))
    raise _PermError(t("spf.perm.unknown_mechanism", term=term))


@lru_cache(maxsize=1024)
def _parse_record(text: str) -> _Record:
    """Check a whole ``v=spf1`` record (RFC 7208 §4.6: any syntax error is a permerror) and parse it.

    Kept per text: a record is parsed once however many checks read it (a broken one raises each time, in
    the current language)."""
    mechanisms: list[_Mechanism] = []
    redirect: tuple[str, list] | None = None
    exp: list | None = None
    for term in text[6:].split(" "):
        if not term:
            continue
        bad = next((ch for ch in term if not "!" <= ch <= "~"), None)
        if bad is not None:
            raise _PermError(t("spf.perm.term_not_printable", term=repr(term), char=repr(bad)))
        modifier = _MODIFIER.fullmatch(term)
        if modifier is None:
            mechanisms.append(_parse_mechanism(term))
            continue
        name, value = modifier.group(1).lower(), modifier.group(2)
        if name == "redirect":
            if redirect is not None:
                raise _PermError(t("spf.perm.redirect_twice"))
            redirect = (term, _domain_spec(value, term))
        elif name == "exp":
            if exp is not None:
                raise _PermError(t("spf.perm.exp_twice"))
            exp = _domain_spec(value, term)
        else:
            _macro_string(value)  # RFC 7208 §6: unknown modifiers are ignored, but must be well formed
    return _Record(tuple(mechanisms), redirect, exp)


def _is_spf1(text: str) -> bool:
    """RFC 7208 §4.5: the version is ``v=spf1`` (any case), then a space or the end of the record."""
    return text[:6].lower() == "v=spf1" and (len(text) == 6 or text[6] == " ")


def _valid_domain(name: str) -> bool:
    """RFC 7208 §4.3: a multi-label domain name that can be queried (not an address literal)."""
    if not name or name.startswith("[") or not name.isascii() or not _queryable(name):
        return False
    labels = (name[:-1] if name.endswith(".") else name).split(".")
    return len(labels) >= 2 and not labels[-1].isdigit() and all(" " < ch < "\x7f" for ch in name)


# --------------------------------------------------------------------------- evaluation (RFC 7208 §4-§7)

@dataclass
class _Outcome:
    result: str
    mechanism: str | None
    explanation: str | None
    domain: str  # the domain whose record decided


class _Check:
    """One run of check_host(): the inputs, the counters of §4.6.4 and the lookups worth remembering."""

    def __init__(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address, local: str, domain: str, helo: str,
                 zone: _Zone, receiver: str, now: int) -> None:
        self.ip = ip
        self.local = local
        self.sender_domain = domain
        self.helo = helo
        self.zone = zone
        self.receiver = receiver
        self.now = now
        self.lookups = 0
        self.voids = 0
        self.read_now = False  # whether %{t} was expanded: only then does the result depend on ``now``
        self._validated: list[str] | None = None

    # ---- DNS

    def _lookup(self, name: str, rtype: str, *, void: bool) -> list:
        """Records of ``rtype`` at ``name``; a timeout is a temperror (RFC 7208 §5), nothing may be a void lookup."""
        if not _queryable(name):
            return []
        try:
            answers = self.zone.query(name, rtype)
        except _DnsError as error:
            raise _TempError(str(error)) from None
        if not answers:
            if void:
                self.voids += 1
                if self.voids > VOID_LOOKUP_LIMIT:
                    raise _PermError(t("spf.perm.void_lookups", limit=VOID_LOOKUP_LIMIT, name=name))
            return []
        return answers

    def _addresses(self, name: str, *, void: bool) -> list:
        return self._lookup(name, "A" if self.ip.version == 4 else "AAAA", void=void)

    def _count(self, term: str) -> None:
        self.lookups += 1
        if self.lookups > DNS_TERM_LIMIT:
            raise _PermError(t("spf.perm.too_many_lookups", term=term, count=self.lookups, limit=DNS_TERM_LIMIT))

    def _in(self, address: object, cidr4: int, cidr6: int) -> bool:
        if not isinstance(address, ipaddress.IPv4Address | ipaddress.IPv6Address) or address.version != self.ip.version:
            return False
        bits = 32 if self.ip.version == 4 else 128
        shift = bits - (cidr4 if self.ip.version == 4 else cidr6)
        return (int(address) ^ int(self.ip)) >> shift == 0

    def validated_names(self) -> list[str]:
        """RFC 7208 §5.5: the client's PTR names (the first 10) whose A/AAAA records include the client."""
        if self._validated is None:
            self._validated = []
            try:
                names = self.zone.query(self.ip.reverse_pointer, "PTR") or []
            except _DnsError:
                names = []  # §5.5: a PTR lookup error means the mechanism does not match
            rtype = "A" if self.ip.version == 4 else "AAAA"
            for name in names[:PTR_LIMIT]:
                try:
                    addresses = self.zone.query(name, rtype) if _queryable(name) else []
                except _DnsError:
                    continue  # §5.5: a domain whose address lookup fails is skipped
                if self.ip in (addresses or []):
                    self._validated.append(name[:-1] if name.endswith(".") else name)
        return self._validated

    # ---- macros (RFC 7208 §7)

    def _macro_value(self, macro: _Macro, domain: str) -> str:
        letter = macro.letter
        if letter == "s":
            value = f"{self.local}@{self.sender_domain}"
        elif letter == "l":
            value = self.local
        elif letter == "o":
            value = self.sender_domain
        elif letter == "d":
            value = domain
        elif letter == "i":
            value = str(self.ip) if self.ip.version == 4 else ".".join(self.ip.exploded.replace(":", "").upper())
        elif letter == "p":
            value = self._validated_name(domain)
        elif letter == "v":
            value = "in-addr" if self.ip.version == 4 else "ip6"
        elif letter == "h":
            value = self.helo
        elif letter == "c":
            value = str(self.ip)
        elif letter == "r":
            value = self.receiver
        else:  # "t"
            self.read_now = True
            value = str(self.now)
        if macro.digits is not None or macro.reverse or macro.delimiters:
            parts = re.split("[" + re.escape(macro.delimiters or ".") + "]", value)
            if macro.reverse:
                parts.reverse()
            if macro.digits is not None:
                parts = parts[-macro.digits:]
            value = ".".join(parts)
        if macro.escape:
            value = quote(value, safe="", errors="replace")  # RFC 3986 unreserved characters stay
        return value

    def _validated_name(self, domain: str) -> str:
        names = self.validated_names()
        wanted = _norm(domain)
        exact = [n for n in names if _norm(n) == wanted]
        below = [n for n in names if _norm(n).endswith("." + wanted)]
        return (exact or below or names or ["unknown"])[0]

    def expand(self, tokens: list, domain: str) -> str:
        return "".join(t if isinstance(t, str) else self._macro_value(t, domain) for t in tokens)

    def target_name(self, tokens: list | None, domain: str) -> str:
        """RFC 7208 §7.3: the expanded name without its trailing dot, cut from the left to 253 characters."""
        if tokens is None:
            return domain
        name = self.expand(tokens, domain)
        name = name[:-1] if name.endswith(".") else name
        while len(name) > 253 and "." in name:
            name = name.split(".", 1)[1]
        return name

    # ---- check_host()

    def select_record(self, domain: str) -> str | None:
        """RFC 7208 §4.4, §4.5: the one ``v=spf1`` TXT record of ``domain``, or None."""
        try:
            answers = self.zone.query(domain, "TXT")
        except _DnsError as error:
            raise _TempError(str(error)) from None
        records = [text for text in ("".join(strings) for strings in answers or []) if _is_spf1(text)]
        if len(records) > 1:
            raise _PermError(t("spf.perm.several_records", domain=domain, count=len(records)))
        return records[0] if records else None

    def check(self, domain: str) -> _Outcome:
        if not _valid_domain(domain):
            return _Outcome("none", None, None, domain)
        text = self.select_record(domain)
        if text is None:
            return _Outcome("none", None, None, domain)
        try:
            record = _parse_record(text)
        except _PermError as error:
            raise _PermError(t("spf.perm.in_record", domain=domain, error=error)) from None
        for mechanism in record.mechanisms:
            if self.matches(mechanism, domain):
                result = _QUALIFIERS[mechanism.qualifier]
                explanation = self.explain(record.exp, domain) if result == "fail" and record.exp else None
                return _Outcome(result, mechanism.text, explanation, domain)
        if record.redirect is not None:
            term, tokens = record.redirect
            self._count(term)
            inner = self.check(self.target_name(tokens, domain))
            if inner.result == "none":
                raise _PermError(t("spf.perm.redirect_to_none", term=term, target=repr(inner.domain)))
            return inner
        return _Outcome("neutral", None, None, domain)

    def matches(self, mechanism: _Mechanism, domain: str) -> bool:
        name = mechanism.name
        if name == "all":
            return True
        if name in ("ip4", "ip6"):
            return self._in(mechanism.network, mechanism.cidr4, mechanism.cidr6)
        self._count(mechanism.text)
        target = self.target_name(mechanism.target, domain)
        if name == "include":
            inner = self.check(target)
            if inner.result == "none":
                raise _PermError(t("spf.perm.include_to_none", term=mechanism.text, target=repr(target)))
            return inner.result == "pass"  # §5.2: fail, softfail, neutral: no match; errors were raised
        if name == "a":
            return any(self._in(a, mechanism.cidr4, mechanism.cidr6) for a in self._addresses(target, void=True))
        if name == "mx":
            exchanges = self._lookup(target, "MX", void=True)
            if len(exchanges) > MX_LIMIT:
                raise _PermError(t("spf.perm.too_many_mx", term=mechanism.text, count=len(exchanges), limit=MX_LIMIT))
            for _, host in sorted(exchanges, key=lambda mx: mx[0]):
                if host in ("", ".") or not _queryable(host):
                    continue  # RFC 7505 null MX: no host
                if any(self._in(a, mechanism.cidr4, mechanism.cidr6) for a in self._addresses(host, void=False)):
                    return True
            return False
        if name == "ptr":
            wanted = _norm(target)
            return any(_norm(n) == wanted or _norm(n).endswith("." + wanted) for n in self.validated_names())
        # exists: RFC 7208 §5.7, an A query whatever the client's address family
        return bool(self._lookup(target, "A", void=True))

    def explain(self, tokens: list, domain: str) -> str | None:
        """RFC 7208 §6.2: the expanded explanation, or None to use the default."""
        try:
            name = self.target_name(tokens, domain)
            answers = self.zone.query(name, "TXT") if _queryable(name) else None
        except _DnsError:
            return None
        if not answers or len(answers) != 1:
            return None
        text = "".join(answers[0])
        if not text.isascii():
            return None
        try:
            return self.expand(_macro_string(text, explanation=True)[0], domain)
        except _PermError:
            return None




# --------------------------------------------------------------------------- the public function

def _reason(outcome: _Outcome, top: str, ip: str) -> str:
    """One sentence for a learner: why the check gave its result, in the current language (:mod:`simlab.i18n`)."""
    where = (outcome.domain if outcome.domain.lower() == top.lower()
             else t("spf.reason.redirected", domain=top, target=outcome.domain))
    matched = t("spf.reason.matched", mechanism=outcome.mechanism) if outcome.mechanism else ""
    if outcome.result == "pass":
        return t("spf.reason.pass", where=where, ip=ip, matched=matched)
    if outcome.result == "fail":
        return t("spf.reason.fail", where=where, ip=ip, matched=matched)
    if outcome.result == "softfail":
        return t("spf.reason.softfail", where=where, ip=ip, matched=matched)
    if outcome.result == "neutral":
        return t("spf.reason.neutral", where=where, ip=ip, matched=matched or t("spf.reason.no_match"))
    if not _valid_domain(top):
        return t("spf.reason.not_a_domain", domain=repr(top))
    return t("spf.reason.none", domain=top)


def check_host(ip: object, sender: str, helo: str, dns: Mapping, *, receiver: str = "unknown",
               now: int | None = None, default_explanation: str = DEFAULT_EXPLANATION) -> SpfResult:
    """RFC 7208 §4: may the client at ``ip`` send mail with this envelope sender?

    Args:
        ip: the client's IPv4 or IPv6 address (text or :mod:`ipaddress` object). An IPv4-mapped
            IPv6 address is an IPv4 client (RFC 7208 §5).
        sender: the ``MAIL FROM`` address, with or without angle brackets; ``""`` or ``"<>"`` (the
            null sender) checks ``postmaster@<helo>`` (§2.4).
        helo: the ``HELO``/``EHLO`` name (the ``%{h}`` macro).
        dns: the DNS as data: ``{name: [(type, value), ...]}``, names case-insensitive with or without
            the trailing dot. Types A, AAAA (an address), MX (``(preference, host)`` or
            ``"preference host"``), TXT (a string, or a list of character-strings joined as §3.3 says),
            PTR, CNAME (a name; CNAMEs are followed) and SPF (ignored: §3.1). A name absent is
            NXDOMAIN, a name without records of the type asked is "no data". :data:`TIMEOUT` makes
            lookups time out (see there).
        receiver: the checking host's name (``%{r}``, explanations only).
        now: the time for ``%{t}``, in seconds since 1970; :data:`DEFAULT_NOW` when not given.
        default_explanation: the explanation (a macro-string, §7) of a ``fail`` whose record has no
            usable ``exp=``.

    Returns:
        An :class:`SpfResult`, equal to its result's name (``check_host(...) == "fail"``).

    Raises:
        ConfigError: an argument is not what it should be (the result of a check never raises).
    """
    address, now, default_tokens = _arguments(ip, sender, helo, receiver, now, default_explanation)
    return _evaluate(address, sender, helo, _Zone(dns), receiver, now, default_tokens)[0]


def _arguments(ip: object, sender: str, helo: str, receiver: str, now: int | None, default_explanation: str):
    """check_host()'s arguments checked: the client's address, the time, the default explanation's tokens."""
    try:
        address = ipaddress.ip_address(ip if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address) else str(ip))
    except ValueError:
        raise ConfigError("ip", ip, t("address.error.not_an_ip"), t("spf.expected.ip")) from None
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for name, value in (("sender", sender), ("helo", helo), ("receiver", receiver)):
        if not isinstance(value, str):
            raise ConfigError(name, value, t("spf.error.not_text"), t("spf.expected.text"))
    now = _checked_now(now)
    if not isinstance(default_explanation, str):
        raise ConfigError("default_explanation", default_explanation, t("spf.error.not_text"),
                          t("spf.expected.macro_string"))
    try:
        default_tokens = _macro_string(default_explanation, explanation=True)[0]
    except _PermError as error:
        raise ConfigError("default_explanation", default_explanation, t("spf.error.not_an_explanation", reason=error),
                          t("spf.expected.explanation")) from None
    return address, now, default_tokens


def _checked_now(now: int | None) -> int:
    if now is None:
        return DEFAULT_NOW
    if isinstance(now, bool) or not isinstance(now, int):
        raise ConfigError("now", now, t("spf.error.not_a_time"), t("spf.expected.time"))
    return now


def _evaluate(address: ipaddress.IPv4Address | ipaddress.IPv6Address, sender: str, helo: str, zone: _Zone,
              receiver: str, now: int, default_tokens: Sequence) -> tuple[SpfResult, bool]:
    """RFC 7208 §4 on checked arguments: the result, and whether it read ``now`` (``%{t}``)."""
    path = sender[1:-1] if sender.startswith("<") and sender.endswith(">") else sender
    if not path:
        path = f"postmaster@{helo}"  # RFC 7208 §2.4
    local, at, domain = path.rpartition("@")
    if not at:
        local, domain = "", path  # modelling choice: a bare domain is a sender without local-part
    domain = domain[:-1] if domain.endswith(".") and len(domain) > 1 else domain
    check = _Check(address, local or "postmaster", domain, helo, zone, receiver, now)  # §4.3: no local-part
    ip_text = str(address)
    try:
        outcome = check.check(domain)
    except _PermError as error:
        return SpfResult("permerror", domain=domain, lookups=check.lookups,
                         reason=t("spf.reason.permerror", domain=domain, error=error)), check.read_now
    except _TempError as error:
        return SpfResult("temperror", domain=domain, lookups=check.lookups,
                         reason=t("spf.reason.temperror", domain=domain, error=error)), check.read_now
    explanation = None
    if outcome.result == "fail":
        explanation = outcome.explanation
        if explanation is None:
            explanation = check.expand(default_tokens, domain)
    return (SpfResult(outcome.result, explanation=explanation, mechanism=outcome.mechanism, domain=domain,
                      lookups=check.lookups, reason=_reason(outcome, domain, ip_text)), check.read_now)


class SpfChecker:
    """:func:`check_host` for many checks against one DNS: the DNS read and indexed once, and each
    result remembered, so that a receiver asking again for the same client, sender and HELO name (the next
    message of the same spammer, the HELO check and the MAIL FROM check of a null sender) gets it at once.

    A remembered result is given back only for the same arguments (address, sender, HELO name, receiver,
    default explanation) in the same language (the ``reason`` is in the language current when it was made),
    and for the same ``now`` when the result expanded ``%{t}`` (which only an explanation may do, RFC 7208
    §7.2); otherwise ``now`` does not enter the result. It is meant for one run of a simulation, whose DNS
    does not change while it runs: :meth:`serves` says whether the DNS given is still, record for record,
    the one the checker read (a changed or different DNS needs a new checker).

    >>> dns = {"example.com": [("TXT", "v=spf1 mx -all"), ("MX", (10, "mail.example.com"))],
    ...        "mail.example.com": [("A", "192.0.2.25")]}
    >>> checker = SpfChecker(dns)
    >>> checker.check_host("203.0.113.50", "Postmaster@example.com", "x.test") == "fail"
    True
    >>> checker.check_host("203.0.113.50", "Postmaster@example.com", "x.test", now=896659300).mechanism
    '-all'
    >>> checker.evaluated, checker.served
    (1, 2)
    """

    def __init__(self, dns: Mapping) -> None:
        self._zone = _Zone(dns)
        self._dns = dns
        self._snapshot = copy.deepcopy(dict(dns))
        self._memo: dict[tuple, tuple[SpfResult, bool, int]] = {}
        #: How many checks were asked (``served``) and how many were evaluated (the others were remembered).
        self.served = 0
        self.evaluated = 0

    def serves(self, dns: Mapping) -> bool:
        """Whether ``dns`` is the DNS this checker read, unchanged (the same object, the same records)."""
        return dns is self._dns and dns == self._snapshot

    def check_host(self, ip: object, sender: str, helo: str, *, receiver: str = "unknown", now: int | None = None,
                   default_explanation: str = DEFAULT_EXPLANATION) -> SpfResult:
        """:func:`check_host` with this checker's DNS (same arguments, same result)."""
        self.served += 1
        now = _checked_now(now)
        try:
            key = (ip, sender, helo, receiver, default_explanation, language())
            known = self._memo.get(key)
        except TypeError:  # an argument that cannot be a key is check_host's to refuse
            key, known = None, None
        if known is not None and (not known[1] or known[2] == now):
            return known[0]
        address, now, default_tokens = _arguments(ip, sender, helo, receiver, now, default_explanation)
        self.evaluated += 1
        result, read_now = _evaluate(address, sender, helo, self._zone, receiver, now, default_tokens)
        if key is not None:
            self._memo[key] = (result, read_now, now)
        return result

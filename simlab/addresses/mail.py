"""Mail addresses as an SMTP relay decision sees them (RFC 5321 §4.1.2).

The parser keeps every form a relay tester throws at a server, because each
product interprets them its own way (see :mod:`simlab.addresses.routing`):

* angle brackets, or a bare address (lax 1998-era clients);
* the null reverse-path ``<>`` (RFC 5321 §4.5.5: bounces);
* a bare local part such as ``postmaster`` (RFC 5321 §4.5.1);
* quoted local parts ``"to@D"`` (RFC 5321 §4.1.2 Quoted-string);
* address literals ``user@[192.0.2.25]`` (RFC 5321 §4.1.3);
* source routes ``@a,@b:user@c`` (RFC 5321 §4.1.2, Appendix C: deprecated);
* the percent hack ``user%domain@relay`` and UUCP bang paths ``domain!user``
  (neither in any RFC; RFC 2505 §2.1 asks relays to account for them).

Domains compare case-insensitively; local parts keep their case, as RFC 5321
§2.4 requires, and each product decides whether to fold them.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass, field

from simlab.i18n import t

__all__ = ["MailAddress", "MailPath", "AddressSyntaxError", "parse_path", "parse_address", "is_valid_domain",
           "address_literal"]


class AddressSyntaxError(ValueError):
    """The client wrote something that is not an address; the reason says why, in the current language
    (:mod:`simlab.i18n`, ids ``address.syntax.*``). A product answers with its own reply, never this text."""


_LABEL = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_PARAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*(?:=[^\s=]*)?$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_NOT_IN_LOCAL = frozenset(' <>(),;:[]\\"')


def is_valid_domain(domain: str) -> bool:
    """True for a hostname (``mail.example.com``, trailing dot allowed) or an address literal."""
    if not domain:
        return False
    if type(domain) is str:
        return _valid_domain_text(domain)
    return _valid_domain(domain)


# A pure function of the text, asked for every address a client writes: remembered.
@functools.lru_cache(maxsize=4096)
def _valid_domain_text(domain: str) -> bool:
    return _valid_domain(domain)


def _valid_domain(domain: str) -> bool:
    if domain.startswith("["):
        return address_literal(domain) is not None
    name = domain[:-1] if domain.endswith(".") else domain
    if not name or len(name) > 253:
        return False
    return all(_LABEL.match(label) for label in name.split("."))


def address_literal(domain: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address of a literal domain such as ``[192.0.2.25]`` or ``[IPv6:2001:db8::1]``, else ``None``."""
    if not (domain.startswith("[") and domain.endswith("]")):
        return None
    inner = domain[1:-1]
    if inner.lower().startswith("ipv6:"):
        inner = inner[5:]
    try:
        return ipaddress.ip_address(inner)
    except ValueError:
        return None


@dataclass(frozen=True)
class MailAddress:
    """One mailbox as the client wrote it, split the way RFC 5321 splits it.

    ``local`` is the local part with quotes removed; ``domain`` is the part
    after the last unquoted ``@`` as written (``None`` when there is none),
    with an address literal kept in brackets; ``route`` holds source-route
    hosts, ``text`` the address exactly as written (inside the brackets).
    """

    text: str
    local: str
    domain: str | None
    route: tuple[str, ...] = ()
    quoted: bool = False

    @property
    def literal_ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The address of a literal domain such as ``[192.0.2.25]``, else ``None``."""
        return address_literal(self.domain) if self.domain else None

    @property
    def has_routing(self) -> bool:
        """True when the address names more than one hop: a source route, or
        ``@``, ``%`` or ``!`` inside the local part (RFC 2505 §2.1)."""
        return bool(self.route) or any(c in self.local for c in "@%!")

    # ``internal`` and ``external`` are worked out once per address (an address is immutable, and one
    # parsed address is shared by every session that names it): policies and log lines ask many times.
    @functools.cached_property
    def internal(self) -> str:
        """The address as Postfix holds it internally: source route dropped, quotes removed
        (``"b o b"@example.com`` becomes ``b o b@example.com``)."""
        return self.local if self.domain is None else f"{self.local}@{self.domain}"

    @functools.cached_property
    def external(self) -> str:
        """The internal form quoted again for display (RFC 5321 §4.1.2), as Postfix logs it:
        ``b o b@example.com`` becomes ``"b o b"@example.com``."""
        local, at, domain = self.internal.rpartition("@")
        if not at:
            return quote_local(self.internal)
        return f"{quote_local(local)}@{domain}"

    @property
    def bare_domain(self) -> str | None:
        """The domain without a trailing dot, lower-cased."""
        if self.domain is None:
            return None
        domain = self.domain.lower()
        return domain[:-1] if domain.endswith(".") else domain

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class MailPath:
    """The argument of ``MAIL FROM:`` or ``RCPT TO:``.

    ``address`` is ``None`` for the null path ``<>``; ``bracketed`` tells
    whether the client used angle brackets; ``params`` holds ESMTP
    parameters such as ``SIZE=1000`` (keys upper-cased).
    """

    address: MailAddress | None
    bracketed: bool
    params: dict[str, str | None] = field(default_factory=dict)
    #: The parameters exactly as written, in order (``NOTIFY=NEVER``).
    param_words: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The address as written, without brackets (empty for ``<>``)."""
        return "" if self.address is None else self.address.text

    @property
    def internal(self) -> str:
        """The address in Postfix's internal form (see :attr:`MailAddress.internal`)."""
        return "" if self.address is None else self.address.internal


def quote_local(local: str) -> str:
    """Quote a local part when it needs it (RFC 5321 §4.1.2)."""
    if local and re.fullmatch(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+", local):
        return local
    escaped = local.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _split_outside_quotes(text: str) -> int:
    """Index of the last ``@`` outside a quoted string, or -1."""
    if '"' not in text and "\\" not in text:
        return text.rfind("@")  # the usual address: nothing quoted or escaped
    in_quote = False
    escaped = False
    last = -1
    for i, ch in enumerate(text):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_quote = not in_quote
        elif ch == "@" and not in_quote:
            last = i
    if in_quote:
        raise AddressSyntaxError(t("address.syntax.unbalanced_quotes"))
    return last


def _dequote(local: str) -> tuple[str, bool]:
    if '"' not in local:
        return local, False
    out = []
    in_quote = False
    escaped = False
    for ch in local:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\" and in_quote:
            escaped = True
        elif ch == '"':
            in_quote = not in_quote
        else:
            out.append(ch)
    return "".join(out), True


def parse_address(text: str) -> MailAddress:
    """Parse a mailbox (the part inside the angle brackets).

    >>> parse_address("@relay.test,@hop.test:user@example.com").route
    ('relay.test', 'hop.test')
    >>> parse_address('"to@remote.test"').domain is None
    True
    """
    if type(text) is str:
        return _parse_address_text(text)
    return _parse_address(text)


# Addresses are immutable and clients repeat them: each distinct text is parsed once.
@functools.lru_cache(maxsize=4096)
def _parse_address_text(text: str) -> MailAddress:
    return _parse_address(text)


def _parse_address(text: str) -> MailAddress:
    if _CONTROL.search(text):
        raise AddressSyntaxError(t("address.syntax.control_character"))
    route: tuple[str, ...] = ()
    mailbox = text
    if text.startswith("@"):
        head, colon, tail = text.partition(":")
        if not colon:
            raise AddressSyntaxError(t("address.syntax.route_without_colon"))
        hops = tuple(h.strip() for h in head.split(","))
        if not all(h.startswith("@") and is_valid_domain(h[1:]) for h in hops):
            raise AddressSyntaxError(t("address.syntax.bad_route"))
        route = tuple(h[1:].lower() for h in hops)
        mailbox = tail
    at = _split_outside_quotes(mailbox)
    if at < 0:
        local_raw, domain = mailbox, None
    else:
        local_raw, domain = mailbox[:at], mailbox[at + 1 :]
        if not domain or not is_valid_domain(domain):
            raise AddressSyntaxError(t("address.syntax.bad_domain"))
    if not local_raw:
        raise AddressSyntaxError(t("address.syntax.empty_local_part"))
    local, quoted = _dequote(local_raw)
    unquoted_part = _QUOTED.sub("", local_raw) if '"' in local_raw else local_raw
    if not _NOT_IN_LOCAL.isdisjoint(unquoted_part) or not local:
        raise AddressSyntaxError(t("address.syntax.bad_local_part"))
    return MailAddress(text, local, domain, route, quoted)


def parse_path(argument: str) -> MailPath:
    """Parse what follows ``MAIL FROM:`` / ``RCPT TO:``.

    >>> p = parse_path("<alice@remote.test> SIZE=1000")
    >>> p.address.domain, p.params
    ('remote.test', {'SIZE': '1000'})
    >>> parse_path("<>").address is None
    True
    """
    arg = argument.strip()
    if not arg:
        raise AddressSyntaxError(t("address.syntax.missing_address"))
    if arg.startswith("<"):
        end = _closing_bracket(arg)
        inner, rest, bracketed = arg[1:end], arg[end + 1 :], True
        if rest and not rest[0].isspace():
            raise AddressSyntaxError(t("address.syntax.text_after_bracket"))
    else:
        inner, _, rest = arg.partition(" ")
        bracketed = False
        if inner.endswith(">") or "<" in inner:
            raise AddressSyntaxError(t("address.syntax.unbalanced_brackets"))
    params: dict[str, str | None] = {}
    words = tuple(rest.split())
    for word in words:
        if not _PARAM.match(word):
            raise AddressSyntaxError(t("address.syntax.bad_parameter", word=repr(word)))
        key, eq, value = word.partition("=")
        params[key.upper()] = value if eq else None
    address = parse_address(inner) if inner else None
    return MailPath(address, bracketed, params, words)


def _closing_bracket(arg: str) -> int:
    if '"' not in arg and "\\" not in arg:  # the usual path: nothing quoted or escaped
        end = arg.find(">", 1)
        if end < 0:
            raise AddressSyntaxError(t("address.syntax.missing_bracket"))
        return end
    in_quote = False
    escaped = False
    for i, ch in enumerate(arg[1:], start=1):
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            in_quote = not in_quote
        elif ch == ">" and not in_quote:
            return i
    raise AddressSyntaxError(t("address.syntax.missing_bracket"))

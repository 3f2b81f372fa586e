"""Authentication-Results (RFC 8601): a receiver's record of what SPF, DKIM and DMARC said, written and read
with the **authres** package.

* :func:`build` writes one header field from the verdicts of :mod:`simlab.auth.spf`,
  :mod:`simlab.auth.dkim` and :mod:`simlab.auth.dmarc`, e.g.::

      Authentication-Results: mail.yourcompany.test; spf=fail smtp.mailfrom=example.com; dkim=none;
          dmarc=fail (p=reject dis=reject) header.from=example.com

  (one line; folded here). Methods and properties as RFC 8601 §2.7 and RFC 7489 §11.2 register them:
  ``spf`` with ``smtp.mailfrom`` (or ``smtp.helo`` for the null sender), ``dkim`` with ``header.d``,
  ``header.i``, ``header.s``, ``header.b`` (RFC 6008: the first 8 characters of the signature),
  ``dmarc`` with ``header.from``; the DMARC comment ``(p=... dis=...)`` is the one OpenDMARC writes.
* :func:`parse` reads such a field back (authres's parser, with its DMARC and ``header.b`` features):
  for tests, and for a product that trusts the fields its own authserv-id wrote (OpenDMARC does).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

import authres
import authres.dkim_b
import authres.dmarc

__all__ = ["AuthResult", "ParsedResults", "build", "parse", "header_b"]


def header_b(b: str) -> str:
    """``header.b``: the first 8 characters of the signature's ``b=`` (RFC 6008 §2: enough to tell
    signatures apart; OpenDKIM writes the shortest unique prefix, 8 characters at least)."""
    return b[:8]


def build(authserv_id: str, *, spf: str | None = None, spf_domain: str = "", spf_helo: bool = False,
          dkim: Sequence[object] = (), dmarc: object | None = None) -> str:
    """The ``Authentication-Results:`` header field (one line) for these verdicts.

    Args:
        authserv_id: the receiver's name (RFC 8601 §2.5), e.g. ``mail.yourcompany.test``.
        spf: SPF's result (``None``: not checked, left out); ``spf_domain`` the domain checked;
            ``spf_helo`` when that was the HELO name (null sender).
        dkim: :class:`~simlab.auth.dkim.DkimResult` verdicts; an empty list or ``result="none"`` writes
            ``dkim=none``.
        dmarc: a :class:`~simlab.auth.dmarc.DmarcResult`, or ``None`` to leave DMARC out.
    """
    results = []
    if spf is not None:
        if spf_helo:
            results.append(authres.SPFAuthenticationResult(result=str(spf), smtp_helo=spf_domain or None))
        else:
            results.append(authres.SPFAuthenticationResult(result=str(spf), smtp_mailfrom=spf_domain or None))
    verdicts = [d for d in dkim if getattr(d, "result", "none") != "none"]
    if not verdicts and (dkim or spf is not None or dmarc is not None):
        results.append(authres.DKIMAuthenticationResult(result="none"))
    for verdict in verdicts:
        comment = f"{verdict.keybits}-bit key" if getattr(verdict, "keybits", 0) else None
        result = authres.DKIMAuthenticationResult(
            result=verdict.result, result_comment=comment, header_d=verdict.domain or None,
            header_i=verdict.identity or None, header_s=verdict.selector or None)
        if verdict.b:
            result.properties.append(authres.AuthenticationResultProperty("header", "b", header_b(verdict.b)))
        results.append(result)
    if dmarc is not None:
        comment = None
        if getattr(dmarc, "result", "none") not in ("none", "temperror", "permerror"):
            comment = f"p={dmarc.policy} dis={dmarc.disposition}"
        results.append(authres.dmarc.DMARCAuthenticationResult(
            result=dmarc.result, result_comment=comment, header_from=dmarc.from_domain or None))
    return str(authres.AuthenticationResultsHeader(authserv_id=authserv_id, results=results))


@dataclass(frozen=True)
class AuthResult:
    """One ``method=result`` of a parsed field, with its properties (``{"smtp.mailfrom": "example.com"}``)."""

    method: str
    result: str
    properties: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedResults:
    """A parsed Authentication-Results field."""

    authserv_id: str
    results: tuple[AuthResult, ...]

    def get(self, method: str) -> list[AuthResult]:
        """The results of one method, in order."""
        return [r for r in self.results if r.method == method]


_CONTEXT = authres.FeatureContext(authres.dmarc, authres.dkim_b)


@lru_cache(maxsize=2048)
def parse(text: str) -> ParsedResults:
    """Read an ``Authentication-Results`` field (with or without its name) back into its parts.

    Comments are dropped, as RFC 8601 §2.2 lets a reader do. A field authres cannot read raises
    ``authres.SyntaxError``-style errors from authres (a malformed header is a bug in the writer).
    What authres read is kept per text (its parser is slow, and a day replayed with another setting meets
    the same fields again); the parts are read-only.
    """
    value = text.strip()
    if ":" in value and value.split(":", 1)[0].strip().lower() == "authentication-results":
        header = _CONTEXT.parse(value)
    else:
        header = _CONTEXT.parse_value(value)
    results = []
    for result in header.results:
        props = {f"{p.type}.{p.name}": str(p.value) for p in result.properties}
        results.append(AuthResult(str(result.method), str(result.result), props))
    return ParsedResults(str(header.authserv_id), tuple(results))


def _clear_caches() -> None:
    """Forget the parsed fields (:func:`simlab.auth.clear_caches`)."""
    parse.cache_clear()

"""Sender authentication: SPF (RFC 7208) here; DKIM (RFC 6376), DMARC (RFC 7489) and
Authentication-Results (RFC 8601) in sibling modules.

This layer stands beside :mod:`simlab.restrictions`: it imports only :mod:`simlab.addresses`,
:mod:`simlab.errors` and the standard library (plus the libraries a sibling module names), and
works on a DNS given as data, so every check is a pure function of its inputs.

* :mod:`simlab.auth.spf` - SPF's ``check_host`` (RFC 7208).
* :mod:`simlab.auth.dkim` - DKIM signing and verification with dkimpy, lesson keys in ``simlab/data/dkim``
  (RFC 6376).
* :mod:`simlab.auth.dmarc` - DMARC policy discovery with the Public Suffix List, alignment, pct (RFC 7489).
* :mod:`simlab.auth.results` - ``Authentication-Results`` written and read with authres (RFC 8601).

What costs time is kept, keyed by everything it depends on, so a result never changes: parsed records,
DKIM signatures and verdicts by the exact message octets and key, authres's readings by the field's text,
and SPF results within one run (:class:`simlab.auth.spf.SpfChecker`). :func:`clear_caches` forgets them.
"""

import importlib
import sys

from simlab.auth import spf

__all__ = ["dkim", "dmarc", "results", "spf", "clear_caches"]


def clear_caches() -> None:
    """Forget what the checks keep between calls: parsed SPF and DMARC records, DKIM signatures and verdicts,
    parsed Authentication-Results fields and the Public Suffix List's answers. Each is a pure function of its
    inputs, so this changes no result, only how long the next ones take (benchmarks time cold runs with it)."""
    spf._parse_record.cache_clear()
    spf._macro_string.cache_clear()
    for name in ("dkim", "dmarc", "results"):
        module = sys.modules.get(f"simlab.auth.{name}")  # one never loaded has nothing kept
        if module is not None:
            module._clear_caches()


def __getattr__(name: str):
    """dkim, dmarc and results load dkimpy, authres and the Public Suffix List: on first use, so that
    ``import simlab`` stays light."""
    if name in ("dkim", "dmarc", "results"):
        return importlib.import_module(f"simlab.auth.{name}")
    raise AttributeError(f"module 'simlab.auth' has no attribute {name!r}")

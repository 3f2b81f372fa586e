"""Sender authentication: SPF (RFC 7208) here; DKIM (RFC 6376), DMARC (RFC 7489) and
Authentication-Results (RFC 8601) in sibling modules.

This layer stands beside :mod:`simlab.restrictions`: it imports only :mod:`simlab.addresses`,
:mod:`simlab.errors` and the standard library (plus the libraries a sibling module names), and
works on a DNS given as data, so every check is a pure function of its inputs.
"""

from simlab.auth import spf

__all__ = ["spf"]

"""Restrictions: the named pieces of policy a server is composed of.

Each one follows a product setting or a standard and says so in its docstring:
EIMS 2.1 IP Range Restriction and Relay Restriction, SIMS Client Hosts,
Postfix ``smtpd_*_restrictions`` and ``anvil`` limits, RFC 5782 blocklists,
RFC 6409 submission, and password-guessing defences (lockout, Dovecot failure
delay, fail2ban).
"""

from simlab.restrictions.access import IpRangeRestriction, RouterFilter
from simlab.restrictions.dnsbl import BlocklistZone, Dns, RblClient, reversed_query
from simlab.restrictions.guards import FILTERS, AccountLockout, Ban, Fail2Ban, FailureDelay, recidive
from simlab.restrictions.postfix import DEFAULT_RELAY_RESTRICTIONS, PostfixRestrictions, parse_restrictions
from simlab.restrictions.rates import Anvil
from simlab.restrictions.relay import ClientHosts, RelayRestriction
from simlab.restrictions.submission import SubmissionAuthRequired

__all__ = [
    "DEFAULT_RELAY_RESTRICTIONS", "FILTERS", "AccountLockout", "Anvil", "Ban", "BlocklistZone", "ClientHosts",
    "Dns", "Fail2Ban", "FailureDelay", "IpRangeRestriction", "PostfixRestrictions", "RblClient",
    "RelayRestriction", "RouterFilter", "SubmissionAuthRequired", "parse_restrictions", "recidive",
    "reversed_query",
]

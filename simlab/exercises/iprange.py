"""Lesson 04 (S5): an SMTP IP Range Restriction that keeps spam out without shutting out correspondents.

The thread's case: EIMS 2.1's *IP Range Restriction* on SMTP refuses every
connection from outside the allowed ranges - `554 mail.example.com Access
denied` at connect - so other sites' servers can no longer deliver to the
site. It works only when the domain's MX record points at the provider,
which spools the mail and hands it on from one address that the range
allows (198.51.100.25 here).

The ranges are exactly what the admin typed: unlike
``strict_ip_range(mx_via_provider=True)``, nothing adds the provider's
address for you, so the lesson can show an MX at the provider whose address
the range still refuses.

The feedback and :data:`SOLUTION` come from the message catalogs (ids ``exercise.iprange.*``) in the
language current when they are shown; the setting's name and the server's replies stay as EIMS wrote them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from simlab.addresses.networks import parse_networks
from simlab.engine.result import Result, event_rows
from simlab.exercises.common import (
    Feedback,
    checker,
    lazy_constants,
    parse_count,
    parse_switch,
    refused_legit,
    relayed_counts,
)
from simlab.i18n import t, tn
from simlab.scenarios import DAY, Scenario, run, strict_ip_range
from simlab.scenarios.site import HOSTNAME, PROVIDER_IP

__all__ = ["RANGE_SETTING", "parse_ip_ranges", "ip_range_day", "refused_at_connect", "check_ip_range", "SOLUTION"]

#: How the setting is named in messages (the EIMS 2.1 dialog's name).
RANGE_SETTING = "IP Range Restriction (SMTP)"

#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.iprange.solution", provider_ip=PROVIDER_IP)


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution})


def parse_ip_ranges(text: str | Iterable[str], setting: str = RANGE_SETTING) -> list[str]:
    """The ranges an admin typed, checked one by one: ``"192.0.2.1-192.0.2.254, 198.51.100.25"``.

    Read by :func:`simlab.addresses.networks.parse_networks`, as every address field is: ranges
    separated by commas, semicolons, spaces or line breaks; spaces around the dash are allowed. An
    empty field means no restriction at all. A malformed or reversed range raises
    :class:`ConfigError` naming it.

    >>> parse_ip_ranges("192.0.2.1 - 192.0.2.254; 198.51.100.25")
    ['192.0.2.1-192.0.2.254', '198.51.100.25']
    """
    return parse_networks(text, setting)


def ip_range_day(ranges: str | Iterable[str] = ("192.0.2.1-192.0.2.254",), mx_via_provider: bool = False,
                 relay_restriction: bool = True, duration: float = DAY) -> Scenario:
    """The S5 day with exactly these SMTP ranges allowed (none: no IP Range Restriction)."""
    allowed = parse_ip_ranges(ranges)
    mx_via_provider = parse_switch(mx_via_provider, "mx_via_provider")
    relay_restriction = parse_switch(relay_restriction, "relay_restriction")
    scenario = strict_ip_range(ranges=allowed, mx_via_provider=mx_via_provider, relay_restriction=relay_restriction,
                               duration=duration)
    scenario.settings["ip_range_restriction"] = {"smtp": allowed}
    return scenario


def refused_at_connect(result: Result) -> list[tuple[str, str, int]]:
    """Who the site's server turned away at connect: ``(who, address, connections)``, most first."""
    counts = Counter((row.actor, row.client_ip)
                     for row in event_rows(result, command="CONNECT", host=HOSTNAME) if row.reply_code == 554)
    return [(actor, ip, n) for (actor, ip), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _describe(actor: str) -> str:
    if actor.endswith("(relay)"):
        return t("exercise.iprange.provider_relay", server=actor.removesuffix(" (relay)"))
    return actor


@checker
def check_ip_range(ranges: str | Iterable[str], mx_via_provider: bool = False, relay_restriction: bool = True,
                   seed: int = 1) -> Feedback:
    """Run the S5 day with these ranges and MX, and judge it.

    Passes when no spam is relayed and no legitimate mail is lost. The feedback names each
    correspondent (or staff member) refused at connect, by address and count, and the spam
    that got through. ``mx_via_provider`` and ``relay_restriction`` are switches (``True``/``False``,
    yes/no, on/off, 1/0); a bad range or switch is a failed verdict naming it.
    """
    ranges = parse_ip_ranges(ranges)
    mx_via_provider = parse_switch(mx_via_provider, "mx_via_provider")
    relay_restriction = parse_switch(relay_restriction, "relay_restriction")
    result = run(ip_range_day(ranges, mx_via_provider, relay_restriction), seed=parse_count(seed, "seed"))
    problems = []
    for actor, ip, n in refused_at_connect(result):
        if actor == "spoofing spammer":
            continue
        problems.append(tn("exercise.iprange.refused_at_connect", n, who=_describe(actor), ip=ip))
    problems += [tn("exercise.iprange.spam_got_through", n, network=net, actor=who)
                 for (who, net), n in relayed_counts(result, actors=("spoofing spammer",))]
    problems += refused_legit(result)
    if problems:
        return Feedback(False, problems)
    notes = [t("exercise.iprange.passed")]
    if not mx_via_provider:
        notes.append(t("exercise.iprange.one_by_one"))
    if not parse_ip_ranges(ranges):
        notes.append(t("exercise.iprange.no_range", setting="IP Range Restriction"))
    return Feedback(True, notes)

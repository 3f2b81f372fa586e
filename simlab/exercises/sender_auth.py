"""Lesson 11 exercise: what example.com should publish (and run) so that no forgery of it arrives anywhere.

The student plays example.com's admin: the site's server, the SPF record, DKIM signing, the DMARC policy
and its pct. yourcompany.test's admin is a good one: Postfix with policyd-spf leaving SPF failures to DMARC
(``Mail_From_reject = False``, RFC 7489 §10.1) and OpenDMARC acting on the policy. The checker runs a day
of :func:`simlab.scenarios.sender_authentication` - the spoof relayed by the site's server, the same
forgery sent directly, the staff's mail, and the staff's mail forwarded by remote.test - and passes when
no forged message reaches a mailbox or a hold queue at yourcompany.test and no legitimate one is lost.

The paths' names (:data:`PATH_NAMES`), the feedback and :data:`SOLUTION` come from the message catalogs (ids
``exercise.sender_auth.*``) in the language current when they are read.
"""

from __future__ import annotations

from collections.abc import Mapping

from simlab import products
from simlab.engine.result import Result
from simlab.exercises.common import Feedback, LazyTexts, checker, lazy_constants, parse_count
from simlab.i18n import t, tn
from simlab.scenarios import run
from simlab.scenarios.base import DAY
from simlab.scenarios.sender_auth import FLOWS, OUTCOMES, PATHS, sender_authentication

__all__ = ["RECEIVER", "PATH_NAMES", "sender_day", "flow_table", "check_sender_setup", "SOLUTION", "START"]

#: yourcompany.test's receiving setup in the exercise: SPF left to DMARC, the policy enforced.
RECEIVER = {"receiver_checks": True, "spf_reject": False, "dmarc_enforce": True}
#: The paths in words (in the language current when read).
PATH_NAMES = LazyTexts({"via_site": lambda: t("exercise.sender_auth.path.via_site"),
                        "direct": lambda: t("exercise.sender_auth.path.direct"),
                        "forwarded": lambda: t("exercise.sender_auth.path.forwarded")})
#: The exercise's starting answer: lesson 03's server and a record that looks strict.
START = {"preset": "eims-2.1", "spf": "v=spf1 mx -all", "dkim": False, "dmarc": "reject", "pct": 100}

#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.sender_auth.solution")


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution})


def sender_day(preset: str = "eims-2.1", spf: str | None = "v=spf1 mx -all", dkim: bool = False,
               dmarc: str | None = "reject", pct: int = 100, duration: float = DAY,
               receiver: Mapping[str, bool] = RECEIVER, **knobs):
    """The exercise's day: :func:`~simlab.scenarios.sender_authentication` with yourcompany.test's setup."""
    return sender_authentication(preset=preset, spf=spf, dkim=dkim, dmarc=dmarc, pct=pct, duration=duration,
                                 **(dict(receiver) | knobs))


def flow_table(result: Result) -> dict[tuple[str, str], dict[str, int]]:
    """``{(kind, path): {outcome: count}}`` for the flows the run had (kind ``forged``/``legit``)."""
    table: dict[tuple[str, str], dict[str, int]] = {}
    for pairs in FLOWS.values():
        for kind, path in pairs:
            keys = {o: f"{kind}_{path}_{o}" for o in OUTCOMES}
            if all(k in result.summary for k in keys.values()):
                table[(kind, path)] = {o: int(result.summary[k]) for o, k in keys.items()}
    return {key: table[key] for key in sorted(table, key=lambda kp: (kp[0] != "forged", PATHS.index(kp[1])))}


def _problems(result: Result, preset: str, spf, dkim: bool, dmarc, pct: int) -> list[str]:
    table = flow_table(result)
    problems = []
    via_site = table[("forged", "via_site")]
    if via_site["delivered"] or via_site["quarantined"]:
        n = via_site["delivered"] + via_site["quarantined"]
        problems.append(tn("exercise.sender_auth.relayed_spoof", n, product=products.get(preset).label))
    for path in ("direct", "forwarded"):
        row = table[("forged", path)]
        if row["delivered"]:
            why = []
            if spf is None and not dkim:
                why.append(t("exercise.sender_auth.why.nothing_authenticates"))
            if dmarc is None:
                why.append(t("exercise.sender_auth.why.no_dmarc"))
            elif dmarc == "none":
                why.append(t("exercise.sender_auth.why.p_none"))
            if pct < 100:
                why.append(t("exercise.sender_auth.why.pct", pct=pct))
            if why:
                problems.append(tn("exercise.sender_auth.forged_delivered_because", row["delivered"],
                                   path=PATH_NAMES[path],
                                   reasons=t("exercise.sender_auth.reason_separator").join(why)))
            else:
                problems.append(tn("exercise.sender_auth.forged_delivered", row["delivered"],
                                   path=PATH_NAMES[path]))
        if row["quarantined"]:
            problems.append(tn("exercise.sender_auth.forged_quarantined", row["quarantined"],
                               path=PATH_NAMES[path]))
    for path in PATHS:
        row = table.get(("legit", path))
        if row is None:
            continue
        lost = row["refused"] + row["quarantined"]
        if lost:
            if path == "via_site":
                problems.append(tn("exercise.sender_auth.legit_lost.via_site", lost, path=PATH_NAMES[path]))
            elif path == "forwarded" and not dkim:
                problems.append(tn("exercise.sender_auth.legit_lost.forwarded", lost, path=PATH_NAMES[path]))
            else:
                problems.append(tn("exercise.sender_auth.legit_lost", lost, path=PATH_NAMES[path]))
    return problems


@checker
def check_sender_setup(preset: str, spf: str | None = "v=spf1 mx -all", dkim: bool = False,
                       dmarc: str | None = "reject", pct: int = 100, seed: int = 1) -> Feedback:
    """Run the day with example.com's setup and judge it.

    Passes when no forged ``Postmaster@example.com`` message reaches a mailbox or the hold queue at
    yourcompany.test on any path (relayed by the site's server, sent directly, forwarded), and no
    legitimate message - the staff's own, or forwarded - is refused or held. A bad value (an SPF record
    that is not one, DKIM on a server that cannot sign, a pct out of range) is a failed verdict naming it.
    """
    result = run(sender_day(preset, spf, dkim, dmarc, pct), seed=parse_count(seed, "seed"))
    problems = _problems(result, preset, spf, dkim, dmarc, pct)
    if problems:
        return Feedback(False, problems)
    messages = [t("exercise.sender_auth.passed"), t("exercise.sender_auth.price")]
    if spf is None:
        messages.append(t("exercise.sender_auth.dkim_alone"))
    return Feedback(True, messages)

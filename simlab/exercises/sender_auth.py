"""Lesson 11 exercise: what example.com should publish (and run) so that no forgery of it arrives anywhere.

The student plays example.com's admin: the site's server, the SPF record, DKIM signing, the DMARC policy
and its pct. yourcompany.test's admin is a good one: Postfix with policyd-spf leaving SPF failures to DMARC
(``Mail_From_reject = False``, RFC 7489 §10.1) and OpenDMARC acting on the policy. The checker runs a day
of :func:`simlab.scenarios.sender_authentication` - the spoof relayed by the site's server, the same
forgery sent directly, the staff's mail, and the staff's mail forwarded by remote.test - and passes when
no forged message reaches a mailbox or a hold queue at yourcompany.test and no legitimate one is lost.

The texts here are plain English (lesson 11 has no catalog entries in :mod:`simlab.i18n` yet).
"""

from __future__ import annotations

from collections.abc import Mapping

from simlab import products
from simlab.engine.result import Result
from simlab.exercises.common import Feedback, checker, parse_count
from simlab.scenarios import run
from simlab.scenarios.base import DAY
from simlab.scenarios.sender_auth import FLOWS, OUTCOMES, PATHS, sender_authentication

__all__ = ["RECEIVER", "PATH_NAMES", "sender_day", "flow_table", "check_sender_setup", "SOLUTION", "START"]

#: yourcompany.test's receiving setup in the exercise: SPF left to DMARC, the policy enforced.
RECEIVER = {"receiver_checks": True, "spf_reject": False, "dmarc_enforce": True}
#: The paths in words.
PATH_NAMES = {"via_site": "sent through example.com's own server", "direct": "sent straight to yourcompany.test",
              "forwarded": "forwarded by remote.test's alias"}
#: The exercise's starting answer: lesson 03's server and a record that looks strict.
START = {"preset": "eims-2.1", "spf": "v=spf1 mx -all", "dkim": False, "dmarc": "reject", "pct": 100}

SOLUTION = ("check_sender_setup('postfix', spf='v=spf1 mx -all', dkim=True, dmarc='reject') - close the relay "
            "first (lesson 03: Postfix relays by client address and login, not by the sender's domain), then "
            "sign with DKIM so that forwarded mail still passes DMARC, and publish p=reject for all of it "
            "(pct=100).")


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
        problems.append(f"{n} forged message(s) relayed by example.com's own server reached yourcompany.test: "
                        f"{products.get(preset).label} relayed the spoof, so it left from example.com's own "
                        "address and SPF and DMARC passed it. Sender checks authenticate servers, not people: "
                        "close the relay at home first (lesson 03).")
    for path in ("direct", "forwarded"):
        row = table[("forged", path)]
        if row["delivered"]:
            why = []
            if spf is None and not dkim:
                why.append("nothing authenticates example.com's mail")
            if dmarc is None:
                why.append("there is no DMARC record, so the receiver has no policy to apply")
            elif dmarc == "none":
                why.append("p=none asks the receiver to do nothing")
            if pct < 100:
                why.append(f"pct={pct} applies the policy to {pct}% of the failing mail only")
            problems.append(f"{row['delivered']} forged message(s) {PATH_NAMES[path]} were delivered"
                            + (f": {'; '.join(why)}." if why else "."))
        if row["quarantined"]:
            problems.append(f"{row['quarantined']} forged message(s) {PATH_NAMES[path]} were held in "
                            "yourcompany.test's quarantine, not refused: p=quarantine still lets them in, to "
                            "a hold queue someone must read. Ask for p=reject.")
    for path in PATHS:
        row = table.get(("legit", path))
        if row is None:
            continue
        lost = row["refused"] + row["quarantined"]
        if lost:
            why = ""
            if path == "via_site":
                why = (": example.com's own server refused them - alice writes from outside, and a server that "
                       "relays by client address refuses her unless she logs in (SMTP AUTH)")
            if path == "forwarded":
                why = (": a forwarder keeps the envelope sender, so SPF fails there, and without a DKIM "
                       "signature nothing else lines up with the From: domain" if not dkim else "")
            problems.append(f"{lost} legitimate message(s) {PATH_NAMES[path]} were refused or held{why}.")
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
    messages = ["no forgery of example.com reached yourcompany.test on any path, and all of the staff's mail - "
                "forwarded mail included - was delivered",
                "the price: every outgoing message must leave through the signing server, and mail a forwarder "
                "changes (a list that edits the subject) would still fail DMARC"]
    if spf is None:
        messages.append("DMARC passed on DKIM alone: without an SPF record, a receiver that checks SPF but not "
                        "DMARC learns nothing about example.com's mail")
    return Feedback(True, messages)

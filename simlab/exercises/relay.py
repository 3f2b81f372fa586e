"""Lesson 02 (S2, S3): close the open relay without losing legitimate mail."""

from __future__ import annotations

from typing import Any

from simlab.exercises.common import Feedback, refused_legit, relayed_by_network
from simlab.scenarios import relay_probe, run

__all__ = ["check_no_open_relay", "SOLUTION"]

SOLUTION = """EIMS 1.2 has no setting that stops relaying: the fix is another server.
On EIMS 2.1, check Relay Restriction ("only route for local domains and the following domains"):

    check_no_open_relay("eims-2.1", relay_restriction=True)

SIMS ("client_hosts") and Postfix ("mynetworks") refuse the probe as installed, because they
decide by the client's address. The probe is then refused at RCPT with a 5xx reply, nothing
waits in the queue, and no bounce reaches postmaster."""


def check_no_open_relay(preset: str, seed: int = 1, **settings: Any) -> Feedback:
    """Run the relay probe against ``preset`` with the given product settings and judge it.

    Passes when the probe is refused, no bounce reaches postmaster, and no legitimate mail is lost.
    """
    relay_restriction = bool(settings.pop("relay_restriction", False))
    scenario = relay_probe(preset=preset, relay_restriction=relay_restriction)
    scenario.settings.update(settings)
    result = run(scenario, seed=seed)
    problems = relayed_by_network(result, actors=("relay survey",))
    if result.summary["bounces_to_postmaster"]:
        problems.append(f"{result.summary['bounces_to_postmaster']} bounce(s) reached postmaster")
    problems += refused_legit(result)
    if problems:
        return Feedback(False, problems)
    return Feedback(True, ["the probe was refused at RCPT and legitimate mail kept flowing"])

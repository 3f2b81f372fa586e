"""Lesson 02 (S2, S3): close the open relay without losing legitimate mail."""

from __future__ import annotations

from typing import Any

from simlab.engine.result import Result
from simlab.exercises.common import (
    Feedback,
    checked_settings,
    checker,
    parse_count,
    parse_switch,
    refused_legit,
    relayed_by_network,
)
from simlab.scenarios import relay_probe, run

__all__ = ["check_no_open_relay", "lost_mail_by_actor", "SOLUTION", "PROBE_ACTOR"]

#: The actor that sends the survey's test message.
PROBE_ACTOR = "relay survey"

SOLUTION = """EIMS 1.2 has no setting that stops relaying: the fix is another server.
On EIMS 2.1, check Relay Restriction ("only route for local domains and the following domains"):

    check_no_open_relay("eims-2.1", relay_restriction=True)

SIMS ("client_hosts") and Postfix ("mynetworks") refuse the probe as installed, because they
decide by the client's address: the probe is refused at RCPT, nothing waits in the queue, and
no bounce reaches postmaster. But the same rule costs SIMS alice's mail: she sends from outside
(198.51.100.77), so SIMS refuses her at RCPT as it refuses the probe - unless her address is in
Client Hosts:

    check_no_open_relay("sims", client_hosts=["192.0.2.0/24", "198.51.100.77"])

Postfix passes as installed: alice logs in (SMTP AUTH) and submits on port 587, and a logged-in
client may relay (permit_sasl_authenticated), whatever her address:

    check_no_open_relay("postfix")

Postfix's refusal is 454 4.7.1 (a deferral, from its default defer_unauth_destination); with
reject_unauth_destination it would be 554 5.7.1. Either way the probe's message is never taken."""


def lost_mail_by_actor(result: Result, skip: tuple[str, ...] = (PROBE_ACTOR,)) -> list[str]:
    """One sentence per sender whose ``RCPT TO`` was refused: who, from which address, how often, with which code."""
    events = result.events
    if events.empty:
        return []
    refused = events[events.command.astype(str).str.upper().str.startswith("RCPT")
                     & ~events.reply_code.astype(str).str.startswith("2") & ~events.actor.isin(skip)]
    sentences = []
    for (actor, client_ip, code), rows in refused.groupby(["actor", "client_ip", "reply_code"]):
        sentences.append(f"{actor} at {client_ip}: {len(rows)} message(s) refused at RCPT with {code}")
    return sentences


@checker
def check_no_open_relay(preset: str, seed: int = 1, **settings: Any) -> Feedback:
    """Run the relay probe against ``preset`` with the given product settings and judge it.

    Passes when the probe is refused, no bounce reaches postmaster, and no legitimate mail is lost.
    The feedback names whose mail was lost, from which address, and the reply at RCPT.
    Settings are read strictly (:func:`~simlab.exercises.common.checked_settings`): a switch takes
    ``True``/``False`` or yes/no, true/false, on/off, 1/0, an address list CIDR blocks, addresses or
    ``A-B`` ranges; anything else is a failed verdict that names the setting, never "Correct.".
    """
    seed = parse_count(seed, "seed", 0)
    relay_restriction = parse_switch(settings.pop("relay_restriction", False), "relay_restriction")
    settings = checked_settings(preset, settings)
    scenario = relay_probe(preset=preset, relay_restriction=relay_restriction)
    scenario.settings.update(settings)
    result = run(scenario, seed=seed)
    problems = relayed_by_network(result, actors=(PROBE_ACTOR,))
    if result.summary["bounces_to_postmaster"]:
        problems.append(f"{result.summary['bounces_to_postmaster']} bounce(s) reached postmaster")
    lost = refused_legit(result)
    if lost:
        problems += lost + lost_mail_by_actor(result)
    if problems:
        return Feedback(False, problems)
    return Feedback(True, ["the probe was refused at RCPT and legitimate mail kept flowing"])

"""Lesson 02 (S2, S3): close the open relay without losing legitimate mail.

The feedback and :data:`SOLUTION` are looked up in the message catalogs (ids ``exercise.relay.*``) when
they are shown: ``SOLUTION`` is served by the module's ``__getattr__`` (PEP 562) in the current language.
"""

from __future__ import annotations

from typing import Any

from simlab.engine.result import Result
from simlab.exercises.common import (
    Feedback,
    checked_settings,
    checker,
    lazy_constants,
    parse_count,
    parse_switch,
    refused_legit,
    relayed_by_network,
)
from simlab.i18n import t, tn
from simlab.scenarios import relay_probe, run

__all__ = ["check_no_open_relay", "lost_mail_by_actor", "SOLUTION", "PROBE_ACTOR"]

#: The actor that sends the survey's test message.
PROBE_ACTOR = "relay survey"


#: The worked answer, in the language current at each access (served by the module's ``__getattr__``, PEP 562).
SOLUTION: str


def _solution() -> str:
    """The worked answer, in the current language."""
    return t("exercise.relay.solution")


__getattr__ = lazy_constants(__name__, {"SOLUTION": _solution})


def lost_mail_by_actor(result: Result, skip: tuple[str, ...] = (PROBE_ACTOR,)) -> list[str]:
    """One sentence per sender whose ``RCPT TO`` was refused: who, from which address, how often, with which code."""
    events = result.events
    if events.empty:
        return []
    refused = events[events.command.astype(str).str.upper().str.startswith("RCPT")
                     & ~events.reply_code.astype(str).str.startswith("2") & ~events.actor.isin(skip)]
    sentences = []
    for (actor, client_ip, code), rows in refused.groupby(["actor", "client_ip", "reply_code"]):
        sentences.append(tn("exercise.relay.refused_at_rcpt", len(rows), actor=actor, client_ip=client_ip,
                            code=code))
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
        problems.append(tn("exercise.relay.bounces", result.summary["bounces_to_postmaster"]))
    lost = refused_legit(result)
    if lost:
        problems += lost + lost_mail_by_actor(result)
    if problems:
        return Feedback(False, problems)
    return Feedback(True, [t("exercise.relay.passed")])

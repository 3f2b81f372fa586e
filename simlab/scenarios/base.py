"""A scenario: a site's server, its defences, the actors around it and how long to watch.

A :class:`Scenario` is plain configuration; :func:`simlab.run` builds a fresh
world from it each time, so the same scenario can be run with many seeds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from simlab.engine.actors import Actor
from simlab.protocol.policy import Restriction
from simlab.restrictions.access import RouterFilter

__all__ = ["Scenario", "HOUR", "DAY"]

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass
class Scenario:
    """What to run.

    Attributes:
        name: the scenario's name (``"relay_probe"``).
        title: one line for lessons and the CLI.
        preset: ``"eims-1.2"``, ``"eims-2.1"``, ``"sims"`` or ``"postfix"``.
        settings: the site server's settings, in the product's names.
        actors: who talks to the server.
        duration: seconds of simulated time.
        restrictions: extra defences on the server (fail2ban, lockout ...).
        router_filters: packet filters on the site's router.
        mx_via_provider: the site's MX record points at the provider, which forwards.
        process_limit: SMTP connections the server serves at once (default: the product's).
        knobs: the arguments the scenario function was called with, for display.
    """

    name: str
    title: str
    preset: str
    settings: dict[str, Any]
    actors: list[Actor]
    duration: float = DAY
    restrictions: list[Restriction] = field(default_factory=list)
    router_filters: list[RouterFilter] = field(default_factory=list)
    mx_via_provider: bool = False
    process_limit: int | None = None
    idle_timeout: float = 300.0
    retry_interval: float = 300.0
    queue_lifetime: float = 4 * HOUR
    knobs: dict[str, Any] = field(default_factory=dict)

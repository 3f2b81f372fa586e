"""Run a scenario: build the world, start the actors, run the clock, collect the result."""

from __future__ import annotations

import copy

from simlab.engine.result import Result
from simlab.engine.world import World
from simlab.errors import ConfigError
from simlab.scenarios.base import Scenario
from simlab.scenarios.site import HOSTNAME, PROCESS_LIMITS, build_network, site_server

__all__ = ["run"]


def run(scenario: Scenario, seed: int = 0, counts_only: bool = False, transcripts: bool = True) -> Result:
    """Execute ``scenario`` and return its :class:`~simlab.engine.result.Result`.

    Args:
        seed: the same seed gives the same summary, log and events.
        counts_only: keep only counts - no events, transcripts, log or stored mail - so very long
            runs fit in little memory.
        transcripts: keep each session's dialogue (ignored when ``counts_only``).
    """
    if not isinstance(scenario, Scenario):
        raise ConfigError("scenario", scenario, "is not a scenario", "e.g. simlab.scenarios.relay_probe()")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError("seed", seed, "is not a whole number", "e.g. 1")
    site = site_server(scenario.preset, scenario.settings, restrictions=copy.deepcopy(scenario.restrictions))
    limit = scenario.process_limit or PROCESS_LIMITS[scenario.preset]
    network, dns, transports = build_network(site, scenario.mx_via_provider, limit, scenario.idle_timeout,
                                             copy.deepcopy(scenario.router_filters))
    world = World(seed, network, dns, HOSTNAME, keep_events=not counts_only,
                  keep_transcripts=transcripts and not counts_only, retry_interval=scenario.retry_interval,
                  queue_lifetime=scenario.queue_lifetime, keep_mail=not counts_only)
    for host in network.hosts.values():
        if host.server is not None:
            world.attach(host, transports.get(host.name))
    actors = copy.deepcopy(scenario.actors)
    for actor in actors:
        actor.start(world)
    world.loop.run(scenario.duration)
    for restriction in site.restrictions:
        for ban in getattr(restriction, "bans", ()):  # fail2ban's bans, on the timeline too
            world.counts["bans"] += 1
            world.timeline.append((ban.time, "bans"))
    world.timeline.sort(key=lambda item: item[0])
    return Result(scenario=scenario.name, preset=scenario.preset, seed=seed, summary=world.summary(),
                  log=list(site.log), transcripts=world.transcripts, timeline=world.timeline,
                  start=world.loop.clock.start, world=world, _events=world.events)

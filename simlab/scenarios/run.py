"""Run a scenario: build the world, start the actors, run the clock, collect the result.

A caller that shows progress (a lesson panel during a long day) wraps its runs in
:func:`reporting_progress`: the clock then runs in ten equal slices of simulated time and the
callback hears the fraction done after each. Slicing changes nothing in the run: the loop runs
every call due before the end of a slice, then stops its clock there, and the next slice goes on
from the same heap (:meth:`simlab.engine.loop.EventLoop.run`); no call sees the clock between slices.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from simlab import products
from simlab.engine.network import Host
from simlab.engine.result import Result
from simlab.engine.world import World
from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.products.base import QueueSchedule
from simlab.scenarios.base import Scenario
from simlab.scenarios.site import build_network, build_server

__all__ = ["run", "reporting_progress"]

#: Who hears how far the current run is (a fraction from 0 to 1), if anyone.
_PROGRESS: ContextVar[Callable[[float], None] | None] = ContextVar("simlab_run_progress", default=None)
PROGRESS_SLICES = 10


@contextmanager
def reporting_progress(callback: Callable[[float], None]) -> Iterator[None]:
    """Within the block, every :func:`run` calls ``callback(fraction)`` as its clock advances (to 1.0 at the end).

    The callback only hears; what it does cannot change a run (it is called between slices of the clock).
    """
    token = _PROGRESS.set(callback)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


def run(scenario: Scenario, seed: int = 0, counts_only: bool = False, transcripts: bool = True) -> Result:
    """Execute ``scenario`` and return its :class:`~simlab.engine.result.Result`.

    Args:
        seed: the same seed gives the same summary, log and events.
        counts_only: keep only counts - no events, transcripts, log or stored mail - so very long
            runs fit in little memory.
        transcripts: keep each session's dialogue (ignored when ``counts_only``).
    """
    if not isinstance(scenario, Scenario):
        raise ConfigError("scenario", scenario, t("scenario.error.not_a_scenario"), t("scenario.expected.scenario"))
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ConfigError("seed", seed, t("setting.error.not_whole_number"), t("scenario.expected.seed"))
    product = products.get(scenario.preset)
    base = copy.deepcopy(scenario.server_settings)
    site = build_server(product.name, base, scenario.settings, restrictions=copy.deepcopy(scenario.restrictions),
                        site=scenario.site)
    limit = scenario.process_limit or product.smtp_process_limit
    network, dns, transports = build_network(site, scenario.mx_via_provider, limit, scenario.idle_timeout,
                                             copy.deepcopy(scenario.router_filters), names=scenario.site,
                                             service_limits=service_pools(product, scenario.process_limit),
                                             remote_settings=scenario.remote_settings)
    _add_hosts(scenario, network, dns)
    queue = site_queue(scenario, product)
    world = World(seed, network, dns, scenario.site.hostname, keep_events=not counts_only,
                  keep_transcripts=transcripts and not counts_only, site_queue=queue, keep_mail=not counts_only)
    for host in network.hosts.values():
        if host.server is not None:
            world.attach(host, transports.get(host.name))
    actors = copy.deepcopy(scenario.actors)
    for actor in actors:
        if actor.host not in network.hosts:
            raise ConfigError(f"actor {actor.name!r} host", actor.host, t("scenario.error.not_a_host"),
                              t("expected.one_of", choices=", ".join(sorted(network.hosts))))
        actor.start(world)
    progress = _PROGRESS.get()
    if progress is None:
        world.loop.run(scenario.duration)
    else:
        for part in range(1, PROGRESS_SLICES + 1):
            world.loop.run(scenario.duration * part / PROGRESS_SLICES)
            progress(part / PROGRESS_SLICES)
    for restriction in site.restrictions:
        for ban in getattr(restriction, "bans", ()):  # fail2ban's bans, on the timeline too
            world.counts["bans"] += 1
            world.timeline.append((ban.time, "bans"))
    world.timeline.sort(key=lambda item: item[0])
    return Result(scenario=scenario.name, preset=scenario.preset, seed=seed, summary=world.summary(),
                  log=list(site.log), transcripts=world.transcripts, timeline=world.timeline,
                  start=world.loop.clock.start, world=world, _events=world.events, product=product.label,
                  settings=dict(site.origin.settings), queue=queue)


def service_pools(product: products.Product, process_limit: int | None) -> tuple[tuple[tuple[str, ...], int], ...]:
    """The site server's connection pools: its product's :attr:`~simlab.products.base.Product.service_limits`,
    the pool that serves SMTP set to the scenario's ``process_limit`` if it gives one."""
    return tuple((limit.services, process_limit if process_limit and "smtp" in limit.services else limit.limit)
                 for limit in product.service_limits)


def site_queue(scenario: Scenario, product: products.Product) -> QueueSchedule:
    """The site server's queue schedule: its product's, with the scenario's lifetime or fixed retry on top."""
    queue = product.queue
    if scenario.queue_lifetime is not None:
        queue = queue.with_lifetime(scenario.queue_lifetime, scenario.queue_lifetime_reason)
    if scenario.retry_interval is not None:
        queue = queue.with_fixed_retry(scenario.retry_interval)
    return queue


def _add_hosts(scenario: Scenario, network, dns) -> None:
    """The scenario's own hosts, their servers and DNS records, on top of the standard world."""
    for spec in scenario.hosts:
        server = None
        if spec.server is not None:
            server = build_server(spec.server.preset, dict(spec.server.settings), accounts={})
            dns.add_a(spec.name, spec.ip)
        network.add(Host(spec.name, spec.ip, spec.role, spec.stands_for, server=server,
                         max_connections=spec.max_connections), *spec.links)
    for domain, hosts in scenario.mx.items():
        for host in hosts:
            if host not in network.hosts:
                raise ConfigError(f"mx[{domain!r}]", host, t("scenario.error.not_a_host"),
                                  t("expected.one_of", choices=", ".join(sorted(network.hosts))))
        dns.add_mx(domain, *hosts)
    for name, ip in scenario.a.items():
        dns.add_a(name, ip)
    for name, texts in scenario.txt.items():
        dns.add_txt(name, *texts)

"""A scenario: a site's server, its defences, the world around it, the actors in it and how long to watch.

A :class:`Scenario` is plain configuration; :func:`simlab.run` builds a fresh
world from it each time, so the same scenario can be run with many seeds.

The world is the standard site (:mod:`simlab.scenarios.site`: the LAN behind
a router, the Internet, a provider, two correspondents' servers, the
survey's host) plus whatever :class:`HostSpec` entries and DNS records a
scenario adds: more hosts and links, with or without a mail server of their
own, and MX or A records for them. A scenario can be composed by hand::

    from simlab.engine.actors import RemoteMta
    from simlab.scenarios import HostSpec, Scenario, ServerSpec

    partner = HostSpec("mx.partner.test", "198.51.100.30", "remote MTA", links=(("internet", 0.02),),
                       server=ServerSpec("postfix", {"myhostname": "mx.partner.test",
                                                     "mydestination": ["partner.test"], "mynetworks": [],
                                                     "inet_interfaces": ["198.51.100.30"]}))
    scenario = Scenario("partner_day", "a partner's mail", "postfix", {}, hosts=[partner],
                        mx={"partner.test": ["mx.partner.test"]},
                        actors=[RemoteMta("partner", "mx.partner.test", ip="198.51.100.30", domain="partner.test",
                                          recipients=("bob",), send_every=1800)])
    simlab.run(scenario, seed=1)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from simlab.engine.actors import Actor
from simlab.products.base import SiteNames
from simlab.protocol.policy import Restriction
from simlab.restrictions.access import RouterFilter

__all__ = ["Scenario", "HostSpec", "ServerSpec", "HOUR", "DAY"]

HOUR = 3600.0
DAY = 24 * HOUR


@dataclass(frozen=True)
class ServerSpec:
    """A mail server to build: a product's registry name and its settings (in the product's names)."""

    preset: str
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HostSpec:
    """A host to add to the standard world.

    Attributes:
        name, ip: the host's name (also its DNS name, if it runs a server) and address.
        role: what it is for (``"remote MTA"``, ``"attacker"`` ...); ``stands_for``: whom it plays.
        links: ``(host, latency in seconds)`` pairs to hosts already there (``"internet"``, ``"lan"``, ...).
        server: the mail server it runs, if any; it gets an A record for ``name``.
        max_connections: SMTP connections its server serves at once.
    """

    name: str
    ip: str
    role: str = "host"
    links: Sequence[tuple[str, float]] = (("internet", 0.02),)
    server: ServerSpec | None = None
    stands_for: str = ""
    max_connections: int = 100


@dataclass
class Scenario:
    """What to run.

    Attributes:
        name: the scenario's name (``"relay_probe"``).
        title: one line for lessons and the CLI.
        preset: the site server's product, a name of :mod:`simlab.products` (``"eims-2.1"``).
        settings: the site server's settings, in the product's names, on top of ``server_settings``.
        actors: who talks to the server.
        duration: seconds of simulated time.
        restrictions: extra defences on the server (fail2ban, lockout ...).
        router_filters: packet filters on the site's router.
        mx_via_provider: the site's MX record points at the provider, which forwards.
        process_limit: SMTP connections the server serves at once (default: the product's; on a product
            whose SMTP and POP3 share one program, the limit both share).
        queue_lifetime: seconds the site server keeps undeliverable mail before returning it; None: its
            product's (:attr:`~simlab.products.base.Product.queue`: Postfix 5 days, Exim 4 days, the 1998
            products 5 days by RFC 5321). A scenario that needs the return within its day sets it shorter and
            says why in ``queue_lifetime_reason``.
        queue_lifetime_reason: why the scenario changed the lifetime (shown in the result's queue schedule).
        retry_interval: seconds between the site server's attempts, fixed; None: its product's schedule
            (Postfix's doubling backoff, Exim's retry rule ...).
        server_settings: the settings of a server given with ``server=`` (None: the product's settings for the
            standard site, see :meth:`~simlab.products.base.Product.site_settings`).
        site: the site server's names (domain, host name, address); the standard site's by default.
        hosts, mx, a: hosts added to the standard world, and DNS records for them (``{domain: [hosts]}``,
            ``{name: address}``).
        txt: TXT records to publish (``{"example.com": ["v=spf1 mx -all"]}``): SPF, DKIM keys, DMARC policies.
        remote_settings: settings added to the standard world's other servers, by host name
            (``{"mail.yourcompany.test": {"policyd_spf": True}}``; see :func:`simlab.scenarios.site.build_network`).
        knobs: the arguments the scenario function was called with, for display.
    """

    name: str
    title: str
    preset: str
    settings: dict[str, Any]
    actors: list[Actor] = field(default_factory=list)
    duration: float = DAY
    restrictions: list[Restriction] = field(default_factory=list)
    router_filters: list[RouterFilter] = field(default_factory=list)
    mx_via_provider: bool = False
    process_limit: int | None = None
    idle_timeout: float = 300.0
    retry_interval: float | None = None
    queue_lifetime: float | None = None
    queue_lifetime_reason: str = "set by hand"
    server_settings: dict[str, Any] | None = None
    site: SiteNames = field(default_factory=SiteNames)
    hosts: list[HostSpec] = field(default_factory=list)
    mx: dict[str, list[str]] = field(default_factory=dict)
    a: dict[str, str] = field(default_factory=dict)
    txt: dict[str, list[str]] = field(default_factory=dict)
    remote_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    knobs: dict[str, Any] = field(default_factory=dict)

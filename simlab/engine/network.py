"""The network a scenario runs on: hosts, links with latency, routers with filters, and DNS.

* :class:`Network` - hosts and links; link weights are one-way latencies in
  seconds, and routes are the fastest paths, as networkx finds them
  (its graph, :attr:`Network.graph`, is built for pictures only when read, so
  that a run needs no graph library at all). A connection succeeds when
  the destination is up and no router on the path filters it (the thread's
  advice: drop traffic from networks that need no access at the router). A
  filtered or unreachable destination is a connection *timeout* for the
  client, as on the Internet.
* :class:`NetworkDns` - the simulated DNS: MX, A and TXT records (TXT for
  SPF, DKIM and DMARC, read by :mod:`simlab.auth` through :meth:`NetworkDns.zone`), names that do
  not resolve (the thread's ``DNR timed out`` for simkin.com) and names
  whose lookups time out some of the time. DNS blocklists live with the
  servers' restrictions (:mod:`simlab.restrictions.dnsbl`).
"""

from __future__ import annotations

import heapq
import ipaddress
import itertools
import random
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from simlab.errors import ConfigError
from simlab.i18n import t
from simlab.protocol.server import MailServer
from simlab.restrictions.access import RouterFilter

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Host", "Network", "NetworkDns", "Reach", "DnsAnswer"]


@dataclass
class Host:
    """A machine on the simulated network.

    ``role`` names what it is for (``"mail server"``, ``"LAN client"``,
    ``"attacker"`` ...); ``stands_for`` says which machine of the thread it
    plays; ``server`` is the simulated mail server it runs, if any.

    Connection limits belong to the server's programs, not to the machine:
    ``service_limits`` lists ``(services, limit)`` pools - services in one
    pool share its slots (EIMS and SIMS serve SMTP and POP3 from one program
    with one thread pool), services in separate pools do not (Postfix's
    smtpd and Dovecot's pop3-login each have their own ``process_limit``).
    A connection beyond its pool's limit is refused (a TCP reset); an SMTP
    flood therefore refuses POP3 logins only where the two share a pool.
    simlab models no limit of the machine itself (file descriptors, memory).
    Without ``service_limits`` every service shares ``max_connections``.
    """

    name: str
    ip: str
    role: str
    stands_for: str = ""
    server: MailServer | None = None
    up: bool = True
    #: Most SMTP connections served at once (the process limit); beyond it connections are refused.
    max_connections: int = 100
    #: ``((services, limit), ...)``: the connection pools of the server's programs (None: one, ``max_connections``).
    service_limits: tuple[tuple[tuple[str, ...], int], ...] | None = None
    #: Seconds an idle SMTP connection is kept open (Postfix ``smtpd_timeout``: 300 s).
    idle_timeout: float = 300.0
    active: int = 0
    filters: list[RouterFilter] = field(default_factory=list)
    #: connections held in each pool of :attr:`pools`, by pool index.
    in_use: list[int] = field(default_factory=list)
    _layout: tuple | None = field(default=None, init=False, repr=False, compare=False)
    _indexes: dict[str, tuple[int, ...]] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def pools(self) -> tuple[tuple[tuple[str, ...], int], ...]:
        """The connection pools: ``service_limits``, or one pool of ``max_connections`` for every service."""
        return self.service_limits or ((("smtp", "pop3"), self.max_connections),)

    def _pools_of(self, service: str) -> tuple[int, ...]:
        """The indexes of the pools ``service`` belongs to, worked out once per service and pool layout
        (a connection asks three times: room, take, release)."""
        layout = (self.service_limits, self.max_connections)
        if layout != self._layout:  # the first call, or the limits were changed since
            self._layout, self._indexes = layout, {}
            if len(self.in_use) != len(self.pools):
                self.in_use = [0] * len(self.pools)
        indexes = self._indexes.get(service)
        if indexes is None:
            indexes = self._indexes[service] = tuple(
                i for i, (services, _limit) in enumerate(self.pools) if service in services)
        return indexes

    def has_room(self, service: str) -> bool:
        """Whether a new ``service`` connection finds a free slot in every pool it belongs to."""
        indexes = self._pools_of(service)  # first: it sizes ``in_use`` to the pools
        pools, in_use = self.pools, self.in_use
        for i in indexes:
            if in_use[i] >= pools[i][1]:
                return False
        return True

    def limit_of(self, service: str) -> int | None:
        """The connection limit ``service`` meets (the smallest of its pools'), or None if it has none."""
        limits = [self.pools[i][1] for i in self._pools_of(service)]
        return min(limits) if limits else None

    def take(self, service: str) -> None:
        """A ``service`` connection starts: one slot in each of its pools."""
        self.active += 1
        for i in self._pools_of(service):
            self.in_use[i] += 1

    def release(self, service: str) -> None:
        """A ``service`` connection ended."""
        self.active -= 1
        for i in self._pools_of(service):
            self.in_use[i] -= 1


class Reach(Enum):
    """What a client's connection attempt meets."""

    OK = "ok"
    FILTERED = "filtered"  # a router dropped it: the client times out
    DOWN = "down"  # nothing answers: the client times out
    REFUSED = "refused"  # the host is up but at its connection limit: TCP reset


class Network:
    """Hosts and links; latencies in seconds (one way).

    Routes are the fastest paths, found by Dijkstra's algorithm as networkx's
    ``single_source_dijkstra`` runs it, step for step: the latencies are networkx's to the last bit,
    and so is every route where one path is fastest. Where two paths are equally fast, the route is
    the first found searching from the client (modelling choice; networkx's two-sided search for one
    pair may pick the other). The search is written out here because it is all a run needs of a graph
    library, and importing networkx costs a fresh kernel's first panel about a fifth of a second;
    :attr:`graph`, the network as a networkx graph for pictures, is built when it is first read.
    """

    def __init__(self) -> None:
        self.hosts: dict[str, Host] = {}
        self._by_ip: dict[str, Host] = {}
        #: one-way latency of each link, both ways: ``{a: {b: seconds}}``, in the order links were made.
        self._links: dict[str, dict[str, float]] = {}
        self._graph: nx.Graph | None = None
        self._latency_cache: dict[str, dict[str, float]] = {}
        self._path_cache: dict[tuple[str, str], list[str]] = {}
        self._hops_cache: dict[tuple[str, str], tuple[Host, ...] | bool] = {}

    @property
    def graph(self) -> nx.Graph:
        """The network as a networkx graph: nodes with ``role`` and ``ip``, edges with ``latency`` (a copy for
        reading and drawing; routes come from the links themselves)."""
        if self._graph is None:
            import networkx as nx

            graph = nx.Graph()
            for name, host in self.hosts.items():
                graph.add_node(name, role=host.role, ip=host.ip)
            for a, links in self._links.items():
                for b, latency in links.items():
                    if not graph.has_edge(a, b):
                        graph.add_edge(a, b, latency=latency)
            self._graph = graph
        return self._graph

    def add(self, host: Host, *links: tuple[str, float]) -> Host:
        """Add ``host``, linked to existing hosts: ``(name, latency)`` pairs."""
        try:
            ipaddress.ip_address(host.ip)
        except ValueError:
            raise ConfigError(f"host {host.name!r} ip", host.ip, t("network.error.not_ip"),
                              t("network.expected.ip")) from None
        if host.name in self.hosts:
            raise ConfigError("host", host.name, t("network.error.duplicate_host"), t("network.expected.new_name"))
        self.hosts[host.name] = host
        self._by_ip.setdefault(host.ip, host)
        self._links[host.name] = {}
        self._graph = None
        for other, latency in links:
            self.link(host.name, other, latency)
        return host

    def link(self, a: str, b: str, latency: float) -> None:
        for name in (a, b):
            if name not in self.hosts:
                raise ConfigError("link", name, t("network.error.not_a_host"),
                                  t("expected.one_of", choices=", ".join(sorted(self.hosts))))
        if latency < 0:
            raise ConfigError("link latency", latency, t("setting.error.negative"), t("setting.expected.seconds"))
        self._links[a][b] = self._links[b][a] = float(latency)
        self._graph = None
        self._latency_cache.clear()
        self._path_cache.clear()
        self._hops_cache.clear()

    def host(self, name: str) -> Host:
        return self.hosts[name]

    def host_at(self, ip: str) -> Host | None:
        return self._by_ip.get(ip)

    def _search(self, source: str, target: str | None = None) -> tuple[dict[str, float], dict[str, str]]:
        """Dijkstra from ``source``: the final distances, in the order found, and each host's predecessor
        (networkx's ``_dijkstra_multisource`` with one source and no cutoff)."""
        links = self._links
        dist: dict[str, float] = {}
        seen: dict[str, float] = {source: 0}
        before: dict[str, str] = {}
        serial = itertools.count()
        fringe: list[tuple[float, int, str]] = [(0, next(serial), source)]
        while fringe:
            dist_v, _, v = heapq.heappop(fringe)
            if v in dist:
                continue  # already searched
            dist[v] = dist_v
            if v == target:
                break
            for u, cost in links[v].items():
                vu_dist = dist_v + cost
                if u in dist:
                    continue  # latencies are never negative: no shorter way can turn up
                if u not in seen or vu_dist < seen[u]:
                    seen[u] = vu_dist
                    heapq.heappush(fringe, (vu_dist, next(serial), u))
                    before[u] = v
        return dist, before

    def latency(self, a: str, b: str) -> float:
        """One-way latency along the fastest path (infinite if there is none)."""
        table = self._latency_cache.get(a)
        if table is None:
            table = self._latency_cache[a] = self._search(a)[0]
        return table.get(b, float("inf"))

    def path(self, a: str, b: str) -> list[str]:
        """The hosts along the fastest path from ``a`` to ``b``, both included (empty if there is none)."""
        key = (a, b)
        route = self._path_cache.get(key)
        if route is None:
            if a not in self._links or b not in self._links:
                raise KeyError(a if a not in self._links else b)
            dist, before = self._search(a, b)
            route = []
            if b in dist:
                route = [b]
                while route[-1] != a:
                    route.append(before[route[-1]])
                route.reverse()
            self._path_cache[key] = route
        return route

    def reach(self, src: str, dst: str, client_ip: str, service: str) -> Reach:
        """Can ``client_ip`` (on host ``src``) open ``service`` on host ``dst``?"""
        target = self.hosts[dst]
        hops = self._hops_cache.get((src, dst))
        if hops is None:  # the hosts after the client on the route, once per pair (False: no route)
            route = self.path(src, dst)
            hops = self._hops_cache[(src, dst)] = tuple(self.hosts[hop] for hop in route[1:]) if route else False
        if hops is False or not target.up:
            return Reach.DOWN
        for hop in hops:
            for rule in hop.filters:
                if rule.blocks(client_ip, service):
                    return Reach.FILTERED
        return Reach.OK


@dataclass(frozen=True)
class DnsAnswer:
    """A lookup's outcome: ``status`` is ``"ok"``, ``"timeout"`` or ``"nxdomain"``."""

    status: str
    hosts: tuple[str, ...] = ()


class NetworkDns:
    """MX, A and TXT records of the simulated world.

    Args:
        server_ip: the resolver the mail servers ask (named in EIMS's ``DNR timed out to <addr>``).
    """

    def __init__(self, server_ip: str = "192.0.2.53") -> None:
        self.server_ip = server_ip
        self.mx: dict[str, list[str]] = {}
        self.addresses: dict[str, str] = {}
        self.timeouts: dict[str, float] = {}
        #: TXT records by name (SPF, DKIM keys, DMARC policies: :mod:`simlab.auth`), each a list of strings.
        self.txt: dict[str, list[str]] = {}
        self._zone: dict[str, list[tuple[str, object]]] | None = None

    def add_mx(self, domain: str, *hosts: str) -> None:
        self.mx[domain.lower()] = list(hosts)
        self._zone = None

    def add_a(self, name: str, ip: str) -> None:
        self.addresses[name.lower()] = ip
        self._zone = None

    def add_txt(self, name: str, *texts: str) -> None:
        """Publish TXT records at ``name`` (added to any already there)."""
        for text in texts:
            if not isinstance(text, str):
                raise ConfigError(f"txt[{name!r}]", text, t("network.error.not_txt"), t("network.expected.txt"))
        self.txt.setdefault(name.lower().rstrip("."), []).extend(texts)
        self._zone = None

    def zone(self) -> dict[str, list[tuple[str, object]]]:
        """The records as data, ``{name: [(type, value), ...]}``: what :func:`simlab.auth.spf.check_host` and
        the rest of :mod:`simlab.auth` read. A records, MX records as ``(preference, host)`` (10, 20, ... in
        the order given) and TXT records. Names made flaky by :meth:`flaky` are left as they are: the auth
        layer's lookups do not time out in a run (modelling choice)."""
        if self._zone is None:
            zone: dict[str, list[tuple[str, object]]] = {}
            for name, ip in self.addresses.items():
                zone.setdefault(name, []).append(("AAAA" if ":" in ip else "A", ip))
            for domain, hosts in self.mx.items():
                zone.setdefault(domain, []).extend(("MX", (10 * (n + 1), host)) for n, host in enumerate(hosts))
            for name, texts in self.txt.items():
                zone.setdefault(name, []).extend(("TXT", text) for text in texts)
            self._zone = zone
        return self._zone

    def flaky(self, domain: str, timeout_probability: float) -> None:
        """Lookups for ``domain`` time out with this probability (1.0: always)."""
        if not 0.0 <= timeout_probability <= 1.0:
            raise ConfigError("timeout_probability", timeout_probability, t("setting.error.not_probability"),
                              t("setting.expected.probability"))
        self.timeouts[domain.lower()] = timeout_probability

    def lookup_mx(self, domain: str, rng: random.Random) -> DnsAnswer:
        """The mail hosts for ``domain``: its MX records, else its A record (RFC 5321 §5.1)."""
        name = domain.lower().rstrip(".")
        chance = self.timeouts.get(name)
        if chance is not None and rng.random() < chance:
            return DnsAnswer("timeout")
        if name in self.mx:
            return DnsAnswer("ok", tuple(self.mx[name]))
        if name in self.addresses:
            return DnsAnswer("ok", (name,))
        return DnsAnswer("nxdomain")

    def address(self, name: str) -> str | None:
        return self.addresses.get(name.lower())

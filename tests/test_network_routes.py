"""Routes and latencies on the simulated network are the ones networkx finds.

:class:`simlab.engine.network.Network` searches its links itself (a run needs no graph library);
these tests hold it to networkx on the same graph, on the site networks the lessons use and on
random graphs: the latencies equal ``single_source_dijkstra_path_length``'s, every route is a
fastest path, the route is networkx's ``single_source_dijkstra_path``'s (the search the network
runs), and ``shortest_path``'s wherever one path is fastest. The ``graph`` for pictures is the network.
"""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import simlab
from simlab.engine.network import Host, Network


def _nx_path(graph: nx.Graph, a: str, b: str) -> list[str]:
    try:
        return nx.shortest_path(graph, a, b, weight="latency")
    except nx.NetworkXNoPath:
        return []


def _reference(network: Network) -> nx.Graph:
    """The network as networkx would hold it had it been built by ``add_node``/``add_edge`` calls."""
    graph = nx.Graph()
    for name in network.hosts:
        graph.add_node(name)
    for a, links in network._links.items():
        for b, latency in links.items():
            graph.add_edge(a, b, latency=latency)
    return graph


def _same_as_networkx(network: Network, graph: nx.Graph) -> None:
    for a in network.hosts:
        lengths = nx.single_source_dijkstra_path_length(graph, a, weight="latency")
        searched = nx.single_source_dijkstra_path(graph, a, weight="latency")
        for b in network.hosts:
            route, latency = network.path(a, b), network.latency(a, b)
            assert latency == lengths.get(b, float("inf")), (a, b)
            assert route == searched.get(b, []), (a, b)
            if route:
                assert route[0] == a and route[-1] == b
                assert sum(network._links[x][y] for x, y in itertools.pairwise(route)) == pytest.approx(latency)
            fastest = list(nx.all_shortest_paths(graph, a, b, weight="latency")) if b in lengths else []
            if len(fastest) <= 1:  # one fastest path: the one networkx's shortest_path gives
                assert route == _nx_path(graph, a, b), (a, b)


@st.composite
def networks(draw) -> tuple[Network, nx.Graph]:
    """Up to 9 hosts and random links, latencies from a few values so that equal-latency routes are common."""
    count = draw(st.integers(min_value=1, max_value=9))
    network, graph = Network(), nx.Graph()
    names = [f"h{n}" for n in range(count)]
    for n, name in enumerate(names):
        network.add(Host(name, f"192.0.2.{n + 1}", "host"))
        graph.add_node(name)
    pairs = st.tuples(st.sampled_from(names), st.sampled_from(names), st.sampled_from([0.0, 0.001, 0.002, 0.003]))
    for a, b, latency in draw(st.lists(pairs, max_size=20)):
        network.link(a, b, latency)
        graph.add_edge(a, b, latency=latency)  # the same calls, in the same order, as networkx would see them
    return network, graph


@settings(max_examples=300, deadline=None)
@given(networks())
def test_routes_and_latencies_are_networkx_s_on_random_graphs(built):
    network, graph = built
    _same_as_networkx(network, graph)


@pytest.mark.parametrize("name", sorted(simlab.scenarios.SCENARIOS))
def test_the_lesson_networks_route_as_networkx_does(name):
    result = simlab.run(simlab.scenarios.SCENARIOS[name](), seed=1, counts_only=True)
    network = result.world.network
    _same_as_networkx(network, _reference(network))


def test_the_graph_for_pictures_is_the_network():
    network = simlab.run(simlab.scenarios.relay_probe(), seed=1, counts_only=True).world.network
    graph = network.graph
    assert list(graph.nodes) == list(network.hosts)
    assert {n: d["role"] for n, d in graph.nodes(data=True)} == {n: h.role for n, h in network.hosts.items()}
    assert {frozenset((a, b)): d["latency"] for a, b, d in graph.edges(data=True)} == {
        frozenset((a, b)): latency for a, links in network._links.items() for b, latency in links.items()}
    network.add(Host("extra", "192.0.2.250", "host"), ("internet", 0.01))
    assert "extra" in network.graph and network.graph.has_edge("extra", "internet")


def test_a_run_does_not_import_networkx():
    import subprocess
    import sys

    code = ("import sys, simlab; simlab.run(simlab.scenarios.relay_probe(), seed=1); "
            "print('networkx' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"

"""Scenarios on any server: ``server=`` a server built by a preset, or a function that builds one."""

import pytest

import simlab
from simlab import ConfigError, products
from simlab.engine import SUMMARY_KEYS

S = simlab.scenarios
P = simlab.presets


def mycompany_eims(**settings):
    return P.eims_2_1(hostname="mail.mycompany.test", local_domains=["mycompany.test"], **settings)


def test_relay_probe_on_my_own_eims_uses_its_names_and_settings():
    result = simlab.run(S.relay_probe(server=mycompany_eims(relay_restriction=True)), seed=1)
    assert result.product == "EIMS 2.1" and result.preset == "eims-2.1"
    assert result.settings["relay_restriction"] is True and result.settings["hostname"] == "mail.mycompany.test"
    assert result.summary["spam_relayed"] == 0 and result.summary["spam_refused"] == 1
    assert result.world.site == "mail.mycompany.test"
    assert result.world.dns.lookup_mx("mycompany.test", result.world.stream("test")).hosts == ("mail.mycompany.test",)
    assert any("<bob@mycompany.test>" in line for line in result.log)
    assert not any("example.com" in line for line in result.log)


def test_server_given_as_a_factory():
    a = simlab.run(S.relay_probe(server=lambda: mycompany_eims()), seed=1)
    b = simlab.run(S.relay_probe(server=mycompany_eims()), seed=1)
    assert a.summary == b.summary and a.summary["spam_relayed"] == 1


def test_the_preset_path_and_the_same_server_give_the_same_run():
    """The standard site's server, built by hand with the site's settings, runs exactly as preset= does."""
    site = products.get("postfix").site_settings(simlab.scenarios.site.STANDARD_SITE,
                                                 simlab.scenarios.site.ACCOUNTS)
    by_hand = simlab.run(S.relay_probe(server=P.postfix(**site)), seed=3)
    by_name = simlab.run(S.relay_probe(preset="postfix"), seed=3)
    assert by_hand.summary == by_name.summary


def test_each_run_gets_a_fresh_server():
    server = mycompany_eims()
    scenario = S.relay_probe(server=server)
    first, second = simlab.run(scenario, seed=1), simlab.run(scenario, seed=1)
    assert first.summary == second.summary
    assert server.log == [] and server.queue == []  # the given server itself is never run


def test_a_knob_overrides_the_server_and_none_keeps_it():
    off = S.spoofed_postmaster(server=mycompany_eims(relay_restriction=False))
    on = S.spoofed_postmaster(server=mycompany_eims(relay_restriction=False), relay_restriction=True)
    assert simlab.run(off, seed=1).settings["relay_restriction"] is False
    assert simlab.run(on, seed=1).settings["relay_restriction"] is True


@pytest.mark.parametrize("name", products.names())
@pytest.mark.parametrize("scenario", sorted(S.SCENARIOS))
def test_every_scenario_runs_on_every_product_or_says_what_is_missing(name, scenario):
    product = products.get(name)
    factory = S.SCENARIOS[scenario]
    kwargs = {"sessions": 50} if scenario == "mixed_traffic" else {}
    if scenario == "strict_ip_range" and not product.can(products.IP_RANGE_RESTRICTION):
        with pytest.raises(ConfigError, match="without IP range restriction"):
            factory(server=product.factory(), **kwargs)
        return
    result = simlab.run(factory(server=product.factory(), **kwargs), seed=1, counts_only=True)
    assert set(SUMMARY_KEYS) <= set(result.summary) and result.product == product.label


@pytest.mark.parametrize(("knob", "value", "capability"), [
    ("pop3_ip_restriction", True, "IP range restriction"),
])
def test_a_knob_the_server_cannot_honour(knob, value, capability):
    with pytest.raises(ConfigError, match=f"without {capability}"):
        S.wrong_password(server=P.postfix(), **{knob: value})


def test_flood_connection_limit_needs_the_capability():
    with pytest.raises(ConfigError, match="without per-client connection limit"):
        S.flood(server=P.sims(), connection_limit=5)
    result = simlab.run(S.flood(server=P.postfix(mydestination=["example.com"]), connection_limit=5), seed=1)
    assert result.settings["smtpd_client_connection_count_limit"] == 5


def test_bad_server_arguments():
    with pytest.raises(ConfigError, match="is not a mail server"):
        S.relay_probe(server="postfix")
    with pytest.raises(ConfigError, match="is not the product of the server given"):
        S.relay_probe(preset="sims", server=P.postfix())
    with pytest.raises(ConfigError, match="is the address of the world's host"):
        S.relay_probe(server=P.eims_1_2(address="192.0.2.53"))

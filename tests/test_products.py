"""The product registry: every product answers the registry's questions from its own module."""

import dataclasses
import re

import pytest

import simlab
from simlab import ConfigError, products
from simlab.restrictions import FILTERS, Fail2Ban


@pytest.mark.parametrize("name", products.names())
def test_every_product_is_complete(name):
    product = products.get(name)
    assert product.name == name and product.label and product.notes
    assert set(product.capabilities) <= set(products.CAPABILITIES)
    assert product.smtp_process_limit > 0
    server = product.factory()
    assert products.product_of(server) is product
    assert server.origin.product == name
    for event, pattern in product.log_patterns.items():
        assert "<HOST>" in pattern, event
        re.compile(product.pattern(event, "mycompany.test").replace("<HOST>", "(?P<host>.+)"))
    for filter_name, pattern in product.fail2ban_filters.items():
        assert FILTERS[filter_name] == pattern
    for label, settings in product.panel_choices:
        assert label and set(settings) <= set(product.setting_names)


def test_site_settings_build_the_standard_site():
    for product in products.PRODUCTS.values():
        settings = product.site_settings(simlab.scenarios.site.STANDARD_SITE, {"bob": "x"})
        server = product.factory(**settings)
        names = product.site_names(server)
        assert (names.domain, names.hostname, names.address) == ("example.com", "mail.example.com", "192.0.2.25")


def test_capability_questions():
    assert [p.name for p in products.with_capability(products.SUBMISSION)] == ["postfix"]
    assert not products.get("eims-1.2").can(products.RELAY_CONTROL)
    assert products.get("eims-2.1").can(products.RELAY_BY_SENDER_DOMAIN)
    assert ("SIMS", "sims") in products.choices(products.RELAY_BY_CLIENT_IP)
    assert ("EIMS 1.2", "eims-1.2") not in products.choices(products.RELAY_BY_CLIENT_IP)
    with pytest.raises(ConfigError, match="is not a capability"):
        products.get("sims").can("teleportation")


def test_a_missing_capability_names_it_and_who_has_it():
    with pytest.raises(ConfigError) as info:
        products.get("sims").ip_range("pop3", ["192.0.2.0/24"])
    assert "without IP range restriction (SIMS)" in str(info.value) and "eims-2.1" in str(info.value)


def test_unknown_product_lists_the_known_ones():
    with pytest.raises(ConfigError, match=r"one of eims-1\.2, eims-2\.1, sims, postfix, exim"):
        products.get("qmail")


def test_origin_records_the_given_settings_only():
    server = simlab.presets.postfix(myhostname="mail.mycompany.test", mydestination=["mycompany.test"])
    assert dict(server.origin.settings) == {"myhostname": "mail.mycompany.test", "mydestination": ["mycompany.test"]}
    with pytest.raises(ConfigError, match="do not fit postfix"):
        simlab.presets.postfix(my_hostname="x.test")


def test_a_server_not_made_by_a_preset_is_refused_clearly():
    server = simlab.presets.sims()
    del server.origin
    with pytest.raises(ConfigError, match="was not made by a preset"):
        products.product_of(server)


def test_named_filters_come_from_the_products():
    jail = Fail2Ban(failregex="dovecot")  # fail2ban's own stock filter, as the Postfix and Exim products name it
    assert jail.host_in("Jun 11 01:25:32 mail dovecot: pop3-login: Disconnected (auth failed, 1 attempts in 2 secs): "
                        "user=<bob>, method=PLAIN, rip=203.0.113.9, lip=192.0.2.25, session=<AAAAAAAAAAAAAAAA>") \
        == "203.0.113.9"
    assert Fail2Ban(failregex="eims-pop3").host_in("POP3 wrong password for bob from 203.0.113.9") == "203.0.113.9"


def test_a_new_product_is_one_registry_entry(monkeypatch):
    """A product registered under a new name works in scenarios without any other change."""
    base = products.get("sims")
    clone = dataclasses.replace(base, name="sims-clone", label="SIMS clone", smtp_process_limit=7)
    monkeypatch.setitem(products.PRODUCTS, "sims-clone", clone)
    scenario = simlab.scenarios.relay_probe(preset="sims-clone")
    result = simlab.run(scenario, seed=1)
    assert result.product == "SIMS clone"
    assert result.summary["spam_relayed"] == 0
    assert result.world.site_host.max_connections == 7

"""The panels, checkers and nmap explanations ask the product registry: a product registered there appears
wherever its capabilities allow, nowhere else, and speaks in its own words."""

import dataclasses

import pytest

from simlab import products
from simlab.products.base import records_origin
from simlab.products.sims import SimsProduct
from simlab.relaytests import explain, run_relay_test, short_reason


class _FakeProduct(SimsProduct):
    """SIMS's server under another name, with its own sentences."""

    def why_relayed(self, server, client_ip, sender):
        return (f"the fake product trusted {client_ip}", "relayed: the fake's own reason")

    def why_refused(self, server, client_ip, sender, reply):
        return f"The fake product refused {client_ip} in its own words ({reply.code})."


def _fake(name: str, label: str, capabilities: frozenset[str]) -> _FakeProduct:
    sims = products.get("sims")
    fields = {f.name: getattr(sims, f.name) for f in dataclasses.fields(sims)}
    factory = records_origin(name)(sims.factory.__wrapped__)
    return _FakeProduct(**fields | {"name": name, "label": label, "factory": factory, "capabilities": capabilities,
                                    "panel_choices": ((label, {}),), "setting_labels": {"client_hosts": "Trusted"}})


@pytest.fixture
def fakes(monkeypatch):
    """Two products: one with POP3 and a client-address relay list, one without POP3."""
    with_pop3 = _fake("fake-pop", "Fake POP", frozenset({products.POP3, products.RELAY_CONTROL,
                                                          products.RELAY_BY_CLIENT_IP}))
    without = _fake("fake-nopop", "Fake no POP", frozenset({products.RELAY_CONTROL, products.RELAY_BY_CLIENT_IP}))
    for product in (with_pop3, without):
        monkeypatch.setitem(products.PRODUCTS, product.name, product)
    return with_pop3, without


def _menu(panel) -> list[str]:
    return [name for _label, name in panel.controls["preset"].options]


def test_every_panel_menu_lists_the_products_its_capabilities_allow(fakes):
    from simlab.ui.flood import flood_lab
    from simlab.ui.password import password_lab
    from simlab.ui.relay import relay_lab
    from simlab.ui.rotation import rotation_lab
    from simlab.ui.sandbox import sandbox
    from simlab.ui.spoof import spoof_lab
    from simlab.ui.start import session_lab

    for panel in (relay_lab(), flood_lab(), rotation_lab(), spoof_lab(), session_lab(), sandbox()):
        assert _menu(panel)[-2:] == ["fake-pop", "fake-nopop"], panel
    guessing = password_lab()
    assert "fake-pop" in _menu(guessing) and "fake-nopop" not in _menu(guessing)  # no POP3, no guessing lesson
    assert ("Fake POP", "fake-pop") in guessing.controls["preset"].options


def test_controls_follow_the_chosen_products_capabilities_and_words(fakes):
    from simlab.ui.flood import flood_lab
    from simlab.ui.relay import relay_lab

    relay = relay_lab()
    assert "Trusted (Fake POP)" in relay.controls["client_hosts"].description
    relay.controls["preset"].value = "fake-pop"
    assert relay.error is None and relay.controls["relay_restriction"].disabled
    assert not relay.controls["client_hosts"].disabled and relay.controls["mynetworks"].disabled
    flood = flood_lab()
    flood.controls["preset"].value = "fake-nopop"
    assert flood.error is None and flood.controls["connection_limit"].disabled
    assert flood.controls["process_limit"].value == products.get("fake-nopop").smtp_process_limit


def test_relay_explanations_come_from_the_products_descriptor(fakes):
    refused = run_relay_test("fake-pop", 1)
    assert not refused.accepted
    assert "The fake product refused 203.0.113.7 in its own words" in explain("fake-pop", 1)
    relayed = run_relay_test("fake-pop", 2, client_ip="192.0.2.10")
    assert relayed.accepted and short_reason(relayed) == "250 relayed: the fake's own reason"
    assert "The fake product trusted 192.0.2.10, so it answered 250" in explain("fake-pop", 2, client_ip="192.0.2.10")


def test_checkers_ask_capabilities_not_names(fakes):
    from simlab.exercises.rotation import allowlist_used, relay_networks_setting
    from simlab.exercises.sandbox import check_challenge

    assert allowlist_used("fake-pop", "none") and relay_networks_setting("fake-pop") == "client_hosts"
    assert not allowlist_used("eims-2.1", "none") and allowlist_used("eims-2.1", "allowlist")
    assert not allowlist_used("eims-1.2", "allowlist")
    later = dataclasses.replace(products.get("fake-pop"), year=2024)
    products.PRODUCTS["fake-pop"] = later  # undone by the fixture's monkeypatch
    assert "the challenge is for a 1998 product" in check_challenge("fake-pop").messages[0]

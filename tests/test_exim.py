"""Focused tests of the Exim preset (simlab.products.exim): settings, relaying, the forum's spoof."""

import pytest

from simlab import products
from simlab.errors import ConfigError
from simlab.products.exim import EximResolver, exim, parse_exim_address

OUTSIDE, INSIDE = "203.0.113.7", "192.0.2.10"


def dialogue(server, client_ip, *commands):
    session = server.smtp_session(client_ip)
    replies = [str(session.send(c)) for c in ("EHLO client.test", *commands)]
    return replies[1:]


@pytest.mark.parametrize(("settings", "setting", "value"), [
    ({"primary_hostname": "mail"}, "primary_hostname", "mail"),
    ({"local_domains": ["exa mple.com"]}, "local_domains", "exa mple.com"),
    ({"relay_to_domains": "partner..test"}, "relay_to_domains", "partner..test"),
    ({"relay_from_hosts": ["192.0.2.0/33"]}, "relay_from_hosts", "192.0.2.0/33"),
    ({"address": "not-an-ip"}, "address", "not-an-ip"),
    ({"dns": ["partner.test"]}, "dns", ["partner.test"]),
    ({"message_size_limit": -1}, "message_size_limit", -1),
])
def test_bad_settings_name_setting_value_and_expectation(settings, setting, value):
    with pytest.raises(ConfigError) as info:
        exim(**settings)
    error = info.value
    assert error.setting == setting
    assert error.value == value
    assert error.expected and "expected" in str(error)


def test_registered_in_the_product_registry():
    product = products.get("exim")
    assert product.label == "Exim 4.96"
    assert product.can(products.RELAY_BY_CLIENT_IP) and not product.can(products.SMTP_AUTH)
    server = product.factory(**product.site_settings(products.SiteNames(), {"bob": "pw"}))
    assert products.product_of(server) is product
    assert product.site_names(server) == products.SiteNames()


def test_relay_from_hosts_relays_and_outside_does_not():
    server = exim(relay_from_hosts=["192.0.2.0/24"], accounts={"bob": "pw"})
    assert dialogue(server, INSIDE, "MAIL FROM:<bob@example.com>", "RCPT TO:<carol@remote.test>") == [
        "250 OK", "250 Accepted"]
    assert dialogue(server, OUTSIDE, "MAIL FROM:<bob@example.com>", "RCPT TO:<carol@remote.test>") == [
        "250 OK", "550 relay not permitted"]
    assert server.log[-1].endswith(
        "H=(client.test) [203.0.113.7] F=<bob@example.com> rejected RCPT <carol@remote.test>: relay not permitted")


def test_loopback_is_added_to_relay_from_hosts_as_debian_does():
    server = exim()
    assert dialogue(server, "127.0.0.1", "MAIL FROM:<>", "RCPT TO:<carol@remote.test>") == ["250 OK", "250 Accepted"]
    assert "127.0.0.1" in server.settings["relay_from_hosts"] and "::1" in server.settings["relay_from_hosts"]


def test_forum_spoofed_postmaster_is_refused_from_outside():
    server = exim(relay_from_hosts=["192.0.2.0/24"], accounts={"user_name": "pw"})
    replies = dialogue(server, OUTSIDE, "MAIL FROM:<Postmaster@example.com>", "RCPT TO:<user_name@remote.test>",
                       "DATA")
    assert replies == ["250 OK", "550 relay not permitted",
                       "503-All RCPT commands were rejected with this error:\n503-relay not permitted\n"
                       "503 Valid RCPT command must precede DATA"]
    assert not server.queue


def test_unknown_local_user_refused_from_outside_accepted_from_inside():
    server = exim(relay_from_hosts=["192.0.2.0/24"], accounts={"bob": "pw"})
    assert dialogue(server, OUTSIDE, "MAIL FROM:<a@remote.test>", "RCPT TO:<nosuchuser@example.com>",
                    "RCPT TO:<postmaster>") == ["250 OK", "550 Unrouteable address", "250 Accepted"]
    assert dialogue(server, INSIDE, "MAIL FROM:<a@remote.test>", "RCPT TO:<nosuchuser@example.com>") == [
        "250 OK", "250 Accepted"]


def test_relay_domain_needs_an_mx_record():
    without = exim(relay_to_domains=["partner.test"])
    with_mx = exim(relay_to_domains=["partner.test"], dns={"partner.test": ["mx.partner.test"]})
    commands = ("MAIL FROM:<a@remote.test>", "RCPT TO:<x@partner.test>")
    assert dialogue(without, OUTSIDE, *commands)[1] == "550 Unrouteable address"
    assert dialogue(with_mx, OUTSIDE, *commands)[1] == "250 Accepted"


def test_address_forms():
    server = exim(accounts={"bob": "pw"})
    replies = dialogue(server, OUTSIDE, "MAIL FROM:<a@remote.test>", "RCPT TO:<bob@[192.0.2.25]>",
                       "RCPT TO:<bob%remote.test@example.com>", "RCPT TO:<@mail.example.com:bob@example.com>",
                       "RCPT TO:<bob>")
    assert replies == ["250 OK", "501 <bob@[192.0.2.25]>: domain literals not allowed",
                       "550 restricted characters in address", "250 Accepted",
                       "501 <bob>: recipient address must contain a domain"]
    path, rest = parse_exim_address("<@a.test,@b.test:carol@Remote.Test> SIZE=10", "recipient")
    assert (path.address.route, path.address.local, rest) == (("a.test", "b.test"), "carol", " SIZE=10")
    resolver = EximResolver(["@", "localhost", "example.com"], ["partner.test"], "mail.example.com")
    assert resolver.resolve(path.address).domain == "remote.test"
    assert resolver.is_local_domain("MAIL.example.com") and resolver.is_relay_domain("partner.test")


def test_fourth_syntax_error_ends_the_session():
    server = exim()
    session = server.smtp_session(OUTSIDE)
    session.send("EHLO client.test")
    for _ in range(3):
        assert session.send("MAIL FROM:<a@[192.0.2.1]>").code == 501
    last = session.send("MAIL FROM:<a@[192.0.2.1]>")
    assert str(last) == "501-<a@[192.0.2.1]>: domain literals not allowed\n501 Too many syntax or protocol errors"
    assert session.closed
    assert "dropped: too many syntax or protocol errors" in server.log[-1]

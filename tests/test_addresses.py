import ipaddress

import pytest

from simlab import ConfigError
from simlab.addresses import AddressSyntaxError, ClientNetworks, parse_address, parse_path, parse_range


class TestNetworks:
    def test_cidr_single_and_range(self):
        nets = ClientNetworks(["192.0.2.0/25", "198.51.100.7", "203.0.113.10-203.0.113.20"])
        assert "192.0.2.127" in nets and "192.0.2.128" not in nets
        assert "198.51.100.7" in nets and "198.51.100.8" not in nets
        assert "203.0.113.10" in nets and "203.0.113.20" in nets and "203.0.113.21" not in nets

    def test_text_list_and_ipv6(self):
        nets = ClientNetworks("192.0.2.0/24, 2001:db8::/32")
        assert "2001:db8::1" in nets and "192.0.2.1" in nets and "2001:db9::1" not in nets

    def test_range_spaces_and_object(self):
        r = parse_range(" 192.0.2.10 - 192.0.2.99 ")
        assert r.first == ipaddress.ip_address("192.0.2.10") and str(r) == "192.0.2.10-192.0.2.99"
        assert ipaddress.ip_address("192.0.2.50") in r
        assert "not an ip" not in r

    @pytest.mark.parametrize("bad, problem", [
        ("192.0.2.99-192.0.2.10", "reversed range"),
        ("10.0.0.300-10.0.1.0", "not an address range"),
        ("192.0.2.1-2001:db8::1", "mixes IPv4 and IPv6"),
        ("", "not an address range"),
        ("192.0.2.0/33", "not an address range"),
    ])
    def test_bad_ranges_name_setting_value_and_expectation(self, bad, problem):
        with pytest.raises(ConfigError) as err:
            ClientNetworks([bad], setting="ip_range_restriction")
        message = str(err.value)
        assert message.startswith("ip_range_restriction: ")
        assert repr(bad) in message and problem in message and "expected" in message


class TestMailAddresses:
    def test_plain(self):
        a = parse_address("Bob@Example.COM")
        assert (a.local, a.domain, a.bare_domain) == ("Bob", "Example.COM", "example.com")

    def test_null_and_params(self):
        p = parse_path("<> SIZE=100 BODY=8BITMIME")
        assert p.address is None and p.params == {"SIZE": "100", "BODY": "8BITMIME"}

    def test_bare_postmaster_and_unbracketed(self):
        assert parse_path("<postmaster>").address.domain is None
        p = parse_path("alice@remote.test")
        assert not p.bracketed and p.address.domain == "remote.test"

    def test_literal(self):
        a = parse_address("bob@[192.0.2.25]")
        assert a.literal_ip == ipaddress.ip_address("192.0.2.25")
        assert parse_address("bob@[IPv6:2001:db8::25]").literal_ip == ipaddress.ip_address("2001:db8::25")

    def test_quoted_local_part(self):
        a = parse_address('"relaytest@remote.test"@mail.example.com')
        assert a.local == "relaytest@remote.test" and a.quoted and a.domain == "mail.example.com"
        assert a.has_routing
        assert parse_address('"b o b"@example.com').local == "b o b"

    def test_source_route(self):
        a = parse_address("@hop1.test,@hop2.test:user@remote.test")
        assert a.route == ("hop1.test", "hop2.test") and a.local == "user" and a.domain == "remote.test"
        assert a.has_routing

    def test_percent_and_bang(self):
        assert parse_address("user%remote.test@example.com").has_routing
        b = parse_address("remote.test!user")
        assert b.domain is None and b.local == "remote.test!user" and b.has_routing
        assert not parse_address("bob@example.com").has_routing

    def test_last_at_splits(self):
        a = parse_address("relaytest@remote.test@[192.0.2.25]")
        assert a.local == "relaytest@remote.test" and a.domain == "[192.0.2.25]"

    @pytest.mark.parametrize("bad", ["alice@", "@", "a b@example.com", "bob@exa mple.com", '"open@example.com',
                                     "bob@[999.0.0.1]", "bob@-bad-.test", "@hop.test", "x\x00y@example.com"])
    def test_syntax_errors(self, bad):
        with pytest.raises(AddressSyntaxError):
            parse_address(bad)

    @pytest.mark.parametrize("bad", ["<alice@remote.test", "alice@remote.test>", "<a@b.test>junk", "<a@b.test> X=1=2"])
    def test_path_errors(self, bad):
        with pytest.raises(AddressSyntaxError):
            parse_path(bad)

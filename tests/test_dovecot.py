"""Dovecot 2.3's POP3 words and log lines (simlab.products.dovecot), on the Postfix and Exim presets."""

from __future__ import annotations

import base64
import re
from ipaddress import ip_address

import pytest

import simlab
from simlab import products
from simlab.products.dovecot import session_id
from simlab.restrictions import Fail2Ban

LINE = re.compile(r"^Jun 11 01:2\d:\d\d mail dovecot: pop3-login: (?:Disconnected|Aborted login by logging out) "
                  r"\(auth failed, (\d+) attempts in "
                  r"(\d+) secs\): user=<(\w+)>, method=PLAIN, rip=203\.0\.113\.9, lip=192\.0\.2\.25, "
                  r"session=<[A-Za-z0-9+/]{16}>$")


@pytest.fixture(params=["postfix", "exim"])
def server(request):
    preset = products.get(request.param).factory
    if request.param == "postfix":
        return preset(mydestination=["example.com"], accounts={"bob": "s3cret"})
    return preset(accounts={"bob": "s3cret"})


def test_one_line_per_failed_connection_written_when_it_ends(server):
    p = server.pop3_session("203.0.113.9")
    assert str(p.greeting) == "+OK Dovecot ready."
    p.send("USER bob")
    assert str(p.send("PASS a")) == "-ERR [AUTH] Authentication failed."
    server.clock.advance(2)
    p.send("USER bob")
    p.send("PASS b")
    server.clock.advance(2)
    assert not [line for line in server.log if "pop3-login" in line]  # nothing yet: the connection is open
    assert str(p.send("QUIT")) == "+OK Logging out"
    (line,) = [line for line in server.log if "pop3-login" in line]
    assert LINE.match(line).groups() == ("2", "4", "bob")
    assert "pop3-login: Aborted login by logging out (auth failed" in line  # QUIT, as Dovecot 2.3.19 words it


def test_a_hang_up_writes_the_line_too_and_a_login_writes_only_login(server):
    p = server.pop3_session("203.0.113.9")
    p.send("USER bob")
    p.send("PASS a")
    p.close()
    assert LINE.match(server.log[-1]).groups() == ("1", "0", "bob")
    p = server.pop3_session("203.0.113.9")
    p.send("USER bob")
    p.send("PASS typo")
    p.send("USER bob")
    assert str(p.send("PASS s3cret")) == "+OK Logged in."
    p.send("QUIT")
    login = [line for line in server.log if "Login:" in line]
    assert len(login) == 1 and len([line for line in server.log if "auth failed" in line]) == 1
    assert re.search(r"dovecot: pop3-login: Login: user=<bob>, method=PLAIN, rip=203\.0\.113\.9, "
                     r"lip=192\.0\.2\.25, mpid=\d+, session=<[A-Za-z0-9+/]{16}>$", login[0])


def test_no_attempt_no_failure_line(server):
    p = server.pop3_session("203.0.113.9")
    p.send("QUIT")
    assert not [line for line in server.log if "auth failed" in line]


def test_session_id_is_dovecots_layout():
    when = simlab.ManualClock().datetime(0)
    sid = session_id(when, ip_address("203.0.113.9"), 40001)
    raw = base64.b64decode(sid + "=" * (-len(sid) % 4))
    assert len(sid) == 16 and len(raw) == 12
    assert int.from_bytes(raw[:6], "little") == int(when.timestamp() * 1_000_000) & (2 ** 48 - 1)
    assert int.from_bytes(raw[6:8], "little") == 40001 and raw[8:] == bytes([203, 0, 113, 9])
    assert len(session_id(when, ip_address("2001:db8::1"), 1)) == 32


def test_the_dovecot_jail_counts_connections_as_fail2ban_does(server):
    """fail2ban counts one failure per line: a connection with two wrong passwords is one."""
    jail = Fail2Ban(jail="dovecot", failregex="dovecot", maxretry=2)
    server.restrictions.insert(0, jail)
    p = server.pop3_session("203.0.113.9")
    for guess in ("a", "b"):
        p.send("USER bob")
        p.send(f"PASS {guess}")
    p.close()  # a guesser hangs up: "Disconnected (auth failed, 2 attempts ...)"
    assert not jail.bans
    p = server.pop3_session("203.0.113.9")
    p.send("USER bob")
    p.send("PASS c")
    p.send("QUIT")  # "Aborted login by logging out (...)": the stock filter of fail2ban 1.0.2 misses it
    assert not jail.bans
    p = server.pop3_session("203.0.113.9")
    p.send("USER bob")
    p.send("PASS d")
    p.close()
    assert [b.ip for b in jail.bans] == ["203.0.113.9"]
    assert server.pop3_session("203.0.113.9").greeting is None


def test_registry_points_to_the_stock_filters():
    for name, filters in (("postfix", {"dovecot", "postfix", "postfix-sasl"}), ("exim", {"dovecot", "exim"})):
        product = products.get(name)
        assert filters <= set(product.fail2ban_filters)
        assert product.pop3_filter() == "dovecot" and product.pop3_label == "Dovecot"
        for filter_name in filters:
            assert Fail2Ban(failregex=filter_name).filter is not None
        assert Fail2Ban(failregex=product.pattern("pop3_failure")).filter is not None
    assert Fail2Ban(failregex="postfix-sasl").filter.mode == "auth"
    assert Fail2Ban(failregex="eims-pop3").filter is None  # the 1998 products keep simlab's own patterns

"""POP3 sessions (RFC 1939) and what the log shows of guessed and stolen passwords."""

import hashlib
import re

import pytest
from helpers import LAN, OUTSIDE

import simlab
from simlab import SessionClosed


def deliver(server, account, *bodies):
    for body in bodies:
        s = server.smtp_session(LAN)
        for line in ("HELO lan.test", "MAIL FROM:<a@example.com>", f"RCPT TO:<{account}@example.com>", "DATA",
                     *body.split("\n"), "."):
            s.send(line)
        s.send("QUIT")


@pytest.fixture
def server():
    server = simlab.presets.eims_2_1(accounts={"webmaster": "webmaster", "bob": "s3cret"})
    deliver(server, "bob", "Subject: one\n\nfirst", "Subject: two\n\n..dot line\nsecond")
    return server


def test_wrong_password_logs_the_threads_line(server):
    p = server.pop3_session(client_ip="203.0.113.9")
    assert str(p.greeting).startswith("+OK mail.example.com EIMS POP3 server 2.1 ready <")
    assert str(p.send("USER webmaster")) == "+OK Password required for webmaster"
    assert str(p.send("PASS guess")) == "-ERR Wrong password"
    assert server.log[-1].endswith("  POP3 wrong password for webmaster from 203.0.113.9")
    assert p.transcript[-2] == "C: PASS *****"


def test_stolen_password_leaves_no_error_line(server):
    before = len(server.log)
    p = server.pop3_session(client_ip="203.0.113.9")
    p.send("USER webmaster")
    assert p.send("PASS webmaster").ok
    new = server.log[before:]
    assert len(new) == 1 and "wrong" not in new[0] and new[0].endswith("POP3 connection from 203.0.113.9 for webmaster")


def test_transaction_commands(server):
    p = server.pop3_session(LAN)
    assert str(p.send("STAT")) == "-ERR command not valid in this state"
    p.send("USER bob")
    assert str(p.send("PASS s3cret")) == "+OK bob has 2 message(s) (" + str(
        sum(m.size for m in server.mailboxes["bob"])) + " octets)"
    sizes = [m.size for m in server.mailboxes["bob"]]
    assert str(p.send("STAT")) == f"+OK 2 {sum(sizes)}"
    assert str(p.send("LIST")).splitlines() == [f"+OK 2 messages ({sum(sizes)} octets)", f"1 {sizes[0]}",
                                                f"2 {sizes[1]}", "."]
    assert str(p.send("LIST 2")) == f"+OK 2 {sizes[1]}"
    retr = str(p.send("RETR 2")).splitlines()
    assert retr[0] == f"+OK {sizes[1]} octets" and retr[-3:] == ["..dot line", "second", "."]
    top = str(p.send("TOP 1 0")).splitlines()
    assert top[-2:] == ["", "."] and "Subject: one" in top
    assert str(p.send("DELE 1")) == "+OK message 1 deleted"
    assert str(p.send("RETR 1")) == "-ERR no such message"
    assert str(p.send("STAT")) == f"+OK 1 {sizes[1]}"
    assert str(p.send("RSET")).startswith("+OK maildrop has 2 messages")
    p.send("DELE 1")
    assert str(p.send("UIDL")).splitlines()[1].startswith("2 ")
    assert p.send("QUIT").ok and p.closed
    assert [m.header["subject"] for m in server.mailboxes["bob"]] == ["two"]
    with pytest.raises(SessionClosed):
        p.send("NOOP")


def test_close_without_quit_deletes_nothing(server):
    p = server.pop3_session(LAN)
    p.send("USER bob")
    p.send("PASS s3cret")
    p.send("DELE 1")
    p.close()
    assert len(server.mailboxes["bob"]) == 2


def test_apop(server):
    p = server.pop3_session(LAN)
    digest = hashlib.md5((p.timestamp + "s3cret").encode()).hexdigest()
    assert p.send(f"APOP bob {digest}").ok and p.user == "bob"
    q = server.pop3_session(LAN)
    assert str(q.send(f"APOP bob {'0' * 32}")) == "-ERR permission denied"
    assert str(q.send("APOP bob short")) == "-ERR syntax error"


def test_pass_without_user_and_unknown_commands(server):
    p = server.pop3_session(LAN)
    assert str(p.send("PASS x")) == "-ERR USER first"
    assert str(p.send("XYZZY")) == "-ERR unknown command"
    assert str(p.send("USER")) == "-ERR syntax error"
    assert str(p.send("X" * 300)) == "-ERR syntax error"


def test_unknown_account_logged_differently(server):
    p = server.pop3_session(OUTSIDE)
    p.send("USER admin")
    assert not p.send("PASS admin").ok
    assert server.log[-1].endswith("POP3 unknown user admin from 203.0.113.7")


def test_dovecot_words_on_postfix_preset():
    server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"})
    p = server.pop3_session("203.0.113.9")
    assert str(p.greeting) == "+OK Dovecot ready."
    p.send("USER bob")
    fail = p.send("PASS nope")
    assert str(fail) == "-ERR [AUTH] Authentication failed." and fail.delay == 2.0
    assert not any("auth failed" in line for line in server.log)  # Dovecot writes it when the connection ends
    p.send("USER bob")
    assert p.send("PASS nope").delay == 4.0
    assert str(p.send("CAPA")).splitlines()[0] == "+OK"
    p.send("USER bob")
    assert str(p.send("PASS s3cret")) == "+OK Logged in."
    assert not any("auth failed" in line for line in server.log)  # logged in at last: no failure line at all
    q = server.pop3_session("203.0.113.9")
    q.send("USER bob")
    q.send("PASS nope")
    q.close()
    assert re.search(r"dovecot: pop3-login: Disconnected \(auth failed, 1 attempts in 0 secs\): user=<bob>, "
                     r"method=PLAIN, rip=203\.0\.113\.9, lip=192\.0\.2\.25, session=<\S{16}>$", server.log[-1])

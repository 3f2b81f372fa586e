"""One policy, two ways in: replies over a real socket equal, octet for octet, an in-process session's.

For each dialogue a fresh server is served live and an identical fresh
server is driven in process with the same lines, from the same client
address (127.0.0.2 appears as 203.0.113.50 through ``client_map``). The
octets read from the socket, the servers' logs and their mail stores must
be equal. The clock is frozen (``realtime=False``) so timestamps agree, and
reply delays are not waited.

The in-process side splits the octets into lines by itself, as RFC 5321
§2.3.8 describes them (CRLF, or a bare LF; a CR alone is part of the line);
an unfinished last line is not a line; a line longer than ``max_line`` is
cut to it.
"""

from __future__ import annotations

import base64
import socket

import pytest

import simlab
import simlab.live

CLIENT = "203.0.113.50"
PEER = "127.0.0.2"
TIMEOUT = 5


def eims21(**kw):
    return lambda: simlab.presets.eims_2_1(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                                           accounts={"bob": "s3cret", "webmaster": "webmaster"}, **kw)


def postfix(**kw):
    return lambda: simlab.presets.postfix(myhostname="mail.mycompany.test", mydestination=["mycompany.test"],
                                          mynetworks=["192.0.2.0/24"], accounts={"bob": "s3cret"}, **kw)


def sims(**kw):
    return lambda: simlab.presets.sims(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                                       client_hosts=["192.0.2.0/24"], accounts={"bob": "s3cret"}, **kw)


def eims12():
    return simlab.presets.eims_1_2(hostname="mail.mycompany.test", local_domains=["mycompany.test"],
                                   accounts={"bob": "s3cret"})


def crlf(*lines: str) -> bytes:
    return "".join(f"{line}\r\n" for line in lines).encode()


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


SPOOF = crlf("HELO outside.test", "MAIL FROM:<Postmaster@mycompany.test>", "RCPT TO:<user_name@yourcompany.test>",
             "DATA", "Subject: hello", "", "body", ".", "QUIT")

SMTP_CASES = {
    "normal delivery": (eims21(), crlf("HELO client.test", "MAIL FROM:<alice@remote.test>",
                                       "RCPT TO:<bob@mycompany.test>", "DATA", "Subject: hi", "", "Hello Bob.", ".",
                                       "QUIT")),
    "S4 spoof relayed by EIMS 2.1": (eims21(relay_restriction=True), SPOOF),
    "S4 spoof refused by SIMS": (sims(), SPOOF),
    "S4 spoof refused by Postfix": (postfix(), SPOOF),
    "relay denied to an honest outsider": (eims21(relay_restriction=True), crlf(
        "HELO o.test", "MAIL FROM:<someone@yourcompany.test>", "RCPT TO:<x@elsewhere.test>", "DATA", "QUIT")),
    "S2 probe relayed by EIMS 1.2": (eims12, crlf(
        "HELO scanner.test", "MAIL FROM:<sender@remote.test>", "RCPT TO:<rtest@remote.test>", "DATA",
        "Subject: Open relay test", "", "One test per server, for a survey.", ".", "QUIT")),
    "sequence errors, Postfix": (postfix(), crlf(
        "MAIL FROM:<a@remote.test>", "RCPT TO:<bob@mycompany.test>", "DATA", "EHLO c.test",
        "RCPT TO:<bob@mycompany.test>", "DATA", "MAIL FROM:<a@remote.test>", "MAIL FROM:<a@remote.test>", "DATA",
        "RSET now", "RSET", "QUIT")),
    "sequence errors, EIMS": (eims21(), crlf(
        "RCPT TO:<bob@mycompany.test>", "DATA", "HELO", "MAIL FROM:a@remote.test", "MAIL FROM:<a@remote.test>",
        "MAIL FROM:<b@remote.test>", "DATA x", "DATA", "QUIT")),
    "AUTH PLAIN then relay": (postfix(smtpd_sasl_auth_enable=True), crlf(
        "AUTH PLAIN " + plain("bob", "s3cret"), "EHLO laptop.test", "AUTH PLAIN " + plain("bob", "wrong"),
        "AUTH PLAIN " + plain("bob", "s3cret"), "AUTH PLAIN " + plain("bob", "s3cret"),
        "MAIL FROM:<bob@mycompany.test>", "RCPT TO:<friend@remote.test>", "DATA", "Subject: sent", "",
        "from the road", ".", "QUIT")),
    "AUTH LOGIN, aborted and bad": (postfix(smtpd_sasl_auth_enable=True), crlf(
        "EHLO laptop.test", "AUTH LOGIN", b64("bob"), b64("nope"), "AUTH LOGIN", "*", "AUTH LOGIN " + b64("bob"),
        "not base64!", "AUTH CRAM-MD5", "AUTH", "AUTH LOGIN", b64("bob"), b64("s3cret"), "QUIT")),
    "AUTH not offered on port 25": (postfix(), crlf("EHLO c.test", "AUTH PLAIN " + plain("bob", "s3cret"), "QUIT")),
    "DATA with dot-stuffing": (postfix(), crlf(
        "EHLO c.test", "MAIL FROM:<a@remote.test>", "RCPT TO:<bob@mycompany.test>", "DATA", "Subject: dots", "",
        "..leading dot", "...", ". not the end", "..", "", ".", "QUIT")),
    "unknown commands, Postfix": (postfix(), crlf(
        "FOO", "", "  ", "HELP", "VRFY bob@mycompany.test", "VRFY x@remote.test", "VRFY", "STARTTLS",
        "ETRN mycompany.test", "EHLO c.test", "ETRN mycompany.test", "NOOP", "QUIT")),
    "unknown commands, EIMS": (eims21(), crlf("FOO bar", "", "HELP", "VRFY bob", "EXPN staff", "TURN", "QUIT")),
    "too many errors: 421 hang-up": (postfix(), crlf(*["FOO"] * 20)),
    "non-SMTP GET: hang-up": (postfix(), crlf("EHLO c.test", "GET / HTTP/1.1")),
    "a header line as a command: hang-up": (postfix(), crlf("Subject: hello")),
    "over-long command, EIMS refuses": (eims21(), crlf("HELO c.test", "NOOP " + "x" * 3000, "NOOP", "QUIT")),
    "over-long command, Postfix cuts": (postfix(), crlf("EHLO c.test", "MAIL FROM:<a@remote.test> " + "X" * 3000,
                                                        "NOOP " + "é" * 2000, "QUIT")),
    "size limit": (postfix(message_size_limit=200), crlf(
        "EHLO c.test", "MAIL FROM:<a@remote.test> SIZE=1000", "MAIL FROM:<a@remote.test> SIZE=10",
        "RCPT TO:<bob@mycompany.test>", "DATA", *["x" * 60] * 5, ".", "QUIT")),
    "binary and Latin-1": (postfix(), b"EHLO \xff\xfe\x00bin\r\nVRFY \xe9t\xe9@mycompany.test\r\n"
                                      b"MAIL FROM:<\xc3\xa9@remote.test>\r\n\x00\x01\x02\r\nQUIT\r\n"),
    "bare LF and a lone CR": (eims21(), b"HELO a.test\nMAIL FROM:<a@remote.test>\rRCPT TO:<bob@mycompany.test>\n"
                                        b"NOOP\r\r\nRSET\n\nQUIT\n"),
    "end of stream inside DATA": (eims21(), crlf("HELO c.test", "MAIL FROM:<a@remote.test>",
                                                 "RCPT TO:<bob@mycompany.test>", "DATA", "half a message")
                                  + b"and half a line"),
    "refused at connect (S5)": (eims21(ip_range_restriction={"smtp": "192.0.2.1-192.0.2.254"}), b""),
}


def expected_smtp(server: simlab.MailServer, data: bytes, max_line: int) -> bytes:
    session = server.smtp_session(CLIENT, port=25)
    if session.greeting is None:
        return b""
    out = [session.greeting]
    for line in split_lines(data, max_line):
        if session.closed:
            break
        reply = session.send(line)
        if reply is not None:
            out.append(reply)
        if session.closed and session.closing_reply is not None:
            out.append(session.closing_reply)
    if not session.closed:
        session.close()
    return wire(out)


def wire(replies) -> bytes:
    return b"".join(f"{line}\r\n".encode("utf-8", "surrogateescape") for r in replies for line in r.wire_lines)


def split_lines(data: bytes, max_line: int) -> list[str]:
    pieces = data.split(b"\n")[:-1]  # what follows the last LF is not a line
    lines = []
    for piece in pieces:
        piece = piece[:-1] if piece.endswith(b"\r") else piece
        lines.append(piece[:max_line].decode("utf-8", "surrogateescape"))
    return lines


def over_the_wire(server: simlab.MailServer, data: bytes, service: str, **options) -> bytes:
    with simlab.live.serve(server, client_map={PEER: CLIENT}, realtime=False, reply_delays=False, **options) as lab:
        port = lab.smtp_port if service == "smtp" else lab.pop3_port
        with socket.create_connection((lab.host, port), timeout=TIMEOUT, source_address=(PEER, 0)) as sock:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        assert lab.errors == []
    return b"".join(chunks)


def same_state(live: simlab.MailServer, reference: simlab.MailServer) -> None:
    assert live.log == reference.log
    assert live.queue == reference.queue
    assert live.mailboxes == reference.mailboxes


@pytest.mark.parametrize("case", SMTP_CASES)
def test_smtp_replies_are_the_sessions(case):
    factory, data = SMTP_CASES[case]
    live, reference = factory(), factory()
    got = over_the_wire(live, data, "smtp")
    assert got == expected_smtp(reference, data, simlab.live.DEFAULT_MAX_LINE)
    same_state(live, reference)


def test_a_line_longer_than_max_line_is_cut_the_same_way():
    data = crlf("EHLO c.test", "MAIL FROM:<" + "a" * 20_000 + "@remote.test>", "NOOP " + "y" * 9000, "QUIT")
    live, reference = postfix()(), postfix()()
    got = over_the_wire(live, data, "smtp", max_line=4096)
    assert got == expected_smtp(reference, data, 4096)
    # Postfix reads the first 2048 octets and skips the rest: the address is cut before its ">"
    assert b"\r\n501 5.1.7 Bad sender address syntax\r\n250 2.0.0 Ok\r\n" in got
    same_state(live, reference)


def test_a_fail2ban_drop_sends_nothing():
    def factory():
        jail = simlab.restrictions.Fail2Ban()
        server = simlab.presets.eims_2_1(restrictions=[jail])
        jail.ban(CLIENT, 0.0, server)
        return server

    live, reference = factory(), factory()
    assert over_the_wire(live, b"", "smtp") == expected_smtp(reference, b"", 1000) == b""
    same_state(live, reference)


# --- POP3 --------------------------------------------------------------------------------------
def with_mail(factory):
    """The server with two messages for bob, one holding lines that start with a dot."""

    def build():
        server = factory()
        for body in (["Subject: one", "", "first"], ["Subject: two", "", "..dotted", "...", "end"]):
            session = server.smtp_session("192.0.2.10")
            for line in ["HELO lan.test", "MAIL FROM:<alice@mycompany.test>", "RCPT TO:<bob@mycompany.test>", "DATA",
                         *body, ".", "QUIT"]:
                session.send(line)
        return server

    return build


POP3_CASES = {
    "S1 wrong password then right, EIMS": (eims21(), crlf(
        "USER webmaster", "PASS guess", "USER bob", "PASS bob", "USER webmaster", "PASS webmaster", "STAT", "QUIT")),
    "unknown user, EIMS": (eims21(), crlf("USER nobody", "PASS x", "QUIT")),
    "Dovecot session with mail": (with_mail(postfix()), crlf(
        "CAPA", "USER bob", "PASS s3cret", "STAT", "LIST", "LIST 2", "UIDL", "RETR 2", "TOP 1 0", "DELE 1", "LIST",
        "RSET", "DELE 2", "QUIT")),
    "state and syntax errors": (eims21(), crlf(
        "STAT", "PASS x", "RETR 1", "APOP bob 123", "FOO", "USER", "USER a b", "X" * 300, "USER bob", "PASS s3cret",
        "RETR 9", "TOP 1", "DELE x", "USER bob", "NOOP", "QUIT")),
    "APOP, EIMS": (eims21(), crlf("APOP bob 0123456789abcdef0123456789abcdef", "QUIT")),
    "leaving without QUIT keeps the mail": (with_mail(eims21()), crlf("USER bob", "PASS s3cret", "DELE 1", "DELE 2")),
    "binary, bare LF, lone CR": (eims21(), b"USER \xff\xfe\nPASS \x00\r\nUSER bob\rPASS s3cret\r\nNOOP\nQUIT\n"),
    "failure delay, Dovecot": (postfix(), crlf("USER bob", "PASS a", "USER bob", "PASS b", "QUIT")),
    "refused at connect": (eims21(ip_range_restriction={"pop3": "192.0.2.0/24"}), b""),
}


def expected_pop3(server: simlab.MailServer, data: bytes, max_line: int) -> bytes:
    session = server.pop3_session(CLIENT, port=110)
    if session.greeting is None:
        return b""
    out = [session.greeting]
    for line in split_lines(data, max_line):
        if session.closed:
            break
        out.append(session.send(line))
    if not session.closed:
        session.close()
    return wire(out)


@pytest.mark.parametrize("case", POP3_CASES)
def test_pop3_replies_are_the_sessions(case):
    factory, data = POP3_CASES[case]
    live, reference = factory(), factory()
    got = over_the_wire(live, data, "pop3")
    assert got == expected_pop3(reference, data, simlab.live.DEFAULT_MAX_LINE)
    same_state(live, reference)

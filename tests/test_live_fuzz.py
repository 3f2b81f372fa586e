"""Random and malformed input against live servers: nothing crashes, hangs, or loses accepted mail.

Each example opens a connection and sends a random mix of SMTP (or POP3)
commands, message lines, binary junk, over-long lines, bare LF and lone CR
line ends, in random-sized pieces (so commands arrive pipelined or split),
then either half-closes and reads every reply, or drops the connection
abruptly - with a reset, possibly in the middle of DATA. Afterwards:

* no exception reached the lab's event loop (``lab.errors`` is empty);
* a fresh connection still gets its banner;
* every message whose end of DATA was answered 250 is in the server's
  mailboxes or queue (RFC 5321 §6.1).

Every socket read has a timeout, so a hang fails instead of blocking.
"""

from __future__ import annotations

import re
import socket
import struct
import traceback

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import simlab
import simlab.live

TIMEOUT = 5
MAX_LINE = 4096
SOURCES = {"127.0.0.2": "203.0.113.7", "127.0.0.3": "192.0.2.10"}

SMTP_COMMANDS = [
    "EHLO client.test", "HELO client.test", "MAIL FROM:<alice@remote.test>", "MAIL FROM:<>",
    "MAIL FROM:<bob@example.com> SIZE=100", "RCPT TO:<bob@example.com>", "RCPT TO:<friend@remote.test>",
    "RCPT TO:<postmaster>", "DATA", "RSET", "NOOP", "VRFY bob", "HELP", "QUIT", "AUTH PLAIN AGJvYgBzM2NyZXQ=",
    "AUTH LOGIN", "Ym9i", "*", "STARTTLS", "ETRN example.com", "GET / HTTP/1.0", "Subject: hi", "", ".", "..", "...x",
]
POP3_COMMANDS = ["USER bob", "PASS s3cret", "PASS wrong", "STAT", "LIST", "LIST 1", "RETR 1", "TOP 1 2", "UIDL",
                 "DELE 1", "RSET", "NOOP", "CAPA", "APOP bob 0123456789abcdef0123456789abcdef", "QUIT", "", "."]
ENDINGS = [b"\r\n"] * 6 + [b"\n", b"\r", b"", b"\r\r\n", b"\n\r"]


def line_strategy(commands: list[str]) -> st.SearchStrategy[bytes]:
    return st.one_of(
        st.sampled_from(commands).map(str.encode),
        st.sampled_from(commands).map(str.encode),  # weighted towards meaningful dialogue
        st.binary(max_size=60),
        st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
        st.integers(min_value=500, max_value=3 * MAX_LINE).map(lambda n: b"MAIL FROM:<" + b"a" * n + b">"),
        st.integers(min_value=MAX_LINE, max_value=20_000).map(lambda n: bytes(range(256)) * (n // 256)),
    )


def stream_strategy(commands: list[str], transactions: bool = False) -> st.SearchStrategy[bytes]:
    pair = st.tuples(line_strategy(commands), st.sampled_from(ENDINGS)).map(lambda p: p[0] + p[1])
    atoms = [pair, pair, pair]
    if transactions:  # a whole message whose body is random lines: its 250 must mean it is stored
        body = st.lists(pair, max_size=8).map(b"".join)
        atoms.append(body.map(lambda b: b"MAIL FROM:<a@remote.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n"
                                        + b + b"\r\n.\r\n"))
    return st.lists(st.one_of(atoms), max_size=40).map(b"".join)


def send(port: int, source: str, data: bytes, cuts: list[int], ending: str) -> bytes:
    """Send ``data`` cut at ``cuts``; then half-close and read all, or reset the connection."""
    received = []
    sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT, source_address=(source, 0))
    try:
        start = 0
        for cut in [*sorted(set(cuts)), len(data)]:
            piece = data[start:cut]
            start = max(start, cut)
            if piece:
                sock.sendall(piece)
        if ending == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return b""
        sock.shutdown(socket.SHUT_WR)
        while chunk := sock.recv(65536):
            received.append(chunk)
    except TimeoutError:
        raise  # a hang is a failure
    except OSError:
        pass  # the server hung up (421, 221) while we were still sending: reset, broken pipe, not connected
    finally:
        sock.close()
    return b"".join(received)


def banner(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        data = b""
        while not data.endswith(b"\r\n"):
            chunk = sock.recv(4096)
            assert chunk, "the server closed without a banner"
            data += chunk
        sock.sendall(b"QUIT\r\n")
    return data


#: Faults of the protocol core that fuzzing may tolerate: none. (The ones it once found - Unicode digits in
#: SIZE and message numbers, undecodable passwords and APOP digests - are fixed and pinned by
#: test_live.py::test_odd_octets_get_an_answer.)
KNOWN_CORE_FAULTS: set[tuple[type, str]] = set()


def unexpected(errors: list[dict]) -> list[dict]:
    out = []
    for context in errors:
        exc = context.get("exception")
        frames = traceback.extract_tb(exc.__traceback__) if exc is not None else []
        if not frames or (type(exc), frames[-1].name) not in KNOWN_CORE_FAULTS:
            out.append(context)
    return out


def stored_ids(server: simlab.MailServer) -> set[str]:
    ids = {m.queue_id for m in server.queue}
    for box in server.mailboxes.values():
        ids.update(m.queue_id for m in box)
    return ids


@pytest.fixture(scope="module")
def postfix_lab():
    server = simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"],
                                    smtpd_sasl_auth_enable=True, accounts={"bob": "s3cret"})
    with simlab.live.serve(server, client_map=SOURCES, max_line=MAX_LINE, reply_delays=False,
                           idle_timeout=10) as lab:
        yield lab
    assert unexpected(lab.errors) == []


@pytest.fixture(scope="module")
def eims_lab():
    server = simlab.presets.eims_1_2(accounts={"bob": "s3cret"})
    with simlab.live.serve(server, client_map=SOURCES, max_line=MAX_LINE, reply_delays=False,
                           idle_timeout=10) as lab:
        yield lab
    assert unexpected(lab.errors) == []


FUZZ = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                        HealthCheck.data_too_large])
ENDING = st.sampled_from(["half-close", "half-close", "reset"])
CUTS = st.lists(st.integers(min_value=0, max_value=5000), max_size=6)


@FUZZ
@given(data=stream_strategy(SMTP_COMMANDS, transactions=True), cuts=CUTS,
       source=st.sampled_from(sorted(SOURCES)), ending=ENDING, mid_data=st.booleans())
def test_postfix_smtp_survives_anything(postfix_lab, data, cuts, source, ending, mid_data):
    if mid_data:  # a message cut off in the middle: the connection drops after a partial body
        data = b"EHLO c.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n" + data
    replies = send(postfix_lab.smtp_port, source, data, cuts, ending)
    assert unexpected(postfix_lab.errors) == []
    queued = re.findall(rb"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)\r$", replies, re.MULTILINE)
    assert set(q.decode() for q in queued) <= stored_ids(postfix_lab.server)
    assert banner(postfix_lab.smtp_port) == b"220 mail.example.com ESMTP Postfix\r\n"


@FUZZ
@given(data=stream_strategy(SMTP_COMMANDS, transactions=True), cuts=CUTS, ending=ENDING)
def test_eims_smtp_survives_anything(eims_lab, data, cuts, ending):
    before = stored_ids(eims_lab.server)
    replies = send(eims_lab.smtp_port, "127.0.0.2", data, cuts, ending)
    assert unexpected(eims_lab.errors) == []
    accepted = replies.count(b"\r\n250 Message accepted for delivery\r\n")
    assert len(stored_ids(eims_lab.server) - before) >= accepted
    assert banner(eims_lab.smtp_port).startswith(b"220 mail.example.com Eudora Internet Mail Server 1.2")


@FUZZ
@given(data=stream_strategy(POP3_COMMANDS), cuts=CUTS, ending=ENDING)
def test_pop3_survives_anything(postfix_lab, data, cuts, ending):
    send(postfix_lab.pop3_port, "127.0.0.2", data, cuts, ending)
    assert unexpected(postfix_lab.errors) == []
    assert banner(postfix_lab.pop3_port) == b"+OK Dovecot ready.\r\n"

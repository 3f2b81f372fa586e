"""The simulation's hot paths, made faster, answer exactly as the plain code they replaced (kept here as the
reference): message ids, address-list membership, POP3 command dispatch and line length, a log formatted when
read, header fields, the clock's calendar time."""

from __future__ import annotations

import ipaddress
from datetime import datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

import simlab.presets
from simlab.addresses.networks import AddressRange, ClientNetworks, parse_range
from simlab.engine.world import _message_id
from simlab.protocol.pop3 import MAX_COMMAND


def _reference_message_id(lines):
    for line in lines[:40]:
        if line[:11].lower() == "message-id:":
            return line[11:].strip()
        if not line:
            break
    return None


HEADER_TEXT = st.text(alphabet=st.sampled_from("MmEeSsAaGgIiDd-: İıKK\u0307x<>@."), max_size=16)


@given(st.lists(HEADER_TEXT, max_size=6))
def test_message_id_as_the_plain_test(lines):
    assert _message_id(lines) == _reference_message_id(lines)


def test_message_id_examples():
    assert _message_id(["From: <a@example.com>", "MESSAGE-ID: <1.x@example.com>"]) == "<1.x@example.com>"
    assert _message_id(["Message-Id:<2@example.com>", "Message-ID: <3@example.com>"]) == "<2@example.com>"
    assert _message_id(["Subject: hi", "", "Message-ID: <in the body>"]) is None
    assert _message_id(["Message-İd: <4@example.com>"]) is None  # İ lowers to two characters


def _reference_range_contains(rng: AddressRange, ip) -> bool:
    try:
        addr = ip if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address) else ipaddress.ip_address(str(ip))
    except ValueError:
        return False
    return addr.version == rng.first.version and int(rng.first) <= int(addr) <= int(rng.last)


CLIENTS = ["192.0.2.7", " 192.0.2.7", "192.0.2.7 ", "192.0.2.300", "2001:db8::1", "", "mail.example.com", 7,
           ipaddress.ip_address("192.0.2.200"), ipaddress.ip_address("198.51.100.1"),
           ipaddress.ip_address("2001:db8::5"), ipaddress.ip_network("192.0.2.0/24"), None]


def test_membership_as_parsing_each_time():
    ranges = ["192.0.2.0/25", "198.51.100.1-198.51.100.9", "2001:db8::/64"]
    nets = ClientNetworks(ranges)
    for client in CLIENTS:
        expected = any(_reference_range_contains(parse_range(r), client) for r in ranges)
        assert (client in nets) is expected, client
        for r in ranges:
            assert (client in parse_range(r)) is _reference_range_contains(parse_range(r), client), (r, client)
    assert "192.0.2.7" in nets and " 192.0.2.7" not in nets  # a padded address is not an address here
    assert "192.0.2.7" not in ClientNetworks([])


@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=0, max_value=2**32 - 1))
def test_range_membership_property(low, probe):
    first = ipaddress.IPv4Address(min(low, 2**32 - 2))
    rng = parse_range(f"{first}-{ipaddress.IPv4Address(min(int(first) + 1000, 2**32 - 1))}")
    address = ipaddress.IPv4Address(probe)
    assert (str(address) in rng) is _reference_range_contains(rng, str(address))
    assert (address in ClientNetworks([rng.text])) is _reference_range_contains(rng, address)


def _server():
    return simlab.presets.eims_2_1(accounts={"bob": "s3cret"})


def _pop3():
    return _server().pop3_session("192.0.2.10")


def test_pop3_line_length_counts_octets():
    user = "bob"
    ascii_ok = "USER " + "a" * (MAX_COMMAND - 5)
    assert len(ascii_ok) == MAX_COMMAND
    session = _pop3()
    long_reply = session.send(ascii_ok + "a")
    assert not long_reply.ok
    wide = "USER " + "é" * ((MAX_COMMAND - 5) // 2 + 1)  # fewer characters than the limit, more octets
    assert len(wide) <= MAX_COMMAND < len(wide.encode())
    assert str(_pop3().send(wide)) == str(long_reply)
    assert _pop3().send(f"USER {user}").ok


def test_pop3_dispatch_by_state_and_subclass():
    session = _pop3()
    wrong_state = session.send("STAT")  # a TRANSACTION command before login
    unknown = _pop3().send("FROB")
    assert not wrong_state.ok and not unknown.ok and str(wrong_state) != str(unknown)

    class Counting(type(session)):
        seen = 0

        def _user_cmd(self, argument):
            Counting.seen += 1
            return super()._user_cmd(argument)

    counting = Counting(_server(), "192.0.2.10")
    counting.send("user bob")
    assert Counting.seen == 1  # the subclass's handler answers, as with bound methods


# --- lines formatted when the log is read, header fields, the clock's last second ----------------------------


def _eager_lines(server, entries):
    """The log as formatting every line as it is written would make it (the plain code)."""
    return [server.persona.format_log(server.clock.datetime(now), process, pid, text, server)
            for now, process, pid, text in entries]


def test_a_log_read_late_is_the_log_written_line_by_line():
    from simlab.clock import ManualClock
    from simlab.protocol.policy import Restriction

    server = simlab.presets.postfix(clock=ManualClock())
    entries = []
    for n, (process, pid, text) in enumerate([("smtpd", 2001, "connect from a[192.0.2.1]"),
                                              ("cleanup", 7, "X1: message-id=<1@example.com>"),
                                              ("smtpd", 2001, "disconnect from a[192.0.2.1]")]):
        server.clock.set(n * 0.7)
        server.log_line(text, process, pid)
        entries.append((n * 0.7, process, pid, text))
    assert server._unformatted  # nobody read them yet

    heard = []

    class Reader(Restriction):  # a restriction that reads lines as they are written (fail2ban does)
        def on_log(self, srv, line, now):
            heard.append((now, line))

    server.restrictions.append(Reader())  # from now on lines are formatted at once, after those waiting
    server.clock.set(5.0)
    server.log_line("connect from b[192.0.2.2]", "smtpd", 2002)
    entries.append((5.0, "smtpd", 2002, "connect from b[192.0.2.2]"))
    expected = _eager_lines(server, entries)
    assert heard == [(5.0, expected[-1])]
    assert server.log == expected
    assert server.log_records == [(now, line) for (now, *_rest), line in zip(entries, expected, strict=True)]


def test_header_field_as_the_plain_fields():
    from simlab.protocol.message import Message

    lines = ["Received: from a", "\tby b", "Message-ID: <1@x>", "message-id: <2@x>", " Folded: no",
             "Subject : hi", "", "Message-ID: <in the body>"]
    message = Message("Q1", "a@example.com", ["b@example.com"], lines, "192.0.2.1", "a.example.com", 0.0)
    for name in ("message-id", "subject", "received", "folded", "date"):
        expected = next((value for field, value in message._fields() if field == name), None)
        assert message.header_field(name) == expected


def test_the_clock_s_calendar_time_is_its_second_s_also_when_asked_again_or_moved():
    from simlab.clock import ManualClock

    clock = ManualClock()
    for at in (0.0, 0.4, 0.99, 1.0, 1.5, 61.2, 61.2, 3600.0):
        assert clock.datetime(at) == clock.start + timedelta(seconds=int(at))
    clock.start = datetime(2026, 12, 1, 9, 0, 0)  # a new start is a new calendar, at once
    assert clock.datetime(3600.0) == datetime(2026, 12, 1, 10, 0, 0)



@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2099, 12, 31)))
def test_dates_written_out_are_strftime_s_in_the_c_locale(when):
    """The Date header, syslog's stamp and the Mac log's time spell days and months out themselves (strftime's
    %a and %b follow the process's locale): in the C locale, as a run sees it, they equal strftime's."""
    from simlab.clock import mail_date
    from simlab.products.common import mac_log_time
    from simlab.products.postfix import _syslog_stamp

    when = when.replace(microsecond=0)
    hour = when.hour % 12 or 12
    assert mail_date(when) == f"{when:%a, %d %b %Y %H:%M:%S} +0000"
    assert mac_log_time(when) == f"{when:%a, %b} {when.day}, {when.year} {hour}:{when:%M:%S} {when:%p}"
    assert _syslog_stamp(when, None, "mail.example.com") == f"{when:%b} {when.day:>2} {when:%H:%M:%S} mail"

"""Same calls, same bytes; and the command line speaks the protocol on stdin/stdout."""

import io

import pytest

import simlab
from simlab.cli import build_server, main

SCRIPT = ["EHLO c.test", "MAIL FROM:<a@remote.test>", "RCPT TO:<bob@example.com>", "RCPT TO:<x@remote.test>",
          "DATA", "Subject: hi", "", "hello", ".", "QUIT"]


def run_once(factory):
    server = factory()
    for ip in ("203.0.113.7", "192.0.2.10"):
        s = server.smtp_session(ip)
        for line in SCRIPT:
            s.send(line)
        server.clock.advance(37)
    p = server.pop3_session("203.0.113.9")
    p.send("USER bob")
    p.send("PASS wrong")
    return s.transcript, server.log, [m.lines for m in server.mailboxes["bob"]], [m.lines for m in server.queue]


@pytest.mark.parametrize("factory", [
    lambda: simlab.presets.postfix(mydestination=["example.com"], mynetworks=["192.0.2.0/24"], accounts={"bob": "s"}),
    lambda: simlab.presets.eims_2_1(accounts={"bob": "s"}, relay_restriction=True),
    lambda: simlab.presets.sims(client_hosts=["192.0.2.0/24"], accounts={"bob": "s"}),
])
def test_same_calls_give_identical_transcripts_and_logs(factory):
    assert run_once(factory) == run_once(factory)


def test_log_time_comes_from_the_clock():
    server = simlab.presets.eims_2_1(accounts={"bob": "s"}, clock=simlab.ManualClock())
    server.clock.advance(3600 * 13 + 5)
    p = server.pop3_session("203.0.113.9")
    p.send("USER bob")
    p.send("PASS x")
    assert server.log[-1] == "Thu, Jun 11, 1998 2:25:37 PM  POP3 wrong password for bob from 203.0.113.9"


def cli(argv, text=""):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(text), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_cli_smtp_dialogue_with_crlf():
    code, out, err = cli(["smtp", "--preset", "eims-2.1", "--client-ip", "203.0.113.50", "--set",
                          "relay_restriction=yes", "--log"],
                         "HELO o.test\r\nMAIL FROM:<Postmaster@example.com>\r\nRCPT TO:<u@remote.test>\r\nQUIT\r\n")
    assert code == 0
    assert out.split("\r\n")[:5] == ["220 mail.example.com Eudora Internet Mail Server 2.1 ready",
                                     "250 mail.example.com Hello o.test, pleased to meet you",
                                     "250 Sender <Postmaster@example.com> OK", "250 Recipient <u@remote.test> OK",
                                     "221 mail.example.com closing connection"]
    assert err == ""  # EIMS logs nothing for a session without a message


def test_cli_pop3_and_log():
    code, out, err = cli(["pop3", "--preset", "eims-2.1", "--account", "webmaster:webmaster", "--log"],
                         "USER webmaster\nPASS guess\nQUIT\n")
    assert code == 0 and "-ERR Wrong password\r\n" in out
    assert err.strip().endswith("POP3 wrong password for webmaster from 203.0.113.7")


def test_cli_bad_setting_is_a_clear_error():
    code, _out, err = cli(["smtp", "--preset", "postfix", "--set", "mynetworks=192.0.2.0/33"])
    assert code == 2 and err == (
        "simlab: error: mynetworks: '192.0.2.0/33' is not an address range; expected a CIDR block "
        "('192.0.2.0/24'), an address ('192.0.2.25') or a range ('192.0.2.10-192.0.2.99')\n")
    assert cli(["smtp", "--preset", "qmail"])[2].startswith("simlab: error: --preset: 'qmail' is not a preset")
    assert cli(["smtp", "--preset", "eims-2.1", "--set", "relay_restriction=maybe"])[2] == (
        "simlab: error: relay_restriction: 'maybe' is not yes or no; expected one of yes/no, true/false, on/off, 1/0\n")


def test_cli_presets_listing_and_build_server():
    code, out, _ = cli(["presets"])
    assert code == 0 and "eims-2.1:" in out and "relay_restriction" in out
    server = build_server("postfix", ["smtpd_client_connection_rate_limit=5", "mydestination=example.com,example.net"])
    assert server.resolver.mydestination == frozenset({"example.com", "example.net"})


def test_cli_dropped_connection():
    code, out, _ = cli(["smtp", "--preset", "eims-2.1", "--client-ip", "203.0.113.7", "--set",
                        "ip_range_restriction=192.0.2.1-192.0.2.254"], "HELO x\n")
    assert code == 0 and out == "554 mail.example.com Access denied\r\n"


def test_cli_run_prints_summary_and_log_tail():
    code, out, err = cli(["run", "relay_probe", "--preset", "eims-1.2", "--seed", "1", "--tail", "5"])
    assert code == 0 and err == ""
    assert out.startswith("S2/S3: the open-relay probe and the bounce to postmaster - preset eims-1.2, seed 1")
    assert "  bounces_to_postmaster  1\n" in out and "  spam_relayed           1\n" in out
    assert out.count("\n  Thu, Jun 11, 1998") + out.count("\n  Fri, Jun 12, 1998") == 5
    assert cli(["run", "relay_probe", "--preset", "eims-1.2", "--seed", "1", "--tail", "5"])[1] == out


def test_cli_run_knobs_and_errors():
    code, out, _ = cli(["run", "ip_rotation", "--set", "defence=allowlist", "--set", "pool_size=20", "--tail", "0"])
    assert code == 0 and "  spam_relayed           0\n" in out
    code, _, err = cli(["run", "ip_rotation", "--set", "defense=allowlist"])
    assert code == 2 and "'defense' is not a knob of ip_rotation; expected one of preset, duration" in err
    assert cli(["run", "nonsense"])[2].startswith("simlab: error: scenario: 'nonsense' is not a scenario")


def test_cli_list():
    code, out, _ = cli(["list"])
    assert code == 0
    for name in ("wrong_password", "relay_probe", "spoofed_postmaster", "strict_ip_range", "ip_rotation", "flood",
                 "mixed_traffic"):
        assert out.count(f"{name}: ") == 1

"""The live lab: the forum's cases with real clients (smtplib, poplib) over loopback sockets.

Loopback addresses stand for the thread's hosts through ``client_map``:
127.0.0.2 appears as 203.0.113.50 (an outside client), 127.0.0.3 as
192.0.2.10 (a LAN client); mycompany.test is the site's domain and
yourcompany.test the foreign one.
"""

from __future__ import annotations

import errno
import os
import poplib
import re
import selectors
import signal
import smtplib
import socket
import subprocess
import sys
import threading
import time
from email.message import EmailMessage

import pytest

import simlab
import simlab.live
from simlab.live.cli import add_serve_parser, run_serve
from simlab.protocol.policy import Restriction

OUTSIDE = "203.0.113.50"
LAN_CLIENT = "192.0.2.10"
CLIENTS = {"127.0.0.2": OUTSIDE, "127.0.0.3": LAN_CLIENT}
SPOOF = ["HELO outside.test", "MAIL FROM:<Postmaster@mycompany.test>", "RCPT TO:<user_name@yourcompany.test>",
         "DATA", ".", "QUIT"]
TIMEOUT = 5
SIGN_OFF = b"+OK mail.example.com POP3 server signing off"


def mycompany(preset, **kw):
    if preset is simlab.presets.postfix:
        return preset(myhostname="mail.mycompany.test", mydestination=["mycompany.test"],
                      mynetworks=["192.0.2.0/24"], **kw)
    return preset(hostname="mail.mycompany.test", local_domains=["mycompany.test"], **kw)


def smtp_from(lab, source="127.0.0.2") -> smtplib.SMTP:
    return smtplib.SMTP(lab.host, lab.smtp_port, source_address=(source, 0), timeout=TIMEOUT)


def docmds(client: smtplib.SMTP, lines) -> list[tuple[int, bytes]]:
    replies = [client.docmd(line) for line in lines]
    client.close()
    return replies


def raw(lab, data: bytes, source: str = "127.0.0.1", port: int | None = None) -> bytes:
    """Send ``data``, half-close, and read everything until the server closes (bounded by a timeout)."""
    with socket.create_connection((lab.host, port or lab.smtp_port), timeout=TIMEOUT,
                                  source_address=(source, 0)) as sock:
        if data:
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
            sock.listen()
        except OSError:
            return False
    return True


# --- the forum's cases ------------------------------------------------------------------------
class TestS4SpoofedPostmaster:
    def test_eims_21_with_relay_restriction_relays_it(self):
        server = mycompany(simlab.presets.eims_2_1, relay_restriction=True)
        with simlab.live.serve(server, client_map=CLIENTS) as lab:
            replies = docmds(smtp_from(lab), SPOOF)
        assert [code for code, _ in replies] == [250, 250, 250, 354, 250, 221]
        assert replies[2] == (250, b"Recipient <user_name@yourcompany.test> OK")
        (queued,) = server.queue
        assert queued.sender == "Postmaster@mycompany.test" and queued.recipients == ["user_name@yourcompany.test"]
        assert queued.client_ip == OUTSIDE
        assert server.log[-1].endswith("SMTP message from <Postmaster@mycompany.test> to "
                                       f"<user_name@yourcompany.test> received from {OUTSIDE}")
        assert lab.errors == []

    def test_sims_client_hosts_refuses_it_at_rcpt(self):
        server = mycompany(simlab.presets.sims, client_hosts=["192.0.2.0/24"])
        with simlab.live.serve(server, client_map=CLIENTS) as lab:
            replies = docmds(smtp_from(lab), SPOOF[:3])
        assert replies[2] == (550, b"<user_name@yourcompany.test> relaying prohibited")
        assert server.queue == []
        assert server.log[-1].endswith(f"SMTP relaying to <user_name@yourcompany.test> for [{OUTSIDE}] prohibited")

    def test_postfix_refuses_it_at_rcpt(self):
        server = mycompany(simlab.presets.postfix)
        with simlab.live.serve(server, client_map=CLIENTS) as lab:
            replies = docmds(smtp_from(lab), SPOOF[:3])
            lan = docmds(smtp_from(lab, "127.0.0.3"), SPOOF[:3])
        assert replies[2] == (454, b"4.7.1 <user_name@yourcompany.test>: Relay access denied")
        assert any(f"NOQUEUE: reject: RCPT from unknown[{OUTSIDE}]: 454 4.7.1" in line for line in server.log)
        assert lan[2] == (250, b"2.1.5 Ok")  # the LAN may relay
        assert server.queue == []

    def test_smtplib_sendmail_raises_as_for_a_real_server(self):
        server = mycompany(simlab.presets.postfix)
        message = EmailMessage()
        message["From"], message["To"] = "Postmaster@mycompany.test", "user_name@yourcompany.test"
        message["Subject"] = "x"
        message.set_content("hello")
        with simlab.live.serve(server, client_map=CLIENTS) as lab, smtp_from(lab) as client:
            with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
                client.send_message(message)
        assert refused.value.recipients["user_name@yourcompany.test"][0] == 454


class TestS5StrictIpRange:
    def test_outside_client_refused_at_connect(self):
        server = simlab.presets.eims_2_1(accounts={"bob": "x"}, ip_range_restriction={"smtp": "192.0.2.1-192.0.2.254"})
        with simlab.live.serve(server, client_map=CLIENTS) as lab:
            with pytest.raises(smtplib.SMTPConnectError) as refused:
                smtp_from(lab)
            with smtp_from(lab, "127.0.0.3") as lan:
                assert lan.helo("lan.test")[0] == 250
        assert refused.value.smtp_code == 554
        assert refused.value.smtp_error == b"mail.example.com Access denied"
        assert any(line.endswith(f"SMTP connection from {OUTSIDE} refused by IP Range Restriction")
                   for line in server.log)


class TestS2OpenRelayProbe:
    def test_eims_12_relays_a_probe(self):
        server = simlab.presets.eims_1_2()
        with simlab.live.serve(server, client_map=CLIENTS) as lab, smtp_from(lab) as client:
            client.helo("scanner.test")
            refused = client.sendmail("sender@remote.test", ["rtest@remote.test"],
                                      "Subject: Open relay test\r\n\r\nOne test per server, for a survey.\r\n")
        assert refused == {}
        (queued,) = server.queue
        assert queued.recipients == ["rtest@remote.test"] and queued.client_ip == OUTSIDE
        assert "One test per server, for a survey." in queued.lines


class TestS1Pop3Passwords:
    def pop3(self, lab) -> poplib.POP3:
        return poplib.POP3(lab.host, lab.pop3_port, timeout=TIMEOUT)

    def test_wrong_password_logs_the_threads_line_and_a_right_one_logs_nothing(self):
        server = simlab.presets.eims_2_1(accounts={"webmaster": "webmaster", "bob": "Tr0ub4dor"})
        with simlab.live.serve(server, client_map={"127.0.0.1": "203.0.113.9"}) as lab:
            client = self.pop3(lab)
            assert client.getwelcome().startswith(b"+OK mail.example.com EIMS POP3 server 2.1 ready <")
            client.user("bob")
            with pytest.raises(poplib.error_proto, match="Wrong password"):
                client.pass_("bob")
            client.quit()
            errors_before = [line for line in server.log if "wrong password" in line]
            stolen = self.pop3(lab)
            stolen.user("webmaster")
            assert stolen.pass_("webmaster") == b"+OK webmaster has 0 message(s) (0 octets)"
            stolen.quit()
        assert len(errors_before) == 1 and errors_before[0].endswith("POP3 wrong password for bob from 203.0.113.9")
        assert [line for line in server.log if "wrong password" in line] == errors_before
        assert server.log[-1].endswith("POP3 connection from 203.0.113.9 for webmaster")

    def test_mail_sent_over_smtp_is_read_over_pop3(self):
        server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"})
        with simlab.live.serve(server) as lab:
            with smtplib.SMTP(lab.host, lab.smtp_port, timeout=TIMEOUT) as client:
                client.sendmail("alice@remote.test", ["bob@example.com"], "Subject: hi\r\n\r\n.dot line\r\nend\r\n")
            client = self.pop3(lab)
            client.user("bob")
            client.pass_("s3cret")
            _, lines, _ = client.retr(1)
            client.dele(1)
            client.quit()
        assert lines[-2:] == [b".dot line", b"end"]
        assert server.mailboxes["bob"] == []


# --- API, limits and clean shutdown ------------------------------------------------------------
class TestServe:
    def test_without_with_and_stop_twice(self):
        lab = simlab.live.serve(simlab.presets.eims_2_1())
        try:
            assert lab.running and lab.smtp_port and lab.pop3_port and lab.host == "127.0.0.1"
            assert raw(lab, b"QUIT\r\n").startswith(b"220 mail.example.com Eudora")
        finally:
            lab.stop()
        lab.stop()
        assert not lab.running and "stopped" in repr(lab)

    def test_no_thread_or_socket_left_after_100_concurrent_sessions(self):
        before = set(threading.enumerate())
        server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"})
        lab = simlab.live.serve(server)
        n = 100
        seen_at_once = []
        barrier = threading.Barrier(n, action=lambda: seen_at_once.append(lab.connections))
        failures = []

        def client(i: int) -> None:
            try:
                with smtplib.SMTP(lab.host, lab.smtp_port, timeout=20) as smtp:
                    barrier.wait(timeout=20)
                    smtp.ehlo("client.test")
                    smtp.sendmail(f"c{i}@remote.test", ["bob@example.com"], f"Subject: {i}\r\n\r\nbody {i}\r\n")
            except Exception as exc:  # collected and asserted below
                failures.append(exc)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        smtp_port, pop3_port = lab.smtp_port, lab.pop3_port
        lab.stop()
        assert failures == []
        assert seen_at_once == [n]
        assert sorted(m.header["subject"] for m in server.mailboxes["bob"]) == sorted(str(i) for i in range(n))
        assert lab.errors == []
        assert set(threading.enumerate()) == before
        assert port_is_free(lab.host, smtp_port) and port_is_free(lab.host, pop3_port)

    def test_beyond_max_connections_421_then_close(self):
        with simlab.live.serve(simlab.presets.postfix(), max_connections=2) as lab:
            held = [smtplib.SMTP(lab.host, lab.smtp_port, timeout=TIMEOUT) for _ in range(2)]
            assert raw(lab, b"") == b"421 4.7.0 mail.example.com Error: too many connections\r\n"
            assert raw(lab, b"", port=lab.pop3_port) == b"-ERR Too many connections\r\n"
            for client in held:
                client.quit()
            deadline = time.monotonic() + TIMEOUT
            while lab.connections and time.monotonic() < deadline:
                time.sleep(0.01)
            assert raw(lab, b"QUIT\r\n").startswith(b"220 ")
        with simlab.live.serve(simlab.presets.eims_1_2(), max_connections=1) as lab:
            with smtplib.SMTP(lab.host, lab.smtp_port, timeout=TIMEOUT):
                assert raw(lab, b"") == b"421 mail.example.com Error: too many connections\r\n"

    def test_postfix_per_client_limit_refuses_at_connect(self):
        server = simlab.presets.postfix(mynetworks=["192.0.2.0/24"], smtpd_client_connection_count_limit=1)
        with simlab.live.serve(server, client_map=CLIENTS) as lab, smtp_from(lab):
            with pytest.raises(smtplib.SMTPConnectError) as refused:
                smtp_from(lab)
            with smtp_from(lab, "127.0.0.3") as lan:  # another client is not counted against this one
                assert lan.noop()[0] == 250
        assert refused.value.smtp_code == 421
        assert refused.value.smtp_error == f"4.7.0 mail.example.com Error: too many connections from {OUTSIDE}".encode()

    def test_idle_timeout(self):
        server = simlab.presets.postfix()
        with simlab.live.serve(server, idle_timeout=0.2) as lab:
            assert raw_idle(lab) == (b"220 mail.example.com ESMTP Postfix\r\n"
                                     b"421 4.4.2 mail.example.com Error: timeout exceeded\r\n")
        assert any("lost connection after CONNECT" in line for line in server.log)
        with simlab.live.serve(simlab.presets.eims_2_1(), idle_timeout=0.2) as lab:
            assert raw_idle(lab) == b"220 mail.example.com Eudora Internet Mail Server 2.1 ready\r\n"
            assert raw_idle(lab, lab.pop3_port).startswith(b"+OK ")

    def test_line_longer_than_max_line_is_cut_and_answered(self):
        server = simlab.presets.eims_2_1()
        with simlab.live.serve(server, max_line=1024) as lab:
            replies = raw(lab, b"NOOP " + b"x" * 200_000 + b"\r\nNOOP\r\nQUIT\r\n")
        assert replies.split(b"\r\n")[1:4] == [b"500 Line too long", b"250 OK",
                                               b"221 mail.example.com closing connection"]
        assert lab.sessions[-1].transcript[1] == "C: NOOP " + "x" * 1019

    def test_firewall_drop_closes_without_banner(self):
        jail = simlab.restrictions.Fail2Ban()
        server = simlab.presets.eims_2_1(restrictions=[jail])
        jail.ban(OUTSIDE, 0.0, server)
        with simlab.live.serve(server, client_map=CLIENTS) as lab:
            with pytest.raises(smtplib.SMTPServerDisconnected):
                smtp_from(lab)
            assert raw(lab, b"", source="127.0.0.2") == b""
            assert raw(lab, b"", source="127.0.0.2", port=lab.pop3_port) == b""
            assert raw(lab, b"QUIT\r\n").startswith(b"220 ")

    def test_the_clock_follows_real_time(self):
        server = simlab.presets.eims_2_1()
        with simlab.live.serve(server) as lab:
            time.sleep(0.3)
            raw(lab, b"QUIT\r\n")
            assert server.clock.now >= 0.3
            lab.call(server.clock.advance, 3600)
            raw(lab, b"QUIT\r\n")
            assert server.clock.now >= 3600.3
        frozen = simlab.presets.eims_2_1()
        with simlab.live.serve(frozen, realtime=False) as lab:
            time.sleep(0.05)
            raw(lab, b"QUIT\r\n")
        assert frozen.clock.now == 0.0

    def test_reply_delays_are_waited(self):
        server = simlab.presets.postfix(accounts={"bob": "s3cret"}, auth_failure_delay=0.3)
        with simlab.live.serve(server) as lab:
            start = time.monotonic()
            replies = raw(lab, b"USER bob\r\nPASS wrong\r\nQUIT\r\n", port=lab.pop3_port)
            assert time.monotonic() - start >= 0.3
        assert b"-ERR [AUTH] Authentication failed.\r\n" in replies

    def test_xclient_from_a_trusted_host(self):
        server = simlab.presets.postfix(mynetworks=["192.0.2.0/24"])
        with simlab.live.serve(server, xclient_hosts=["127.0.0.1"]) as lab:
            replies = raw(lab, b"EHLO tool.test\r\nXCLIENT ADDR=203.0.113.7 NAME=spam.test\r\nHELO x.test\r\n"
                               b"MAIL FROM:<a@remote.test>\r\nRCPT TO:<b@remote.test>\r\nXCLIENT ADDR=bad\r\n"
                               b"XCLIENT FOO=1\r\nQUIT\r\n")
            untrusted = raw(lab, b"XCLIENT ADDR=192.0.2.1\r\n", source="127.0.0.2")
        lines = replies.decode().split("\r\n")
        assert lines[lines.index("250 SMTPUTF8") + 1:-1] == [
            "220 mail.example.com ESMTP Postfix", "250 mail.example.com", "250 2.1.0 Ok",
            "454 4.7.1 <b@remote.test>: Relay access denied", "503 5.5.1 Error: MAIL transaction in progress",
            "503 5.5.1 Error: MAIL transaction in progress", "221 2.0.0 Bye"]
        assert any("connect from spam.test[203.0.113.7]" in line for line in server.log)
        assert untrusted.split(b"\r\n")[1] == b"500 5.5.2 Error: command not recognized"

    @pytest.mark.parametrize("setting", ["smtp_port", "pop3_port"])
    def test_a_busy_port_fails_at_once_naming_it_and_leaves_nothing(self, setting):
        before = set(threading.enumerate())
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy = taken.getsockname()[1]
            start = time.monotonic()
            with pytest.raises(simlab.ConfigError) as error:
                simlab.live.serve(simlab.presets.eims_2_1(), **{setting: busy})
            assert time.monotonic() - start < 1  # not after a readiness timeout
        assert error.value.setting == setting and error.value.value == busy
        assert str(error.value).startswith(f"{setting}: {busy} cannot be listened on at 127.0.0.1: ")
        assert isinstance(error.value, OSError) and error.value.errno == errno.EADDRINUSE  # as before
        assert isinstance(error.value, simlab.live.ListenError)
        assert set(threading.enumerate()) == before
        other = "pop3_port" if setting == "smtp_port" else "smtp_port"
        with simlab.live.serve(simlab.presets.eims_2_1(), **{other: busy}) as lab:  # it was really left free
            assert getattr(lab, other) == busy

    def test_one_thread_for_the_lab_and_none_after_stop(self):
        before = set(threading.enumerate())
        lab = simlab.live.serve(simlab.presets.postfix())
        try:
            (thread,) = set(threading.enumerate()) - before
            assert thread.name == f"simlab-live-{lab.smtp_port}"
            assert lab.call(lambda: threading.current_thread()) is thread
            assert lab.loop.is_running() and not lab.loop.is_closed()
        finally:
            lab.stop()
        assert set(threading.enumerate()) == before and lab.loop.is_closed()


    def test_stop_ends_open_sessions_even_during_a_reply_delay(self):
        server = simlab.presets.postfix(accounts={"bob": "s3cret"}, auth_failure_delay=30)
        lab = simlab.live.serve(server)
        idle = socket.create_connection((lab.host, lab.smtp_port), timeout=TIMEOUT)
        waiting = socket.create_connection((lab.host, lab.pop3_port), timeout=TIMEOUT)
        try:
            assert idle.recv(100).startswith(b"220 ") and waiting.recv(100).startswith(b"+OK")
            waiting.sendall(b"USER bob\r\n")
            assert waiting.recv(100) == b"+OK\r\n"
            waiting.sendall(b"PASS wrong\r\n")  # the answer waits 30 s
            deadline = time.monotonic() + TIMEOUT
            while lab.sessions[-1].failed_logins == 0 and time.monotonic() < deadline:
                time.sleep(0.01)
            start = time.monotonic()
            lab.stop()
            assert time.monotonic() - start < 5
            assert idle.recv(100) == b""
            assert waiting.recv(100) == b""
        finally:
            idle.close()
            waiting.close()
        assert lab.errors == []
        assert all(session.closed for session in lab.sessions)
        assert any("lost connection after CONNECT" in line for line in server.log)

    def test_a_fault_in_the_model_closes_that_connection_only(self):
        class Broken(Restriction):
            def check_helo(self, ctx, hostname):
                if hostname == "crash.test":
                    raise RuntimeError("broken restriction")
                return None

        server = simlab.presets.eims_2_1(restrictions=[Broken()])
        with simlab.live.serve(server) as lab:
            assert raw(lab, b"HELO crash.test\r\nNOOP\r\n") == \
                b"220 mail.example.com Eudora Internet Mail Server 2.1 ready\r\n"
            assert raw(lab, b"HELO fine.test\r\nQUIT\r\n").count(b"\r\n") == 3
            (fault,) = lab.errors
            lab.errors.clear()
        assert isinstance(fault["exception"], RuntimeError)
        assert lab.sessions[0].closed

    @pytest.mark.parametrize(("service", "data", "reply"), [
        pytest.param("smtp", "EHLO x.test\r\nMAIL FROM:<a@remote.test> SIZE=²\r\nQUIT\r\n".encode(), b"221 2.0.0 Bye"),
        pytest.param("pop3", "USER bob\r\nPASS s3cret\r\nRETR ²\r\nQUIT\r\n".encode(), SIGN_OFF),
        pytest.param("pop3", b"USER bob\r\nPASS s3cret\xe4\r\nQUIT\r\n", SIGN_OFF),
        pytest.param("pop3", ("APOP bob " + "é" * 32 + "\r\nQUIT\r\n").encode(), SIGN_OFF),
    ])
    def test_odd_octets_get_an_answer(self, service, data, reply):
        preset = simlab.presets.postfix if service == "smtp" else simlab.presets.eims_2_1
        server = preset(accounts={"bob": "s3cret"})
        with simlab.live.serve(server) as lab:
            replies = raw(lab, data, port=lab.smtp_port if service == "smtp" else lab.pop3_port)
            errors = list(lab.errors)
            lab.errors.clear()
        assert errors == []
        assert replies.endswith(reply + b"\r\n")


class TestSettings:
    @pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.25", "203.0.113.7", "mail.example.com", None])
    def test_only_loopback(self, host):
        with pytest.raises(simlab.ConfigError) as error:
            simlab.live.serve(simlab.presets.eims_2_1(), host=host)
        assert error.value.setting == "host"

    def test_non_loopback_allowed_with_a_warning(self):
        with pytest.warns(UserWarning, match="not a loopback address"):
            assert simlab.live.check_host("192.0.2.25", allow_non_loopback=True) == "192.0.2.25"
        assert simlab.live.check_host("localhost") == "127.0.0.1"
        assert simlab.live.check_host("127.0.0.5") == "127.0.0.5"

    @pytest.mark.parametrize(("kwargs", "setting"), [
        ({"client_map": {"192.0.2.1": "203.0.113.7"}}, "client_map"),
        ({"client_map": {"127.0.0.2": "nowhere"}}, "client_map['127.0.0.2']"),
        ({"client_map": ["127.0.0.2"]}, "client_map"),
        ({"smtp_port": 70000}, "smtp_port"),
        ({"smtp_port": "25"}, "smtp_port"),
        ({"pop3_port": -1}, "pop3_port"),
        ({"smtp_port": 2525, "pop3_port": 2525}, "pop3_port"),
        ({"max_connections": 0}, "max_connections"),
        ({"idle_timeout": 0}, "idle_timeout"),
        ({"max_line": 100}, "max_line"),
        ({"xclient_hosts": ["nowhere"]}, "xclient_hosts"),
    ])
    def test_bad_settings(self, kwargs, setting):
        with pytest.raises(simlab.ConfigError) as error:
            simlab.live.serve(simlab.presets.postfix(), **kwargs)
        assert error.value.setting == setting

    def test_not_a_server(self):
        with pytest.raises(simlab.ConfigError, match="not a simulated server"):
            simlab.live.serve("postfix")


def raw_idle(lab, port=None) -> bytes:
    """Connect, say nothing, and read until the server hangs up."""
    with socket.create_connection((lab.host, port or lab.smtp_port), timeout=TIMEOUT) as sock:
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


# --- the serve command ---------------------------------------------------------------------------
def _read_until(stream, pattern: str, timeout: float = 10) -> str:
    """Read a subprocess pipe until its text matches ``pattern`` (bounded by a timeout)."""
    data = b""
    with selectors.DefaultSelector() as selector:
        selector.register(stream, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while not re.search(pattern, data.decode()):
            if not selector.select(max(0.0, deadline - time.monotonic())):
                raise TimeoutError(f"no {pattern!r} in {data!r}")
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                raise EOFError(data)
            data += chunk
    return data.decode()


class TestServeCommand:
    def test_subprocess_serves_until_sigint(self):
        command = [sys.executable, "-m", "simlab", "serve", "--preset", "eims-2.1", "--smtp-port", "0",
                   "--pop3-port", "0", "--set", "relay_restriction=yes", "--set", "local_domains=mycompany.test",
                   "--account", "webmaster:webmaster", "--client-map", "127.0.0.2=203.0.113.50", "--log"]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as proc:
            try:
                banner = _read_until(proc.stdout, r"POP3 listening on 127\.0\.0\.1:\d+")
                smtp_port = int(re.search(r"SMTP listening on 127\.0\.0\.1:(\d+)", banner).group(1))
                pop3_port = int(re.search(r"POP3 listening on 127\.0\.0\.1:(\d+)", banner).group(1))
                with smtplib.SMTP("127.0.0.1", smtp_port, source_address=("127.0.0.2", 0), timeout=TIMEOUT) as c:
                    replies = [c.docmd(line)[0] for line in SPOOF[:-1]]
                pop = poplib.POP3("127.0.0.1", pop3_port, timeout=TIMEOUT)
                pop.user("webmaster")
                pop.pass_("webmaster")
                pop.quit()
                proc.send_signal(signal.SIGINT)
                out, err = (text.decode() for text in proc.communicate(timeout=10))
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        assert proc.returncode == 0, err
        assert replies == [250, 250, 250, 354, 250]
        assert "simlab: stopped" in out
        assert "SMTP message from <Postmaster@mycompany.test> to <user_name@yourcompany.test> received from " \
               "203.0.113.50" in err
        assert "POP3 connection from 127.0.0.1 for webmaster" in err

    def test_sigterm_stops_it_too(self):
        command = [sys.executable, "-m", "simlab.live.cli", "serve", "--smtp-port", "0", "--pop3-port", "0"]
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
            try:
                _read_until(proc.stdout, r"POP3 listening")
                proc.send_signal(signal.SIGTERM)
                out = proc.communicate(timeout=10)[0].decode()
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.communicate()
        assert proc.returncode == 0 and "simlab: stopped" in out

    def parse(self, *argv):
        import argparse

        parser = argparse.ArgumentParser()
        add_serve_parser(parser.add_subparsers(dest="command"))
        return parser.parse_args(["serve", *argv])

    def test_in_a_thread_with_a_stop_hook(self):
        import io

        out, err = io.StringIO(), io.StringIO()
        stop = threading.Event()
        result = []
        args = self.parse("--preset", "postfix", "--smtp-port", "0", "--pop3-port", "0", "--log")
        thread = threading.Thread(target=lambda: result.append(run_serve(args, out, err, stop=stop)))
        thread.start()
        deadline = time.monotonic() + 10
        while "press Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        port = int(re.search(r"SMTP listening on 127\.0\.0\.1:(\d+)", out.getvalue()).group(1))
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            sock.sendall(b"EHLO x.test\r\nGET / HTTP/1.0\r\n")
            sock.shutdown(socket.SHUT_WR)
            while sock.recv(4096):
                pass
        stop.set()
        thread.join(10)
        assert result == [0]
        assert "warning: non-SMTP command from unknown[127.0.0.1]: GET / HTTP/1.0" in err.getvalue()

    def test_xclient_host_lets_one_terminal_play_an_outside_client(self):
        import io

        out, err = io.StringIO(), io.StringIO()
        stop = threading.Event()
        args = self.parse("--preset", "eims-2.1", "--set", "relay_restriction=yes", "--smtp-port", "0",
                          "--pop3-port", "0", "--xclient-host", "127.0.0.1", "--log")
        thread = threading.Thread(target=run_serve, args=(args, out, err), kwargs={"stop": stop})
        thread.start()
        deadline = time.monotonic() + 10
        while "press Ctrl-C" not in out.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
        port = int(re.search(r"SMTP listening on 127\.0\.0\.1:(\d+)", out.getvalue()).group(1))
        with smtplib.SMTP("127.0.0.1", port, timeout=TIMEOUT) as client:
            assert client.docmd("XCLIENT ADDR=203.0.113.50")[0] == 220
            client.docmd("HELO outside.test")
            client.docmd("MAIL FROM:<alice@remote.test>")
            assert client.docmd("RCPT TO:<x@yourcompany.test>")[0] == 550
        stop.set()
        thread.join(10)
        assert "SMTP relay refused for <x@yourcompany.test> from 203.0.113.50" in err.getvalue()

    def test_a_busy_port_exits_1_naming_it(self):
        import io

        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            busy = taken.getsockname()[1]
            err = io.StringIO()
            assert run_serve(self.parse("--smtp-port", str(busy), "--pop3-port", "0"), io.StringIO(), err) == 1
        assert err.getvalue() == (f"simlab: error: smtp_port: {busy} cannot be listened on at 127.0.0.1: "
                                  f"{os.strerror(errno.EADDRINUSE)}; expected a free port, or 0 (any free port)\n")

    def test_bad_settings_exit_2(self):
        import io

        err = io.StringIO()
        assert run_serve(self.parse("--host", "0.0.0.0", "--smtp-port", "0"), io.StringIO(), err) == 2
        assert "is not a loopback address" in err.getvalue()
        assert run_serve(self.parse("--client-map", "127.0.0.2"), io.StringIO(), err) == 2
        assert run_serve(self.parse("--set", "nonsense=1"), io.StringIO(), err) == 2

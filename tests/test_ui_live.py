"""Lesson 09's live-lab panel, driven headlessly: real smtplib clients against the panel's server on loopback.

127.0.0.2 appears to the server as 203.0.113.50 (the outside tester), through the panel's client map.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import io
import os
import re
import smtplib
import socket
import threading
import time

import pytest

import simlab.ui
from simlab.ui.live import HOST, THREAD_DIALOGUE, LiveLabPanel, parse_client_map, parse_port

TIMEOUT = 5


def wait_for(predicate, timeout: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
            sock.listen()
        except OSError:
            return False
    return True


def talk(lab, lines, source: str = "127.0.0.2") -> list[tuple[int, bytes]]:
    with smtplib.SMTP(lab.host, lab.smtp_port, source_address=(source, 0), timeout=TIMEOUT) as client:
        return [client.docmd(line) for line in lines]


def open_sockets() -> set[str]:
    """This process's sockets (Linux: ``/proc/self/fd``), to check that Stop leaves none."""
    found = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:"):
            found.add(target)
    return found


def lab_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if t.name.startswith("simlab-live")}


@pytest.fixture
def panel():
    before = set(threading.enumerate())
    made = simlab.ui.live_lab(refresh_interval=0.05)
    yield made
    made.close()
    assert set(threading.enumerate()) <= before  # nothing of the lab is left


def test_start_shows_where_it_listens_and_the_commands_to_try(panel):
    assert isinstance(panel, LiveLabPanel) and panel.lab is None and panel.error is None
    assert "Not started" in panel.status.value and "Press <b>Start</b>" in panel.views["how to connect"].value
    panel.buttons["start"].click()
    lab = panel.lab
    assert lab is not None and lab.running and lab.host == HOST == "127.0.0.1"  # loopback only
    smtp, pop3 = lab.smtp_port, lab.pop3_port
    assert f"SMTP port <b>{smtp}</b>, POP3 port <b>{pop3}</b>" in panel.status.value
    assert "EIMS 2.1 (Relay Restriction on)" in panel.status.value
    connect = panel.views["how to connect"].value
    for command in (f"telnet 127.0.0.1 {smtp}", f"nc -C 127.0.0.1 {smtp}", f"nc -C -s 127.0.0.2 127.0.0.1 {smtp}",
                    f"swaks --server 127.0.0.1:{smtp} --from Postmaster@mycompany.test --to user_name@yourcompany.test",
                    f"telnet 127.0.0.1 {pop3}",
                    f"smtplib.SMTP(&quot;127.0.0.1&quot;, {smtp}, source_address=(&quot;127.0.0.2&quot;, 0)"):
        assert command in connect, command
    assert "127.0.0.2 appears as 203.0.113.50" in connect
    snippet = html.unescape(re.findall(r"<pre[^>]*>(.*?)</pre>", connect, re.S)[-1])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        exec(snippet, {})  # the Python snippet the panel shows works as shown
    assert "RCPT TO:<user_name@yourcompany.test> -> (250, b'Recipient <user_name@yourcompany.test> OK')" in \
        printed.getvalue()
    assert wait_for(lambda: "Postmaster@mycompany.test" in panel.views["relay queue"].value)
    assert panel.buttons["start"].description == "Restart" and not panel.buttons["stop"].disabled


def test_the_spoofed_postmaster_dialogue_shows_in_transcript_log_and_queue(panel):
    lab = panel.start()
    replies = talk(lab, THREAD_DIALOGUE[:-1])  # the with block sends QUIT
    assert replies[2] == (250, b"Recipient <user_name@yourcompany.test> OK")  # relayed, as in the thread
    assert wait_for(lambda: "Postmaster@mycompany.test" in panel.views["relay queue"].value
                    and "ended" in panel.views["sessions"].value)
    sessions = panel.views["sessions"].value
    assert "SMTP session 1 from 203.0.113.50 (connected from 127.0.0.2) - ended" in sessions
    assert "C: MAIL FROM:&lt;Postmaster@mycompany.test&gt;" in sessions
    assert "S: 250 Recipient &lt;user_name@yourcompany.test&gt; OK" in sessions and "C: QUIT" in sessions
    assert ("SMTP message from &lt;Postmaster@mycompany.test&gt; to &lt;user_name@yourcompany.test&gt; "
            "received from 203.0.113.50") in panel.views["server log"].value
    queue = panel.views["relay queue"].value
    assert "user_name@yourcompany.test" in queue and "203.0.113.50" in queue
    assert "No mail in a local mailbox" in panel.views["mailboxes"].value
    assert panel.state.queue[0][1:] == ("Postmaster@mycompany.test", "user_name@yourcompany.test", "203.0.113.50")

    # newest first: an honest outsider, refused
    talk(lab, ["HELO outside.test", "MAIL FROM:<someone@yourcompany.test>", "RCPT TO:<friend@elsewhere.test>"])
    assert wait_for(lambda: panel.state.session_count == 2 and all(s.ended for s in panel.state.sessions))
    sessions = panel.views["sessions"].value
    assert sessions.index("SMTP session 2") < sessions.index("SMTP session 1")
    assert "2 sessions so far" in panel.status.value


def test_views_follow_a_session_while_it_is_still_open(panel):
    lab = panel.start()
    with smtplib.SMTP(lab.host, lab.smtp_port, source_address=("127.0.0.2", 0), timeout=TIMEOUT) as client:
        client.docmd("HELO outside.test")
        client.docmd("MAIL FROM:<someone@yourcompany.test>")
        code, _ = client.docmd("RCPT TO:<friend@elsewhere.test>")
        assert code == 550
        assert wait_for(lambda: "C: RCPT TO:&lt;friend@elsewhere.test&gt;" in panel.views["sessions"].value)
        assert "- <b>open</b>" in panel.views["sessions"].value
        assert "1 client connected" in panel.status.value
        assert panel.state.log_count == len(lab.server.log)  # the refusal's line, before QUIT
    assert wait_for(lambda: panel.state.sessions[0].ended)


def test_stop_button_leaves_no_thread_or_socket_and_keeps_the_last_views(panel):
    before = set(threading.enumerate())
    sockets = open_sockets() if os.path.isdir("/proc/self/fd") else set()
    lab = panel.start()
    assert len(lab_threads()) == 1
    talk(lab, THREAD_DIALOGUE[:-1])
    panel.buttons["stop"].click()
    assert panel.lab is None and not lab.running and lab.loop.is_closed()
    assert set(threading.enumerate()) == before - lab_threads() and not lab_threads()
    assert port_is_free(lab.smtp_port) and port_is_free(lab.pop3_port)
    if os.path.isdir("/proc/self/fd"):
        assert open_sockets() <= sockets
    assert "Stopped" in panel.status.value and panel.buttons["stop"].disabled
    assert "C: MAIL FROM:&lt;Postmaster@mycompany.test&gt;" in panel.views["sessions"].value  # the final state
    assert "Postmaster@mycompany.test" in panel.views["relay queue"].value
    panel.buttons["stop"].click()  # twice: nothing happens
    assert panel.lab is None and panel.error is None


def test_close_stops_the_server():
    before = set(threading.enumerate())
    panel = simlab.ui.live_lab(refresh_interval=0.05)
    lab = panel.start()
    panel.close()
    assert not lab.running and lab.loop.is_closed() and panel.lab is None
    assert set(threading.enumerate()) <= before
    assert port_is_free(lab.smtp_port) and port_is_free(lab.pop3_port)
    assert not panel._finalizer.alive
    panel.close()  # again: fine


def test_the_finalizer_stops_the_server_at_exit(panel):
    lab = panel.start()
    assert panel._finalizer.alive and panel._finalizer.atexit  # runs when the interpreter (the kernel) exits
    panel._finalizer()
    assert not lab.running and lab.loop.is_closed() and not lab_threads()


def test_a_second_start_restarts_cleanly_even_on_the_same_port(panel):
    first = panel.start()
    talk(first, THREAD_DIALOGUE[:-1])
    panel.controls["smtp_port"].value = str(first.smtp_port)  # a fixed port: the restart must free it first
    panel.buttons["start"].click()
    second = panel.lab
    assert second is not first and second.running and not first.running and first.loop.is_closed()
    assert second.smtp_port == first.smtp_port and len(lab_threads()) == 1
    assert panel.state.session_count == 0 and "No session yet" in panel.views["sessions"].value  # a fresh server
    assert "relay queue is empty" in panel.views["relay queue"].value
    assert talk(second, THREAD_DIALOGUE[:3])[2][0] == 250
    assert wait_for(lambda: panel.state.session_count == 1)
    assert second.server is not first.server and len(first.server.queue) == 1


def test_bad_client_map_shows_a_message_and_keeps_what_was_typed(panel):
    for typed, start_of_message in [("127.0.0.2", "client map: '127.0.0.2' is not a pair of addresses"),
                                    ("127.0.0.2=nowhere", "client_map['127.0.0.2']: 'nowhere' is not an IP address"),
                                    ("10.0.0.2=203.0.113.50", "client_map: '10.0.0.2' is not a loopback address")]:
        panel.controls["client_map"].value = typed
        assert panel.error.startswith(start_of_message), panel.error
        assert "Traceback" not in panel.message.value and panel.controls["client_map"].value == typed
        panel.buttons["start"].click()
        assert panel.lab is None and "the server was not started" in panel.message.value
        assert panel.controls["client_map"].value == typed and not lab_threads()
    panel.controls["client_map"].value = "127.0.0.2 -> 203.0.113.50"
    assert panel.error is None and panel.message.value == ""
    assert panel.start() is not None and panel.lab.client_map == {"127.0.0.2": "203.0.113.50"}


def test_bad_input_while_running_keeps_the_server_running(panel):
    lab = panel.start()
    panel.controls["client_map"].value = "127.0.0.2=203.0.113.500"
    assert panel.error.startswith("client_map['127.0.0.2']") and lab.running and panel.lab is lab
    assert panel.start() is None and lab.running and panel.lab is lab  # a bad Start does not stop it
    panel.controls["client_map"].value = "127.0.0.2=203.0.113.51"
    assert panel.error is None and "Changed settings apply at the next Start" in panel.status.value


def test_a_port_in_use_shows_a_message(panel):
    with socket.socket() as busy:
        busy.bind((HOST, 0))
        busy.listen()
        port = busy.getsockname()[1]
        panel.controls["pop3_port"].value = str(port)
        assert panel.error is None  # only binding can tell
        panel.buttons["start"].click()
        assert panel.lab is None and not lab_threads()
        assert panel.error.startswith(f"pop3_port: {port} cannot be listened on at 127.0.0.1")
        assert "Traceback" not in panel.message.value and panel.controls["pop3_port"].value == str(port)
        assert "Not started" in panel.status.value and panel.buttons["stop"].disabled
    panel.controls["pop3_port"].value = "x"
    assert panel.error == "pop3_port: 'x' is not a port; expected 0 (any free port) or 1-65535"
    panel.controls["pop3_port"].value = "0"
    assert panel.start() is not None and panel.error is None


def test_the_product_and_its_settings_in_its_own_words(panel):
    assert "Relay Restriction (EIMS 2.1)" in panel.controls["relay_restriction"].description
    assert "Client Hosts (SIMS)" in panel.controls["client_hosts"].description
    panel.controls["preset"].value = "postfix"
    assert panel.controls["relay_restriction"].disabled and not panel.controls["mynetworks"].disabled
    lab = panel.start()
    assert "Postfix 3.7" in panel.status.value
    assert talk(lab, THREAD_DIALOGUE[:3])[2] == (454, b"4.7.1 <user_name@yourcompany.test>: Relay access denied")
    talk(lab, THREAD_DIALOGUE[:-1], source="127.0.0.3")  # 192.0.2.101: on the LAN, in mynetworks
    assert wait_for(lambda: panel.state.session_count == 2 and panel.state.queue)
    assert "192.0.2.101" in panel.views["relay queue"].value
    log = panel.views["server log"].value
    assert "203.0.113.50" in log and "Relay access denied" in log


def test_refresh_button_redraws_now(panel):
    panel.refresh_interval = 3600  # the watcher's first look only: the button must do it
    lab = panel.start()
    talk(lab, THREAD_DIALOGUE[:-1])
    time.sleep(0.1)
    drawn = panel.redraws
    panel.buttons["refresh"].click()
    assert panel.redraws == drawn + 1 and "Postmaster@mycompany.test" in panel.views["relay queue"].value


def test_inside_an_event_loop_updates_are_drawn_on_that_loops_thread():
    """As in Jupyter, where Start runs on the kernel's loop: the lab's thread only schedules the drawing."""
    panel = simlab.ui.live_lab(refresh_interval=0.05)
    drawn_on: list[str] = []
    draw = panel._draw

    def recording_draw(state):
        drawn_on.append(threading.current_thread().name)
        draw(state)

    panel._draw = recording_draw

    async def main() -> None:
        lab = panel.start()
        assert panel._kernel_loop is asyncio.get_running_loop()
        await asyncio.to_thread(talk, lab, THREAD_DIALOGUE[:-1])
        for _ in range(200):
            if panel.state.queue:
                break
            await asyncio.sleep(0.02)
        panel.close()

    try:
        asyncio.run(main())
    finally:
        panel.close()
    assert panel.state.queue and set(drawn_on) == {threading.current_thread().name}


def test_parsers():
    assert parse_client_map("") == {}
    assert parse_client_map("127.0.0.2=203.0.113.50; 127.0.0.3 = 192.0.2.101") == {
        "127.0.0.2": "203.0.113.50", "127.0.0.3": "192.0.2.101"}
    assert parse_port("", "smtp_port") == 0 and parse_port(" 2525 ", "smtp_port") == 2525
    with pytest.raises(simlab.ConfigError, match="smtp_port: '65536' is not a port"):
        parse_port("65536", "smtp_port")

"""Lesson 03's panel and exercise, driven headlessly (observers fire synchronously)."""

from simlab.exercises.spoof import THREAD_DIALOGUE, check_spoof_refused, mycompany_server, replay, reply_to
from simlab.ui.spoof import auth_plain, spoof_lab


def dialogue(lab) -> str:
    return lab.views["the dialogue"].children[0].value


def day(lab) -> str:
    return lab.views["the dialogue"].children[1].value


def test_the_threads_dialogue_relays_through_eims_relay_restriction():
    lab = spoof_lab()
    assert lab.error is None
    assert "C: data" in dialogue(lab) and "S: 354 Send message" in dialogue(lab)  # lower case works
    assert "At RCPT the server said 250 Recipient &lt;user_name@yourcompany.test&gt; OK" in dialogue(lab)
    queue = lab.views["the queue"].value
    assert "Postmaster@mycompany.test" in queue and "203.0.113.50" in queue
    assert lab.outcome["day"].summary["spam_relayed"] == 10
    assert "<tr data-key='spam_relayed'>" in day(lab)


def test_valid_ip_client_hosts_and_postfix_refuse_at_rcpt():
    lab = spoof_lab()
    lab.controls["require_valid_ip"].value = True
    assert "550 Relaying to &lt;user_name@yourcompany.test&gt; not permitted - refused" in dialogue(lab)
    assert "relay queue is empty" in lab.views["the queue"].value
    log = lab.views["server log"].value
    assert "SMTP relay refused for &lt;user_name@yourcompany.test&gt; from 203.0.113.50" in log
    summary = lab.outcome["day"].summary
    assert summary["spam_relayed"] == 0 and summary["legit_refused"] == 6  # alice, roaming, cannot send
    lab.controls["smtp_auth"].value = True  # alice logs in on 587 instead
    assert lab.outcome["day"].summary["legit_refused"] == 0
    lab.controls["preset"].value = "sims"
    assert "550 &lt;user_name@yourcompany.test&gt; relaying prohibited" in dialogue(lab)
    lab.controls["preset"].value = "postfix"
    assert "454 4.7.1 &lt;user_name@yourcompany.test&gt;: Relay access denied" in dialogue(lab)
    lab.controls["client_ip"].value = "192.0.2.101"
    assert "250 2.1.5 Ok - it takes the message" in dialogue(lab)


def test_submission_port_and_sender_login_check():
    lab = spoof_lab(preset="postfix")
    lab.controls["port"].value = 587
    assert "554 5.7.1 &lt;user_name@yourcompany.test&gt;: Recipient address rejected: Access denied" in dialogue(lab)
    lab.controls["lines"].value = "\n".join(["EHLO roaming.test", auth_plain("bob", "Tr0ub4dor&3"),
                                             "MAIL FROM:<Postmaster@mycompany.test>",
                                             "RCPT TO:<user_name@yourcompany.test>", "QUIT"])
    assert "235 2.7.0 Authentication successful" in dialogue(lab)
    assert "it takes the message" in dialogue(lab)  # logged in: Postfix relays, whatever the sender
    lab.controls["sender_login_check"].value = "reject_sender_login_mismatch"
    assert "553 5.7.1 &lt;Postmaster@mycompany.test&gt;: Sender address rejected: not owned by user bob" in dialogue(
        lab)
    assert lab.outcome["day"].summary["legit_refused"] == 13  # on port 25 it refuses bob, not logged in, too
    lab.controls["sender_login_check"].value = "reject_authenticated_sender_login_mismatch"
    assert lab.outcome["day"].summary["legit_refused"] == 0


def test_eims_smtp_auth_lets_a_logged_in_client_relay():
    server = mycompany_server("eims-2.1", relay_restriction=True, require_valid_ip=True, valid_ips=["192.0.2.0/24"],
                              smtp_auth=True)
    s = replay(server, "198.51.100.77", ["EHLO roaming", auth_plain("alice", "wonderland42"),
                                         "MAIL FROM:<alice@mycompany.test>", "RCPT TO:<carol@remote.test>", "QUIT"],
               port=587)
    assert reply_to(s, "AUTH") == "235 Authentication successful" and reply_to(s, "RCPT").startswith("250")
    outsider = replay(server, "203.0.113.50", ["EHLO x", *THREAD_DIALOGUE], port=587)
    assert reply_to(outsider, "MAIL") == "530 Authentication required"


def test_sequence_diagram_and_day_chart_are_drawn_with_the_rest():
    lab = spoof_lab()
    diagram = lab.views["sequence diagram"].value  # an SVG the browser draws: made with the rest, at no cost
    session = lab.outcome["session"].transcript
    assert diagram.startswith("<svg") and diagram.count("marker-end=") == len(session)
    assert "MAIL FROM:&lt;Postmaster@mycompany.test&gt;" in diagram and "203.0.113.50" in diagram
    day = lab.views["a day of it"].value  # HTML bars: drawn with the rest, they cost nothing
    assert "class='simlab-bars'" in day and "data-key='spam_relayed'" in day


def test_bad_entries_show_a_message_and_keep_what_was_typed():
    lab = spoof_lab()
    lab.controls["require_valid_ip"].value = True
    good = lab.outcome
    lab.controls["valid_ips"].value = "192.0.2.0/33"
    assert lab.error.startswith("valid_ips: '192.0.2.0/33' is not an address range")
    assert lab.outcome is good and lab.controls["valid_ips"].value == "192.0.2.0/33"
    lab.controls["valid_ips"].value = "192.0.2.0/24"
    lab.controls["client_ip"].value = "outside"
    assert "'outside' is not an IP address" in lab.error and "Traceback" not in lab.message.value
    lab.controls["client_ip"].value = "203.0.113.50"
    assert lab.error is None and lab.message.value == ""
    fixed = lab.outcome
    lab.controls["lines"].value = ""
    assert lab.error.startswith("SMTP lines:") and lab.outcome is fixed


def test_exercise_feedback_is_specific():
    verdict = check_spoof_refused("eims-2.1", relay_restriction=True)
    assert not verdict
    assert verdict.messages[0] == ("problem: the thread's dialogue from 203.0.113.50 got '250 Recipient "
                                   "<user_name@yourcompany.test> OK' at RCPT: relayed to yourcompany.test "
                                   "(1 message waiting in the queue)")
    assert any(m.startswith("ok: bob's message from 192.0.2.101 got '250") for m in verdict.messages)
    right = check_spoof_refused("eims-2.1", relay_restriction=True, require_valid_ip=True, valid_ips=["192.0.2.0/24"])
    assert right and all(m.startswith("ok: ") for m in right.messages)
    # without valid_ips the checker takes the LAN, like the panel and the day chart
    assert check_spoof_refused("eims-2.1", relay_restriction=True, require_valid_ip=True)
    wrong_range = check_spoof_refused("eims-2.1", relay_restriction=True, require_valid_ip=True,
                                      valid_ips=["198.51.100.0/24"])
    assert wrong_range.messages[0].startswith(
        "problem: bob's message from 192.0.2.101 got '550 Relaying to <carol@remote.test> not permitted' at RCPT")
    too_strict = check_spoof_refused("eims-2.1", relay_restriction=True,
                                     ip_range_restriction={"smtp": ["192.0.2.0/24"]})
    assert not too_strict and "no longer receives mail from the Internet" in too_strict.messages[0]
    assert "not a setting of eims-2.1" in check_spoof_refused("eims-2.1", client_hosts=["x"]).messages[0]
    assert check_spoof_refused("sims") and check_spoof_refused("postfix")


def test_login_lines_above_the_thread_lines_relay_on_587():
    from simlab.ui.spoof import BOB_LOGIN_LINES, THREAD_LINES, spoof_lab

    lab = spoof_lab(preset="postfix")
    lab.controls["port"].value = 587
    assert "Recipient address rejected: Access denied" in lab.views["the dialogue"].children[0].value
    lab.controls["lines"].value = BOB_LOGIN_LINES + "\n" + THREAD_LINES
    dialogue = lab.views["the dialogue"].children[0].value
    assert "235" in dialogue and "503" not in dialogue
    assert "At RCPT the server said 250" in dialogue

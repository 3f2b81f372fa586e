"""Lesson 00's panel, network picture and exercise, driven headlessly (observers fire synchronously)."""

import simlab
from simlab.ui.start import DEMO_LINES, check_rcpt_reply, network_picture, run_dialogue, session_lab


def test_session_lab_shows_dialogue_log_and_what_was_kept():
    lab = session_lab()
    assert lab.error is None
    assert "dave@remote.test" not in lab.views["the dialogue"].value  # the exercise's line is the student's to add
    assert "mailbox of bob" in lab.views["what the server kept"].value
    lab.controls["lines"].value = DEMO_LINES.replace("RCPT TO:<bob@example.com>",
                                                     "RCPT TO:<bob@example.com>\nRCPT TO:<dave@remote.test>")
    dialogue = lab.views["the dialogue"].value
    assert "C: RCPT TO:&lt;dave@remote.test&gt;" in dialogue
    assert "S: 250 Recipient &lt;dave@remote.test&gt; OK" in dialogue
    assert "received from 203.0.113.7" in lab.views["server log"].value
    kept = lab.views["what the server kept"].value
    assert "mailbox of bob" in kept and "relay queue" in kept
    lab.controls["preset"].value = "postfix"
    assert "454 4.7.1 &lt;dave@remote.test&gt;: Relay access denied" in lab.views["the dialogue"].value
    assert "reject: RCPT from unknown[203.0.113.7]: 454 4.7.1" in lab.views["server log"].value
    assert "relay queue" not in lab.views["what the server kept"].value
    lab.controls["client_ip"].value = "192.0.2.101"  # on the LAN: mynetworks, so Postfix relays
    assert "250 2.1.5 Ok" in lab.views["the dialogue"].value
    assert "relay queue" in lab.views["what the server kept"].value


def test_bad_address_and_empty_lines_show_a_message_and_keep_what_was_typed():
    lab = session_lab(preset="sims")
    good = lab.outcome
    lab.controls["client_ip"].value = "203.0.113.300"
    assert lab.error.startswith("client_ip: '203.0.113.300' is not an IP address")
    assert "Traceback" not in lab.message.value and "203.0.113.300" in lab.message.value
    assert lab.controls["client_ip"].value == "203.0.113.300" and lab.outcome is good
    lab.controls["client_ip"].value = "203.0.113.7"
    assert lab.error is None and lab.message.value == ""
    lab.controls["lines"].value = "\n  \n"
    assert lab.error.startswith("SMTP lines:") and lab.controls["lines"].value == "\n  \n"


def test_lines_after_the_server_hung_up_are_reported():
    lab = session_lab(lines="HELO x\nQUIT\nMAIL FROM:<a@remote.test>\nRCPT TO:<b@remote.test>")
    assert "2 lines were never read" in lab.views["the dialogue"].value
    session, unsent = run_dialogue(simlab.presets.eims_1_2(), "203.0.113.7", DEMO_LINES)
    assert unsent == [] and session.transcript[-1].startswith("S: 221")


def test_network_picture_labels_every_host_with_its_address():
    network = simlab.run(simlab.scenarios.relay_probe(), seed=1).world.network
    figure = network_picture(network, title="the site")
    texts = {t.get_text() for t in figure.axes[0].texts}
    assert "mail.example.com\n192.0.2.25" in texts and "roaming\n198.51.100.77" in texts
    assert len(texts) == len(network.graph.nodes)


def test_rcpt_reply_exercise():
    assert check_rcpt_reply(250)
    assert check_rcpt_reply("250 Recipient <dave@remote.test> OK")
    wrong = check_rcpt_reply(550)
    assert not wrong and "550 is not what EIMS 2.1 answers here" in wrong.messages[0]
    assert "refus" not in wrong.messages[0] and "250" not in wrong.messages[0]  # no give-away
    assert "is not a reply code" in check_rcpt_reply("relay").messages[0]
    assert "add the line RCPT TO:<dave@remote.test>" in check_rcpt_reply(220).messages[0]

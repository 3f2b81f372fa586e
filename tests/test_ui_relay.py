"""Lesson 02's panel and exercise, driven headlessly (observers fire synchronously)."""

import simlab
import simlab.ui
from simlab.exercises.relay import check_no_open_relay
from simlab.ui.relay import probe_lines_per_hour, probe_log_lines


def test_relay_lab_follows_its_controls():
    lab = simlab.ui.relay_lab()
    assert lab.error is None and lab.outcome.summary["spam_relayed"] == 1
    assert "DNR timed out" in lab.views["server log"].value or "Connection timed out" in lab.views["server log"].value
    assert "RCPT TO:&lt;rtest@survey.test&gt;" in lab.views["the probe's dialogue"].value
    assert "multipart/report" in lab.views["postmaster's mailbox"].value
    lab.controls["preset"].value = "eims-2.1"
    assert lab.outcome.preset == "eims-2.1" and lab.outcome.summary["spam_relayed"] == 1
    lab.controls["relay_restriction"].value = True
    assert lab.outcome.summary["spam_relayed"] == 0
    assert "postmaster's mailbox is empty" in lab.views["postmaster's mailbox"].value
    chart = lab.views["outcome"].children[0]
    assert "class='simlab-bars'" in chart.value and "eims-2.1: one day" in chart.value


def test_bad_entry_shows_a_message_and_keeps_what_was_typed():
    lab = simlab.ui.relay_lab(preset="sims")
    good = lab.outcome
    lab.controls["client_hosts"].value = "192.0.2.0/33"
    assert lab.error.startswith("client_hosts: '192.0.2.0/33' is not an address range")
    assert "Traceback" not in lab.message.value and "192.0.2.0/33" in lab.message.value
    assert lab.controls["client_hosts"].value == "192.0.2.0/33" and lab.outcome is good
    lab.controls["client_hosts"].value = "192.0.2.0/24"
    assert lab.error is None and lab.message.value == ""


def test_empty_client_hosts_closes_relaying_for_staff_too():
    lab = simlab.ui.relay_lab(preset="sims")
    lab.controls["client_hosts"].value = ""
    assert lab.outcome.summary["spam_relayed"] == 0 and lab.outcome.summary["legit_refused"] > 0


def test_exercise_feedback_is_specific():
    verdict = check_no_open_relay("eims-2.1")
    assert not verdict
    assert "still relayed: 1 message from 203.0.113.0/24 (relay survey) got 250 at RCPT" in verdict.messages
    assert "1 bounce reached postmaster" in verdict.messages
    assert check_no_open_relay("eims-2.1", relay_restriction=True)
    assert check_no_open_relay("postfix")
    lost = check_no_open_relay("sims", client_hosts=[])
    assert not lost and any(m.startswith("legitimate mail lost:") for m in lost.messages)
    assert "<b style='color:#2e7d32'>Correct.</b>" in check_no_open_relay("postfix")._repr_html_()


def test_solution_button_reveals_and_hides():
    box = simlab.ui.solution_button("do this")
    button, body = box.children
    assert body.layout.display == "none"
    button.click()
    assert body.layout.display == "block" and "do this" in body.value
    button.click()
    assert body.layout.display == "none"


def test_lan_only_client_hosts_names_alice_and_the_example_passes():
    lan_only = check_no_open_relay("sims", client_hosts=["192.0.2.0/24"])
    assert not lan_only
    assert any(m.startswith("alice (roaming) at 198.51.100.77:") and "refused at RCPT with 550" in m
               for m in lan_only.messages)
    assert check_no_open_relay("sims", client_hosts=["192.0.2.0/24", "198.51.100.77"])


def test_probe_lines_are_counted_and_drawn_apart():
    day = simlab.run(simlab.scenarios.relay_probe(preset="eims-1.2"), seed=1)
    lines = probe_log_lines(day)
    assert lines and all("survey.test" in line or "eturn" in line for line in lines)
    assert any("Returned message sent to <postmaster>" in line for line in lines)
    assert len(lines) < len(day.log)
    figure = probe_lines_per_hour(day, title="probe")
    ax = figure.axes[0]
    assert ax.get_ylim()[0] == 0
    heights = [round(p.get_height()) for p in ax.patches]
    assert sum(heights) == len(day.log)
    assert figure._repr_png_()[:8] == b"\x89PNG\r\n\x1a\n"

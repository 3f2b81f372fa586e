"""Lesson 01's panel and exercise, driven headlessly (observers fire synchronously)."""

import simlab
from simlab.exercises.password import break_ins, check_no_break_in, guessing_day, staff_refusals
from simlab.ui.password import password_lab


def test_password_lab_shows_the_guesser_and_what_fell():
    lab = password_lab()
    s = lab.outcome.summary
    assert lab.error is None and s["accounts_compromised"] == 2 and s["legit_logins_refused"] == 0
    log = lab.views["server log"].value
    assert "<b style='color:#b00020'>" in log and "POP3 wrong password for bob from 203.0.113.226" in log
    assert "POP3 connection from 203.0.113.226 for webmaster" in log  # the right guess: no error line
    chart, table = lab.views["outcome"].children
    assert "class='simlab-bars'" in chart.value and "data-key='accounts_compromised'" in chart.value
    assert "webmaster (from 203.0.113.226 at 02:45)" in table.value
    guesses = lab.views["the guesser's dialogue"].value
    assert "a guess that worked" in guesses and "C: USER webmaster" in guesses


def test_ip_range_restriction_needs_the_roaming_users_address():
    lab = password_lab()
    lab.controls["ip_range_restriction"].value = True
    s = lab.outcome.summary
    assert s["accounts_compromised"] == 0 and s["legit_logins_refused"] == 24
    assert "alice (roaming) could not read mail 24 times." in lab.views["outcome"].children[1].value
    assert "refused by IP Range Restriction" in lab.views["server log"].value
    lab.controls["allowed"].value = "192.0.2.1-192.0.2.254, 198.51.100.77"
    assert lab.outcome.summary["accounts_compromised"] == 0 and lab.outcome.summary["legit_logins_refused"] == 0
    lab.controls["preset"].value = "sims"  # SIMS has no IP Range Restriction: it is not applied
    assert lab.outcome.summary["accounts_compromised"] == 2
    assert "not applied here" in lab.views["outcome"].children[1].value


def test_fail2ban_ban_time_and_the_guessers_pool():
    lab = password_lab()
    lab.controls["fail2ban"].value = True
    assert lab.outcome.summary["bans"] == 2 and lab.outcome.summary["accounts_compromised"] == 2
    lab.controls["ban_minutes"].value = 1440
    assert lab.outcome.summary["bans"] == 1 and lab.outcome.summary["accounts_compromised"] == 0
    lab.controls["guesser_ips"].value = 20
    assert lab.outcome.summary["bans"] == 0 and lab.outcome.summary["accounts_compromised"] == 2


def test_lockout_locks_staff_out_and_does_not_stop_a_first_guess():
    lab = password_lab()
    lab.controls["lockout"].value = True
    lab.controls["lockout_after"].value = 3
    s = lab.outcome.summary
    assert s["accounts_compromised"] == 2 and s["legit_logins_refused"] == 2


def test_timeline_is_drawn_when_its_tab_is_opened():
    lab = password_lab()
    view = lab.views["failed logins per hour"]
    assert view.value == ""
    lab.tabs.selected_index = 1
    first = view.value  # drawn by the browser: an SVG with the series, the break-ins and the clock
    assert first.startswith("<svg") and "guesser: wrong password" in first and "broken into" in first
    assert "webmaster 02:45" in first and "fail2ban ban" not in first
    lab.controls["fail2ban"].value = True  # shown tab: redrawn at once
    assert view.value != first and "fail2ban ban" in view.value and "guesser: refused before login" in view.value


def test_bad_entry_shows_a_message_and_keeps_what_was_typed():
    lab = password_lab()
    lab.controls["ip_range_restriction"].value = True
    good = lab.outcome
    lab.controls["allowed"].value = "192.0.2.0/33"
    assert lab.error.startswith("ip_range_restriction: '192.0.2.0/33' is not an address range")
    assert "Traceback" not in lab.message.value and lab.outcome is good
    assert lab.controls["allowed"].value == "192.0.2.0/33"
    lab.controls["allowed"].value = ""
    assert lab.error.startswith("ip_range_restriction: '' lists no range")
    lab.controls["allowed"].value = "192.0.2.0/24"
    assert lab.error is None and lab.message.value == ""


def test_break_ins_and_staff_refusals_match_the_summary():
    result = simlab.run(guessing_day(lockout=3), seed=1)
    assert [(b.account, b.client_ip) for b in break_ins(result)] == [("webmaster", "203.0.113.226"),
                                                                     ("info", "203.0.113.226")]
    assert sum(staff_refusals(result).values()) == result.summary["legit_logins_refused"] == 2
    filtered = simlab.run(guessing_day(router_filter=True), seed=1)
    assert staff_refusals(filtered) == {"alice (roaming)": 24}


def test_exercise_feedback_is_specific():
    verdict = check_no_break_in()
    assert not verdict
    assert verdict.messages[0].startswith("broken into: 2 accounts - webmaster (from 203.0.113.226 at 02:45), "
                                          "info (from 203.0.113.226 at 02:47)")
    lan_only = check_no_break_in(ip_range_restriction=True)
    assert "alice (roaming) at 198.51.100.77 could not read mail 24 times" in lan_only.messages
    assert check_no_break_in(ip_range_restriction=["192.0.2.1-192.0.2.254", "198.51.100.77"])
    assert check_no_break_in(fail2ban=True, bantime=86400)
    pooled = check_no_break_in(fail2ban=True, bantime=86400, guesser_ips=20)
    assert not pooled and "203.0.113.159" in pooled.messages[0]
    assert not check_no_break_in(strong_passwords=True)
    assert "not an address range" in check_no_break_in(ip_range_restriction=["192.0.2.0/33"]).messages[0]
    assert "without IP Range Restriction" in check_no_break_in("sims", ip_range_restriction=True).messages[0]

"""Lesson 07's panel and exercise, driven headlessly (observers fire synchronously)."""

import pytest

from simlab.exercises.today import SOLUTION, check_relay_restrictions
from simlab.ui.today import PROBLEMS, join_multiline_replies, main_cf, tidy_counts, today_lab


@pytest.fixture(scope="module")
def lab():
    return today_lab()


def summary(lab, key):
    return lab.outcome.result.summary[key]


def test_open_relay_problem_follows_mynetworks(lab):
    lab.controls["problem"].value = "open_relay"
    assert lab.error is None and summary(lab, "spam_relayed") == 0 and summary(lab, "legit_refused") == 0
    transcript = lab.views["transcript"].value
    assert "RCPT TO:&lt;rtest@survey.test&gt;" in transcript and "454 4.7.1 &lt;rtest@survey.test&gt;" in transcript
    assert "NOQUEUE: reject: RCPT from unknown[203.0.113.66]: 454 4.7.1" in lab.views["Postfix log"].value
    assert "class='simlab-bars'" in lab.views["chart"].children[0].value
    lab.controls["relay_refusal"].value = "reject_unauth_destination"
    assert "554 5.7.1 &lt;rtest@survey.test&gt;: Relay access denied" in lab.views["transcript"].value
    assert "reject_unauth_destination" in lab.views["main.cf"].value
    lab.controls["mynetworks"].value = "0.0.0.0/0"  # "trust everyone": an open relay again
    assert summary(lab, "spam_relayed") == 1 and summary(lab, "bounces_to_postmaster") == 1
    lab.controls["mynetworks"].value = ""  # nobody: bob on the LAN loses his mail
    assert summary(lab, "spam_relayed") == 0 and summary(lab, "legit_refused") > 0
    lab.controls["mynetworks"].value = "192.0.2.0/24"
    lab.controls["relay_refusal"].value = "defer_unauth_destination"


def test_bad_entry_keeps_what_was_typed_and_the_last_result(lab):
    lab.controls["problem"].value = "open_relay"
    good = lab.outcome
    lab.controls["mynetworks"].value = "192.0.2.0/33"
    assert lab.error.startswith("mynetworks: '192.0.2.0/33' is not an address range")
    assert "Traceback" not in lab.message.value and "192.0.2.0/33" in lab.message.value
    assert lab.controls["mynetworks"].value == "192.0.2.0/33" and lab.outcome is good
    lab.controls["mynetworks"].value = "192.0.2.0/24"
    assert lab.error is None and lab.message.value == ""


def test_only_the_problems_settings_are_shown_and_apply(lab):
    lab.controls["problem"].value = "blocklist"
    lab.controls["rbl"].value = "broken"
    assert summary(lab, "legit_refused") > 0
    assert lab.controls["rbl"].layout.display is None and lab.controls["mynetworks"].layout.display == "none"
    lab.controls["problem"].value = "roaming"  # the broken list belongs to the other problem
    assert lab.controls["rbl"].layout.display == "none" and lab.controls["submission"].layout.display is None
    assert summary(lab, "legit_refused") == 0 and "reject_rbl_client" not in lab.views["main.cf"].value
    lab.controls["rbl"].value = "none"


def dialogue(lab, label):
    """The transcript of one of the problem's dialogues, by the start of its label."""
    return next(t for d, t, _log in lab.outcome.dialogues if d.label.startswith(label))


def reply_to(transcript, command):
    """The server's reply to the first client line that starts with ``command``."""
    i = next(i for i, line in enumerate(transcript) if line.startswith(f"C: {command}"))
    return transcript[i + 1][3:]


# Replies on port 587 are those of the recording (tests/data/postfix_reference.json, config C: Debian 12's
# master.cf submission entry): sub/unauth-remote, sub/auth-plain-good, sub/auth-spoofed-sender.
def test_roaming_users_need_submission_and_auth(lab):
    lab.controls["problem"].value = "roaming"
    away = dialogue(lab, "alice, away, on the submission port 587, not logged in")
    assert reply_to(away, "MAIL") == "250 2.1.0 Ok"  # no 530 at MAIL: RFC 6409 asks for it, Postfix does not
    assert reply_to(away, "RCPT") == "554 5.7.1 <carol@remote.test>: Recipient address rejected: Access denied"
    logged_in = dialogue(lab, "alice, away, on the submission port 587, logged in")
    assert [reply_to(logged_in, c) for c in ("AUTH", "MAIL", "RCPT")] == [
        "235 2.7.0 Authentication successful", "250 2.1.0 Ok", "250 2.1.5 Ok"]
    log = lab.views["Postfix log"].value
    assert "postfix/submission/smtpd[" in log and "Recipient address rejected: Access denied; from=&lt;alice" in log
    assert "-o smtpd_recipient_restrictions=permit_sasl_authenticated,reject" in lab.views["main.cf"].value
    lab.controls["permit_sasl_authenticated"].value = False  # main.cf's relay list: the entry empties it on 587
    assert reply_to(dialogue(lab, "alice, away, on the submission port 587, logged in"), "RCPT") == "250 2.1.5 Ok"
    assert summary(lab, "legit_refused") == 0
    lab.controls["permit_sasl_authenticated"].value = True
    lab.controls["submission"].value = False
    assert summary(lab, "legit_refused") > 0 and "#submission inet" in lab.views["main.cf"].value
    lab.controls["submission"].value = True
    assert summary(lab, "legit_refused") == 0


def test_sender_login_maps_stop_the_spoofed_postmaster(lab):
    lab.controls["problem"].value = "spoofed_sender"
    assert summary(lab, "spam_delivered_local") > 0
    as_bob = "alice, logged in, writing as bob"
    assert [reply_to(dialogue(lab, as_bob), c) for c in ("MAIL", "RCPT")] == ["250 2.1.0 Ok", "250 2.1.5 Ok"]
    lab.controls["sender_restrictions"].value = "reject_sender_login_mismatch"  # main.cf: port 25 only
    transcript = lab.views["transcript"].value
    assert "553 5.7.1 &lt;Postmaster@example.com&gt;: Sender address rejected: not logged in" in transcript
    assert summary(lab, "spam_delivered_local") == 0 and summary(lab, "legit_refused") > 0  # bob, unauthenticated
    # Debian's submission entry empties main.cf's sender list: on 587 alice still writes as bob
    assert [reply_to(dialogue(lab, as_bob), c) for c in ("MAIL", "RCPT")] == ["250 2.1.0 Ok", "250 2.1.5 Ok"]
    assert "-o smtpd_sender_restrictions=\n" in lab.views["main.cf"].value
    lab.controls["submission_sender_restrictions"].value = "reject_sender_login_mismatch"  # master.cf's entry
    assert reply_to(dialogue(lab, as_bob), "RCPT") == (
        "553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice")
    text = lab.views["main.cf"].value
    assert "-o smtpd_sender_restrictions=reject_sender_login_mismatch" in text
    assert "smtpd_sender_login_maps = hash:/etc/postfix/sender_login" in text
    assert text.index("smtpd_sender_login_maps") < text.index("# master.cf") < text.index("-o smtpd_sender_rest")
    lab.controls["sender_restrictions"].value = "permit_mynetworks, reject_sender_login_mismatch"
    assert summary(lab, "spam_delivered_local") == 0 and summary(lab, "legit_refused") == 0
    lab.controls["sender_restrictions"].value = ""
    lab.controls["submission_sender_restrictions"].value = ""


def test_fail2ban_slows_the_guesser_and_a_long_ban_stops_one_address(lab):
    lab.controls["problem"].value = "guessing"
    assert summary(lab, "accounts_compromised") == 2
    assert "SASL PLAIN authentication failed" in lab.views["Postfix log"].value
    lab.controls["fail2ban"].value = True
    assert summary(lab, "bans") >= 1 and summary(lab, "accounts_compromised") == 2  # 10 minutes only slows it
    assert "[dovecot] Ban 203.0.113.226" in lab.views["Postfix log"].value
    lab.controls["bantime"].value = 86400
    assert summary(lab, "accounts_compromised") == 0
    lab.controls["guesser_ips"].value = 20  # a pool of addresses stays under maxretry
    assert summary(lab, "accounts_compromised") == 2
    lab.controls["fail2ban"].value = False
    lab.controls["guesser_ips"].value = 1


def test_a_broken_blocklist_refuses_everyone(lab):
    lab.controls["problem"].value = "blocklist"
    lab.controls["rbl"].value = "good"
    assert summary(lab, "spam_delivered_local") == 0 and summary(lab, "legit_refused") == 0
    assert "blocked using bl.example.test" in lab.views["transcript"].value
    lab.controls["rbl"].value = "broken"
    assert summary(lab, "legit_refused") > 0
    assert "Client host [198.51.100.90] blocked using bl.example.test" in lab.views["transcript"].value
    lab.controls["rbl"].value = "none"


def test_your_own_dialogue_runs_and_stops_at_quit(lab):
    lab.controls["problem"].value = "open_relay"
    lab.controls["client"].value = "192.0.2.101"
    lab.controls["my_dialogue"].value = "EHLO pc-bob\nMAIL FROM:<bob@example.com>\nRCPT TO:<x@remote.test>\nQUIT\nNOOP"
    transcript = lab.views["transcript"].value
    assert "## your dialogue (192.0.2.101, port 25)" in transcript and "250 2.1.5 Ok" in transcript
    assert "&#x27;NOOP&#x27; and what follows were not sent" in transcript
    lab.controls["port"].value = 110
    lab.controls["my_dialogue"].value = "USER webmaster\nPASS webmaster\nQUIT"
    assert "+OK Logged in." in lab.views["transcript"].value
    lab.controls["my_dialogue"].value = ""
    lab.controls["port"].value = 25


def test_main_cf_shows_every_chosen_setting():
    text = main_cf({"problem": "guessing", "fail2ban": True, "bantime": 3600, "sender_restrictions": "",
                    "rbl": "good"})
    assert "smtpd_relay_restrictions = permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination" in text
    assert "reject_rbl_client bl.example.test" in text and "bantime = 60m" in text
    assert set(PROBLEMS) == {"open_relay", "refuse_relay", "roaming", "spoofed_sender", "guessing", "blocklist"}


def test_checker_says_who_got_what_at_rcpt():
    default = check_relay_restrictions("permit_mynetworks, permit_sasl_authenticated, defer_unauth_destination")
    assert not default
    assert any("the relay survey from outside (203.0.113.66, port 25): RCPT TO:<rtest@survey.test> got 454 4.7.1"
               in m and "permanent 5xx" in m for m in default.messages)
    assert not any("reject_unauth_destination" in m for m in default.messages)  # the answer is not given away
    right = check_relay_restrictions("permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination")
    assert right and any("got 554 5.7.1 <rtest@survey.test>: Relay access denied" in m for m in right.messages)
    assert "alice, roaming, logged in (198.51.100.77, port 587): RCPT TO:<carol@remote.test> got 250 2.1.5 Ok" \
           " - on port 587 master.cf's submission entry decides, not main.cf's list" in right.messages
    assert any(m.startswith("alice, roaming, not logged in (198.51.100.77, port 587): RCPT TO:<carol@remote.test> "
                            "got 554 5.7.1 <carol@remote.test>: Recipient address rejected: Access denied")
               for m in right.messages)
    # main.cf's relay list does not reach port 587: without permit_sasl_authenticated alice still relays there
    assert check_relay_restrictions("permit_mynetworks, reject_unauth_destination")
    closed = check_relay_restrictions("permit_mynetworks, permit_sasl_authenticated, reject")
    assert not closed and closed.messages[0].startswith("carol's mail server delivering to bob")
    assert "permit_sasl_authenticated,reject' is the list of master.cf's submission entry" in closed.messages[-1]
    unknown = check_relay_restrictions("permit_my_networks, reject_unauth_destination")
    assert not unknown and unknown.messages[0].startswith(
        "smtpd_relay_restrictions: 'permit_my_networks' is not a restriction simlab models")
    assert "reject_unauth_destination" in SOLUTION


def test_checker_says_which_file_a_setting_goes_in():
    as_line = check_relay_restrictions("smtpd_relay_restrictions = permit_mynetworks,\n"
                                       "    permit_sasl_authenticated,\n    reject_unauth_destination")
    assert as_line  # main.cf's own syntax, with a continuation line
    on_587 = check_relay_restrictions(
        "-o smtpd_relay_restrictions=permit_mynetworks,permit_sasl_authenticated,reject_unauth_destination")
    assert not on_587 and any("got 454 4.7.1 <rtest@survey.test>" in m for m in on_587.messages)
    assert on_587.messages[-1].startswith("'-o smtpd_relay_restrictions=permit_mynetworks,permit_sasl_authenticated,"
                                          "reject_unauth_destination' is a line of master.cf's submission entry: "
                                          "it changes port 587 only")
    assert "which reads main.cf" in on_587.messages[-1]
    sender = check_relay_restrictions("smtpd_sender_restrictions = reject_sender_login_mismatch")
    assert not sender and sender.messages == [
        "smtpd_sender_restrictions: 'reject_sender_login_mismatch' is not the setting this exercise asks for (in "
        "main.cf it serves port 25 only: master.cf's submission entry sets its own -o smtpd_sender_restrictions=... "
        "for port 587); expected main.cf's 'smtpd_relay_restrictions = <words>' (or just the words)"]


@pytest.mark.parametrize("answer, start", [
    (42, "smtpd_relay_restrictions: 42 is not a restriction list"),
    (None, "smtpd_relay_restrictions: None is not a restriction list"),
    ("", "smtpd_relay_restrictions: '' lists no restriction"),
    ("reject_rbl_client", "smtpd_relay_restrictions: 'reject_rbl_client' needs an argument"),
    ("-o smtpd_bogus=x", "master_cf_submission: 'smtpd_bogus' is not a restriction list"),
    ("-o permit_mynetworks", "master.cf: '-o permit_mynetworks' is not a -o line"),
    ("myhostname = mail.example.com", "myhostname: 'mail.example.com' is not the setting this exercise asks for"),
])
def test_checker_answers_bad_input_with_the_error_not_a_traceback(answer, start):
    feedback = check_relay_restrictions(answer)
    assert not feedback and len(feedback.messages) == 1 and feedback.messages[0].startswith(start)


def test_checker_names_its_signature_for_a_wrong_call():
    wrong_call = check_relay_restrictions("permit_mynetworks", presett="postfix")
    assert not wrong_call and "expected check_relay_restrictions(restrictions, preset='postfix')" in \
        wrong_call.messages[0]


def test_settings_read_switches_and_networks_strictly():
    from simlab.errors import ConfigError
    from simlab.exercises.today import postfix_settings, today_outcome

    s = postfix_settings({"submission": "no", "smtpd_sasl_auth_enable": "yes", "permit_sasl_authenticated": "off",
                          "mynetworks": "192.0.2.0/24; 198.51.100.77"})
    assert s["submission"] is False and s["smtpd_sasl_auth_enable"] is True
    assert s["mynetworks"] == ["192.0.2.0/24", "198.51.100.77"]
    assert s["smtpd_relay_restrictions"] == "permit_mynetworks, defer_unauth_destination"
    with pytest.raises(ConfigError, match=r"^submission: 'maybe' is not a switch"):
        postfix_settings({"submission": "maybe"})
    with pytest.raises(ConfigError, match=r"^mynetworks: '10.0.0.0/33' is not an address range"):
        today_outcome({"problem": "open_relay", "mynetworks": "10.0.0.0/33"})
    both = postfix_settings({"submission_sender_restrictions": "reject_sender_login_mismatch"})
    assert both["master_cf_submission"] == {"smtpd_sender_restrictions": ["reject_sender_login_mismatch"]}
    assert both["smtpd_sender_restrictions"] == ""  # main.cf's list as the panel has it: empty


def test_multiline_ehlo_reply_becomes_one_line_that_keeps_auth():
    transcript = ["S: 220 mail.example.com ESMTP Postfix", "C: EHLO a.test", "S: 250-mail.example.com",
                  "S: 250-PIPELINING", "S: 250-AUTH PLAIN LOGIN", "S: 250 SMTPUTF8", "C: QUIT", "S: 221 2.0.0 Bye"]
    joined = join_multiline_replies(transcript)
    assert joined == ["S: 220 mail.example.com ESMTP Postfix", "C: EHLO a.test",
                      "S: 250 mail.example.com … AUTH PLAIN LOGIN … SMTPUTF8 (4 lines)", "C: QUIT", "S: 221 2.0.0 Bye"]
    assert join_multiline_replies(["S: 250-unfinished"]) == ["S: 250-unfinished"]


def test_tidy_counts_gives_whole_number_ticks_and_room_for_the_legend():
    from simlab.plots import compare_bars

    figure = tidy_counts(compare_bars({"a": {"bans": 1, "accounts_compromised": 2}, "b": {"bans": 0}},
                                      keys=("accounts_compromised", "bans")))
    ax = figure.axes[0]
    assert all(float(t).is_integer() for t in ax.get_yticks())
    assert ax.get_ylim()[1] > 2 * 1.4 and ax.get_legend() is not None


def test_update_exim4_conf_shows_debians_names_and_the_lists_they_make():
    from simlab.exercises.today import exim_settings, update_exim4_conf
    from simlab.scenarios.site import site_server

    text = update_exim4_conf(relay_nets="192.0.2.0/24, 198.51.100.0/24", other_hostnames="example.com")
    assert "dc_relay_nets='192.0.2.0/24;198.51.100.0/24'" in text and "dc_other_hostnames='example.com'" in text
    assert "hostlist relay_from_hosts = 192.0.2.0/24 : 198.51.100.0/24 : 127.0.0.1 : ::1" in text
    assert "domainlist local_domains = @:localhost:example.com" in text
    exim = site_server("exim", exim_settings(relay_nets="192.0.2.0/24"))
    assert exim.settings["relay_from_hosts"] == "192.0.2.0/24 : 127.0.0.1 : ::1"  # as the generated list says
    s = exim.smtp_session(client_ip="203.0.113.50")
    s.send("EHLO outside.test")
    s.send("MAIL FROM:<Postmaster@example.com>")
    assert s.send("RCPT TO:<user_name@yourcompany.test>").lines == ("relay not permitted",)
    assert not any("AUTH" in line for line in s.transcript)  # Debian's default offers no SMTP AUTH


# --- keeping up: the day kept by what it depends on -------------------------------------------------------------


def test_the_day_depends_on_the_problems_settings_and_seed_not_on_the_typed_dialogue():
    from simlab.exercises.today import DIALOGUE_CONTROLS, day_values

    base = {"problem": "open_relay", "client": "203.0.113.50", "port": 25, "my_dialogue": "", "seed": 1}
    typed = {**base, "client": "192.0.2.101", "port": 587, "my_dialogue": "EHLO x\nQUIT"}
    assert day_values(base) == day_values(typed) and not set(DIALOGUE_CONTROLS) & set(day_values(base))
    assert day_values(base) == day_values({**base, "rbl": "broken"})  # another problem's setting: not applied
    assert day_values(base) != day_values({**base, "mynetworks": "0.0.0.0/0"})
    assert day_values(base) != day_values({**base, "seed": 2})


def test_an_outcome_on_a_kept_day_is_the_outcome_run_afresh():
    from simlab.exercises.today import today_day, today_outcome

    values = {"problem": "roaming", "client": "198.51.100.90", "port": 587,
              "my_dialogue": "EHLO alice-laptop.example.com\nMAIL FROM:<alice@example.com>\nQUIT", "seed": 3}
    fresh = today_outcome(values)
    kept = today_outcome(values, day=today_day({**values, "port": 25, "my_dialogue": ""}))
    assert kept.result.summary == fresh.result.summary and kept.result.log == fresh.result.log
    assert kept.result.events.equals(fresh.result.events)
    assert (kept.dialogues, kept.own, kept.main_cf) == (fresh.dialogues, fresh.own, fresh.main_cf)
    assert kept.own[0].port == 587 and "S: 250 2.1.0 Ok" in kept.own[1]


def test_the_panel_runs_the_day_only_when_what_it_depends_on_changes(monkeypatch):
    import simlab.ui.today as today_module

    days = []
    today_day = today_module.today_day

    def counted(values, *args, **kwargs):
        days.append(values["problem"])
        return today_day(values, *args, **kwargs)

    monkeypatch.setattr(today_module, "today_day", counted)
    lab = today_lab()
    assert days == ["open_relay"]
    lab.controls["client"].value = "192.0.2.101"
    lab.controls["port"].value = 587
    lab.controls["my_dialogue"].value = "EHLO pc-bob.example.com\nQUIT"
    assert len(days) == 1 and lab.computed == 4  # three new outcomes, one day
    assert "## your dialogue (192.0.2.101, port 587)" in lab.views["transcript"].value
    assert "S: 250-AUTH PLAIN LOGIN" in lab.views["transcript"].value  # the submission entry offers AUTH
    lab.controls["seed"].value = 2  # a new day
    lab.controls["rbl"].value = "broken"  # hidden, another problem's: the same day, kept
    assert len(days) == 2 and lab.error is None
    lab.controls["seed"].value = 1  # the first day again, with the student's dialogue: kept
    assert len(days) == 2 and lab.outcome.own[0].port == 587
    lab.controls["problem"].value = "blocklist"  # now the broken list applies: a new day
    assert days[-1] == "blocklist" and lab.outcome.result.summary["legit_refused"] > 0

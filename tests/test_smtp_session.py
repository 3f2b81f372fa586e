"""SMTP commands, sequence rules and limits (RFC 5321, RFC 4954), with Postfix's exact replies."""

import base64

import pytest
from helpers import LAN, OUTSIDE, codes, talk

import simlab
from simlab import SessionClosed


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_api_of_the_issue(postfix_server):
    s = postfix_server.smtp_session(client_ip=OUTSIDE, port=25)
    assert str(s.greeting) == "220 mail.example.com ESMTP Postfix"
    s.send("HELO client.test")
    r = s.send("MAIL FROM:<alice@remote.test>")
    assert (r.code, str(r), r.enhanced) == (250, "250 2.1.0 Ok", "2.1.0")
    assert s.transcript == ["S: 220 mail.example.com ESMTP Postfix", "C: HELO client.test",
                            "S: 250 mail.example.com", "C: MAIL FROM:<alice@remote.test>", "S: 250 2.1.0 Ok"]


def test_ehlo_lists_extensions_and_auth_only_where_enabled(postfix_server):
    ehlo = talk(postfix_server.smtp_session(OUTSIDE), "EHLO client.test")[0]
    assert ehlo.splitlines() == ["250-mail.example.com", "250-PIPELINING", "250-SIZE 10240000", "250-VRFY",
                                 "250-ETRN", "250-ENHANCEDSTATUSCODES", "250-8BITMIME", "250-DSN", "250 SMTPUTF8"]
    submission = talk(postfix_server.smtp_session(OUTSIDE, port=587), "EHLO client.test")[0]
    assert "250-AUTH PLAIN LOGIN" in submission.splitlines()


def test_helo_reply_and_syntax(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    assert talk(s, "HELO", "EHLO", "HELO client.test") == [
        "501 Syntax: HELO hostname", "501 Syntax: EHLO hostname", "250 mail.example.com"]


def test_sequence_errors(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    assert talk(s, "EHLO c.test", "RCPT TO:<bob@example.com>", "DATA", "MAIL FROM:<a@remote.test>",
                "MAIL FROM:<a@remote.test>", "DATA")[1:] == [
        "503 5.5.1 Error: need MAIL command", "503 5.5.1 Error: need RCPT command", "250 2.1.0 Ok",
        "503 5.5.1 Error: nested MAIL command", "554 5.5.1 Error: no valid recipients"]


def test_syntax_errors(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    assert talk(s, "EHLO c.test", "MAIL TO:<x@remote.test>", "MAIL FROM:", "MAIL FROM:<alice@>",
                "MAIL FROM:<a@remote.test> FOO=1", "MAIL FROM:<a@remote.test> SIZE=99999999999",
                "MAIL FROM:<a@remote.test>", "RCPT TO:", "RCPT TO:<>", "RCPT TO:<bob@exa mple.com>",
                "FOO", "", "DATA now")[1:] == [
        "501 5.5.4 Syntax: MAIL FROM:<address>", "501 5.5.4 Syntax: MAIL FROM:<address>",
        "501 5.1.7 Bad sender address syntax", "555 5.5.4 Unsupported option: FOO=1",
        "552 5.3.4 Message size exceeds fixed limit", "250 2.1.0 Ok",
        "501 5.5.4 Syntax: RCPT TO:<address>", "501 5.1.3 Bad recipient address syntax",
        "501 5.1.3 Bad recipient address syntax", "500 5.5.2 Error: command not recognized",
        "500 5.5.2 Error: bad syntax", "501 5.5.4 Syntax: DATA"]


def test_verbs_are_case_insensitive_and_null_sender_accepted(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    assert codes(s, "ehlo c.test", "mail from:<>", "rcpt to:<bob@example.com>", "noop", "rset", "quit") == [
        250, 250, 250, 250, 250, 221]
    assert s.closed


def test_data_dot_stuffing_and_store(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    replies = talk(s, "EHLO c.test", "MAIL FROM:<alice@remote.test>", "RCPT TO:<BOB@EXAMPLE.COM>", "DATA",
                   "Subject: dots", "", "..leading dot", "...", ".")
    assert replies[3] == "354 End data with <CR><LF>.<CR><LF>"
    assert replies[4:8] == [None, None, None, None]
    assert replies[8].startswith("250 2.0.0 Ok: queued as ")
    (message,) = postfix_server.mailboxes["bob"]
    assert message.lines[-3:] == ["", ".leading dot", ".."]
    assert message.lines[0].startswith("Received: from c.test (unknown [203.0.113.7])")
    assert message.sender == "alice@remote.test" and message.recipients == ["BOB@EXAMPLE.COM"]
    assert postfix_server.queue == []


def test_mixed_recipients_split_between_mailbox_and_queue(postfix_server):
    s = postfix_server.smtp_session(LAN)
    talk(s, "HELO lan.test", "MAIL FROM:<bob@example.com>", "RCPT TO:<alice@example.com>",
         "RCPT TO:<x@remote.test>", "RCPT TO:<y@remote.test>", "DATA", "hi", ".")
    assert len(postfix_server.mailboxes["alice"]) == 1
    (queued,) = postfix_server.queue
    assert queued.recipients == ["x@remote.test", "y@remote.test"]


def test_message_too_big_is_refused_and_not_stored():
    server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "x"}, message_size_limit=100)
    s = server.smtp_session(OUTSIDE)
    talk(s, "EHLO c.test", "MAIL FROM:<a@remote.test>", "RCPT TO:<bob@example.com>", "DATA")
    for _ in range(10):
        assert s.send("x" * 30) is None
    assert str(s.send(".")) == "552 5.3.4 Error: message file too big"
    assert server.mailboxes.get("bob") is None
    assert codes(s, "MAIL FROM:<a@remote.test>") == [250]


def test_long_command_line():
    server = simlab.presets.eims_2_1()
    s = server.smtp_session(OUTSIDE)
    assert str(s.send("HELO " + "a" * 600)) == "500 Line too long"


def test_hard_error_limit_closes_with_421(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    for _ in range(19):
        assert s.send("BOGUS").code == 500
    last = s.send("BOGUS")
    assert last.code == 500 and s.closed
    assert str(s.closing_reply) == "421 4.7.0 mail.example.com Error: too many errors"
    assert s.transcript[-1] == "S: 421 4.7.0 mail.example.com Error: too many errors"
    assert any("too many errors after UNKNOWN from unknown[203.0.113.7]" in line for line in postfix_server.log)
    with pytest.raises(SessionClosed):
        s.send("QUIT")


def test_soft_error_limit_delays_replies(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    delays = [s.send("BOGUS").delay for _ in range(12)]
    assert delays[:9] == [0.0] * 9 and delays[9:] == [1.0, 1.0, 1.0]


def test_quit_and_disconnect_log(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    talk(s, "EHLO c.test", "MAIL FROM:<a@remote.test>", "RCPT TO:<x@remote.test>", "QUIT")
    assert postfix_server.log[-1].endswith(
        "disconnect from unknown[203.0.113.7] ehlo=1 mail=1 rcpt=0/1 quit=1 commands=3/4")
    assert postfix_server.log[0].endswith("postfix/smtpd[2001]: connect from unknown[203.0.113.7]")


def test_lost_connection_is_logged(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    talk(s, "EHLO c.test", "MAIL FROM:<a@remote.test>")
    s.close()
    assert postfix_server.log[-2].endswith("lost connection after MAIL from unknown[203.0.113.7]")
    assert s.closed


def test_embedded_newlines_are_separate_commands(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    reply = s.send("EHLO c.test\r\nMAIL FROM:<a@remote.test>\nRCPT TO:<bob@example.com>")
    assert str(reply) == "250 2.1.5 Ok"
    assert s.transcript.count("C: MAIL FROM:<a@remote.test>") == 1


def test_vrfy_answers_as_rcpt_would(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    assert talk(s, "VRFY <bob@example.com>", "VRFY nobody@example.com", "VRFY bob", "VRFY") == [
        "252 2.0.0 <bob@example.com>",
        "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table",
        "454 4.7.1 <bob>: Relay access denied",  # bob@$myorigin, and mail.example.com is not in mydestination
        "501 5.5.4 Syntax: VRFY address"]


def test_non_smtp_commands_end_the_session(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    assert talk(s, "EHLO c.test", "MAIL FROM:<a@remote.test>", "RCPT TO:<x@remote.test>", "DATA",
                "Subject: spam")[-1] == "221 2.7.0 Error: I can break rules, too. Goodbye."
    assert s.closed
    assert postfix_server.log[-2].endswith("warning: non-SMTP command from unknown[203.0.113.7]: Subject: spam")


def test_over_long_command_is_cut_at_line_length_limit(postfix_server):
    s = postfix_server.smtp_session(OUTSIDE)
    assert str(s.send("MAIL FROM:<" + "a" * 3000 + "@remote.test>")) == "501 5.1.7 Bad sender address syntax"
    assert postfix_server.log[-1].endswith(
        "warning: unknown[203.0.113.7]: request longer than 2048: MAIL FROM:<aaaaaaaaaaaaaaaaaaa...")


class TestAuth:
    def server(self, **kw):
        return simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"},
                                      smtpd_sasl_auth_enable=True, **kw)

    def test_plain_initial_response(self):
        server = self.server()
        s = server.smtp_session(OUTSIDE)
        assert talk(s, "EHLO c.test", f"AUTH PLAIN {b64(chr(0) + 'bob' + chr(0) + 's3cret')}")[1] == \
            "235 2.7.0 Authentication successful"
        assert s.ctx.user == "bob"
        assert talk(s, "MAIL FROM:<bob@example.com>", "RCPT TO:<x@remote.test>")[1] == "250 2.1.5 Ok"
        assert any("client=unknown[203.0.113.7], sasl_method=PLAIN, sasl_username=bob" in x for x in server.log)

    def test_plain_challenge_and_failure(self):
        server = self.server()
        s = server.smtp_session(OUTSIDE)
        assert talk(s, "EHLO c.test", "AUTH PLAIN", b64("\0bob\0wrong")) [1:] == [
            "334 ", "535 5.7.8 Error: authentication failed: (reason unavailable)"]
        assert server.log[-1].endswith(
            "warning: unknown[203.0.113.7]: SASL PLAIN authentication failed: (reason unavailable), "
            "sasl_username=bob")
        assert s.ctx.user is None

    def test_login_exchange(self):
        s = self.server().smtp_session(OUTSIDE)
        assert talk(s, "EHLO c.test", "AUTH LOGIN", b64("bob"), b64("s3cret"))[1:] == [
            "334 VXNlcm5hbWU6", "334 UGFzc3dvcmQ6", "235 2.7.0 Authentication successful"]
        assert talk(s, "AUTH LOGIN") == ["503 5.5.1 Error: already authenticated"]

    def test_abort_bad_base64_and_unknown_mechanism(self):
        s = self.server().smtp_session(OUTSIDE)
        assert talk(s, "EHLO c.test", "AUTH LOGIN", "*", "AUTH PLAIN", "%%%", "AUTH CRAM-MD5", "AUTH")[1:] == [
            "334 VXNlcm5hbWU6", "501 5.7.0 Authentication aborted", "334 ", "501 5.5.2 Cannot decode response",
            "535 5.7.8 Error: authentication failed: Invalid authentication mechanism",
            "501 5.5.4 Syntax: AUTH mechanism"]

    def test_auth_not_enabled_on_port_25_by_default(self, postfix_server):
        s = postfix_server.smtp_session(OUTSIDE)
        assert talk(s, "EHLO c.test", "AUTH PLAIN AGJvYgBzM2NyZXQ=")[1] == "503 5.5.1 Error: authentication not enabled"

    def test_auth_during_transaction_and_before_ehlo(self):
        s = self.server().smtp_session(OUTSIDE)
        assert talk(s, "AUTH LOGIN")[0] == "503 5.5.1 Error: send HELO/EHLO first"
        assert talk(s, "EHLO c.test", "MAIL FROM:<a@remote.test>", "AUTH LOGIN")[2] == \
            "503 5.5.1 Error: MAIL transaction in progress"

    def test_disconnect_counts_auth_once(self):
        server = self.server()
        s = server.smtp_session(OUTSIDE)
        talk(s, "EHLO c.test", "AUTH LOGIN", b64("bob"), b64("nope"), "QUIT")
        assert server.log[-1].endswith("ehlo=1 auth=0/1 quit=1 commands=2/3")

"""Each restriction on its own, with the replies and log lines it produces."""

import base64

import pytest
from helpers import LAN, OUTSIDE, codes, talk

import simlab
from simlab import ConfigError
from simlab.restrictions import (
    AccountLockout,
    BlocklistZone,
    Dns,
    Fail2Ban,
    FailureDelay,
    RouterFilter,
    recidive,
    reversed_query,
)

RCPT_FOREIGN = ["EHLO c.test", "MAIL FROM:<a@remote.test>", "RCPT TO:<x@remote.test>"]


def guess(server, ip, user, password):
    p = server.pop3_session(ip)
    if p.greeting is None:
        return None
    p.send(f"USER {user}")
    return p.send(f"PASS {password}")


class TestPostfixRelay:
    def test_mynetworks_relays_and_outsiders_are_deferred(self, postfix_server):
        assert codes(postfix_server.smtp_session(LAN), *RCPT_FOREIGN)[-1] == 250
        assert codes(postfix_server.smtp_session(OUTSIDE), *RCPT_FOREIGN)[-1] == 454

    def test_reject_unauth_destination_answers_554(self):
        server = simlab.presets.postfix(mydestination=["example.com"], smtpd_relay_restrictions=[
            "permit_mynetworks", "reject_unauth_destination"])
        assert talk(server.smtp_session(OUTSIDE), *RCPT_FOREIGN)[-1] == \
            "554 5.7.1 <x@remote.test>: Relay access denied"
        assert server.log[-1].endswith(
            "NOQUEUE: reject: RCPT from unknown[203.0.113.7]: 554 5.7.1 <x@remote.test>: Relay access denied; "
            "from=<a@remote.test> to=<x@remote.test> proto=ESMTP helo=<c.test>")

    def test_relay_domains_and_subdomains(self):
        server = simlab.presets.postfix(mydestination=["example.com"], relay_domains=["partner.test"])
        s = server.smtp_session(OUTSIDE)
        assert codes(s, "EHLO c.test", "MAIL FROM:<a@remote.test>", "RCPT TO:<x@partner.test>",
                     "RCPT TO:<x@sub.partner.test>", "RCPT TO:<x@sub.example.com>") == [250, 250, 250, 250, 454]

    def test_unknown_local_user(self, postfix_server):
        assert talk(postfix_server.smtp_session(OUTSIDE), "EHLO c", "MAIL FROM:<a@remote.test>",
                    "RCPT TO:<nobody@example.com>")[-1] == \
            "550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown in local recipient table"

    def test_sasl_authenticated_relays(self):
        server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"},
                                        smtpd_sasl_auth_enable=True)
        s = server.smtp_session(OUTSIDE)
        token = base64.b64encode(b"\0bob\0s3cret").decode()
        assert codes(s, "EHLO c.test", f"AUTH PLAIN {token}", "MAIL FROM:<bob@example.com>",
                     "RCPT TO:<x@remote.test>") == [250, 235, 250, 250]

    def test_client_access_map_blocks_an_address(self):
        server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "x"},
                                        smtpd_client_restrictions=["check_client_access cidr:blocked"],
                                        access_maps={"cidr:blocked": {"203.0.113.0/28": "REJECT go away"}})
        assert talk(server.smtp_session(OUTSIDE), "EHLO c", "MAIL FROM:<a@remote.test>",
                    "RCPT TO:<bob@example.com>")[-1] == \
            "554 5.7.1 <unknown[203.0.113.7]>: Client host rejected: go away"
        assert codes(server.smtp_session("203.0.113.99"), "EHLO c", "MAIL FROM:<a@remote.test>",
                     "RCPT TO:<bob@example.com>")[-1] == 250

    def test_sender_login_maps(self):
        server = simlab.presets.postfix(
            mydestination=["example.com"], accounts={"bob": "b", "alice": "a"}, smtpd_sasl_auth_enable=True,
            smtpd_sender_login_maps={"bob@example.com": "bob", "alice@example.com": "alice"},
            smtpd_sender_restrictions=["reject_sender_login_mismatch"])
        anon = server.smtp_session(OUTSIDE)
        assert talk(anon, "EHLO c", "MAIL FROM:<bob@example.com>", "RCPT TO:<alice@example.com>")[-1] == \
            "553 5.7.1 <bob@example.com>: Sender address rejected: not logged in"
        s = server.smtp_session(OUTSIDE)
        token = base64.b64encode(b"\0alice\0a").decode()
        assert talk(s, "EHLO c", f"AUTH PLAIN {token}", "MAIL FROM:<bob@example.com>", "RCPT TO:<x@remote.test>")[
            -1] == "553 5.7.1 <bob@example.com>: Sender address rejected: not owned by user alice"
        assert codes(s, "RSET", "MAIL FROM:<alice@example.com>", "RCPT TO:<x@remote.test>")[-1] == 250
        # an address nobody owns may still be used by an anonymous client (mail from outside)
        assert codes(server.smtp_session(OUTSIDE), "EHLO c", "MAIL FROM:<a@remote.test>",
                     "RCPT TO:<bob@example.com>")[-1] == 250

    def test_submission_requires_auth(self):
        """Debian's master.cf submission entry: MAIL is accepted, each RCPT refused until AUTH (recorded)."""
        server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "s3cret"})
        s = server.smtp_session(OUTSIDE, port=587)
        assert talk(s, "EHLO c", "MAIL FROM:<bob@example.com>", "RCPT TO:<x@remote.test>")[-1] == (
            "554 5.7.1 <x@remote.test>: Recipient address rejected: Access denied")
        s.send("RSET")
        token = base64.b64encode(b"\0bob\0s3cret").decode()
        assert codes(s, f"AUTH PLAIN {token}", "MAIL FROM:<bob@example.com>", "RCPT TO:<x@remote.test>") == [
            235, 250, 250]

    @pytest.mark.parametrize("setting, value, fragment", [
        ("smtpd_relay_restrictions", ["permit_mynetworks", "permit"], "leaves the server an open relay"),
        ("smtpd_relay_restrictions", "permit_mynetworks, reject_unauth_destnation", "is not a restriction"),
        ("smtpd_recipient_restrictions", ["reject_rbl_client"], "needs an argument"),
        ("mynetworks", ["192.0.2.0/24", "203.0.113.300"], "is not an address range"),
        ("mydestination", ["example..com"], "is not a domain name"),
        ("inet_interfaces", ["localhost"], "is not an IP address"),
        ("smtpd_client_restrictions", ["check_client_access hash:nothing"], "names a table"),
        ("smtpd_hard_error_limit", 0, "is not a limit"),
    ])
    def test_config_errors_name_setting_and_value(self, setting, value, fragment):
        with pytest.raises(ConfigError) as err:
            simlab.presets.postfix(**{setting: value})
        assert fragment in str(err.value) and "expected" in str(err.value)


class TestBlocklist:
    def test_rfc5782_query_and_reply(self):
        assert reversed_query("203.0.113.66", "bl.example.test") == "66.113.0.203.bl.example.test"
        dns = Dns([BlocklistZone("bl.example.test", ["203.0.113.66"], reason="see https://bl.example.test/{ip}")])
        server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "x"}, dns=dns,
                                        smtpd_recipient_restrictions=["reject_rbl_client bl.example.test"])
        assert talk(server.smtp_session("203.0.113.66"), "EHLO c", "MAIL FROM:<a@remote.test>",
                    "RCPT TO:<bob@example.com>")[-1] == (
            "554 5.7.1 Service unavailable; Client host [203.0.113.66] blocked using bl.example.test; "
            "see https://bl.example.test/203.0.113.66")
        assert codes(server.smtp_session(OUTSIDE), "EHLO c", "MAIL FROM:<a@remote.test>",
                     "RCPT TO:<bob@example.com>")[-1] == 250

    def test_self_test(self):
        good = BlocklistZone("good.test", ["203.0.113.66"])
        broken = BlocklistZone("broken.test", answers_everything=True)
        assert good.self_test()[0] and not broken.self_test()[0]
        assert "127.0.0.1" in broken.self_test()[1]

    def test_broken_list_refuses_everyone_unless_self_tested(self):
        dns = Dns([BlocklistZone("broken.test", answers_everything=True)])
        naive = simlab.presets.sims(rbl_zones=["broken.test"], dns=dns, accounts={"bob": "x"})
        assert talk(naive.smtp_session("198.51.100.80"), "HELO c", "MAIL FROM:<a@remote.test>")[-1].startswith(
            "553 Blackholed - see ")
        careful = simlab.presets.sims(rbl_zones=["broken.test"], dns=dns, rbl_self_test=True, accounts={"bob": "x"})
        assert codes(careful.smtp_session("198.51.100.80"), "HELO c", "MAIL FROM:<a@remote.test>",
                     "RCPT TO:<bob@example.com>") == [250, 250, 250]


class TestAnvil:
    def test_connection_rate_limit(self):
        server = simlab.presets.postfix(mydestination=["example.com"], smtpd_client_connection_rate_limit=3)
        greetings = [server.smtp_session(OUTSIDE).greeting for _ in range(4)]
        assert [g.code for g in greetings] == [220, 220, 220, 421]
        assert str(greetings[-1]) == "421 4.7.0 mail.example.com Error: too many connections from 203.0.113.7"
        assert any("warning: Connection rate limit exceeded: 4 from unknown[203.0.113.7] for service smtp" in x
                   for x in server.log)
        server.clock.advance(61)
        assert server.smtp_session(OUTSIDE).greeting.code == 220
        assert server.smtp_session("127.0.0.1").greeting.code == 220  # mynetworks are exempt

    def test_connection_count_limit_frees_on_close(self):
        server = simlab.presets.postfix(mydestination=["example.com"], smtpd_client_connection_count_limit=2)
        a, b = server.smtp_session(OUTSIDE), server.smtp_session(OUTSIDE)
        assert server.smtp_session(OUTSIDE).greeting.code == 421
        a.send("QUIT")
        assert server.smtp_session(OUTSIDE).greeting.code == 220
        assert b.greeting.code == 220

    def test_message_and_auth_rate(self):
        server = simlab.presets.postfix(mydestination=["example.com"], accounts={"bob": "x"},
                                        smtpd_client_message_rate_limit=1, smtpd_client_auth_rate_limit=1,
                                        smtpd_sasl_auth_enable=True)
        s = server.smtp_session(OUTSIDE)
        assert talk(s, "EHLO c", "MAIL FROM:<a@remote.test>", "RSET", "MAIL FROM:<a@remote.test>")[-1] == \
            "450 4.7.1 Error: too much mail from 203.0.113.7"
        assert talk(s, "AUTH LOGIN", "*", "AUTH LOGIN")[-1] == \
            "450 4.7.1 Error: too many AUTH commands from 203.0.113.7"


class TestGuessingDefences:
    def test_lockout_stops_guesser_and_locks_out_the_owner(self):
        server = simlab.presets.eims_2_1(accounts={"bob": "s3cret"}, restrictions=[AccountLockout(3, 600)])
        assert [guess(server, "203.0.113.9", "bob", pw).ok for pw in ("a", "b", "c")] == [False] * 3
        reply = guess(server, LAN, "bob", "s3cret")
        assert str(reply) == "-ERR account temporarily locked"
        server.clock.advance(601)
        assert guess(server, LAN, "bob", "s3cret").ok

    def test_failure_delay_doubles_per_address(self):
        server = simlab.presets.eims_2_1(accounts={"bob": "s3cret"}, restrictions=[FailureDelay()])
        delays = [guess(server, "203.0.113.9", "bob", "x").delay for _ in range(6)]
        assert delays == [2, 4, 8, 15, 15, 15]
        assert guess(server, "203.0.113.10", "bob", "x").delay == 2
        assert guess(server, "203.0.113.9", "bob", "s3cret").delay == 0
        assert guess(server, "203.0.113.9", "bob", "x").delay == 2

    def test_fail2ban_reads_the_eims_log_and_drops_the_address(self):
        jail = Fail2Ban(jail="eims-pop3", failregex="eims-pop3", maxretry=3, findtime=600, bantime=600)
        server = simlab.presets.eims_2_1(accounts={"webmaster": "Secret1"}, restrictions=[jail])
        for _ in range(3):
            server.clock.advance(10)
            guess(server, "203.0.113.9", "webmaster", "webmaster")
        assert [b.ip for b in jail.bans] == ["203.0.113.9"]
        p = server.pop3_session("203.0.113.9")
        assert p.greeting is None and p.dropped.reason == "fail2ban jail eims-pop3"
        assert server.smtp_session("203.0.113.9").greeting is None
        assert jail.log[-1].endswith("NOTICE  [eims-pop3] Ban 203.0.113.9")
        server.clock.advance(601)
        assert server.pop3_session("203.0.113.9").greeting.ok

    def test_fail2ban_findtime_forgets_slow_guessing(self):
        jail = Fail2Ban(failregex="eims-pop3", maxretry=3, findtime=60)
        server = simlab.presets.eims_2_1(accounts={"webmaster": "Secret1"}, restrictions=[jail])
        for _ in range(10):
            server.clock.advance(31)
            guess(server, "203.0.113.9", "webmaster", "x")
        assert jail.bans == []

    def test_a_pool_of_addresses_stays_under_the_threshold(self):
        jail = Fail2Ban(failregex="eims-pop3", maxretry=3)
        server = simlab.presets.eims_2_1(accounts={"webmaster": "Secret1"}, restrictions=[jail])
        for i in range(20):
            guess(server, f"203.0.113.{100 + i % 10}", "webmaster", f"guess{i}")
        assert jail.bans == []

    def test_bantime_increment_and_recidive(self):
        jail = Fail2Ban(failregex="eims-pop3", maxretry=1, bantime=100, increment=True)
        repeat = recidive([jail], maxretry=3)
        server = simlab.presets.eims_2_1(accounts={"bob": "s3cret"}, restrictions=[jail, repeat])
        for _ in range(3):
            guess(server, OUTSIDE, "bob", "x")
            server.clock.advance(jail.banned_until[OUTSIDE] - server.clock.now + 1)
        assert [b.seconds for b in jail.bans] == [100, 200, 400]
        assert [b.ip for b in repeat.bans] == [OUTSIDE]
        assert server.pop3_session(OUTSIDE).greeting is None

    def test_fail2ban_on_postfix_relay_rejects(self):
        jail = Fail2Ban(jail="postfix", failregex="postfix-relay", maxretry=2)
        server = simlab.presets.postfix(mydestination=["example.com"], restrictions=[jail])
        for _ in range(2):
            talk(server.smtp_session(OUTSIDE), *RCPT_FOREIGN)
        assert server.smtp_session(OUTSIDE).greeting is None

    def test_ignoreip_and_bad_regex(self):
        jail = Fail2Ban(failregex="eims-pop3", maxretry=1, ignoreip=["203.0.113.0/24"])
        server = simlab.presets.eims_2_1(accounts={"bob": "s"}, restrictions=[jail])
        guess(server, OUTSIDE, "bob", "x")
        assert jail.bans == []
        with pytest.raises(ConfigError, match="has no <HOST>"):
            Fail2Ban(failregex="wrong password")
        with pytest.raises(ConfigError, match="is not a regular expression"):
            Fail2Ban(failregex="(<HOST>")

    def test_router_filter_drops_pop3_from_outside(self):
        server = simlab.presets.eims_1_2(accounts={"bob": "s"}, restrictions=[RouterFilter(allow=["192.0.2.0/24"])])
        assert server.pop3_session(OUTSIDE).greeting is None
        assert server.pop3_session(LAN).greeting.ok
        assert server.smtp_session(OUTSIDE).greeting.code == 220  # port 25 must stay open to receive mail

    def test_extra_restrictions_must_be_restrictions(self):
        with pytest.raises(ConfigError, match="is not a restriction"):
            simlab.presets.eims_1_2(restrictions=["fail2ban"])


class TestFixesFromLessons:
    def test_eims_21_understands_the_auth_it_offers_and_lets_the_user_relay(self):
        server = simlab.presets.eims_2_1(accounts={"alice": "pw"}, smtp_auth=True, relay_restriction=True)
        s = server.smtp_session("198.51.100.77", port=587)
        assert talk(s, "EHLO roaming.test")[0].splitlines()[-1] == "250 AUTH PLAIN LOGIN"
        token = base64.b64encode(b"\0alice\0pw").decode()
        assert codes(s, f"AUTH PLAIN {token}", "MAIL FROM:<alice@example.com>", "RCPT TO:<x@remote.test>") == [
            235, 250, 250]
        assert codes(simlab.presets.eims_1_2().smtp_session(OUTSIDE), "EHLO x", "AUTH PLAIN AGJvYgB4")[1] == 500

    @pytest.mark.parametrize("factory", [simlab.presets.eims_2_1, simlab.presets.sims])
    def test_the_mac_servers_deliver_mail_for_their_own_host_name(self, factory):
        server = factory(accounts={"bob": "x"})
        assert codes(server.smtp_session(OUTSIDE), "HELO x", "MAIL FROM:<a@remote.test>",
                     "RCPT TO:<bob@mail.example.com>")[-1] == 250

    def test_valid_ips_is_checked_while_relay_restriction_is_off(self):
        with pytest.raises(ConfigError, match=r"valid_ips: '192\.0\.2\.0/33'"):
            simlab.presets.eims_2_1(valid_ips=["192.0.2.0/33"])

    def test_a_range_typed_with_spaces_is_one_range(self):
        server = simlab.presets.eims_2_1(ip_range_restriction={"smtp": "192.0.2.1 - 192.0.2.254"})
        assert server.smtp_session(LAN).greeting.code == 220
        assert server.smtp_session(OUTSIDE).greeting.code == 554

    def test_a_setting_of_the_wrong_kind_is_a_clear_error(self):
        from simlab.scenarios.site import site_server

        with pytest.raises(ConfigError, match=r"holds a value of the wrong kind for eims-2\.1"):
            site_server("eims-2.1", {"ip_range_restriction": True})
        with pytest.raises(ConfigError, match="'mynetwork' is not a setting of postfix"):
            site_server("postfix", {"mynetwork": ["192.0.2.0/24"]})


def test_postfix_without_submission_does_not_listen_on_587():
    closed = simlab.presets.postfix(mydestination=["example.com"], submission=False)
    session = closed.smtp_session(OUTSIDE, port=587)
    assert session.greeting is None and session.dropped.reason == "nothing listens on port 587"
    assert closed.smtp_session(OUTSIDE, port=25).greeting.code == 220
    assert simlab.presets.postfix().smtp_session(OUTSIDE, port=587).greeting.code == 220

"""The thread's cases, one by one (seed S1-S6), on every preset they concern.

Documentation addresses stand in for the thread's: mycompany.test for
mail.mycompany.co.jp, yourcompany.test for mail.yourcompany.co.jp,
remote.test for simkin.com, 203.0.113.0/24 for the outside hosts
(203.216.11.226, 199.175.137.111), 192.0.2.0/24 for the site's LAN.
"""

import pytest
from helpers import LAN, OUTSIDE, codes, talk

import simlab

SPOOF = ["HELO outside.test", "MAIL FROM:<Postmaster@mycompany.test>", "RCPT TO:<user_name@yourcompany.test>",
         "DATA", ".", "QUIT"]
PROBE = ["HELO scanner.test", "MAIL FROM:<sender@remote.test>", "RCPT TO:<rtest@remote.test>", "DATA",
         "Subject: Open relay test", "", "One test message per server, for a survey.",
         ".", "QUIT"]


def mycompany(preset, **kw):
    if preset is simlab.presets.postfix:
        return preset(myhostname="mail.mycompany.test", mydestination=["mycompany.test"],
                      mynetworks=["192.0.2.0/24"], **kw)
    return preset(hostname="mail.mycompany.test", local_domains=["mycompany.test"], **kw)


class TestS4SpoofedPostmaster:
    def test_eims_21_relay_restriction_relays_it(self):
        server = mycompany(simlab.presets.eims_2_1, relay_restriction=True)
        s = server.smtp_session("203.0.113.50")
        assert codes(s, *SPOOF) == [250, 250, 250, 354, 250, 221]
        (queued,) = server.queue
        assert queued.sender == "Postmaster@mycompany.test" and queued.recipients == ["user_name@yourcompany.test"]

    def test_the_same_rule_refuses_an_honest_outsider(self):
        server = mycompany(simlab.presets.eims_2_1, relay_restriction=True)
        s = server.smtp_session("203.0.113.50")
        assert talk(s, "HELO o.test", "MAIL FROM:<someone@yourcompany.test>", "RCPT TO:<x@elsewhere.test>")[2] \
            == "550 Relaying to <x@elsewhere.test> not permitted"
        assert server.log[-1].endswith("SMTP relay refused for <x@elsewhere.test> from 203.0.113.50")

    def test_valid_ip_option_closes_the_hole(self):
        server = mycompany(simlab.presets.eims_2_1, relay_restriction=True, require_valid_ip=True,
                           valid_ips=["192.0.2.0/24"])
        assert codes(server.smtp_session("203.0.113.50"), *SPOOF[:3])[2] == 550
        assert codes(server.smtp_session(LAN), *SPOOF[:3])[2] == 250

    def test_sims_client_hosts_refuses_it_at_rcpt(self):
        server = mycompany(simlab.presets.sims, client_hosts=["192.0.2.0/24"])
        s = server.smtp_session("203.0.113.50")
        replies = talk(s, *SPOOF[:3])
        assert replies[2] == "550 <user_name@yourcompany.test> relaying prohibited"
        assert server.queue == []
        # ...while mail *to* a local user is still accepted from anyone
        t = server.smtp_session("203.0.113.50")
        assert codes(t, "HELO o.test", "MAIL FROM:<x@yourcompany.test>", "RCPT TO:<postmaster@mycompany.test>") == [
            250, 250, 250]

    def test_postfix_refuses_it_at_rcpt(self):
        server = mycompany(simlab.presets.postfix)
        replies = talk(server.smtp_session("203.0.113.50"), *SPOOF[:3])
        assert replies[2] == "454 4.7.1 <user_name@yourcompany.test>: Relay access denied"
        assert server.queue == []

    def test_knowing_an_account_name_does_not_help_an_outsider(self):
        server = mycompany(simlab.presets.sims, client_hosts=["192.0.2.0/24"], accounts={"user_name": "pw"})
        s = server.smtp_session("203.0.113.50")
        assert codes(s, "HELO o.test", "MAIL FROM:<user_name@mycompany.test>", "RCPT TO:<a@remote.test>")[2] == 550


class TestS2S3OpenRelayProbe:
    @pytest.mark.parametrize("factory", [simlab.presets.eims_1_2, simlab.presets.eims_2_1])
    def test_open_as_installed(self, factory):
        server = factory()
        assert codes(server.smtp_session("203.0.113.66"), *PROBE)[2] == 250
        assert server.queue[0].recipients == ["rtest@remote.test"]

    def test_relay_restriction_refuses_the_probe(self):
        server = simlab.presets.eims_2_1(relay_restriction=True)
        assert codes(server.smtp_session("203.0.113.66"), *PROBE[:3])[2] == 550
        assert server.queue == []

    @pytest.mark.parametrize("factory", [simlab.presets.sims, simlab.presets.postfix])
    def test_anti_relay_servers_refuse_it(self, factory):
        server = factory()
        assert codes(server.smtp_session("203.0.113.66"), *PROBE[:3])[2] in (454, 550)
        assert server.queue == []


class TestS5StrictIpRange:
    def test_smtp_ip_range_also_refuses_inbound_mail(self):
        server = simlab.presets.eims_2_1(accounts={"bob": "x"}, ip_range_restriction={"smtp": "192.0.2.1-192.0.2.254"})
        s = server.smtp_session("198.51.100.80")  # another site's MTA delivering to bob
        assert str(s.greeting) == "554 mail.example.com Access denied" and s.closed
        assert server.log[-1].endswith("SMTP connection from 198.51.100.80 refused by IP Range Restriction")
        assert codes(server.smtp_session(LAN), "HELO lan.test", "MAIL FROM:<bob@example.com>",
                     "RCPT TO:<x@remote.test>") == [250, 250, 250]

    def test_mx_at_the_provider_is_the_fix(self):
        provider = "198.51.100.25"
        server = simlab.presets.eims_2_1(accounts={"bob": "x"}, relay_restriction=True,
                                         ip_range_restriction={"smtp": ["192.0.2.1-192.0.2.254", provider]})
        s = server.smtp_session(provider)
        assert codes(s, "HELO mx.provider.test", "MAIL FROM:<carol@remote.test>", "RCPT TO:<bob@example.com>",
                     "DATA", "hi", ".") == [250, 250, 250, 354, None, 250]
        assert len(server.mailboxes["bob"]) == 1

    def test_pop3_can_be_restricted_alone(self):
        server = simlab.presets.eims_2_1(accounts={"bob": "x"}, ip_range_restriction={"pop3": ["192.0.2.0/24"]})
        p = server.pop3_session(OUTSIDE)
        assert str(p.greeting) == "-ERR mail.example.com Access denied" and p.closed
        assert server.smtp_session(OUTSIDE).greeting.code == 220
        assert server.pop3_session(LAN).greeting.ok


class TestS1WrongPassword:
    def test_name_as_password_is_guessed_silently(self):
        server = simlab.presets.eims_2_1(accounts={"webmaster": "webmaster", "bob": "Tr0ub4dor"})
        outcomes = {}
        for account in ("webmaster", "bob"):
            p = server.pop3_session("203.0.113.9")
            p.send(f"USER {account}")
            outcomes[account] = p.send(f"PASS {account}").ok
        assert outcomes == {"webmaster": True, "bob": False}
        errors = [line for line in server.log if "wrong password" in line]
        assert errors == [server.log[-1]] and errors[0].endswith("POP3 wrong password for bob from 203.0.113.9")

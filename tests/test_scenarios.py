"""The traffic simulation's outcomes for each forum case, with default knobs (issue: traffic simulation)."""

import pytest

import simlab
from simlab import ConfigError
from simlab.engine import SUMMARY_KEYS
from simlab.scenarios.base import HOUR

S = simlab.scenarios


def run(scenario, seed=1, **kw):
    return simlab.run(scenario, seed=seed, **kw)


@pytest.fixture(scope="module")
def probe_eims12():
    return run(S.relay_probe(preset="eims-1.2"))


class TestRelayProbe:
    @pytest.mark.parametrize("preset", ["eims-1.2", "eims-2.1"])
    def test_open_relays_pass_the_probe_and_the_bounce_reaches_postmaster(self, preset):
        result = run(S.relay_probe(preset=preset))
        assert result.summary["spam_relayed"] == 1
        assert result.summary["bounces_to_postmaster"] == 1
        assert any("DNR timed out to 192.0.2.53 for survey.test" in line for line in result.log)
        assert any("Connection timed out to 203.0.113.111 (survey.test)" in line for line in result.log)
        (report,) = result.server.mailboxes["postmaster"]
        assert report.sender == ""
        text = "\n".join(report.lines)
        assert "Content-Type: multipart/report; report-type=delivery-status" in text
        assert "Final-Recipient: rfc822; sender@survey.test" in text  # the bounce to the probe's sender failed too
        assert "scans port 25 for open relays. It sends one test per server and collects the results." in text

    @pytest.mark.parametrize("scenario", [S.relay_probe(preset="eims-2.1", relay_restriction=True),
                                          S.relay_probe(preset="sims"), S.relay_probe(preset="postfix")])
    def test_anti_relay_refuses_the_probe_at_rcpt_and_no_bounce(self, scenario):
        result = run(scenario)
        assert result.summary["spam_relayed"] == 0
        assert result.summary["spam_refused"] == 1
        assert result.summary["bounces_to_postmaster"] == 0
        assert not any("survey.test" in line and "timed out" in line for line in result.log)
        probe = result.transcript("relay survey")
        rcpt_reply = probe[probe.index("C: RCPT TO:<rtest@survey.test>") + 1]
        assert rcpt_reply[3:6] in ("550", "454")

    def test_retry_interval_shows_in_the_log(self, probe_eims12):
        times = [line.split("  ")[0] for line in probe_eims12.log if "(survey.test)" in line or
                 "for survey.test" in line]
        # EIMS's queue: every 30 minutes (RFC 5321 §4.5.4.1, a modelling choice), 4 hours by the probe's knob
        assert len(times) == 18  # 9 attempts for the probe, 9 for its return to the sender
        assert times[0].endswith("1:26:03 AM")  # accepted 1:25:32, first try a second later, 30 s connect timeout
        assert times[1].endswith("1:56:33 AM")  # 30 minutes after the failed attempt ended

    def test_the_shortened_lifetime_is_visible(self, probe_eims12):
        assert probe_eims12.queue.lifetime == 4 * HOUR
        assert "shorter than the product's default" in probe_eims12.queue.source
        assert simlab.products.get("eims-1.2").queue.lifetime == 5 * 24 * HOUR

    def test_legitimate_mail_still_flows(self, probe_eims12):
        summary = probe_eims12.summary
        assert summary["legit_delivered"] > 20 and summary["legit_refused"] == 0
        assert summary["legit_pending"] == 0


class TestSpoofedPostmaster:
    def test_eims_relay_restriction_relays_every_spoofed_message(self):
        result = run(S.spoofed_postmaster(preset="eims-2.1"))
        assert result.summary["spam_relayed"] == 10 and result.summary["spam_refused"] == 0
        assert any("SMTP message from <Postmaster@example.com> to <" in line and "203.0.113.50" in line
                   for line in result.log)

    @pytest.mark.parametrize("preset", ["sims", "postfix"])
    def test_client_ip_rules_refuse_it(self, preset):
        result = run(S.spoofed_postmaster(preset=preset))
        assert result.summary["spam_relayed"] == 0 and result.summary["spam_refused"] == 10


class TestStrictIpRange:
    def test_inbound_mail_is_lost(self):
        summary = run(S.strict_ip_range()).summary
        assert summary["legit_refused"] > 0 and summary["spam_relayed"] == 0

    def test_mx_at_the_provider_fixes_it(self):
        result = run(S.strict_ip_range(mx_via_provider=True))
        assert result.summary["legit_refused"] == 0 and result.summary["spam_relayed"] == 0
        assert result.summary["legit_delivered"] > 20
        assert any("received from 198.51.100.25" in line for line in result.log)  # via the provider
        assert not any("received from 198.51.100.90" in line for line in result.log)  # never direct


class TestWrongPassword:
    def test_name_as_password_accounts_fall_and_leave_no_error_line(self):
        result = run(S.wrong_password())
        assert result.world.compromised == {"webmaster", "info"}
        wrong = [line for line in result.log if "POP3 wrong password for" in line]
        assert any(line.endswith("POP3 wrong password for bob from 203.0.113.226") for line in wrong)
        assert not any("for webmaster from 203.0.113.226" in line for line in wrong)
        assert any(line.endswith("POP3 connection from 203.0.113.226 for webmaster") for line in result.log)

    @pytest.mark.parametrize("knobs", [{"pop3_ip_restriction": True}, {"router_filter": True},
                                       {"fail2ban": True, "bantime": 86400}])
    def test_restricting_or_banning_first_protects_them(self, knobs):
        assert run(S.wrong_password(**knobs)).summary["accounts_compromised"] == 0

    def test_ip_restriction_costs_the_roaming_user(self):
        assert run(S.wrong_password(pop3_ip_restriction=True)).summary["legit_logins_refused"] > 0

    def test_short_bans_and_lockouts_only_slow_it(self):
        assert run(S.wrong_password(fail2ban=True)).summary["accounts_compromised"] == 2
        locked = run(S.wrong_password(lockout=5)).summary
        assert locked["accounts_compromised"] == 2 and locked["legit_logins_refused"] >= 1  # bob was locked out

    def test_a_pool_of_addresses_walks_past_fail2ban(self):
        summary = run(S.wrong_password(fail2ban=True, bantime=86400, guesser_ips=20)).summary
        assert summary["accounts_compromised"] == 2 and summary["bans"] == 0


class TestIpRotation:
    def test_per_ip_bans_lower_but_do_not_stop_relayed_spam(self):
        none = run(S.ip_rotation(defence="none")).summary
        banned = run(S.ip_rotation(defence="per_ip_ban")).summary
        assert none["spam_relayed"] == 200
        assert 0 < banned["spam_relayed"] < none["spam_relayed"] and banned["bans"] > 0

    def test_please_stop_changes_nothing(self):
        summary = run(S.ip_rotation(defence="please_stop")).summary
        assert summary["spam_relayed"] == 200 and summary["complaints_sent"] > 0

    @pytest.mark.parametrize("pool_size", [5, 50, 200])
    def test_allow_list_stops_it_whatever_the_pool(self, pool_size):
        assert run(S.ip_rotation(defence="allowlist", pool_size=pool_size)).summary["spam_relayed"] == 0

    def test_admin_blocking_by_hand_also_locks_out_a_roaming_user(self):
        summary = run(S.ip_rotation(defence="admin_block")).summary
        assert summary["spam_relayed"] < 200 and summary["legit_logins_refused"] > 0


class TestFlood:
    def test_a_1998_server_is_knocked_offline(self):
        summary = run(S.flood(preset="eims-2.1")).summary
        assert summary["legit_refused"] > 10 and summary["connections_dropped"] > 1000

    def test_per_client_limit_protects_postfix_from_one_address(self):
        summary = run(S.flood(preset="postfix")).summary
        assert summary["legit_refused"] == 0 and summary["legit_logins_refused"] == 0

    def test_but_not_from_many(self):
        assert run(S.flood(preset="postfix", flooder_ips=10)).summary["legit_refused"] > 10


class TestMixedTraffic:
    def test_counts_add_up(self):
        summary = run(S.mixed_traffic(sessions=400)).summary
        assert summary["sessions"] >= 400
        assert summary["spam_relayed"] == 0 and summary["spam_refused"] > 50
        assert summary["legit_delivered"] > 100

    def test_counts_only_mode_keeps_no_events_but_the_same_counts(self):
        full = run(S.mixed_traffic(sessions=300))
        lean = run(S.mixed_traffic(sessions=300), counts_only=True)
        assert lean.transcripts == [] and lean.events.empty and lean.log == []
        for key in ("spam_refused", "legit_refused", "spam_relayed"):
            assert lean.summary[key] == full.summary[key]
        assert lean.server.mailboxes.get("bob", []) == [] and lean.server.queue == []


class TestResults:
    def test_summary_keys_events_and_series(self, probe_eims12):
        assert set(SUMMARY_KEYS) <= set(probe_eims12.summary)
        events = probe_eims12.events
        assert list(events.columns) == ["time", "host", "client_ip", "actor", "command", "reply_code", "outcome"]
        rcpt = events[(events.actor == "relay survey") & (events.command == "RCPT")]
        assert rcpt.reply_code.tolist() == [250]
        series = probe_eims12.series("1h")
        assert series["log_lines"].sum() == len(probe_eims12.log)
        assert series["spam_relayed"].sum() == 1

    def test_same_seed_same_run_other_seed_other_log(self):
        a, b, c = (run(S.wrong_password(), seed=s) for s in (7, 7, 8))
        assert a.summary == b.summary and a.log == b.log
        assert a.log != c.log

    def test_scenario_can_be_run_twice(self):
        scenario = S.spoofed_postmaster()
        assert run(scenario).summary == run(scenario).summary

    @pytest.mark.parametrize("call, fragment", [
        (lambda: S.relay_probe(preset="postfix", relay_restriction=True),
         "relay_restriction: 'postfix' is a product without relay by sender domain"),
        (lambda: S.wrong_password(preset="sims", pop3_ip_restriction=True),
         "pop3_ip_restriction: 'sims' is a product without IP range restriction"),
        (lambda: S.ip_rotation(defence="prayer"), "is not a defence"),
        (lambda: S.ip_rotation(pool_size=0), "is not a positive number"),
        (lambda: S.relay_probe(preset="qmail"), "is not a preset"),
        (lambda: S.ip_rotation(preset="eims-1.2", defence="allowlist"), "without relay by client address"),
        (lambda: simlab.run("relay_probe"), "is not a scenario"),
    ])
    def test_bad_knobs_are_clear_errors(self, call, fragment):
        with pytest.raises(ConfigError, match=fragment):
            call()


class TestTimeline:
    def test_bans_failed_logins_and_refusals_are_on_the_timeline(self):
        result = run(S.wrong_password(fail2ban=True))
        whats = {what for _t, what in result.timeline}
        assert {"bans", "login_failures"} <= whats
        assert result.series("1h")["bans"].sum() == result.summary["bans"] > 0
        times = [t for t, _ in result.timeline]
        assert times == sorted(times)
        strict = run(S.strict_ip_range())
        assert strict.summary["connections_refused"] > 0  # 554 at connect, counted and drawn

    def test_bounce_reports_the_original_arrival(self):
        result = run(S.relay_probe(preset="eims-1.2"))
        report = "\n".join(result.server.mailboxes["postmaster"][0].lines)
        arrivals = [line for line in report.splitlines() if line.startswith("Arrival-Date:")]
        dates = [line for line in report.splitlines() if line.startswith("Date:")]
        assert arrivals[0].split(": ", 1)[1] != dates[0].split(": ", 1)[1]

"""S4 today: what SPF, DKIM and DMARC at yourcompany.test do to each flow of mail - and what they cannot do."""

import pytest

import simlab
from simlab import ConfigError
from simlab.auth.spf import check_host
from simlab.scenarios.sender_auth import FLOWS, summary_keys

S = simlab.scenarios
SEED = 3


def counts(result, flows=tuple(FLOWS)):
    return {key: result.summary[key] for key in summary_keys(flows)}


def run(**knobs):
    return simlab.run(S.sender_authentication(**knobs), seed=SEED)


@pytest.fixture(scope="module")
def default():
    return run()


def test_the_forums_spoof_still_passes_when_the_sites_server_relays_it(default):
    """EIMS 2.1 relays the Postmaster@example.com message from example.com's own address: SPF and DMARC pass."""
    c = counts(default)
    assert c["forged_via_site_delivered"] == 8 and c["forged_via_site_refused"] == 0
    assert default.summary["spam_relayed"] == 8
    yourcompany = default.world.network.host("mail.yourcompany.test").server
    spoof = next(m for m in yourcompany.mailboxes["user_name"] if m.sender == "Postmaster@example.com")
    assert spoof.lines[0].endswith("dmarc=pass (p=reject dis=none) header.from=example.com")
    assert spoof.lines[1].startswith("Received-SPF: Pass (mailfrom) identity=mailfrom; client-ip=192.0.2.25;")


def test_the_same_forgery_sent_directly_is_refused(default):
    c = counts(default)
    assert (c["forged_direct_delivered"], c["forged_direct_refused"]) == (0, 8)
    assert c["legit_via_site_delivered"] > 10 and c["legit_via_site_refused"] == 0


def test_debians_policyd_spf_refuses_forwarded_mail_before_dkim_is_looked_at(default):
    c = counts(default)
    assert c["legit_forwarded_refused"] > 0 and c["legit_forwarded_delivered"] == 0
    assert c["forged_forwarded_refused"] == 8


def test_closing_the_relay_and_signing_saves_forwarded_mail_and_stops_every_forgery():
    result = run(preset="postfix", dkim=True, spf_reject=False)
    c = counts(result)
    assert c["forged_via_site_refused"] == 8 and c["forged_via_site_delivered"] == 0  # lesson 03's fix
    assert c["forged_direct_refused"] == 8 and c["forged_forwarded_refused"] == 8
    assert c["legit_forwarded_delivered"] > 0 and c["legit_forwarded_refused"] == 0
    assert result.summary["legit_refused"] == 0


def test_without_dkim_p_reject_loses_the_forwarded_message():
    c = counts(run(preset="postfix", spf_reject=False))
    assert c["legit_forwarded_delivered"] == 0 and c["legit_forwarded_refused"] > 0


def test_quarantine_holds_instead_of_refusing():
    c = counts(run(dmarc="quarantine", spf_reject=False))
    assert c["forged_direct_quarantined"] == 8 and c["forged_direct_refused"] == 0
    assert c["legit_forwarded_quarantined"] > 0


def test_p_none_and_no_checks_deliver_everything():
    for knobs in ({"dmarc": "none", "spf_reject": False}, {"receiver_checks": False}):
        c = counts(run(**knobs))
        assert c["forged_direct_delivered"] == 8 and c["legit_forwarded_delivered"] > 0, knobs
        assert not any(v for k, v in c.items() if k.endswith("_refused") and "via_site" not in k), knobs


def test_pct_applies_the_policy_to_part_of_the_failing_mail():
    c = counts(run(spf_reject=False, pct=50, forgeries=40, every=1800))
    assert 0 < c["forged_direct_refused"] < 40
    assert c["forged_direct_refused"] + c["forged_direct_delivered"] == 40  # OpenDMARC: outside the sample, dis=none


def test_one_knob_changes_only_what_it_causes(default):
    """p=none instead of p=reject: the relayed spoof and the site's own mail are untouched; the rest moves."""
    changed = counts(run(dmarc="none"))
    before = counts(default)
    same = [k for k in before if "via_site" in k]
    assert {k: changed[k] for k in same} == {k: before[k] for k in same}
    written = [row for row in default.world.written]
    assert [row for row in run(dmarc="none").world.written] == written  # every actor wrote the same mail


def test_only_the_flows_asked_for_run():
    result = run(flows=("direct",))
    assert set(summary_keys(("direct",))) <= set(result.summary)
    assert "legit_forwarded_delivered" not in result.summary
    assert result.summary["forged_direct_refused"] == 8


def test_spf_of_the_scenarios_zone(default):
    zone = default.world.dns.zone()
    assert zone["example.com"] == [("MX", (10, "mail.example.com")), ("TXT", "v=spf1 mx -all")]
    assert check_host("192.0.2.25", "Postmaster@example.com", "mail.example.com", zone) == "pass"
    assert check_host("203.0.113.51", "Postmaster@example.com", "[203.0.113.51]", zone) == "fail"
    assert check_host("198.51.100.90", "bob@example.com", "mail.remote.test", zone) == "fail"
    assert check_host("198.51.100.90", "carol@remote.test", "mail.remote.test", zone) == "none"


def test_the_log_lines_of_the_receiver(default):
    log = default.world.network.host("mail.yourcompany.test").server.log
    assert any("policyd-spf[1801]: 550 5.7.23 Message rejected due to: SPF fail - not authorized. Please see "
               "http://www.openspf.net/Why?s=mfrom;id=postmaster@example.com;ip=203.0.113.51;r=yourcompany.test"
               in line for line in log)
    assert any(line.endswith(": example.com pass") and "opendmarc[812]" in line for line in log)


@pytest.mark.parametrize(("knobs", "field", "match"), [
    ({"spf": "mx -all"}, "spf", "is not an SPF record"),
    ({"dmarc": "strict"}, "dmarc", "is not one of the choices"),
    ({"pct": 101}, "pct", "is not a percentage"),
    ({"pct": True}, "pct", "is not a percentage"),
    ({"flows": ("legit", "spam")}, "flows", "is not a list of flows"),
    ({"flows": "legit"}, "flows", "is not a list of flows"),
    ({"dkim": True}, "dkim", "is a product without DKIM signing"),
    ({"dkim": "yes"}, "dkim", "is not a switch"),
    ({"forgeries": 0}, "forgeries", "is not a positive number"),
    ({"spf_reject": 1}, "spf_reject", "is not a switch"),
])
def test_bad_knobs_name_the_field(knobs, field, match):
    with pytest.raises(ConfigError, match=match) as info:
        S.sender_authentication(**knobs)
    assert info.value.setting == field


def test_dkim_needs_a_key_for_the_domain():
    server = simlab.presets.postfix(myhostname="mail.mycompany.test", mydestination=["mycompany.test"],
                                    mynetworks=["192.0.2.0/24"], accounts={"bob": "x"})
    with pytest.raises(ConfigError, match="is not a key simlab ships"):
        S.sender_authentication(server=server, dkim=True)


def test_it_is_in_the_catalog_and_a_file():
    assert S.SCENARIOS["sender_authentication"] is S.sender_authentication
    scenario = S.sender_authentication(preset="postfix", dkim=True, pct=40, flows=("forwarded", "direct"))
    again = S.loads_scenario(S.dumps_scenario(scenario))
    assert simlab.run(again, seed=2).summary == simlab.run(scenario, seed=2).summary


def test_a_file_with_txt_records_and_remote_settings():
    text = '''
name = "spf_only"
[server]
preset = "postfix"
[dns.txt]
"example.com" = ["v=spf1 mx -all"]
[remote_settings."mail.yourcompany.test"]
policyd_spf = true
[[actors]]
type = "ForgedSender"
name = "direct spoofer"
host = "attacker"
ips = ["203.0.113.51"]
server = "mail.yourcompany.test"
victims = ["ceo@yourcompany.test"]
messages = 3
every = 600.0
path = "direct"
'''
    result = simlab.run(S.loads_scenario(text), seed=1)
    assert result.summary["forged_direct_refused"] == 3
    with pytest.raises(ConfigError, match=r"dns\.txt\.example\.com"):
        S.loads_scenario(text.replace('["v=spf1 mx -all"]', '"v=spf1 mx -all"'))
    with pytest.raises(ConfigError, match="is not a known key"):
        S.loads_scenario(text.replace("policyd_spf = true", "spamassassin = true"))
    with pytest.raises(ConfigError, match="is not a server of the standard world"):
        simlab.run(S.loads_scenario(text.replace('"mail.yourcompany.test"]', '"mx.nowhere.test"]')), seed=1)

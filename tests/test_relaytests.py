"""nmap's 16 smtp-open-relay tests against every preset (simlab.relaytests)."""

import pytest

from simlab import ConfigError, products
from simlab.relaytests import (
    RELAY_TESTS,
    explain,
    reason_table,
    relay_test_bars,
    relay_test_table,
    run_nmap_script,
    run_relay_test,
    short_reason,
)

FOREIGN_LAST = {1, 2, 3, 4, 12, 13}  # the forms whose last domain is D itself


@pytest.fixture(scope="module")
def table():
    return relay_test_table()


def test_the_sixteen_forms_follow_nmap():
    assert len(RELAY_TESTS) == 16
    assert RELAY_TESTS[2].form == "from@S → to@D"
    assert RELAY_TESTS[2].addresses("d.test") == ("<antispam@mail.example.com>", "<relaytest@d.test>")
    assert RELAY_TESTS[9].addresses("d.test")[1] == '<"relaytest@d.test"@[192.0.2.25]>'
    assert RELAY_TESTS[15].form == "from@[IP] → D!to@S"


def test_table_has_one_row_per_test_and_one_column_per_preset(table):
    assert list(table.index) == list(range(1, 17))
    assert list(table.columns) == ["form", "rcpt_to", *products.names()]  # every registered product
    assert list(table.columns)[2:6] == ["eims-1.2", "eims-2.1", "sims", "postfix"]
    assert table.loc[7, "rcpt_to"] == '<"relaytest@nmap.scanme.test">'


def test_eims_relays_every_form_whose_last_domain_is_foreign(table):
    for preset in ("eims-1.2", "eims-2.1"):
        accepted = {n for n, code in table[preset].items() if 200 <= code < 300}
        assert accepted == FOREIGN_LAST, preset
        # the routed forms end at the server itself: an unknown local user, not a relay refusal
        assert set(table[preset][~table.index.isin(FOREIGN_LAST)]) == {550}


def test_eims_relay_restriction_lets_the_spoofed_sender_through():
    codes = relay_test_table(["eims-2.1"], eims_2_1={"relay_restriction": True})["eims-2.1"]
    assert codes[3] == 250  # from@S -> to@D: the forum's Postmaster trick
    assert codes[1] == 550 and codes[2] == 550 and codes[4] == 550
    assert sum(200 <= c < 300 for c in codes) == 1


def test_postfix_and_sims_refuse_everything_from_outside(table):
    assert set(table["postfix"]) == {454}
    assert all(code >= 500 for code in table["sims"])


def test_from_the_lan_postfix_relays_and_reject_gives_554():
    lan = relay_test_table(["postfix"], client_ip="192.0.2.101")["postfix"]
    assert lan[1] == 250 and lan[14] == 250
    reject = relay_test_table([("reject", "postfix", {"smtpd_relay_restrictions": "permit_mynetworks, "
                                                      "reject_unauth_destination"})])["reject"]
    assert set(reject) == {554}


def test_one_run_keeps_the_dialogue_and_the_log():
    run = run_relay_test("postfix", 5)
    assert run.rcpt_reply.code == 454 and not run.accepted
    assert "C: RCPT TO:<relaytest%nmap.scanme.test@[192.0.2.25]>" in run.transcript
    assert any("NOQUEUE: reject: RCPT from unknown[203.0.113.7]: 454 4.7.1" in line for line in run.log)
    assert run.resolution.domain == "nmap.scanme.test" and run.resolution.routed


def test_explain_names_the_domain_each_product_looked_at():
    eims = explain("eims-1.2", 5)
    assert "domain after the last @" in eims and "[192.0.2.25] is its own address" in eims
    assert "No such mailbox" in eims
    postfix = explain("postfix", 5)
    assert "percent hack" in postfix and "relaytest@nmap.scanme.test" in postfix and "454" in postfix
    assert "temporary" in postfix
    assert "bang path" in explain("postfix", 14)
    spoof = explain("eims-2.1", 3, relay_restriction=True)
    assert "claims the local domain mail.example.com" in spoof and "250" in spoof
    assert "has no domain" in explain("eims-2.1", 1, relay_restriction=True)
    sims = explain("sims", 2)
    assert "nmap.scanme.test is not one of its local domains" in sims and "203.0.113.7 is not one of them" in sims
    assert "open relay" in explain("eims-1.2", 1)


def test_bad_entries_raise_config_errors():
    with pytest.raises(ConfigError, match="domain: '' is not a domain name"):
        relay_test_table(domain="")
    with pytest.raises(ConfigError, match="client_ip"):
        relay_test_table(client_ip="203.0.113.300")
    with pytest.raises(ConfigError, match="is not a preset"):
        relay_test_table(["exchange"])
    with pytest.raises(ConfigError, match="names no preset"):
        relay_test_table(sendmail={})
    with pytest.raises(ConfigError, match="from 1 to 16"):
        explain("sims", 17)


def test_reason_table_gives_code_and_short_reason():
    reasons = reason_table([3, 5], ["eims-1.2", ("rr", "eims-2.1", {"relay_restriction": True}), "postfix"])
    assert list(reasons.columns) == ["form", "eims-1.2", "rr", "postfix"]
    assert reasons.loc[3, "rr"] == "250 relayed: the sender claims a local domain"
    assert reasons.loc[5, "eims-1.2"] == "550 unknown local user (not seen as relaying)"
    assert reasons.loc[5, "postfix"] == "454 relaying refused, for now"
    assert short_reason(run_relay_test("eims-1.2", 1)) == "250 relayed: no relay control"


def test_relay_test_bars_use_the_spam_colours_and_plain_labels():
    from matplotlib.colors import to_hex

    from simlab.plots import COLOURS

    figure = relay_test_bars(relay_test_table(["eims-1.2", "postfix"]))
    ax = figure.axes[0]
    accepted, refused = ax.containers
    assert [bar.get_height() for bar in accepted] == [6, 0] and [bar.get_height() for bar in refused] == [10, 16]
    assert to_hex(accepted[0].get_facecolor()) == COLOURS["spam_relayed"]
    assert to_hex(refused[0].get_facecolor()) == COLOURS["spam_refused"]
    assert [t.get_text() for t in ax.get_legend().get_texts()][1] == "refused (4xx/5xx)"


def test_exim_refuses_nmaps_domain_literal_sender_at_mail_and_no_rcpt_is_sent(table):
    codes = table["exim"]
    assert [codes[n] for n in (1, 2, 3)] == [550, 550, 550]  # 550 relay not permitted, at RCPT
    assert set(codes[4:]) == {501} and table.attrs["refused_at_mail"]["exim"] == list(range(4, 17))
    assert table.attrs["refused_at_mail"]["postfix"] == []
    run = run_relay_test("exim", 4)
    assert run.refused_at_mail and run.rcpt_reply is None and not run.accepted and run.resolution is None
    assert run.reply.code == 501 and run.reply.text == "<antispam@[192.0.2.25]>: domain literals not allowed"
    assert not any(line.startswith("C: RCPT") for line in run.transcript)  # nmap sends RCPT only after a 250
    assert short_reason(run) == "501 sender refused at MAIL (no RCPT sent)"
    story = explain("exim", 14)
    assert "RCPT TO:<nmap.scanme.test!relaytest> (not sent)" in story and "allow_domain_literals" in story
    assert "never asked to relay" in story and "bang path" not in story  # no claim about a recipient never read
    assert "550 relay not permitted" in explain("exim", 3)
    assert reason_table([1], ["exim"]).loc[1, "exim"] == "550 relaying refused"


def test_nmap_script_in_one_session_stops_when_exim_drops_it():
    exim = run_nmap_script("exim")
    assert exim.relayed == [] and exim.ended_early == 8 and len(exim.steps) == 7  # 4 syntax errors: tests 4-7
    assert exim.output == "SMTP RSET: failed to receive data: connection closed"
    assert "S: 501 Too many syntax or protocol errors" in exim.transcript
    assert any("dropped: too many syntax or protocol errors" in line for line in exim.log)
    assert run_nmap_script("postfix").output == "Server doesn't seem to be an open relay, all tests failed"
    eims = run_nmap_script("eims-1.2")
    assert eims.output == "Server is an open relay (6/16 tests)" and eims.relayed == sorted(FOREIGN_LAST)

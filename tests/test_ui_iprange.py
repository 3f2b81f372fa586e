"""Lesson 04's panel and exercise (S5), driven headlessly (observers fire synchronously)."""

import pytest

from simlab.errors import ConfigError
from simlab.exercises.iprange import check_ip_range, parse_ip_ranges
from simlab.ui.iprange import ip_range_lab

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def lab():
    return ip_range_lab()


def test_strict_range_refuses_correspondents_at_connect(lab):
    result, ranges, _refused = lab.outcome
    assert lab.error is None and ranges == ["192.0.2.1-192.0.2.254"]
    assert result.summary["legit_refused"] == 35 and result.summary["spam_relayed"] == 0
    assert "SMTP connection from 198.51.100.90 refused by IP Range Restriction" in lab.views["server log"].value
    dialogue = lab.views["a refused correspondent"].value
    assert "carol&#x27;s MTA" in dialogue and "S: 554 mail.example.com Access denied" in dialogue
    mx = lab.views["DNS MX answer"].value
    assert "IN MX 10 mail.example.com." in mx and "198.51.100.90: <b style='color:#b00020'>refused" in mx
    bars = lab.views["outcome"].children[0].value
    assert "class='simlab-bars'" in bars and "data-key='legit_refused'" in bars and ">35</span>" in bars
    assert "carol&#x27;s MTA (198.51.100.90): 21" in lab.views["outcome"].children[1].value


def test_mx_at_provider_needs_the_provider_in_the_range(lab):
    lab.controls["mx_via_provider"].value = True
    result = lab.outcome[0]
    assert result.world.dns.mx["example.com"] == ["mx.provider.test"]
    # the provider keeps the refused mail (Postfix: 5 days), so within the day it is pending, not returned
    assert result.summary["legit_refused"] == 0 and result.summary["legit_pending"] > 0
    assert "198.51.100.25: <b style='color:#b00020'>refused by your range" in lab.views["DNS MX answer"].value
    assert "mx.provider.test (relay)" in lab.views["a refused correspondent"].value
    lab.controls["ranges"].value = "192.0.2.1 - 192.0.2.254, 198.51.100.25-198.51.100.25"
    result, ranges, _refused = lab.outcome
    assert ranges == ["192.0.2.1-192.0.2.254", "198.51.100.25-198.51.100.25"]
    assert result.summary["legit_refused"] == 0 and result.summary["legit_delivered"] == 48
    assert result.summary["spam_relayed"] == 0
    assert "allowed by your range" in lab.views["DNS MX answer"].value
    assert "delivered." in lab.views["a refused correspondent"].value
    lab.controls["mx_via_provider"].value = False
    lab.controls["ranges"].value = "192.0.2.1-192.0.2.254"


def test_no_range_lets_the_spoofed_sender_relay():
    lab = ip_range_lab()
    lab.controls["ranges"].value = ""
    result, ranges, _refused = lab.outcome
    assert ranges == [] and result.summary["spam_relayed"] == 10 and result.summary["legit_refused"] == 0
    assert "is off (no range typed)" in lab.views["DNS MX answer"].value
    lab.controls["relay_restriction"].value = False
    assert lab.outcome[0].summary["spam_relayed"] == 10


@pytest.mark.parametrize(("typed", "problem"), [
    ("192.0.2.254-192.0.2.1", "'192.0.2.254-192.0.2.1' is a reversed range"),
    ("192.0.2.1-192.0.2.300", "'192.0.2.1-192.0.2.300' is not an address range"),
    ("192.0.2.1-192.0.2.254, mail.example.com", "'mail.example.com' is not an address range"),
])
def test_bad_range_shows_a_message_and_keeps_what_was_typed(typed, problem):
    lab = ip_range_lab()
    good = lab.outcome
    lab.controls["ranges"].value = typed
    assert lab.error.startswith("IP Range Restriction (SMTP): ") and problem in lab.error
    assert "Traceback" not in lab.message.value and problem.replace("'", "&#x27;") in lab.message.value
    assert lab.controls["ranges"].value == typed and lab.outcome is good
    lab.controls["ranges"].value = "192.0.2.1-192.0.2.254"
    assert lab.error is None and lab.message.value == ""


def test_parse_ip_ranges_reads_eims_form():
    assert parse_ip_ranges("192.0.2.1-192.0.2.254\n198.51.100.25") == ["192.0.2.1-192.0.2.254", "198.51.100.25"]
    assert parse_ip_ranges("  ") == []
    with pytest.raises(ConfigError, match="reversed range"):
        parse_ip_ranges(["198.51.100.30-198.51.100.25"])


def test_checker_names_refused_correspondents_and_spam():
    first_try = check_ip_range("192.0.2.1-192.0.2.254")
    assert not first_try
    assert "carol's MTA at 198.51.100.90 was refused at connect (554 Access denied) 21 times" in first_try.messages
    assert ("yourcompany's MTA at 198.51.100.80 was refused at connect (554 Access denied) 14 times"
            in first_try.messages)
    assert not any("spam" in m for m in first_try.messages)
    wide_open = check_ip_range("0.0.0.0-255.255.255.255", mx_via_provider=True)
    assert not wide_open
    assert wide_open.messages == ["spam got through: 10 messages from 203.0.113.0/24 (spoofing spammer) "
                                  "got 250 at RCPT"]
    only_provider = check_ip_range("198.51.100.25-198.51.100.25", mx_via_provider=True)
    assert "bob (LAN) at 192.0.2.101 was refused at connect (554 Access denied) 13 times" in only_provider.messages
    typo = check_ip_range("192.0.2.254-192.0.2.1")
    assert not typo and "reversed range" in typo.messages[0]


def test_checker_passes_the_provider_mx():
    verdict = check_ip_range("192.0.2.1-192.0.2.254, 198.51.100.25-198.51.100.25", mx_via_provider=True)
    assert verdict and verdict.messages == ["no spam relayed, no legitimate mail lost"]
    listed = check_ip_range("192.0.2.1-192.0.2.254, 198.51.100.80, 198.51.100.90")
    assert listed and any("refuses the next new one" in m for m in listed.messages)

"""DKIM with dkimpy (RFC 6376): the lesson key signs, the simulated DNS publishes it, and what breaks a signature."""

import pytest

from simlab import ConfigError
from simlab.auth import dkim as D
from simlab.auth.spf import TIMEOUT

NOW = 897528332  # 1998-06-11 01:25:32 UTC, the simulated clock's start
MESSAGE = ["From: <bob@example.com>", "To: <sales@remote.test>", "Subject: Re: the order",
           "Date: Thu, 11 Jun 1998 01:25:32 +0000", "Message-ID: <1.bob@example.com>", "", "See you Monday."]
ZONE = {"mail._domainkey.example.com": [("TXT", D.key_record("example.com"))]}


def signed(lines=MESSAGE, now=NOW):
    return [*D.sign(lines, "example.com", "mail", now=now), *lines]


def test_round_trip_passes_with_the_published_key():
    [verdict] = D.verify(signed(), ZONE, now=NOW + 60)
    assert verdict.result == "pass"
    assert (verdict.domain, verdict.selector, verdict.identity, verdict.algorithm) == (
        "example.com", "mail", "@example.com", "rsa-sha256")
    assert verdict.keybits == 2048 and verdict.reason == ""


def test_the_signature_is_the_same_every_time_and_carries_the_simulated_time():
    assert signed() == signed()
    header = " ".join(D.sign(MESSAGE, "example.com", now=NOW))
    assert f"t={NOW};" in header and "c=relaxed/simple" in header and "d=example.com" in header
    assert D.sign(MESSAGE, "example.com", now=NOW + 1) != D.sign(MESSAGE, "example.com", now=NOW)


def test_a_changed_body_breaks_it():
    lines = signed()
    lines[-1] = "See you Tuesday."
    [verdict] = D.verify(lines, ZONE, now=NOW)
    assert (verdict.result, verdict.reason) == ("fail", "body hash did not verify")


def test_a_changed_signed_header_breaks_it():
    lines = [line.replace("Re: the order", "[list] Re: the order") for line in signed()]
    [verdict] = D.verify(lines, ZONE, now=NOW)
    assert (verdict.result, verdict.reason) == ("fail", "signature did not verify")


def test_a_forwarders_received_header_does_not_break_it():
    lines = ["Received: from mail.example.com (unknown [192.0.2.25])", "\tby mail.remote.test with ESMTP id 1",
             *signed()]
    assert [v.result for v in D.verify(lines, ZONE, now=NOW)] == ["pass"]


def test_a_second_from_breaks_the_oversigned_from():
    lines = signed()
    at = lines.index(MESSAGE[0])
    lines.insert(at, "From: <Postmaster@example.com>")
    assert D.verify(lines, ZONE, now=NOW)[0].result == "fail"


def test_no_key_no_signature_and_a_timeout():
    assert D.verify(signed(), {}, now=NOW)[0].result == "permerror"
    assert D.verify(signed(), {"mail._domainkey.example.com": TIMEOUT}, now=NOW)[0].result == "temperror"
    assert D.verify(MESSAGE, ZONE, now=NOW) == [D.DkimResult("none")]


def test_the_record_publishes_the_shipped_key():
    record = D.key_record("example.com", "mail")
    assert record.startswith("v=DKIM1; k=rsa; p=MIIBIjAN")
    assert D.key_name("mail", "Example.COM") == "mail._domainkey.example.com"
    assert D.KEY_DIR.joinpath("README.md").read_text().count("not secret") == 1


def test_bad_requests_are_config_errors():
    with pytest.raises(ConfigError, match="is not a key simlab ships"):
        D.sign(MESSAGE, "example.net", "mail", now=NOW)
    with pytest.raises(ConfigError, match="cannot be signed"):
        D.sign(MESSAGE[1:], "example.com", now=NOW)


def test_message_bytes_round_trip():
    assert D.split_message(D.message_bytes(MESSAGE)) == MESSAGE


def test_a_signature_from_the_verifiers_future_is_neutral():
    assert D.verify(signed(now=NOW + 3600), ZONE, now=NOW)[0].result == "pass"  # within dkimpy's 10 h leeway
    assert D.verify(signed(now=NOW + 10**9), ZONE, now=NOW)[0].result == "neutral"  # t= in the future


def test_the_signer_writes_what_dkimpys_own_sign_writes():
    """simlab's signer differs from dkim.sign only in where t= comes from: at the host's time they agree."""
    import time

    import dkim

    data = D.message_bytes(MESSAGE)
    key = D.private_key("example.com", "mail")
    headers = [h.encode() for h in D.SIGNED_HEADERS]
    for _ in range(3):  # the two calls may straddle a second
        now = int(time.time())
        theirs = dkim.sign(data, b"mail", b"example.com", key, include_headers=headers)
        ours = D._Signer(data).sign_at(now, b"mail", b"example.com", key, headers)
        if f"t={now};".encode() in theirs.replace(b"\r\n ", b" "):
            break
    assert ours == theirs

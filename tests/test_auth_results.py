"""Authentication-Results (RFC 8601), written and read back with authres."""

from simlab.auth import dmarc as M
from simlab.auth import results as R
from simlab.auth.dkim import DkimResult

DNS = {"_dmarc.example.com": [("TXT", "v=DMARC1; p=reject")]}


def test_the_forged_postmasters_header():
    verdict = M.evaluate("example.com", DNS, spf_result="fail", spf_domain="example.com")
    header = R.build("mail.yourcompany.test", spf="fail", spf_domain="example.com", dkim=[DkimResult("none")],
                     dmarc=verdict)
    assert header == ("Authentication-Results: mail.yourcompany.test; spf=fail smtp.mailfrom=example.com; "
                      "dkim=none; dmarc=fail (p=reject dis=reject) header.from=example.com")
    parsed = R.parse(header)
    assert parsed.authserv_id == "mail.yourcompany.test"
    assert [(r.method, r.result) for r in parsed.results] == [("spf", "fail"), ("dkim", "none"), ("dmarc", "fail")]
    assert parsed.get("dmarc")[0].properties == {"header.from": "example.com"}


def test_a_signed_forwarded_message():
    signature = DkimResult("pass", "example.com", "mail", "@example.com", "rsa-sha256", 2048, "R2p/EQe8Lu1+pgyF")
    verdict = M.evaluate("example.com", DNS, spf_result="fail", spf_domain="example.com", dkim=[signature])
    header = R.build("mail.yourcompany.test", spf="fail", spf_domain="example.com", dkim=[signature], dmarc=verdict)
    # "/" is a tspecial of RFC 2045, so authres quotes the value (RFC 8601 §2.2: value is a token or a quoted string)
    assert 'dkim=pass (2048-bit key) header.d=example.com header.i=@example.com header.s=mail header.b="R2p/EQe8"' \
        in header
    assert "dmarc=pass (p=reject dis=none)" in header
    dkim = R.parse(header).get("dkim")[0]
    assert dkim.properties["header.d"] == "example.com" and dkim.properties["header.b"] == "R2p/EQe8"


def test_null_sender_and_no_record():
    header = R.build("mx.test", spf="pass", spf_domain="mail.example.com", spf_helo=True,
                     dmarc=M.evaluate("remote.test", {}))
    assert header == ("Authentication-Results: mx.test; spf=pass smtp.helo=mail.example.com; dkim=none; "
                      "dmarc=none header.from=remote.test")
    assert R.parse(header.split(": ", 1)[1]).get("spf")[0].properties == {"smtp.helo": "mail.example.com"}


def test_header_b_is_eight_characters():
    assert R.header_b("abcdefghijkl") == "abcdefgh"

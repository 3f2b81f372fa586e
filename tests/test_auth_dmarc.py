"""DMARC (RFC 7489): records, policy discovery with the Public Suffix List, alignment, pct."""

import random

import pytest

from simlab import ConfigError
from simlab.auth import dmarc as M
from simlab.auth.dkim import DkimResult
from simlab.auth.spf import TIMEOUT


def zone(**records):
    return {f"_dmarc.{name.replace('_', '.')}": [("TXT", text)] for name, text in records.items()}


@pytest.mark.parametrize(("identifier", "author", "mode", "expected"), [
    ("example.com", "example.com", "s", True),
    ("example.com", "example.com", "r", True),
    ("mail.example.com", "example.com", "r", True),
    ("mail.example.com", "example.com", "s", False),
    ("example.com", "news.example.com", "r", True),
    ("example.com", "example.net", "r", False),
    ("a.example.co.uk", "b.example.co.uk", "r", True),
    ("example.co.uk", "other.co.uk", "r", False),
    ("co.uk", "example.co.uk", "r", False),
    ("remote.test", "example.com", "r", False),
    ("", "example.com", "r", False),
])
def test_alignment_table(identifier, author, mode, expected):
    assert M.aligned(identifier, author, mode) is expected


def test_organizational_domain_comes_from_the_public_suffix_list():
    assert M.organizational_domain("mail.example.com") == "example.com"
    assert M.organizational_domain("a.b.example.co.uk") == "example.co.uk"
    assert M.organizational_domain("mx.yourcompany.test") == "yourcompany.test"
    assert M.organizational_domain("co.uk") == "co.uk"


def test_bad_alignment_mode():
    with pytest.raises(ConfigError, match="alignment mode"):
        M.aligned("example.com", "example.com", "x")


def test_records_and_their_errors():
    assert M.parse_record("v=spf1 -all") is None
    assert M.parse_record("p=reject; v=DMARC1") is None  # v= must come first (§6.3)
    record = M.parse_record("v=DMARC1; p=Reject; sp=none; pct=20; adkim=s; rua=mailto:d@example.com")
    assert (record.p, record.sp, record.pct, record.adkim, record.aspf, record.rua) == (
        "reject", "none", 20, "s", "r", ("mailto:d@example.com",))
    assert record.valid and not record.errors
    odd = M.parse_record("v=DMARC1; p=reject; pct=150; aspf=x; p=none; foo=bar")
    assert (odd.p, odd.pct, odd.aspf) == ("reject", 100, "r") and len(odd.errors) == 3
    no_p = M.parse_record("v=DMARC1; rua=mailto:d@example.com")
    assert no_p.valid and no_p.p == "none"  # §6.6.3: a valid rua, so act as p=none
    assert not M.parse_record("v=DMARC1; p=maybe").valid


def test_discovery_falls_back_to_the_organizational_domain():
    dns = zone(example_com="v=DMARC1; p=reject; sp=quarantine")
    found = M.discover("news.example.com", dns)
    assert (found.status, found.policy_domain, found.queried) == (
        "found", "example.com", ("_dmarc.news.example.com", "_dmarc.example.com"))
    result = M.evaluate("news.example.com", dns)
    assert (result.result, result.policy, result.disposition) == ("fail", "quarantine", "quarantine")
    assert M.evaluate("example.com", dns).policy == "reject"  # sp is for subdomains only
    own = dns | zone(news_example_com="v=DMARC1; p=none")
    assert M.evaluate("news.example.com", own).policy_domain == "news.example.com"


def test_discovery_outcomes():
    assert M.discover("example.com", {}).status == "none"
    assert M.evaluate("example.com", {"_dmarc.example.com": TIMEOUT}).result == "temperror"
    two = {"_dmarc.example.com": [("TXT", "v=DMARC1; p=reject"), ("TXT", "v=DMARC1; p=none")]}
    assert M.evaluate("example.com", two).result == "none"
    assert M.evaluate("example.com", zone(example_com="v=DMARC1; p=maybe")).result == "permerror"
    assert M.evaluate("", zone(example_com="v=DMARC1; p=reject")).result == "none"


def test_pass_needs_an_aligned_pass():
    dns = zone(example_com="v=DMARC1; p=reject")
    assert M.evaluate("example.com", dns, spf_result="pass", spf_domain="example.com").spf_aligned
    bounce = M.evaluate("example.com", dns, spf_result="pass", spf_domain="bounces.esp.test")
    assert (bounce.result, bounce.disposition) == ("fail", "reject")
    forwarded = M.evaluate("example.com", dns, spf_result="fail", spf_domain="example.com",
                           dkim=[DkimResult("pass", domain="example.com")])
    assert (forwarded.result, forwarded.dkim_aligned, forwarded.spf_aligned) == ("pass", True, False)
    foreign_signature = M.evaluate("example.com", dns, dkim=[("pass", "remote.test")])
    assert foreign_signature.result == "fail"
    strict = zone(example_com="v=DMARC1; p=reject; adkim=s")
    assert M.evaluate("example.com", strict, dkim=[("pass", "mail.example.com")]).result == "fail"


def test_pct_samples_with_the_receivers_stream():
    dns = zone(example_com="v=DMARC1; p=reject; pct=30")
    rng = random.Random(5)
    results = [M.evaluate("example.com", dns, sample=rng) for _ in range(1000)]
    rejected = sum(r.disposition == "reject" for r in results)
    assert 250 < rejected < 350
    assert {r.disposition for r in results if not r.sampled} == {"quarantine"}  # §6.6.4: the next policy down
    again = [M.evaluate("example.com", dns, sample=random.Random(5)).disposition for _ in range(3)]
    assert len(set(again)) == 1
    quarantine = zone(example_com="v=DMARC1; p=quarantine; pct=0")
    assert M.evaluate("example.com", quarantine, sample=rng).disposition == "none"


def test_full_pct_draws_nothing():
    rng = random.Random(1)
    state = rng.getstate()
    M.evaluate("example.com", zone(example_com="v=DMARC1; p=reject"), sample=rng)
    M.evaluate("example.com", zone(example_com="v=DMARC1; p=none; pct=10"), sample=rng)
    assert rng.getstate() == state


def test_author_domain():
    assert M.author_domain("<Postmaster@Example.COM>") == "example.com"
    assert M.author_domain('"Bob" <bob@example.com>') == "example.com"
    assert M.author_domain("a@example.com, b@example.net") is None
    assert M.author_domain(None) is None

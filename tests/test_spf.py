"""SPF (RFC 7208) as the forum's spoofed Postmaster would meet it today, and check_host's own contract.

example.com stands for the thread's mycompany.co.jp, 192.0.2.25 for its mail server, 203.0.113.50
for the outsider who wrote ``MAIL FROM:<Postmaster@...>`` and remote.test (198.51.100.7) for a
site that forwards mail. The official suite is in ``test_spf_rfc7208.py``.
"""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simlab.auth.spf import DEFAULT_NOW, RESULTS, TIMEOUT, SpfResult, check_host
from simlab.errors import ConfigError

FORUM = {
    "example.com": [("TXT", "v=spf1 mx -all"), ("MX", (10, "mail.example.com"))],
    "mail.example.com": [("A", "192.0.2.25"), ("TXT", "v=spf1 a -all")],
    "remote.test": [("TXT", "v=spf1 ip4:198.51.100.0/24 -all")],
}


def test_the_spoofed_postmaster_fails():
    result = check_host("203.0.113.50", "Postmaster@example.com", "mail.example.com", FORUM)
    assert result == "fail" and isinstance(result, str)
    assert result.mechanism == "-all" and result.domain == "example.com" and result.lookups == 1
    assert result.explanation == "domain of example.com does not designate 203.0.113.50 as permitted sender"
    assert result.reason == "example.com does not allow 203.0.113.50 to send its mail ('-all' matched)."


def test_example_coms_own_server_passes():
    result = check_host("192.0.2.25", "<bob@example.com>", "mail.example.com", FORUM)
    assert result == "pass" and result.mechanism == "mx" and result.explanation is None
    assert "allows 192.0.2.25" in result.reason


def test_a_forwarder_that_keeps_the_envelope_sender_fails():
    # alice@remote.test writes to bob@example.com, who forwards to carol@other.test: example.com's
    # server relays it with the original MAIL FROM, and remote.test never listed 192.0.2.25.
    assert check_host("198.51.100.7", "alice@remote.test", "mx.remote.test", FORUM) == "pass"
    forwarded = check_host("192.0.2.25", "alice@remote.test", "mail.example.com", FORUM)
    assert forwarded == "fail" and forwarded.mechanism == "-all"


def test_the_null_sender_is_checked_as_postmaster_at_the_helo_name():
    for null in ("", "<>"):
        result = check_host("192.0.2.25", null, "mail.example.com", FORUM)
        assert result == "pass" and result.domain == "mail.example.com" and result.mechanism == "a"
    assert check_host("203.0.113.50", "<>", "mail.example.com", FORUM) == "fail"
    assert check_host("203.0.113.50", "<>", "[203.0.113.50]", FORUM) == "none"


def test_no_record_and_malformed_domains_give_none():
    assert check_host("203.0.113.50", "x@unlisted.test", "h.test", FORUM) == "none"
    result = check_host("203.0.113.50", "x@localhost", "h.test", FORUM)
    assert result == "none" and "not a domain name" in result.reason and result.mechanism is None


def chain(length):
    """``l1.test`` includes ``l2.test``, which includes ``l3.test``... the last one allows 192.0.2.1."""
    dns = {f"l{n}.test": [("TXT", f"v=spf1 include:l{n + 1}.test -all")] for n in range(1, length)}
    dns[f"l{length}.test"] = [("TXT", "v=spf1 ip4:192.0.2.1 -all")]
    return dns


def test_ten_dns_terms_are_allowed_and_the_eleventh_is_a_permerror():
    at_limit = check_host("192.0.2.1", "a@l1.test", "h.test", chain(11))
    assert at_limit == "pass" and at_limit.lookups == 10 and at_limit.mechanism == "include:l2.test"
    over = check_host("192.0.2.1", "a@l1.test", "h.test", chain(12))
    assert over == "permerror" and over.lookups == 11 and "allows 10" in over.reason
    assert over.explanation is None and over.mechanism is None


def test_the_third_void_lookup_is_a_permerror():
    two = {"v.test": [("TXT", "v=spf1 a:gone1.test exists:gone2.test ?all")]}
    three = {"v.test": [("TXT", "v=spf1 a:gone1.test mx:gone2.test exists:gone3.test ?all")]}
    assert check_host("192.0.2.1", "a@v.test", "h.test", two) == "neutral"
    assert check_host("192.0.2.1", "a@v.test", "h.test", three) == "permerror"


@pytest.mark.parametrize(("inner", "outer"), [
    ("v=spf1 +all", "pass"), ("v=spf1 -all", "softfail"), ("v=spf1 ~all", "softfail"),
    ("v=spf1 ?all", "softfail"), ("not spf", "permerror"), ("v=spf1 bogus", "permerror"), (TIMEOUT, "temperror"),
])
def test_include_maps_the_included_result(inner, outer):
    # RFC 7208 §5.2: only pass matches; none becomes permerror; errors propagate.
    dns = {"outer.test": [("TXT", "v=spf1 include:inner.test ~all")],
           "inner.test": [("TXT", inner)]}
    assert check_host("192.0.2.1", "a@outer.test", "h.test", dns) == outer


def test_an_ipv4_mapped_client_is_an_ipv4_client():
    dns = {"m.test": [("TXT", "v=spf1 ip6:::ffff:192.0.2.1 ip4:192.0.2.1 -all")]}
    result = check_host("::ffff:192.0.2.1", "a@m.test", "h.test", dns)
    assert result == "pass" and result.mechanism == "ip4:192.0.2.1"
    assert check_host("2001:db8::1", "a@m.test", "h.test", dns) == "fail"


def test_dual_cidr_lengths():
    dns = {"d.test": [("TXT", "v=spf1 a/24//64 -all"), ("A", "192.0.2.200"), ("AAAA", "2001:db8:1:2::9")]}
    assert check_host("192.0.2.7", "a@d.test", "h.test", dns) == "pass"
    assert check_host("192.0.3.7", "a@d.test", "h.test", dns) == "fail"
    assert check_host("2001:db8:1:2:ffff::1", "a@d.test", "h.test", dns) == "pass"
    assert check_host("2001:db8:1:3::1", "a@d.test", "h.test", dns) == "fail"


def test_macros_in_mechanisms_and_explanations():
    dns = {
        "m.test": [("TXT", "v=spf1 exists:%{ir}.%{l1-}.bl.test -all exp=why.%{d}")],
        "1.2.0.192.smith.bl.test": [("A", "127.0.0.2")],
        "why.m.test": [("TXT", ["%{C} at %{t} on %{r}: %{L} ", "is not %{d2}'s; see %{v}"])],
    }
    assert check_host("192.0.2.1", "john-smith@m.test", "h.test", dns) == "pass"
    result = check_host("192.0.2.9", "a b@m.test", "h.test", dns, receiver="mx.example.com", now=1234)
    assert result.explanation == "192.0.2.9 at 1234 on mx.example.com: a%20b is not m.test's; see in-addr"
    assert str(DEFAULT_NOW) in check_host("192.0.2.9", "a@m.test", "h.test", dns).explanation


def test_ipv6_i_macro_writes_nibbles():
    dns = {"six.test": [("TXT", "v=spf1 -all exp=e.six.test")], "e.six.test": [("TXT", "%{ir}.%{v}")]}
    result = check_host("2001:db8::cb01", "a@six.test", "h.test", dns)
    assert result.explanation == "1.0.B.C.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.B.D.0.1.0.0.2.ip6"


def test_ptr_and_the_p_macro_use_validated_names():
    dns = {
        "p.test": [("TXT", "v=spf1 ptr -all exp=e.p.test")], "e.p.test": [("TXT", "from %{p}")],
        "7.2.0.192.in-addr.arpa": [("PTR", "mail.p.test.")], "mail.p.test": [("A", "192.0.2.7")],
        "8.2.0.192.in-addr.arpa": [("PTR", "mail.p.test")],  # points at a name that does not point back
    }
    assert check_host("192.0.2.7", "a@p.test", "h.test", dns) == "pass"
    liar = check_host("192.0.2.8", "a@p.test", "h.test", dns)
    assert liar == "fail" and liar.explanation == "from unknown"


@pytest.mark.parametrize(("position", "result"), [(10, "pass"), (11, "neutral")])
def test_only_the_first_ten_ptr_names_are_validated(position, result):
    names = [f"n{k}.other.test" for k in range(1, 12)]
    names[position - 1] = "mail.p.test"
    dns = {"p.test": [("TXT", "v=spf1 ptr")], "mail.p.test": [("A", "192.0.2.7")],
           "7.2.0.192.in-addr.arpa": [("PTR", name) for name in names]}
    assert check_host("192.0.2.7", "a@p.test", "h.test", dns) == result


def test_dns_forms_mx_text_cname_and_split_txt():
    dns = {
        "c.test": [("CNAME", "real.test.")],
        "REAL.test.": [("txt", ("v=spf1 ", "mx:mx.test -all"))],
        "mx.test": [("MX", "5 host.test")], "host.test": [("A", "192.0.2.5")],
    }
    assert check_host("192.0.2.5", "a@C.test", "h.test", dns) == "pass"


def test_cname_loops_and_timeouts_are_temperrors():
    loop = {"l.test": [("CNAME", "k.test")], "k.test": [("CNAME", "l.test")]}
    assert check_host("192.0.2.1", "a@l.test", "h.test", loop) == "temperror"
    for entry in (TIMEOUT, [TIMEOUT], [("TIMEOUT", None)], [("TXT", TIMEOUT), ("A", "192.0.2.1")]):
        result = check_host("192.0.2.1", "a@t.test", "h.test", {"t.test": entry})
        assert result == "temperror" and "timed out" in result.reason
    # A per-type timeout leaves the other types answering.
    dns = {"t.test": [("TXT", "v=spf1 a mx -all"), ("A", "192.0.2.1"), ("MX", TIMEOUT)]}
    assert check_host("192.0.2.1", "a@t.test", "h.test", dns) == "pass"
    assert check_host("192.0.2.2", "a@t.test", "h.test", dns) == "temperror"


def test_type_spf_records_are_ignored():
    dns = {"s.test": [("SPF", "v=spf1 +all")]}
    assert check_host("192.0.2.1", "a@s.test", "h.test", dns) == "none"


@pytest.mark.parametrize(("call", "field"), [
    (lambda: check_host("192.0.2.300", "a@x.test", "h", {}), "ip"),
    (lambda: check_host("192.0.2.1", None, "h", {}), "sender"),
    (lambda: check_host("192.0.2.1", "a@x.test", "h", [("TXT", "v=spf1")]), "dns"),
    (lambda: check_host("192.0.2.1", "a@x.test", "h", {"x.test": "v=spf1 -all"}), "dns['x.test']"),
    (lambda: check_host("192.0.2.1", "a@x.test", "h", {"x.test": [("A", "mail.x.test")]}), "dns['x.test']"),
    (lambda: check_host("192.0.2.1", "a@x.test", "h", {"x.test": [("MX", "mail.x.test")]}), "dns['x.test']"),
    (lambda: check_host("192.0.2.1", "a@x.test", "h", {"x.test": [("HINFO", "x")]}), "dns['x.test']"),
    (lambda: check_host("192.0.2.1", "a@x.test", "h", {}, now="today"), "now"),
    (lambda: check_host("192.0.2.1", "a@x.test", "h", {}, default_explanation="100%"), "default_explanation"),
    (lambda: SpfResult("maybe"), "result"),
])
def test_bad_input_is_a_config_error_naming_the_field(call, field):
    with pytest.raises(ConfigError) as raised:
        call()
    assert raised.value.setting == field and str(raised.value).startswith(f"{field}: ")


def test_results_compare_as_strings_and_survive_pickling():
    result = check_host("203.0.113.50", "Postmaster@example.com", "mail.example.com", FORUM)
    again = pickle.loads(pickle.dumps(result))
    assert again == result == "fail" and type(again) is SpfResult
    assert (again.mechanism, again.explanation, again.reason, again.lookups) == (
        result.mechanism, result.explanation, result.reason, result.lookups)
    assert pickle.loads(pickle.dumps(TIMEOUT)) is TIMEOUT
    assert repr(result) == "SpfResult('fail', mechanism='-all', domain='example.com', lookups=1)"


def test_a_check_is_pure():
    dns = {"m.test": [("TXT", "v=spf1 ptr mx a -all"), ("MX", (0, "m.test"))]}
    snapshot = repr(dns)
    first = check_host("192.0.2.1", "a@m.test", "h.test", dns)
    assert repr(dns) == snapshot
    second = check_host("192.0.2.1", "a@m.test", "h.test", dns)
    assert (first, first.reason, first.lookups) == (second, second.reason, second.lookups)


# Fragments that reach every branch of the parser: mechanisms, modifiers, macros, CIDRs, junk.
FRAGMENTS = st.sampled_from([
    "all", "-all", "~all", "?all", "+all", "a", "a:x.test", "a/24", "a//64", "a/24//64", "mx", "mx:%{d}",
    "ptr", "ptr:x.test", "ip4:192.0.2.0/24", "ip6:2001:db8::/32", "ip4:", "ip6:zz", "exists:%{i}.x.test",
    "include:x.test", "include:r.test", "redirect=x.test", "redirect=r.test", "exp=e.test", "exp=%{r}",
    "foo=%{l}", "%{", "%{d0}", "%{D2r-}", "%", "=", ":", "/", "//", ".", "x.test", "%{p}", "%{h}.x.test",
])
RECORD_TEXT = st.one_of(
    st.text(max_size=60),
    st.lists(st.one_of(FRAGMENTS, st.text(max_size=8)), max_size=8).map(lambda terms: " ".join(["v=spf1", *terms])),
    st.lists(FRAGMENTS, max_size=8).map(lambda terms: "".join(["v=spf1 ", *terms])),
)


@settings(max_examples=300, deadline=None)
@given(record=RECORD_TEXT, other=RECORD_TEXT, sender=st.text(max_size=20), helo=st.text(max_size=20),
       ip=st.sampled_from(["192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"]))
def test_check_host_never_raises_for_any_record(record, other, sender, helo, ip):
    dns = {
        "x.test": [("TXT", record), ("A", "192.0.2.1"), ("MX", (0, "x.test"))],
        "r.test": [("TXT", other)], "e.test": [("TXT", other)],
        "1.2.0.192.in-addr.arpa": [("PTR", "x.test")],
    }
    for who in ("a@x.test", sender):
        result = check_host(ip, who, helo or "x.test", dns)
        assert result in RESULTS and isinstance(result.reason, str) and result.reason
        assert (result.explanation is not None) == (result == "fail")

"""Lesson 11 keeping up: what the sender checks keep between calls gives the very results made afresh.

Behaviour, not time: kept results are compared with fresh ones, evaluations and runs are counted, and the
panel's busy state is looked at while a run is under way. Speed is measured in
``benchmarks/bench_sender_auth.py`` and ``benchmarks/bench_panels.py``.
"""

from __future__ import annotations

import pytest
from test_sender_auth_products import FORGED, LEGIT, ZONE, receiver, send
from test_spf_rfc7208 import CASES

import simlab
import simlab.ui.sender_auth as lab_module
from simlab.auth import clear_caches
from simlab.auth import dkim as D
from simlab.auth import dmarc as M
from simlab.auth import results as R
from simlab.auth.spf import TIMEOUT, SpfChecker, check_host
from simlab.scenarios import HOUR, run
from simlab.scenarios.sender_auth import sender_authentication


def facts(result):
    return (str(result), result.mechanism, result.explanation, result.domain, result.lookups, result.reason)


# --- SPF: one checker per DNS, each result evaluated once ---------------------------------------------------


def test_the_checker_gives_check_hosts_results_on_the_whole_suite():
    for case in CASES:
        test, dns = case.values
        args = (test["host"], test["mailfrom"], test["helo"])
        fresh = check_host(*args, dns, default_explanation="DEFAULT")
        checker = SpfChecker(dns)
        first = checker.check_host(*args, default_explanation="DEFAULT")
        again = checker.check_host(*args, default_explanation="DEFAULT", now=12345)
        assert facts(first) == facts(fresh) == facts(again), case.id
        assert (checker.served, checker.evaluated) == (2, 1), case.id


TIMED = {"t.test": [("TXT", "v=spf1 -all exp=why.t.test")], "why.t.test": [("TXT", "refused at %{t}")],
         "plain.test": [("TXT", "v=spf1 -all")]}


def test_a_result_that_read_the_time_is_kept_only_for_that_time():
    checker = SpfChecker(TIMED)
    at_100 = checker.check_host("192.0.2.1", "a@t.test", "x.test", now=100)
    at_200 = checker.check_host("192.0.2.1", "a@t.test", "x.test", now=200)
    assert (at_100.explanation, at_200.explanation) == ("refused at 100", "refused at 200")
    assert checker.check_host("192.0.2.1", "a@t.test", "x.test", now=200) is at_200
    assert checker.evaluated == 2
    plain = [checker.check_host("192.0.2.1", "a@plain.test", "x.test", now=now) for now in (100, 200)]
    assert plain[0] is plain[1] and checker.evaluated == 3  # the default explanation does not read %{t}
    assert plain[0].explanation == check_host("192.0.2.1", "a@plain.test", "x.test", TIMED, now=200).explanation


def test_each_argument_is_part_of_what_is_remembered():
    checker = SpfChecker(ZONE)
    calls = [("192.0.2.25", "bob@example.com", "mail.example.com", "unknown"),
             ("203.0.113.50", "bob@example.com", "mail.example.com", "unknown"),
             ("192.0.2.25", "Postmaster@example.com", "mail.example.com", "unknown"),
             ("192.0.2.25", "bob@example.com", "other.test", "unknown"),
             ("192.0.2.25", "bob@example.com", "mail.example.com", "mx.yourcompany.test")]
    for ip, sender, helo, who in calls:
        assert facts(checker.check_host(ip, sender, helo, receiver=who)) == facts(
            check_host(ip, sender, helo, ZONE, receiver=who))
    assert checker.evaluated == len(calls)
    other = checker.check_host("203.0.113.50", "bob@example.com", "mail.example.com", default_explanation="no %{i}")
    assert other.explanation == "no 203.0.113.50" and checker.evaluated == len(calls) + 1


def test_a_reason_is_remembered_in_its_own_language(japanese):
    checker = SpfChecker(ZONE)
    simlab.set_language("en")
    english = checker.check_host("203.0.113.50", "Postmaster@example.com", "x.test")
    simlab.set_language("ja")
    japanese_result = checker.check_host("203.0.113.50", "Postmaster@example.com", "x.test")
    assert english.reason != japanese_result.reason and checker.evaluated == 2
    assert japanese_result.reason == check_host("203.0.113.50", "Postmaster@example.com", "x.test", ZONE).reason


def test_bad_arguments_are_refused_by_the_checker_as_by_check_host():
    checker = SpfChecker(ZONE)
    checker.check_host("192.0.2.25", "bob@example.com", "x.test")
    for kwargs in ({"now": 1.5}, {"now": True}, {"default_explanation": "%{x}"}, {"receiver": None}):
        with pytest.raises(simlab.ConfigError) as fresh:
            check_host("192.0.2.25", "bob@example.com", "x.test", ZONE, **kwargs)
        with pytest.raises(simlab.ConfigError) as kept:
            checker.check_host("192.0.2.25", "bob@example.com", "x.test", **kwargs)
        assert str(kept.value) == str(fresh.value)
    with pytest.raises(simlab.ConfigError):
        checker.check_host(["192.0.2.25"], "bob@example.com", "x.test")  # not even a key
    with pytest.raises(simlab.ConfigError):
        SpfChecker([("example.com", "TXT")])


def test_the_checker_serves_only_the_dns_it_read_unchanged():
    dns = {"example.com": [("TXT", "v=spf1 ip4:192.0.2.25 -all")], "slow.test": TIMEOUT}
    checker = SpfChecker(dns)
    assert checker.serves(dns)
    assert not checker.serves(dict(dns))  # an equal copy is another DNS
    dns["example.com"].append(("A", "192.0.2.25"))
    assert not checker.serves(dns)
    dns["example.com"].pop()
    assert checker.serves(dns)


def test_policyd_spf_follows_a_dns_that_changes():
    zone = {name: list(records) for name, records in ZONE.items()}
    server = receiver(auth_dns=zone, opendmarc={"RejectFailures": False})
    first = send(server, "203.0.113.50", "[203.0.113.50]", "Postmaster@example.com", "user_name@yourcompany.test",
                 FORGED)
    assert first["RCPT"].code == 550
    zone["example.com"][0] = ("TXT", "v=spf1 ip4:203.0.113.50 -all")  # the site now allows the address
    second = send(server, "203.0.113.50", "[203.0.113.50]", "Postmaster@example.com", "user_name@yourcompany.test",
                  FORGED)
    assert second["RCPT"].code == 250
    assert any("Received-SPF: Pass (mailfrom)" in line for line in server.log)


# --- DKIM: signatures and verdicts kept by the exact octets and key -----------------------------------------


def test_a_kept_signature_is_the_one_made_afresh_and_a_copy():
    clear_caches()
    first = D.sign(LEGIT, "example.com", now=896659200)
    assert D._signature.cache_info().misses == 1
    again = D.sign(LEGIT, "example.com", now=896659200)
    assert again == first and again is not first and D._signature.cache_info().hits == 1
    again.append("changed")  # the caller's list; what is kept stays as it was
    assert D.sign(LEGIT, "example.com", now=896659200) == first
    clear_caches()
    assert D.sign(LEGIT, "example.com", now=896659200) == first and D._signature.cache_info().misses == 1
    assert "t=896659200;" in "".join(first)
    other_time = D.sign(LEGIT, "example.com", now=896659260)
    other_body = D.sign([*LEGIT[:-1], "See you Tuesday."], "example.com", now=896659200)
    fewer_fields = D.sign(LEGIT, "example.com", now=896659200, headers=("from",))
    assert len({tuple(first), tuple(other_time), tuple(other_body), tuple(fewer_fields)}) == 4
    assert D.verify([*other_body, *LEGIT[:-1], "See you Tuesday."], ZONE)[0].result == "pass"


def test_kept_verdicts_are_those_made_afresh():
    clear_caches()
    signed = D.sign(LEGIT, "example.com", now=896659200) + LEGIT
    tampered = [*signed[:-1], "See you Tuesday."]
    fresh = [D.verify(lines, ZONE) for lines in (signed, tampered)]
    assert [v[0].result for v in fresh] == ["pass", "fail"] and len(D._VERIFIED) == 2
    kept = [D.verify(lines, ZONE) for lines in (signed, tampered)]
    assert kept == fresh and len(D._VERIFIED) == 2
    other_key = {**ZONE, "mail._domainkey.example.com": [("TXT", "v=DKIM1; k=rsa; p=" + "A" * 40)]}
    assert D.verify(signed, other_key)[0].result != "pass"  # the key record is part of what is kept
    assert D.verify(signed, {**ZONE, "mail._domainkey.example.com": TIMEOUT})[0].result == "temperror"
    assert D.verify(signed, {})[0].result == "permerror"
    clear_caches()
    assert D.verify(signed, ZONE) == fresh[0] and D.verify(tampered, ZONE) == fresh[1]


def test_a_verdict_that_depends_on_the_hosts_clock_is_not_kept():
    assert D._lasting({"t": "896659200"}) and D._lasting({})
    assert not D._lasting({"t": "896659200", "x": "896669200"})
    assert not D._lasting({"t": "99999999999"})  # from the host's future: dkimpy refuses it today, not tomorrow
    assert not D._lasting({"t": "soon"})


# --- DMARC and Authentication-Results: parsed once per text -------------------------------------------------


def test_parsed_records_and_fields_are_kept_and_read_only_in_use():
    clear_caches()
    record = M.parse_record("v=DMARC1; p=reject; pct=50")
    assert M.parse_record("v=DMARC1; p=reject; pct=50") is record and record.pct == 50
    assert M.author_domain("Bob <bob@Example.COM>") == "example.com"
    assert M.author_domain("a@x.test, b@y.test") is None
    field = ("Authentication-Results: mail.yourcompany.test; spf=fail smtp.mailfrom=example.com; dkim=none; "
             "dmarc=fail (p=reject dis=reject) header.from=example.com")
    parsed = R.parse(field)
    assert R.parse(field) is parsed and parsed.get("dmarc")[0].properties == {"header.from": "example.com"}
    clear_caches()
    assert R.parse(field) == parsed and R.parse(field) is not parsed


# --- the scenario and the panel ------------------------------------------------------------------------------


def outputs(result):
    receiver_server = result.world.network.host("mail.yourcompany.test").server
    return (result.summary, result.log, [r.lines for r in result.transcripts], receiver_server.log,
            [m.lines for box in receiver_server.mailboxes.values() for m in box],
            [m.lines for m in receiver_server.held])


@pytest.mark.parametrize("knobs", [{"preset": "postfix", "dkim": True, "spf_reject": False},
                                   {"preset": "postfix", "dkim": True, "dmarc": "quarantine", "pct": 40}])
def test_a_day_replayed_with_everything_kept_is_the_same_day(knobs):
    scenario = sender_authentication(**knobs, duration=6 * HOUR)
    clear_caches()
    cold = outputs(run(scenario, seed=3))
    warm = outputs(run(scenario, seed=3))
    assert warm == cold


def test_the_message_menu_redraws_the_same_day():
    lab = lab_module.sender_auth_lab()
    day, computed = lab.outcome, lab.computed
    lab.controls["message"].value = "direct spoofer"
    assert lab.outcome is day  # the same day, another message shown
    assert "550 5.7.23" in lab.views["one message"].value
    lab.controls["pct"].value = 99
    assert lab.outcome is not day and lab.computed > computed


def test_a_first_signing_day_is_heavy_and_a_quick_one_shows_no_busy_state(monkeypatch):
    monkeypatch.setattr(lab_module, "_SIGNED_DAYS", set())
    lab = lab_module.sender_auth_lab()
    lab.controls["preset"].value = "postfix"
    states = []
    compute = lab.compute

    def watched(values):
        states.append(lab.is_busy)
        return compute(values)

    lab.compute = watched
    assert lab.heavy(lab.values() | {"dkim": True})
    lab.controls["dkim"].value = True
    assert states and all(states) and not lab.is_busy
    assert ("postfix", 1) in lab_module._SIGNED_DAYS and not lab.heavy(lab.values())
    assert lab.heavy(lab.values() | {"seed": 2})
    assert not lab.heavy(lab.values() | {"dkim": False})
    lab.busy_after = 3600.0
    states.clear()
    lab.controls["pct"].value = 99  # the same mail signed again: quick, never busy
    assert states == [False] and not lab.is_busy
    assert lab.progress.layout.display == "none"


def test_a_run_still_going_after_busy_after_shows_the_busy_state_for_the_rest():
    lab = lab_module.sender_auth_lab()
    lab.busy_after = 0.0
    seen = []
    busy = lab.busy

    def spy(*args, **kwargs):
        seen.append("entered")
        return busy(*args, **kwargs)

    lab.busy = spy
    moves = []
    lab.progress.observe(lambda change: moves.append((change["new"], lab.is_busy,
                                                      all(c.disabled for c in lab.controls.values()))),
                         names="value")
    lab.controls["pct"].value = 99
    assert seen == ["entered"] and lab.error is None
    assert moves and all(busy_now and disabled for _value, busy_now, disabled in moves)
    assert not lab.is_busy and lab.progress.layout.display == "none"
    assert not lab.controls["pct"].disabled and lab.controls["dkim"].disabled  # EIMS 2.1 cannot sign

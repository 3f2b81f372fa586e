"""Lesson 11's exercise: example.com's setup against every path of the forgery, and its feedback."""

import pytest

from simlab.exercises.sender_auth import SOLUTION, START, check_sender_setup, flow_table, sender_day
from simlab.scenarios import run


def test_the_solution_passes():
    feedback = check_sender_setup("postfix", spf="v=spf1 mx -all", dkim=True, dmarc="reject")
    assert feedback.passed, feedback.messages
    assert "forwarded mail included - was delivered" in feedback.messages[0]
    assert "check_sender_setup('postfix'" in SOLUTION and "dkim=True" in SOLUTION


def test_the_lessons_start_fails_on_the_relay_and_on_forwarding():
    feedback = check_sender_setup(**START)
    assert not feedback.passed
    assert feedback.messages[0].startswith("8 forged messages relayed by example.com's own server reached")
    assert "close the relay at home first (lesson 03)" in feedback.messages[0]
    assert feedback.messages[1].startswith("10 legitimate messages forwarded by remote.test's alias")


@pytest.mark.parametrize(("answer", "words"), [
    ({"preset": "postfix"}, ["without a DKIM signature nothing else lines up with the From: domain"]),
    ({"preset": "postfix", "dkim": True, "dmarc": "quarantine"}, ["held in yourcompany.test's quarantine",
                                                                  "Ask for p=reject"]),
    ({"preset": "postfix", "dkim": True, "pct": 50}, ["pct=50 applies the policy to 50% of the failing mail only"]),
    ({"preset": "postfix", "dkim": True, "dmarc": "none"}, ["p=none asks the receiver to do nothing"]),
    ({"preset": "postfix", "dkim": True, "dmarc": None}, ["there is no DMARC record"]),
    ({"preset": "sims"}, ["alice writes from outside"]),
    ({"preset": "eims-2.1", "dkim": True}, ["dkim: 'eims-2.1' is a product without DKIM signing"]),
    ({"preset": "postfix", "spf": "spf1 -all"}, ["spf: 'spf1 -all' is not an SPF record"]),
    ({"preset": "postfix", "pct": 120}, ["pct: 120 is not a percentage"]),
    ({"preset": "postfix", "seed": "one"}, ["seed"]),
    ({"preset": "nonsense"}, ["nonsense"]),
])
def test_wrong_answers_say_what_is_wrong(answer, words):
    feedback = check_sender_setup(**answer)
    assert not feedback.passed
    text = " ".join(feedback.messages)
    for word in words:
        assert word in text, text


def test_dkim_alone_passes_and_says_what_spf_would_add():
    feedback = check_sender_setup("postfix", spf=None, dkim=True)
    assert feedback.passed and "DMARC passed on DKIM alone" in feedback.messages[-1]


def test_flow_table_has_every_flow_in_order():
    table = flow_table(run(sender_day(), seed=1))
    assert list(table) == [("forged", "via_site"), ("forged", "direct"), ("forged", "forwarded"),
                           ("legit", "via_site"), ("legit", "forwarded")]
    assert all(set(row) == {"delivered", "quarantined", "refused"} for row in table.values())

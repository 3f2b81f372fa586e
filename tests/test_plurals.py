"""Counts in learner text take the plural form their number needs ("1 message", "3 messages"), never "(s)".

simlab.i18n.tn() picks ``<id>.one`` or ``<id>.other`` by CLDR's rules: English has both, Japanese only
``.other`` (no plural), so a Japanese sentence reads the same for 1 and for 3. What a product writes on the
wire or in its log ("+OK bob has 2 message(s)") is not catalog text and keeps its "(s)".
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from babel.messages.pofile import read_po

from simlab import i18n
from simlab.exercises.common import staff_logins_refused
from simlab.i18n import tn
from simlab.scenarios.sender_auth import OUTCOMES, PATHS
from simlab.ui.sender_auth import flows_html


def _texts(code: str) -> dict[str, str]:
    with i18n.catalog_path(code).open("rb") as po:
        return {message.id: message.string for message in read_po(po) if message.id}


@pytest.mark.parametrize("code", i18n.LANGUAGES)
def test_no_catalog_text_counts_with_an_s_in_brackets(code):
    hedged = {message_id: text for message_id, text in _texts(code).items() if re.search(r"\w\((s|es)\)", text)}
    assert not hedged, f"use tn() and .one/.other texts instead: {hedged}"


@pytest.mark.parametrize(("message_id", "params", "one", "other"), [
    ("exercise.relay.bounces", {}, "1 bounce reached postmaster", "2 bounces reached postmaster"),
    ("exercise.sender_auth.forged_delivered", {"path": "sent straight to yourcompany.test"},
     "1 forged message sent straight to yourcompany.test was delivered.",
     "2 forged messages sent straight to yourcompany.test were delivered."),
    ("ui.start.never_read", {}, "The server had closed the connection; 1 line was never read.",
     "The server had closed the connection; 2 lines were never read."),
    ("ui.live.clients_count", {}, "1 client", "2 clients"),
    ("ui.rotation.lost", {"who": "bob (LAN)"}, "bob (LAN): 1 message lost", "bob (LAN): 2 messages lost"),
    ("exercise.spraying.accounts_lost", {"size": 2000, "minutes": "3"},
     "1 account fell to the 2000-address botnet (after 3 minutes): no single address sent enough to be noticed"
     " - count per account, not per address",
     "2 accounts fell to the 2000-address botnet (the first after 3 minutes): no single address sent enough to be"
     " noticed - count per account, not per address"),
    ("ui.common.earlier_lines", {}, "... 1 earlier line", "... 2 earlier lines"),
    ("ui.flood.log_after", {"after": "after", "end": "05:00"}, "Below: the first 1 line after the flood ended (05:00).",
     "Below: the first 2 lines after the flood ended (05:00)."),
    ("exercise.spraying.too_many_refused", {"lockout": 1},
     "1 staff login was refused - no fewer than a plain lockout's 1: let the site's own network in",
     "2 staff logins were refused - no fewer than a plain lockout's 1: let the site's own network in"),
])
def test_english_says_one_thing_or_several(english, message_id, params, one, other):
    assert tn(message_id, 1, **params) == one
    assert tn(message_id, 2, **params) == other
    assert tn(message_id, 0, **params) == other.replace("2", "0", 1)


def test_japanese_reads_the_same_for_one_and_several(japanese):
    assert tn("exercise.relay.bounces", 1) == "postmaster にエラーメールが 1 通届きました"
    assert tn("exercise.relay.bounces", 3) == "postmaster にエラーメールが 3 通届きました"
    assert staff_logins_refused(1) == "職員がメールを読めなかった回数: 1 回"


def test_the_shared_staff_sentence(english):
    assert staff_logins_refused(1) == "staff could not read their mail 1 time"
    assert staff_logins_refused(10) == "staff could not read their mail 10 times"


def _result(forged_delivered: int, legit_refused: int) -> SimpleNamespace:
    """A run's summary with only the flow counts the verdict reads."""
    summary = {f"{kind}_{path}_{outcome}": 0 for kind in ("forged", "legit") for path in PATHS for outcome in OUTCOMES}
    summary["forged_direct_delivered"] = forged_delivered
    summary["legit_forwarded_refused"] = legit_refused
    return SimpleNamespace(summary=summary)


def test_the_sender_auth_verdict_gives_each_count_its_own_plural(english):
    assert ("<b>1</b> forged message arrived at yourcompany.test (delivered or held); "
            "<b>1</b> legitimate message lost or held.") in flows_html(_result(1, 1))
    assert ("<b>8</b> forged messages arrived at yourcompany.test (delivered or held); "
            "<b>0</b> legitimate messages lost or held.") in flows_html(_result(8, 0))


def test_the_sender_auth_verdict_keeps_its_japanese_wording(japanese):
    assert ("yourcompany.test に届いた偽造メール (配送または保留): <b>8</b> 通。"
            "失われたか保留された正規のメール: <b>1</b> 通。") in flows_html(_result(8, 1))

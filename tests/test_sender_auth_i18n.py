"""Lesson 11 speaks the learner's language (simlab.i18n): panel, figures, checker feedback, errors.

After ``set_language("ja")`` the panel's title, controls, tabs and messages, the figures' words, the checker's
feedback and worked answer, and the ConfigErrors of the scenario, the receiving side's products and the
checks are Japanese; what the products write - SMTP replies, log lines, the Authentication-Results and
Received-SPF fields, DNS records, setting names - stays exactly as they write it. English comes back when
the language is switched back (the fixture restores it), and every id lesson 11 uses has a text in both
catalogs.
"""

from __future__ import annotations

import re

import pytest
from helpers import load_script

import simlab
from simlab import i18n
from simlab.auth import dkim as auth_dkim
from simlab.auth import dmarc as auth_dmarc
from simlab.errors import ConfigError
from simlab.exercises import sender_auth as exercise
from simlab.plots.sender_auth import KIND_LABELS, OUTCOME_LABELS, PATH_LABELS, flows_figure, setups_figure
from simlab.products.opendkim import OpenDkim
from simlab.scenarios import run
from simlab.scenarios.sender_auth import sender_authentication
from simlab.ui.sender_auth import DMARC_CHOICES, sender_auth_lab

catalogs = load_script("catalogs")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
PREFIXES = ("sender_auth.", "exercise.sender_auth.", "plots.sender_auth.", "auth.", "product.policyd_spf.",
            "product.opendkim.", "product.opendmarc.", "product.milters.")


def receiver(**settings):
    """yourcompany.test's Postfix with the sender checks (as tests/test_sender_auth_products.py builds it)."""
    options = {"policyd_spf": True, "smtpd_milters": ["opendkim", "opendmarc"], "mynetworks": [],
               "opendmarc": {"RejectFailures": True}, "auth_dns": {}} | settings
    return simlab.presets.postfix(myhostname="mail.yourcompany.test", mydestination=["yourcompany.test"],
                                  inet_interfaces=["198.51.100.80"], accounts={"user_name": "x"}, **options)


@pytest.fixture(scope="module")
def ja_lab():
    """The panel built in Japanese; the language is English again once it is built."""
    before = i18n.language()
    i18n.set_language("ja")
    try:
        panel = sender_auth_lab()
    finally:
        i18n.set_language(before)
    return panel


def test_every_lesson_11_id_has_both_texts():
    used = [i for i in catalogs.used_ids() if i.startswith(PREFIXES)]
    assert len(used) > 60
    for code in catalogs.LANGUAGES:
        missing, unused = catalogs.problems(code, {i: set() for i in used})
        assert not [m for m in missing if m.startswith(PREFIXES)], code
        assert not [u for u in unused if u.startswith(("sender_auth.", "exercise.sender_auth.", "plots.sender_auth."))]


def test_the_panel_built_in_japanese_speaks_japanese(ja_lab, japanese):
    assert ja_lab.error is None
    assert ja_lab.controls["preset"].description == "example.com のサーバー"
    for name in ("spf", "dmarc", "receiver_checks", "message"):
        assert JAPANESE.search(ja_lab.controls[name].description), name
    assert ja_lab.controls["spf_reject"].description.endswith("(Mail_From_reject = Fail)")
    assert "RejectFailures" in ja_lab.controls["dmarc_enforce"].description
    labels = [label for label, _value in ja_lab.controls["dmarc"].options]
    assert labels == ["DMARC レコードなし", "p=none (報告のみ)", "p=quarantine", "p=reject"]
    flows = ja_lab.views["each flow"].value
    assert "example.com 自身のサーバーを経由した偽造メール" in flows and "配送" in flows
    assert "yourcompany.test に届いた偽造メール" in flows
    assert "forged mail" not in flows
    message = ja_lab.views["one message"].value
    assert "yourcompany.test 側" in message and "ヘッダーフィールド" in message
    # what the products write is untouched
    assert "dmarc=pass (p=reject dis=none) header.from=example.com" in message
    assert "Received-SPF: Pass (mailfrom)" in message and "MAIL FROM:&lt;Postmaster@example.com&gt;" in message
    assert "<th>名前</th><th>TXT レコード</th>" in ja_lab.views["DNS"].value
    assert "v=spf1 mx -all" in ja_lab.views["DNS"].value


def test_the_japanese_panels_messages(ja_lab, japanese):
    ja_lab.controls["spf"].value = "mx -all"
    try:
        assert ja_lab.error is not None and "は SPF レコードではありません" in ja_lab.message.value
        assert "Traceback" not in ja_lab.message.value
    finally:
        ja_lab.controls["spf"].value = "v=spf1 mx -all"
    assert ja_lab.error is None
    ja_lab.controls["spf"].value = ""
    ja_lab.controls["dmarc"].value = ""
    try:
        assert "example.com は何も公開していません" in ja_lab.views["DNS"].value
    finally:
        ja_lab.controls["spf"].value = "v=spf1 mx -all"
        ja_lab.controls["dmarc"].value = "reject"


def test_a_panel_built_in_english_after_japanese_is_english(ja_lab):
    panel = sender_auth_lab()
    assert panel.controls["spf"].description == "SPF record (empty: none)"
    assert "forged mail sent through example.com&#x27;s own server" in panel.views["each flow"].value


def test_checker_feedback_in_japanese(japanese):
    feedback = exercise.check_sender_setup(**exercise.START)
    assert not feedback.passed
    assert feedback.messages[0].startswith("example.com 自身のサーバーが中継した偽造メール 8 通が yourcompany.test に"
                                           "届きました")
    assert "(レッスン 03)" in feedback.messages[0] and "EIMS" in feedback.messages[0]
    assert feedback.messages[1].startswith("remote.test のエイリアスで転送された正規のメール 10 通")
    assert "From:" in feedback.messages[1] and "整合" in feedback.messages[1]
    partial = exercise.check_sender_setup("postfix", dkim=True, pct=50)
    assert "pct=50 では、ポリシーは認証に失敗したメールの 50% にしか適用されません" in " ".join(partial.messages)
    held = exercise.check_sender_setup("postfix", dkim=True, dmarc="quarantine")
    assert "p=reject を求めてください" in " ".join(held.messages)
    passed = exercise.check_sender_setup("postfix", spf=None, dkim=True)
    assert passed.passed and all(JAPANESE.search(m) for m in passed.messages)
    assert "DMARC は DKIM だけで合格しました" in passed.messages[-1]
    bad = exercise.check_sender_setup("postfix", pct=120)
    assert "pct: 120 は百分率 (パーセント) ではありません" in " ".join(bad.messages)


def test_solution_and_names_follow_the_language(japanese):
    assert exercise.SOLUTION.startswith("check_sender_setup('postfix', spf='v=spf1 mx -all', dkim=True")
    assert "レッスン 03" in exercise.SOLUTION
    assert exercise.PATH_NAMES["direct"] == "yourcompany.test へ直接送られた"
    i18n.set_language("en")
    assert "close the relay first" in exercise.SOLUTION
    assert exercise.PATH_NAMES["direct"] == "sent straight to yourcompany.test"
    assert DMARC_CHOICES[""] == "no DMARC record"


def test_figures_in_japanese(japanese):
    assert OUTCOME_LABELS["quarantined"] == "隔離" and PATH_LABELS["forwarded"] == "転送"
    assert KIND_LABELS["forged"] == "偽造"
    table = exercise.flow_table(run(exercise.sender_day("postfix", dkim=True), seed=1))
    figure = flows_figure(table)
    ax = figure.axes[0]
    assert ax.get_yticklabels()[0].get_text() == "偽造、サイトが中継"
    assert ax.get_xlabel() == "メール (通)"
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["配送", "隔離", "拒否"]
    setups = setups_figure({"Postfix + DKIM": table}).axes[0]
    assert [text.get_text() for text in setups.get_legend().get_texts()] == ["届いた偽造メール", "失われた正規のメール"]


@pytest.mark.parametrize(("call", "words"), [
    (lambda: sender_authentication(spf="mx -all"), "spf: 'mx -all' は SPF レコードではありません"),
    (lambda: sender_authentication(dmarc="strict"), "は選択肢のいずれでもありません"),
    (lambda: sender_authentication(dkim="yes"), "True または False"),
    (lambda: sender_authentication(flows=("legit", "spam")), "は経路 (flow) のリストではありません"),
    (lambda: OpenDkim(settings={"Mode": "x"}), "は OpenDKIM のモードではありません"),
    (lambda: receiver(smtpd_milters=["spamass"]), "は simlab にあるメールフィルターではありません"),
    (lambda: auth_dkim.private_key("example.org", "mail"), "は simlab に付属する鍵ではありません"),
    (lambda: auth_dmarc.aligned("example.com", "example.com", "x"), "は整合 (alignment) のモードではありません"),
])
def test_config_errors_in_japanese(japanese, call, words):
    with pytest.raises(ConfigError) as caught:
        call()
    assert words in str(caught.value)


def test_the_dmarc_verdicts_sentence_in_japanese(japanese):
    zone = {"example.com": [("TXT", "v=spf1 mx -all")], "_dmarc.example.com": [("TXT", "v=DMARC1; p=reject")]}
    failed = auth_dmarc.evaluate("example.com", zone, spf_result="fail", spf_domain="example.com")
    assert failed.result == "fail"
    assert failed.reason == ("SPF (example.com について fail) も DKIM も example.com と整合して合格しませんでした。"
                             "_dmarc.example.com のポリシーは reject です")
    passed = auth_dmarc.evaluate("example.com", zone, spf_result="pass", spf_domain="example.com")
    assert passed.reason == "SPF が example.com と整合して合格しました"
    i18n.set_language("en")
    assert auth_dmarc.evaluate("example.com", zone, spf_result="pass", spf_domain="example.com").reason == (
        "SPF passed aligned with example.com")

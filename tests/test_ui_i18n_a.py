"""Lesson panels 00-04 and the comparison sentence speak the learner's language (simlab.i18n).

A panel built after ``set_language("ja")`` shows Japanese headings, tab titles, control labels, messages
and chart words; one built after switching back shows exactly the English the lessons and the browser
tests know. Views are reached by the same names in both (``panel.views["server log"]``). What a product
writes (an SMTP reply, a log line, "Relay Restriction") stays as the product wrote it. Every id these
modules use has its text in both catalogs, and every id of theirs in the catalogs is used.
"""

from __future__ import annotations

import re

import pytest
from helpers import load_script

import simlab.ui
from simlab import i18n
from simlab.comparison import HEADLINE, describe_change
from simlab.ui.common import solution_button
from simlab.ui.password import guessing_series, guessing_timeline, guessing_timeline_svg

catalogs = load_script("catalogs")
FILES = {"simlab/ui/common.py", "simlab/ui/start.py", "simlab/ui/password.py", "simlab/ui/relay.py",
         "simlab/ui/spoof.py", "simlab/ui/iprange.py", "simlab/comparison.py"}
PREFIXES = ("ui.common.", "ui.start.", "ui.password.", "ui.relay.", "ui.spoof.", "ui.iprange.", "comparison.")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")

#: panel -> (English heading, Japanese heading, English tab titles, Japanese tab titles)
PANELS = {
    "session_lab": ("Talk to a mail server", "メールサーバーとの対話",
                    ["the dialogue", "server log", "what the server kept"],
                    ["対話", "サーバーのログ", "サーバーに残ったもの"]),
    "password_lab": ("Wrong passwords in the POP3 log (S1)", "POP3 のログに並ぶパスワード誤り (S1)",
                     ["outcome", "failed logins per hour", "server log", "the guesser's dialogue"],
                     ["結果", "1 時間ごとのログイン失敗", "サーバーのログ", "推測者の対話"]),
    "relay_lab": ("The open-relay probe (S2, S3)", "不正中継の調査 (S2, S3)",
                  ["outcome", "server log", "the probe's dialogue", "postmaster's mailbox"],
                  ["結果", "サーバーのログ", "調査の対話", "postmaster のメールボックス"]),
    "spoof_lab": ("The spoofed Postmaster (S4)", "なりすましの Postmaster (S4)",
                  ["the dialogue", "sequence diagram", "server log", "the queue", "a day of it"],
                  ["対話", "シーケンス図", "サーバーのログ", "キュー", "同じ手口の 1 日"]),
    "ip_range_lab": ("IP Range Restriction on SMTP (S5)", "SMTP の IP Range Restriction (S5)",
                     ["outcome", "server log", "a refused correspondent", "DNS MX answer"],
                     ["結果", "サーバーのログ", "拒否された取引先", "DNS の MX 応答"]),
}


def heading(panel) -> str:
    return re.sub(r"<[^>]+>", "", panel.children[0].value)


def tab_titles(panel) -> list[str]:
    return list(panel.tabs.titles)


def labels(panel) -> dict[str, str]:
    return {name: control.description for name, control in panel.controls.items()}


@pytest.mark.parametrize("lab", sorted(PANELS))
def test_a_panel_built_in_japanese_speaks_japanese_and_english_after_switching_back(japanese, lab):
    english_heading, japanese_heading, english_tabs, japanese_tabs = PANELS[lab]
    panel = getattr(simlab.ui, lab)()
    assert panel.error is None, panel.error
    assert heading(panel) == japanese_heading
    assert tab_titles(panel) == japanese_tabs
    assert list(panel.views) == english_tabs  # code reaches the views by their names in any language
    assert labels(panel)["preset" if "preset" in panel.controls else "seed"] in ("サーバー", "シード")
    i18n.set_language("en")
    again = getattr(simlab.ui, lab)()
    assert heading(again) == english_heading and tab_titles(again) == english_tabs
    assert not any(JAPANESE.search(text) for text in labels(again).values())


def test_the_password_panel_in_japanese(japanese):
    lab = simlab.ui.password_lab()
    words = labels(lab)
    assert words["lockout"] == "アカウントロックアウト" and words["ban_minutes"] == "BAN の時間 (分)"
    assert words["ip_range_restriction"] == "IP Range Restriction (POP3) (EIMS 2.1)"  # the product's words stay
    chart, table = lab.views["outcome"].children
    assert "eims-2.1: パスワード推測の 1 日" in chart.value and "侵入されたアカウント" in chart.value
    assert "侵入されたアカウント: webmaster" in table.value
    lab.controls["preset"].value = "sims"
    lab.controls["ip_range_restriction"].value = True
    notes = lab.views["outcome"].children[1].value
    assert "IP Range Restriction は EIMS 2.1 の設定項目です。ここでは適用されません" in notes
    dialogue = lab.views["the guesser's dialogue"].value
    assert "サーバーが拒否した推測" in dialogue and "C: USER" in dialogue  # the protocol stays as it is


def test_the_session_panel_in_japanese(japanese):
    lab = simlab.ui.session_lab()
    assert labels(lab) == {"preset": "サーバー", "client_ip": "クライアントのアドレス", "lines": "入力する行"}
    kept = lab.views["what the server kept"].value
    assert "bob のメールボックス" in kept and "エンベロープ送信者 (MAIL FROM)" in kept
    assert "S: 250" in lab.views["the dialogue"].value
    lab.controls["lines"].value = "QUIT\nNOOP"
    assert "サーバーが接続を閉じていたため、1 行は読まれませんでした。" in lab.views["the dialogue"].value
    assert "サーバーには何も残っていません。" in lab.views["what the server kept"].value


def test_the_relay_panel_and_its_comparison_line_in_japanese(japanese):
    lab = simlab.ui.relay_lab(preset="eims-2.1")
    assert "パネルの最初の設定のままです。" in lab.comparison.value
    assert labels(lab)["queue_hours"] == "返送までの時間 (時間)"
    lab.controls["relay_restriction"].value = True
    said = lab.comparison.value
    assert "同じトラフィックで最初の設定と比べると (Relay Restriction (EIMS 2.1): オフ → オン)" in said
    assert ("中継された迷惑メール -1、拒否した迷惑メール +1、postmaster 宛てのエラーメール -1、"
            "失われた正規のメール 0") in said
    assert "postmaster のメールボックスは空です。" in lab.views["postmaster's mailbox"].value
    assert "eims-2.1: 1 日" in lab.views["outcome"].children[0].value


def test_the_spoof_panel_in_japanese(japanese):
    lab = simlab.ui.spoof_lab()
    dialogue = lab.views["the dialogue"].children[0].value
    assert "RCPT でサーバーは 250 Recipient &lt;user_name@yourcompany.test&gt; OK と応えました" in dialogue
    assert lab.controls["sender_login_check"].options[0] == ("オフ", "")
    assert simlab.ui.spoof.SENDER_CHECKS[0] == ("オフ", "")
    assert "ほかのサイトへ送られます" in lab.views["the queue"].value and "キュー ID" in lab.views["the queue"].value
    assert labels(lab)["smtp_auth"].startswith("SMTP 認証 (") and "ポート 25 でも" in labels(lab)["smtp_auth"]
    assert "同じ手口の 1 日" in lab.views["the dialogue"].children[1].value
    lab.controls["preset"].value = "eims-1.2"
    assert "には中継の設定がまったくありません" in lab.views["the dialogue"].children[0].value
    i18n.set_language("en")
    assert simlab.ui.spoof.SENDER_CHECKS[0] == ("off", "")  # looked up at each access


def test_the_ip_range_panel_in_japanese(japanese):
    lab = simlab.ui.ip_range_lab()
    mx = lab.views["DNS MX answer"].value
    assert "example.com. IN MX 10 mail.example.com." in mx  # the DNS record as DNS writes it
    assert "入力した範囲で拒否 (接続時に 554)" in mx and "サイトのサーバーへ直接" in mx
    assert "接続時に拒否:" in lab.views["outcome"].children[1].value
    assert "EIMS 2.1、1 日、MX はサイト" in lab.views["outcome"].children[0].value
    assert "- 拒否。" in lab.views["a refused correspondent"].value
    lab.controls["ranges"].value = ""
    assert "SMTP の IP Range Restriction はオフです (範囲の入力なし)。" in lab.views["DNS MX answer"].value


def test_panel_messages_in_japanese(japanese):
    panel = simlab.ui.relay_lab(seed=500)
    assert panel.error.startswith("seed: 500 はこのパネルのスライダーの範囲外です。期待される値: 1 から 20 までの整数")
    assert panel.error.endswith("パネルは代わりに既定の値を表示しています")
    assert simlab.ui.relay_lab(preset="nope").error.startswith("preset: 'nope' はこのパネルの選択肢にありません")
    assert panel.progress.description == "実行中"
    button = solution_button("the answer")
    assert button.children[0].description == "解答例を表示"
    button.children[0].click()
    assert button.children[0].description == "解答例を隠す"
    i18n.set_language("en")
    assert solution_button("x").children[0].description == "Reveal the worked solution"


def test_the_guessing_timeline_in_japanese_has_the_figures_words(japanese):
    lab = simlab.ui.password_lab()
    lab.controls["fail2ban"].value = True
    result = lab.outcome
    svg = guessing_timeline_svg(result, title="t")
    for words in ("推測者: パスワード誤り", "推測者: ログイン前に拒否", "fail2ban の BAN",
                  "1 時間あたり"):
        assert words in svg, words
    figure = guessing_timeline(result)
    drawn = {line.get_label(): list(line.get_ydata()) for line in figure.axes[0].get_lines()
             if line.get_label().startswith(("推測者", "職員"))}
    assert {s.label: list(s.values) for s in guessing_series(result) if any(s.values)} == drawn and len(drawn) == 3
    assert figure.axes[0].get_ylabel() == "1 時間あたり"


def test_the_comparison_sentence_in_both_languages(japanese):
    differences = {"spam_relayed": -3, "spam_refused": 3, "legit_refused": 0, "odd_figure": 1.5}
    assert describe_change(differences) == "中継された迷惑メール -3、拒否した迷惑メール +3、失われた正規のメール 0"
    assert describe_change(differences, keys=["odd_figure"]) == "odd figure +1.5"
    assert HEADLINE["bans"] == "BAN"
    i18n.set_language("en")
    assert describe_change(differences) == "-3 spam relayed, +3 spam refused, 0 legitimate lost"
    assert list(HEADLINE)[::9] == ["spam_relayed", "legit_refused"] and len(HEADLINE) == 10
    assert HEADLINE["legit_pending"] == "legitimate still queued"


def test_every_id_of_these_modules_has_its_texts_and_is_used():
    used = catalogs.used_ids()
    mine = {message_id for message_id, files in used.items() if files & FILES}
    assert any(message_id.startswith("ui.spoof.") for message_id in mine)
    for code in i18n.LANGUAGES:
        missing, unused = catalogs.problems(code, used)
        wanted = catalogs.expected_ids(code, mine)
        assert not wanted & set(missing), f"{code} catalog lacks {sorted(wanted & set(missing))}"
        assert not [message_id for message_id in unused if message_id.startswith(PREFIXES)]

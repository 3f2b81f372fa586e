"""Lesson 10 speaks the learner's language (simlab.i18n): its panel, figure, checker, solution and errors.

A panel built after ``set_language("ja")`` shows Japanese heading, tabs, control labels, options and outcome
words; the checker's feedback, the defences' names, SOLUTION and the scenario's ConfigErrors come in Japanese
too. What Postfix and Dovecot write (the log lines, the 450 reply) and the setting names stay as they are.
Switching back gives exactly the English the lesson, its tests and the browser test know.
"""

from __future__ import annotations

import re

import pytest
from helpers import load_script

from simlab import i18n
from simlab.errors import ConfigError
from simlab.exercises import spraying as exercise
from simlab.exercises.spraying import DEFENCE_NAMES, check_spraying_defence, spraying_day, staff_refusals
from simlab.restrictions.logins import AccountJail, DovecotAuthPenalty, LoginLockout
from simlab.restrictions.postscreen import Postscreen
from simlab.scenarios import run
from simlab.ui.spraying import ROW_NAMES, SHORT_NAMES, spraying_lab

catalogs = load_script("catalogs")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FILES = {"simlab/ui/spraying.py", "simlab/ui/spraying_chart.py", "simlab/plots/spraying.py",
         "simlab/exercises/spraying.py", "simlab/scenarios/spraying.py", "simlab/engine/botnet.py",
         "simlab/restrictions/logins.py", "simlab/restrictions/postscreen.py"}
PREFIXES = ("spraying.", "exercise.spraying.", "plots.spraying.")


def _heading(panel) -> str:
    return re.sub(r"<[^>]+>", "", panel.children[0].value)


def test_the_panel_built_in_japanese_speaks_japanese(japanese):
    lab = spraying_lab()
    assert lab.error is None, lab.error
    assert _heading(lab) == "ボットネットからのパスワードスプレー"
    assert list(lab.tabs.titles) == ["結果", "ボットネットが大きくなると", "サーバーのログ"]
    assert list(lab.views) == ["outcome", "as the botnet grows", "server log"]  # code reaches views by name
    labels = {name: control.description for name, control in lab.controls.items()}
    assert labels["botnet_size"] == "ボットネットの規模" and labels["seed"] == "シード"
    assert labels["defence_account_jail"] == "アカウントごとの fail2ban"
    assert lab.controls["defence_account_jail"].tooltip == "アカウントごとの fail2ban (ユーザー名を jail に入れる)"
    assert [label for label, _ in lab.controls["pace"].options] == ["1 分ごと", "10 分ごと", "1 時間ごと"]
    assert lab.controls["botnet_size"].options[-1] == ("10,000 アドレス", 10000)
    chart, table = lab.views["outcome"].children
    assert "ボット 2,000 台: 防御なし" in chart.value
    assert "分後に最初のアカウントが破られました" in table.value and "試行の回数" in table.value
    assert "attempts made" not in table.value and "first account lost" not in table.value
    log = lab.views["server log"].value  # what Postfix and Dovecot write is never translated
    assert "SASL PLAIN authentication failed" in log and "pop3-login: Disconnected (auth failed" in log
    lab.controls["defence_account_jail"].value = True
    assert "破られたアカウントはありません" in lab.views["outcome"].children[1].value
    assert "jail に入ったアカウント" in lab.views["outcome"].children[1].value


def test_the_panel_is_english_again_after_switching_back(japanese):
    spraying_lab()
    i18n.set_language("en")
    lab = spraying_lab()
    assert _heading(lab) == "Password spraying from a botnet"
    assert list(lab.tabs.titles) == ["outcome", "as the botnet grows", "server log"]
    assert lab.controls["defence_account_jail"].description == "fail2ban per account"  # the browser test ticks it
    assert "2,000 bots: no defence" in lab.views["outcome"].children[0].value


def test_the_sweep_figure_is_drawn_in_japanese(japanese):
    from simlab.plots.spraying import spraying_sweep_figure

    rows = [{"botnet_size": 1, "accounts_compromised": 0, "legit_logins_refused": 0, "first_compromise_min": None},
            {"botnet_size": 100, "accounts_compromised": 2, "legit_logins_refused": 1, "first_compromise_min": 30.0}]
    axes = spraying_sweep_figure({"x": rows}).get_axes()
    assert [ax.get_title() for ax in axes] == ["破られたアカウント", "拒否された職員のログイン",
                                               "最初に破られるまでの分数"]
    assert axes[0].get_xlabel() == "ボットネットの規模 (アドレス数)"
    i18n.set_language("en")
    axes = spraying_sweep_figure({"x": rows}).get_axes()
    assert axes[2].get_title() == "minutes to the first compromise"
    assert axes[0].get_xlabel() == "botnet size (addresses)"


def test_the_sweep_tab_draws_in_japanese(japanese):
    from simlab.ui.charts import svg_texts

    lab = spraying_lab()
    lab.tabs.selected_index = 1
    svg = lab.views["as the botnet grows"].value
    assert svg.startswith("<svg") and not lab.is_busy
    texts = svg_texts(svg)
    assert {"破られたアカウント", "拒否された職員のログイン", "最初に破られるまでの分数", "防御なし"} <= set(texts)
    assert "ボットネットの規模 (アドレス数)" in texts and "accounts compromised" not in texts


def test_checker_feedback_in_japanese(japanese):
    lost = check_spraying_defence(["fail2ban"])
    assert not lost.passed
    assert lost.messages[0].startswith("2000 アドレスのボットネットに 3 個のアカウントが破られました")
    assert "アカウントごとに数えてください" in lost.messages[0]
    lockout = check_spraying_defence(["lockout"])
    assert not lockout.passed and "単純なアカウントロックアウト" in lockout.messages[0]
    passed = check_spraying_defence(["account_jail"])
    assert passed.passed and passed.messages[0].startswith("2000 アドレスから破られたアカウントはなく")
    unknown = check_spraying_defence(["moat"])
    assert "'moat' は防御の名前ではありません" in unknown.messages[0] and "account_jail" in unknown.messages[0]


def test_checker_feedback_is_english_after_switching_back(japanese):
    check_spraying_defence(["fail2ban"])
    i18n.set_language("en")
    assert check_spraying_defence(["fail2ban"]).messages[0].startswith("3 accounts fell to the 2000-address botnet")


def test_solution_and_names_are_read_in_the_current_language(japanese):
    assert 'check_spraying_defence(["account_jail"])' in exercise.SOLUTION  # the code stays as it is
    assert "アカウントごとに数え" in exercise.SOLUTION and "weak_passwords={\"info\": 3}" in exercise.SOLUTION
    assert DEFENCE_NAMES["lockout"] == "5 回の失敗でアカウントロックアウト"
    assert "smtpd_client_auth_rate_limit" in DEFENCE_NAMES["anvil"]  # a setting's name is never translated
    assert SHORT_NAMES["postscreen"] == "postscreen (ポート 25)" and ROW_NAMES["lockouts"] == "ロックされたアカウント"
    i18n.set_language("en")
    assert exercise.SOLUTION.startswith("Count per account, not per address")
    assert DEFENCE_NAMES["lockout"] == "account lockout after 5 failures"
    assert list(DEFENCE_NAMES) == ["fail2ban", "anvil", "auth_penalty", "account_jail", "lockout", "postscreen"]


def test_staff_refusals_name_sending_in_japanese(japanese):
    from types import SimpleNamespace

    refused_auth = SimpleNamespace(actor="alice (roaming)", service="smtp", lines=[
        "C: AUTH PLAIN AGFsaWNlAHdyb25n", "S: 535 5.7.8 Error: authentication failed"])
    sent = SimpleNamespace(actor="bob (LAN)", service="smtp", lines=["C: AUTH PLAIN AGJvYgBzM2NyZXQ=",
                                                                     "S: 235 2.7.0 Authentication successful"])
    assert staff_refusals(SimpleNamespace(transcripts=[refused_auth, sent])) == {"alice (roaming) (送信)": 1}
    i18n.set_language("en")
    assert staff_refusals(SimpleNamespace(transcripts=[refused_auth, sent])) == {"alice (roaming), sending": 1}
    assert staff_refusals(run(spraying_day(("lockout",)), seed=1))["bob (LAN)"] == 2  # POP3: the actor's own name


@pytest.mark.parametrize("knobs, field, words", [
    ({"botnet_size": 0}, "botnet_size", "1 から 131319 までの整数"),
    ({"pace": -1}, "pace", "は時間の長さではありません"),
    ({"users": "admin"}, "users", "はアカウント名のリストではありません"),
    ({"defences": ["moat"]}, "defences", "は防御の名前ではありません"),
    ({"weak_passwords": {"info": 99}}, "weak_passwords['info']", "40 までの整数"),
    ({"services": [25]}, "services", "はボットネットが攻撃するポートではありません"),
])
def test_scenario_errors_in_japanese(japanese, knobs, field, words):
    from simlab.scenarios.spraying import password_spraying

    with pytest.raises(ConfigError) as info:
        password_spraying(**knobs)
    assert info.value.setting == field and words in str(info.value) and "期待される値" in str(info.value)


def test_a_product_without_the_setting_is_named_in_japanese(japanese):
    from simlab.scenarios.spraying import password_spraying

    with pytest.raises(ConfigError) as info:
        password_spraying(preset="eims-2.1", defences=["anvil"], services=[587, 110])
    assert str(info.value) == ("defences: 'anvil の AUTH のレート制限' は EIMS 2.1 にない機能です (設定 "
                               "smtpd_client_auth_rate_limit がありません)。期待される値: postfix プリセット "
                               "(Postfix 3.7 と Dovecot)")


def test_defences_describe_themselves_in_japanese(japanese):
    assert DovecotAuthPenalty().describe().startswith("auth_failure_delay 2 秒、アドレスごとのペナルティ")
    jail = AccountJail(maxretry=5, findtime=3600, bantime=3600, allow_nets=["192.0.2.0/24"])
    assert "3600 秒以内に 5 回失敗したアカウント" in jail.describe() and "192.0.2.0/24" in jail.describe()
    assert LoginLockout(5, 1800).describe().startswith("5 回ログインに失敗したアカウントを 1800 秒間ロック")
    assert "ポート 25 の postscreen" in Postscreen(listed=["203.0.113.0/24"], site_ip="192.0.2.25").describe()
    i18n.set_language("en")
    assert LoginLockout(5, 1800).describe() == "lock an account for 1800s after 5 failed logins (POP3 and AUTH)"


def test_texts_imported_in_english_are_looked_up_when_shown(english):
    # DEFENCE_NAMES, SHORT_NAMES and ROW_NAMES were imported at the top of this file, in English
    assert DEFENCE_NAMES["fail2ban"].startswith("fail2ban per address") and SHORT_NAMES["anvil"].startswith("anvil")
    i18n.set_language("ja")
    assert JAPANESE.search(DEFENCE_NAMES["fail2ban"]) and JAPANESE.search(SHORT_NAMES["anvil"])
    assert JAPANESE.search(ROW_NAMES["spray_attempts"]) and JAPANESE.search(exercise.SOLUTION)


def test_every_id_of_lesson_10_has_both_texts_and_is_used():
    used = catalogs.used_ids()
    mine = {message_id for message_id, where in used.items() if where & FILES}
    assert {"spraying.title", "exercise.spraying.solution", "plots.spraying.xlabel"} <= mine
    assert all(message_id.startswith(PREFIXES) or message_id.startswith(("ui.common.", "expected."))
               for message_id in mine), sorted(m for m in mine if not m.startswith(PREFIXES))
    for code in i18n.LANGUAGES:
        missing, unused = catalogs.problems(code, used)
        assert not [m for m in missing if m.startswith(PREFIXES)], code
        assert not [m for m in unused if m.startswith(PREFIXES)], code

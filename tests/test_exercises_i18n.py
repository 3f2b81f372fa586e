"""The exercises speak the learner's language (simlab.i18n): feedback, errors, worked answers and labels.

For each exercise module a checker's feedback is checked in Japanese after ``set_language("ja")`` and in
English (exactly the text the lessons and the instructor guide quote); module constants that hold learner
text (``SOLUTION``, ``DEFENCES``, the lesson 07 problems ...) are looked up when read, so they switch with
the language however early they were imported; and every ``exercise.*`` id these modules use has its text
in both catalogs. What a product writes (an SMTP reply, a setting's name) stays as the product wrote it in
both languages.
"""

from __future__ import annotations

import importlib
import inspect

import pytest
from helpers import load_script

from simlab import i18n
from simlab.exercises import common, flood, iprange, password, relay, rotation, sandbox, spoof, start, today

MODULES = (common, flood, iprange, password, relay, rotation, sandbox, spoof, start, today)
WITH_SOLUTION = (flood, iprange, password, relay, rotation, sandbox, spoof, start, today)
catalogs = load_script("catalogs")


def both(check):
    """``check()``'s feedback in English, then in Japanese (English restored after)."""
    before = i18n.language()
    try:
        i18n.set_language("en")
        english = check()
        i18n.set_language("ja")
        return english, check()
    finally:
        i18n.set_language(before)


# --- checkers: Japanese feedback, English unchanged ---------------------------------------------------------


def test_start_rcpt_reply(japanese):
    right, right_ja = both(lambda: start.check_rcpt_reply(250))
    assert right.messages == ["EIMS 2.1 as installed answers '250 Recipient <dave@remote.test> OK': a 2xx to a "
                              "foreign recipient from an outside client, so it will relay for anyone - an open relay "
                              "until Relay Restriction is turned on"]
    assert right_ja.passed and right_ja.messages[0].startswith(
        "インストールしたままの EIMS 2.1 は '250 Recipient <dave@remote.test> OK' と応えます。")
    assert str(right_ja).startswith("正解です。\n- ")
    assert str(right).startswith("正解です。\n- EIMS 2.1 as installed")  # the heading speaks when shown
    wrong, wrong_ja = both(lambda: start.check_rcpt_reply("abc"))
    assert wrong.messages == ["'abc' is not a reply code: give the three digits at the start of the server's line, "
                              "e.g. check_rcpt_reply(550)"]
    assert wrong_ja.messages == ["'abc' は応答コードではありません。サーバーの行の先頭にある 3 桁の数字を"
                                 "答えてください。例: check_rcpt_reply(550)"]
    assert str(wrong_ja).startswith("まだです。\n") and "まだです。" in wrong_ja._repr_html_()
    i18n.set_language("en")
    assert str(wrong).startswith("Not yet.\n- ") and "<b style='color:#b00020'>Not yet.</b>" in wrong._repr_html_()


def test_relay_open_relay():
    open_, open_ja = both(lambda: relay.check_no_open_relay("eims-1.2"))
    assert open_.messages == ["still relayed: 1 message from 203.0.113.0/24 (relay survey) got 250 at RCPT",
                              "1 bounce reached postmaster"]
    assert open_ja.messages == ["まだ中継されています: 203.0.113.0/24 (relay survey) からの 1 通が RCPT で 250 を"
                                "受け取りました", "postmaster にエラーメールが 1 通届きました"]
    sims, sims_ja = both(lambda: relay.check_no_open_relay("sims"))
    assert sims.messages[1] == "alice (roaming) at 198.51.100.77: 6 messages refused at RCPT with 550"
    assert sims_ja.messages == ["正規のメールが失われました: 職員や取引先からの 6 通",
                                "alice (roaming) (198.51.100.77): 6 通が RCPT で 550 により拒否されました"]


def test_iprange_refused_correspondents():
    lan, lan_ja = both(lambda: iprange.check_ip_range("192.0.2.1-192.0.2.254"))
    assert lan.messages[0] == "carol's MTA at 198.51.100.90 was refused at connect (554 Access denied) 21 times"
    assert lan_ja.messages[0] == "carol's MTA (198.51.100.90) が接続の時点で 21 回拒否されました (554 Access denied)"
    spam, spam_ja = both(lambda: iprange.check_ip_range(""))
    assert spam.messages == ["spam got through: 10 messages from 203.0.113.0/24 (spoofing spammer) got 250 at RCPT"]
    assert spam_ja.messages == ["迷惑メールが通りました: 203.0.113.0/24 (spoofing spammer) からの 10 通が RCPT で "
                                "250 を受け取りました"]


def test_password_break_in():
    fell, fell_ja = both(lambda: password.check_no_break_in())
    assert fell.messages == ["broken into: 2 accounts - webmaster (from 203.0.113.226 at 02:45), info (from "
                             "203.0.113.226 at 02:47); a right guess writes no error line",
                             "11 failed logins in the day, 72 successful staff logins"]
    assert fell_ja.messages == ["侵入されました: 2 アカウント - webmaster (02:45 に 203.0.113.226 から)、info "
                                "(02:47 に 203.0.113.226 から)。正しい推測はエラーの行を残しません",
                                "この日のログインの失敗 11 回、職員のログインの成功 72 回"]
    banned, banned_ja = both(lambda: password.check_no_break_in(fail2ban=True, bantime=86400))
    assert banned.messages[1] == "6 failed logins in the day, 72 successful staff logins, 1 ban"
    assert banned_ja.messages == ["侵入されたアカウントはなく、bob と alice は一日中メールを読めました",
                                  "この日のログインの失敗 6 回、職員のログインの成功 72 回、BAN 1 回"]


def test_rotation_per_ip_ban():
    ban, ban_ja = both(lambda: rotation.check_rotation_defence("eims-2.1", "per_ip_ban", ban_after=1))
    assert ban.messages == [
        "still relayed: 50 spam messages from 203.0.113.0/24, sent from 50 different addresses (250 at RCPT)",
        "alice's mail lost: alice (roaming) at 198.51.100.77 had 5 messages refused - she sends through the site "
        "from outside its network",
        "198.51.100.77 was banned - that is not the spammer"]
    assert ban_ja.messages[0] == ("まだ中継されています: 203.0.113.0/24 からの迷惑メール 50 通。送信元は 50 個の異なる"
                                  "アドレス (RCPT で 250)")
    assert ban_ja.messages[2] == "198.51.100.77 が BAN されました。これは迷惑メール送信者ではありません"
    bad, bad_ja = both(lambda: rotation.check_rotation_defence("eims-2.1", "pray"))
    assert bad.messages == ["defence: 'pray' is not a defence; expected one of none, per_ip_ban, admin_block, "
                            "please_stop, allowlist"]
    assert bad_ja.messages == ["defence: 'pray' は防御策ではありません。期待される値: 次のいずれか: none, per_ip_ban, "
                               "admin_block, please_stop, allowlist"]


def test_spoof_marks_ok_and_problem_lines():
    rr, rr_ja = both(lambda: spoof.check_spoof_refused("eims-2.1", relay_restriction=True))
    assert rr.messages[0] == ("problem: the thread's dialogue from 203.0.113.50 got '250 Recipient "
                              "<user_name@yourcompany.test> OK' at RCPT: relayed to yourcompany.test (1 message "
                              "waiting in the queue)")
    assert rr.messages[1] == ("ok: bob's message from 192.0.2.101 got '250 Recipient <carol@remote.test> OK' at RCPT: "
                              "accepted for carol@remote.test")
    assert rr_ja.messages[0] == ("問題: 203.0.113.50 からのスレッドの対話は RCPT で '250 Recipient "
                                 "<user_name@yourcompany.test> OK' を受け取りました: yourcompany.test へ中継 "
                                 "(キューで待っているメール 1 通)")
    assert rr_ja.messages[2] == ("OK: 198.51.100.90 から bob 宛てに配送する carol のサーバーは RCPT で '250 Recipient "
                                 "<bob@mycompany.test> OK' を受け取りました: bob 宛てとして受理")
    assert all(common.is_ok_line(m) for m in rr_ja.messages[1:]) and not common.is_ok_line(rr_ja.messages[0])


def test_flood_limits():
    high, high_ja = both(lambda: flood.check_flood_limits(5, 100))
    assert high.messages == ["the provider's server (198.51.100.25) got '421 too many connections' 5 times "
                             "delivering 10 messages at once; its last message arrived after 5 minutes - the "
                             "per-client limit is too low for a busy legitimate sender"]
    assert high_ja.messages == ["プロバイダーのサーバー (198.51.100.25) は 10 通を同時に配送する間に '421 too many "
                                "connections' を 5 回受け取り、最後のメールが届いたのは 5 分後でした。"
                                "クライアントごとの上限が、忙しい正規の送信者には低すぎます"]
    bad, bad_ja = both(lambda: flood.check_flood_limits(-1))
    assert bad.messages == ["connection_limit: -1 is not a limit; expected a whole number >= 0 (0: no limit; "
                            "Postfix's default is 50)"]
    assert bad_ja.messages == ["connection_limit: -1 は上限ではありません。期待される値: 0 以上の整数 (0: 上限なし。"
                               "Postfix の既定値は 50)"]


def test_sandbox_challenge():
    new, new_ja = both(lambda: sandbox.check_challenge("postfix"))
    assert new.messages == ["the challenge is for a 1998 product: eims-1.2, eims-2.1, sims - Postfix 3.7 passes it "
                            "as installed"]
    assert new_ja.messages == ["このチャレンジは 1998 年の製品のためのものです: eims-1.2, eims-2.1, sims - Postfix 3.7 "
                               "はインストールしたままで合格してしまいます"]
    sims, sims_ja = both(lambda: sandbox.check_challenge("sims"))
    assert sims.messages[-1] == ("alice (roaming) (198.51.100.77): 9 sessions where RCPT got 550 <carol@remote.test> "
                                 "relaying prohibited")
    assert sims_ja.messages[-1] == ("alice (roaming) (198.51.100.77): RCPT に 550 <carol@remote.test> relaying "
                                    "prohibited を受け取ったセッションが 9 回")


def test_today_relay_restrictions():
    ok, ok_ja = both(lambda: today.check_relay_restrictions(
        "permit_mynetworks, permit_sasl_authenticated, reject_unauth_destination"))
    assert ok.passed and ok_ja.passed
    assert ok.messages[2] == "bob on the LAN (192.0.2.101, port 25): RCPT TO:<carol@remote.test> got 250 2.1.5 Ok"
    assert ok_ja.messages[2] == ("LAN の bob (192.0.2.101、ポート 25): RCPT TO:<carol@remote.test> への応答は "
                                 "250 2.1.5 Ok")
    assert ok.messages[3].endswith(" - on port 587 master.cf's submission entry decides, not main.cf's list")
    assert ok_ja.messages[3].endswith(" - ポート 587 で判断するのは main.cf のリストではなく master.cf の submission "
                                      "エントリーです")
    both_files, both_files_ja = both(lambda: today.check_relay_restrictions(
        "permit_mynetworks, reject_unauth_destination\n-o smtpd_relay_restrictions=permit_mynetworks"))
    assert both_files.messages[-1] == (
        "'-o smtpd_relay_restrictions=permit_mynetworks' is a line of master.cf's submission entry: it changes port "
        "587 only. The survey, the spoofer, bob and carol's server come on port 25, which reads main.cf: write the "
        "list there, as 'smtpd_relay_restrictions = ...' (no -o)")
    assert both_files_ja.messages[-1].startswith("'-o smtpd_relay_restrictions=permit_mynetworks' は master.cf の "
                                                 "submission エントリーの行で、")
    bad, bad_ja = both(lambda: today.check_relay_restrictions("myhostname = x"))
    assert bad.messages == ["myhostname: 'x' is not the setting this exercise asks for; expected main.cf's "
                            "'smtpd_relay_restrictions = <words>' (or just the words)"]
    assert bad_ja.messages == ["myhostname: 'x' はこの演習で求めている設定ではありません。期待される値: main.cf の "
                               "'smtpd_relay_restrictions = <words>' (語だけでも可)"]


def test_today_configuration_comments_switch_but_settings_do_not():
    values = {"problem": "open_relay", "submission": False}
    english, japanese = both(lambda: today.main_cf(values))
    assert english.splitlines()[0] == "# main.cf (port 25; and every list the submission entry does not override)"
    assert japanese.splitlines()[0].startswith("# main.cf (ポート 25 用。")
    settings = [line for line in english.splitlines() if not line.startswith("# ")]
    assert settings == [line for line in japanese.splitlines() if not line.startswith("# ")]


def test_common_errors_and_wrong_calls():
    switch, switch_ja = both(lambda: relay.check_no_open_relay("eims-2.1", relay_restriction="maybe"))
    assert switch.messages == ["relay_restriction: 'maybe' is not a switch; expected True or False (or the words "
                               "yes/no, true/false, on/off, 1/0)"]
    assert switch_ja.messages == ["relay_restriction: 'maybe' はオン/オフの値ではありません。期待される値: True または "
                                  "False (yes/no、true/false、on/off、1/0 の語も可)"]
    call, call_ja = both(lambda: start.check_rcpt_reply())
    assert call.messages == ["missing a required argument: 'answer'; expected check_rcpt_reply(answer)"]
    assert call_ja.messages == ["missing a required argument: 'answer' (正しい呼び出し方: check_rcpt_reply(answer))"]


def test_the_class_overview_leaves_out_ok_lines_in_either_language(tmp_path, japanese):
    failed = spoof.check_spoof_refused("eims-2.1", relay_restriction=True)
    common.record(failed, "03", student="kenji", path=tmp_path)
    wrong = common.common_wrong_answers(tmp_path)
    assert list(wrong.message) == [failed.messages[0]] and failed.messages[0].startswith("問題: ")


# --- constants looked up when read ------------------------------------------------------------------------


@pytest.mark.parametrize("module", WITH_SOLUTION, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_solution_is_looked_up_when_read(module, japanese):
    name = module.__name__
    japanese_text = importlib.import_module(name).SOLUTION
    namespace: dict = {}
    exec(f"from {name} import SOLUTION", namespace)  # a lesson's import, as its code cell writes it
    assert namespace["SOLUTION"] == japanese_text
    assert any("\u3040" <= ch <= "\u30ff" for ch in japanese_text), "no kana in the Japanese solution"
    i18n.set_language("en")
    english_text = module.SOLUTION
    assert english_text != japanese_text and not any("\u3040" <= ch <= "\u30ff" for ch in english_text)
    exec(f"from {name} import *", namespace)
    assert namespace["SOLUTION"] == english_text
    with pytest.raises(AttributeError, match="NO_SUCH_TEXT"):
        _ = module.NO_SUCH_TEXT


def test_solutions_keep_the_code_they_quote(japanese):
    """A worked answer's code lines (indented ``check_...(...)`` calls) are the same in both languages."""
    def calls(text: str) -> list[str]:
        return [line.split("#")[0].strip() for line in text.splitlines() if line.strip().startswith("check_")]

    for module in WITH_SOLUTION:
        ja_calls = calls(module.SOLUTION)
        i18n.set_language("en")
        en_calls = calls(module.SOLUTION)
        i18n.set_language("ja")
        assert ja_calls == en_calls and en_calls, module.__name__


def test_iprange_solution_names_the_provider_address(japanese):
    assert 'check_ip_range("192.0.2.1-192.0.2.254, 198.51.100.25-198.51.100.25", mx_via_provider=True)' \
        in iprange.SOLUTION


def test_defences_switch_language_after_import(japanese):
    from simlab.exercises.rotation import DEFENCES, SHORT_NAMES

    assert DEFENCES["allowlist"] == "許可リスト: サイトのネットワークにだけ中継"
    assert SHORT_NAMES["none"] == "防御なし"
    i18n.set_language("en")
    assert dict(DEFENCES) == {"none": "no defence", "per_ip_ban": "fail2ban: ban each address that relays",
                              "admin_block": "admin blocks addresses at the router, hourly",
                              "please_stop": "admin writes 'please stop' to each abuser",
                              "allowlist": "allow-list: relay only for the site's network"}
    assert list(SHORT_NAMES) == list(DEFENCES) and f"{DEFENCES['none']:12}|" == "no defence  |"


def test_lesson_07_problems_and_probes_switch_language(japanese):
    problem = today.PROBLEMS["guessing"]
    assert problem.label == "S1: POP3 でのパスワード推測"
    assert problem.dialogues[0].label == "POP3 でのパスワード推測者" and today.PROBES[2].who == "LAN の bob"
    assert today.SUBMISSION_ENTRY == "master.cf の submission エントリー"
    i18n.set_language("en")
    assert (problem.label, problem.then) == ("S1: password guessing over POP3", "'POP3 wrong password' lines; the "
                                             "advice was to restrict POP3 by client address.")
    assert problem.dialogues[0].label == "the guesser, over POP3" and today.PROBES[2].who == "bob on the LAN"
    assert today.SUBMISSION_ENTRY == "master.cf's submission entry"


def test_learner_text_fields_keep_their_signature_and_take_plain_text():
    assert list(inspect.signature(today.Problem).parameters)[:4] == ["key", "label", "then", "today"]
    assert list(inspect.signature(today.Dialogue).parameters) == ["label", "client_ip", "port", "lines"]
    dialogue = today.Dialogue("mine", "203.0.113.7", 25, ("QUIT",))
    assert dialogue.label == "mine" and dialogue == today.Dialogue("mine", "203.0.113.7", 25, ("QUIT",))
    with pytest.raises(TypeError):
        today.Dialogue(client_ip="203.0.113.7", port=25, lines=())  # label has no default


def test_switch_expected_is_looked_up_when_read(japanese):
    from simlab.exercises.common import SWITCH_EXPECTED

    assert SWITCH_EXPECTED == "True または False (yes/no、true/false、on/off、1/0 の語も可)"
    i18n.set_language("en")
    assert common.SWITCH_EXPECTED == "True or False (or the words yes/no, true/false, on/off, 1/0)"


# --- the catalogs ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def used_here():
    files = {f"simlab/exercises/{module.__name__.rsplit('.', 1)[1]}.py" for module in MODULES}
    return {message_id: where for message_id, where in catalogs.used_ids().items() if where & files}


def test_these_modules_use_exercise_ids(used_here):
    own = {message_id for message_id in used_here if message_id.startswith("exercise.")}
    assert len(own) > 200
    assert set(used_here) - own == {"expected.one_of"}  # the one shared id they use


@pytest.mark.parametrize("code", i18n.LANGUAGES)
def test_every_id_of_these_modules_has_a_text(code, used_here):
    missing, _unused = catalogs.problems(code, used_here)
    assert not missing, f"{code} catalog lacks {missing}"


def test_no_exercise_id_in_the_catalogs_is_left_unused():
    used = catalogs.used_ids()
    others = ("exercise.spraying.", "exercise.sender_auth.")  # written by other modules, checked by test_i18n
    for code in i18n.LANGUAGES:
        _missing, unused = catalogs.problems(code, used)
        assert not [m for m in unused if m.startswith("exercise.") and not m.startswith(others)], code

"""The library core speaks the learner's language (simlab.i18n): defences, anvil, SPF, runs and the SVG charts.

After ``set_language("ja")`` the ConfigErrors of the password defences (:mod:`simlab.restrictions.guards`), of
anvil (:mod:`simlab.restrictions.rates`), of SPF (:mod:`simlab.auth.spf`) and of :func:`simlab.run` are worded
in Japanese, as are the defences' ``describe()`` lines, an SPF result's ``reason``, why a banned client saw no
banner, and the sequence chart's default lane names. What a product writes (Dovecot's replies, fail2ban's
log line) and the setting names stay as they are. Back in English, every text is exactly what it was.
"""

from __future__ import annotations

import dataclasses
import pickle
import re

import pytest
from helpers import load_script

import simlab
from simlab import i18n
from simlab.auth.spf import TIMEOUT, check_host
from simlab.errors import ConfigError
from simlab.protocol.policy import DROP, Dropped
from simlab.restrictions import AccountLockout, Fail2Ban, FailureDelay
from simlab.restrictions.rates import Anvil
from simlab.scenarios import run
from simlab.scenarios.catalog import relay_probe
from simlab.ui.charts import Steps, sequence_svg, steps_svg, svg_texts

catalogs = load_script("catalogs")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
FILES = {"simlab/restrictions/guards.py", "simlab/restrictions/rates.py", "simlab/auth/spf.py",
         "simlab/ui/charts.py", "simlab/scenarios/run.py", "simlab/protocol/policy.py"}
FORUM = {
    "example.com": [("TXT", "v=spf1 mx -all"), ("MX", (10, "mail.example.com"))],
    "mail.example.com": [("A", "192.0.2.25")],
}


def _message(call) -> str:
    with pytest.raises(ConfigError) as caught:
        call()
    return str(caught.value)


def _banned_session(jail_name: str = "eims-pop3"):
    jail = Fail2Ban(jail=jail_name, failregex="eims-pop3", maxretry=1)
    server = simlab.presets.eims_2_1(accounts={"webmaster": "Secret1"}, restrictions=[jail])
    jail.ban("203.0.113.9", server.clock.now, server)
    return server.pop3_session("203.0.113.9")


# --- the password defences (restrictions/guards.py) -----------------------------------------------------

def test_the_defences_errors_in_japanese(japanese):
    assert _message(lambda: AccountLockout(max_failures=0)) == (
        "lockout.max_failures: 0 は正の数ではありません。期待される値: 0 より大きい数値")
    assert _message(lambda: Fail2Ban(failregex="Login failed")) == (
        "failregex: 'Login failed' に <HOST> がありません。期待される値: <HOST> を含む正規表現、または次のいずれか: "
        + str(list(simlab.restrictions.FILTERS)))
    assert "は正規表現ではありません (" in _message(lambda: Fail2Ban(failregex="(<HOST>"))
    assert _message(lambda: Fail2Ban(mode="auth")) == (
        "mode: 'auth' には fail2ban 標準のフィルターが必要です。"
        "期待される値: filter='postfix' (または 'dovecot'、'exim')")


def test_the_defences_errors_in_english_are_unchanged(english):
    assert _message(lambda: FailureDelay(base=-1)) == (
        "auth_failure_delay: -1 is not a positive number; expected a number > 0")
    assert _message(lambda: Fail2Ban(failregex="(<HOST>")).startswith(
        "failregex: '(<HOST>' is not a regular expression (missing ), unterminated subpattern")
    assert _message(lambda: Fail2Ban(mode="auth")) == (
        "mode: 'auth' needs a stock filter; expected filter='postfix' (or 'dovecot', 'exim')")


def test_the_defences_describe_themselves_in_either_language(english):
    lockout, delay = AccountLockout(5, 900), FailureDelay()
    jail, growing = Fail2Ban(jail="pop3"), Fail2Ban(jail="pop3", increment=True, bantime=3600)
    assert lockout.describe() == "lock an account for 900s after 5 failed logins"
    assert delay.describe() == "failure delay 2s doubling to 15s per address"
    assert jail.describe() == "fail2ban [pop3]: ban for 600s after 5 failures within 600s"
    assert growing.describe() == "fail2ban [pop3]: ban for 3600s, growing after 5 failures within 600s"
    i18n.set_language("ja")
    assert lockout.describe() == "5 回ログインに失敗したアカウントを 900 秒間ロック"
    assert delay.describe() == "失敗時の遅延 2 秒、アドレスごとに倍々で最大 15 秒"
    assert jail.describe() == "fail2ban [pop3]: 600 秒以内に 5 回失敗したアドレスを 600 秒間 BAN"
    assert growing.describe().endswith("3600 秒間 BAN (BAN のたびに延長)")


def test_a_banned_client_hears_why_in_the_language_it_is_read_in(english):
    session = _banned_session()
    assert session.greeting is None and session.dropped.reason == "fail2ban jail eims-pop3"
    i18n.set_language("ja")
    assert session.dropped.reason == "fail2ban の jail eims-pop3"  # worded when read, not when dropped
    assert _banned_session().dropped.reason == "fail2ban の jail eims-pop3"


def test_the_ban_itself_stays_as_fail2ban_and_dovecot_write_it(japanese):
    jail = Fail2Ban(jail="dovecot", failregex="dovecot", maxretry=1)
    server = simlab.presets.postfix(accounts={"bob": "s3cret"}, restrictions=[jail])
    pop3 = server.pop3_session("203.0.113.9")
    assert str(pop3.greeting) == "+OK Dovecot ready."
    pop3.send("USER bob")
    assert str(pop3.send("PASS wrong")) == "-ERR [AUTH] Authentication failed."
    pop3.close()
    assert "pop3-login: Disconnected (auth failed, 1 attempts in 0 secs): user=<bob>" in server.log[-1]
    assert jail.log[-1].endswith("NOTICE  [dovecot] Ban 203.0.113.9")


def test_a_drop_reason_pickles_and_a_plain_reason_stays_text(japanese):
    session = _banned_session()
    again = pickle.loads(pickle.dumps(session.dropped))
    assert again.reason == "fail2ban の jail eims-pop3"
    assert Dropped("router filter").reason == "router filter"
    assert DROP.reason == "破棄" and pickle.loads(pickle.dumps(DROP)).reason == "破棄"


# --- anvil (restrictions/rates.py) ------------------------------------------------------------------------

def test_anvils_errors_and_description_in_japanese(japanese):
    assert _message(lambda: Anvil(auth_rate_limit=-1)) == (
        "smtpd_client_auth_rate_limit: -1 は上限値ではありません。期待される値: 0 以上の整数 (0: 上限なし)")
    assert _message(lambda: Anvil(time_unit=0)) == (
        "anvil_rate_time_unit: 0 は時間の長さではありません。期待される値: 0 より大きい秒数")
    assert Anvil(connection_count_limit=0, auth_rate_limit=3, message_rate_limit=10).describe() == (
        "クライアントごとの上限: 同時接続 <= 無制限、メール <= 10/60 秒、AUTH <= 3/60 秒")


def test_anvils_words_in_english_are_unchanged(english):
    assert _message(lambda: Anvil(connection_rate_limit=True)) == (
        "smtpd_client_connection_rate_limit: True is not a limit; expected a whole number >= 0 (0: no limit)")
    assert Anvil(connection_rate_limit=30, recipient_rate_limit=100).describe() == (
        "per-client limits: connections at once <= 50, connections <= 30/60s, recipients <= 100/60s")
    assert Anvil(connection_count_limit=0).describe() == "per-client limits: connections at once <= any"


# --- SPF (auth/spf.py) ----------------------------------------------------------------------------------

def test_spf_explains_its_results_in_japanese(japanese):
    fail = check_host("203.0.113.50", "Postmaster@example.com", "mail.example.com", FORUM)
    assert fail == "fail" and fail.reason == (
        "example.com は 203.0.113.50 からのメール送信を許可していません ('-all' に一致)。")
    assert fail.explanation == "domain of example.com does not designate 203.0.113.50 as permitted sender"  # §6.2
    passed = check_host("192.0.2.25", "bob@example.com", "mail.example.com", FORUM)
    assert passed.reason == "example.com は 192.0.2.25 からのメール送信を許可しています ('mx' に一致)。"
    none = check_host("192.0.2.25", "bob@remote.test", "mail.example.com", FORUM)
    assert none == "none" and none.reason.startswith("remote.test は SPF レコードを公開していないため")
    broken = check_host("192.0.2.25", "bob@example.com", "x.test", {"example.com": [("TXT", "v=spf1 ip4:1.2.3 -all")]})
    assert broken == "permerror" and broken.reason == (
        "example.com の SPF チェックは恒久的なエラー (permerror) になりました: example.com のレコードで、"
        "'ip4:1.2.3' の '1.2.3' はドット区切りの IPv4 アドレスではありません。")
    late = check_host("192.0.2.25", "bob@example.com", "x.test", {"example.com": TIMEOUT})
    assert late == "temperror" and late.reason == (
        "example.com の SPF チェックを終えられませんでした: example.com の TXT の問い合わせがタイムアウトしました。"
        "後でもう一度試してください。")


def test_spf_reasons_in_english_are_unchanged(english):
    broken = check_host("192.0.2.25", "bob@example.com", "x.test", {"example.com": [("TXT", "v=spf1 ip4:1.2.3 -all")]})
    assert broken.reason == ("The SPF check for example.com is broken: in the record of example.com, "
                             "'ip4:1.2.3' has '1.2.3', which is not a dotted-quad IPv4 address.")
    late = check_host("192.0.2.25", "bob@example.com", "x.test", {"example.com": TIMEOUT})
    assert late.reason == ("The SPF check for example.com could not finish: the TXT lookup for example.com "
                           "timed out; try again later.")
    soft = check_host("203.0.113.5", "a@soft.test", "x.test", {"soft.test": [("TXT", "v=spf1 ~all")]})
    assert soft.reason == "soft.test says 203.0.113.5 is probably not allowed to send its mail ('~all' matched)."
    odd = check_host("203.0.113.5", "a@localhost", "x.test", {})
    assert odd.reason == "'localhost' is not a domain name that can have an SPF record, so there is nothing to check."
    bare = check_host("203.0.113.5", "a@n.test", "x.test", {"n.test": [("TXT", "v=spf1 note=%x -all")]})
    assert bare.reason == ("The SPF check for n.test is broken: in the record of n.test, "
                           "'%x' has a '%' not followed by '{', '%', '_' or '-'.")


def test_spfs_configuration_errors_in_japanese(japanese):
    assert _message(lambda: check_host("not-an-ip", "a@example.com", "x.test", FORUM)) == (
        "ip: 'not-an-ip' は IP アドレスではありません。期待される値: 192.0.2.25 のような IPv4 または IPv6 のアドレス")
    assert "は文字列ではありません" in _message(lambda: check_host("192.0.2.1", None, "x.test", FORUM))
    assert _message(lambda: check_host("192.0.2.1", "a@b.test", "x.test", [])) == (
        "dns: [] は辞書 (マッピング) ではありません。期待される値: 名前から (タイプ, 値) のレコードのリストへの辞書")
    assert _message(lambda: check_host("192.0.2.1", "a@b.test", "x.test", {"b.test": [("A", "nope")]})) == (
        "dns['b.test']: 'nope' は A レコードの値ではありません。期待される値: IPv4 アドレス")
    assert "次のいずれか: A, AAAA, CNAME" in _message(
        lambda: check_host("192.0.2.1", "a@b.test", "x.test", {"b.test": [("XX", "v")]}))


def test_spfs_configuration_errors_in_english_are_unchanged(english):
    assert _message(lambda: check_host("192.0.2.1", "a@b.test", "x.test", {"b.test": [("MX", "ten mx.b.test")]})) == (
        "dns['b.test']: ('ten', 'mx.b.test') is not an MX record value; expected (preference, host) or "
        "'preference host', such as (10, 'mail.example.com')")
    assert _message(lambda: check_host("192.0.2.1", "a@b.test", "x.test", FORUM, now=1.5)) == (
        "now: 1.5 is not a time; expected whole seconds since 1970 (an int)")
    assert _message(lambda: check_host("192.0.2.1", "a@b.test", "x.test", FORUM, default_explanation="%{q}")) == (
        "default_explanation: '%{q}' is not a valid explanation ('%{q}' uses 'q', which is not a macro letter); "
        "expected a macro-string (RFC 7208 §7) such as 'See %{d} for why'")


# --- running a scenario (scenarios/run.py) ----------------------------------------------------------------

def test_runs_errors_in_japanese(japanese):
    assert _message(lambda: run("relay_probe")) == (
        "scenario: 'relay_probe' はシナリオではありません。期待される値: simlab.scenarios.relay_probe() など")
    assert _message(lambda: run(relay_probe(), seed="1")) == "seed: '1' は整数ではありません。期待される値: 1 など"
    lost = dataclasses.replace(relay_probe(duration=60), mx={"partner.test": ["mx.partner.test"]})
    message = _message(lambda: run(lost))
    assert message.startswith("mx['partner.test']: 'mx.partner.test' はネットワーク上のホストではありません。"
                              "期待される値: 次のいずれか: ")


def test_runs_errors_in_english_are_unchanged(english):
    assert _message(lambda: run(relay_probe(), seed=True)) == "seed: True is not a whole number; expected e.g. 1"
    lost = dataclasses.replace(relay_probe(duration=60), mx={"partner.test": ["mx.partner.test"]})
    assert re.fullmatch(r"mx\['partner\.test'\]: 'mx\.partner\.test' is not a host on the network; "
                        r"expected one of [a-z0-9., -]+", _message(lambda: run(lost)))


# --- the SVG charts' default words (ui/charts.py) ------------------------------------------------------

def test_the_sequence_charts_lanes_are_named_in_the_current_language(english):
    lines = ["S: 220 mail.example.com ESMTP", "C: QUIT", "S: 221 Bye"]
    assert svg_texts(sequence_svg(lines))[:2] == ["client", "server"]
    i18n.set_language("ja")
    texts = svg_texts(sequence_svg(lines))
    assert texts[:2] == ["クライアント", "サーバー"] and texts[2:] == ["220 mail.example.com ESMTP", "QUIT", "221 Bye"]
    assert svg_texts(sequence_svg(lines, client="203.0.113.50", server="Postfix 3.7"))[:2] == [
        "203.0.113.50", "Postfix 3.7"]


def test_a_japanese_legend_gets_room_for_its_wide_characters():
    def legend_x(label: str) -> float:
        svg = steps_svg([Steps(label, [0, 1], [1, 2], "#000")], x_range=(0, 1), xticks=[(0, "0")])
        return float(re.search(r"<line x1='([0-9.]+)'[^>]*stroke='#000' stroke-width='1.5'", svg).group(1))

    ascii_x, wide_x = legend_x("abcd"), legend_x("あいうえ")  # same length, twice the width on screen
    assert wide_x < ascii_x and ascii_x - wide_x == pytest.approx(4 * 6.0)


# --- the catalog ---------------------------------------------------------------------------------------

def test_the_catalogs_hold_every_id_these_modules_use():
    used = catalogs.used_ids()
    mine = {message_id for message_id, where in used.items() if where & FILES}
    assert {"restriction.fail2ban.describe", "restriction.anvil.describe", "spf.reason.fail",
            "scenario.error.not_a_host", "plots.sequence.client", "protocol.dropped"} <= mine
    for code in i18n.LANGUAGES:
        missing, unused = catalogs.problems(code, used)
        assert not [m for m in missing if m in mine], code
        ours = ("restriction.", "spf.", "scenario.", "protocol.")
        assert not [m for m in unused if m.startswith(ours)], code


def test_every_japanese_text_of_these_modules_is_japanese_or_kept_words(japanese):
    used = catalogs.used_ids()
    mine = sorted(m for m, where in used.items() if where & FILES and m.startswith(("restriction.", "spf.",
                                                                                     "scenario.", "protocol.")))
    kept = {"restriction.anvil.describe.auth", "restriction.anvil.describe.separator"}  # 'AUTH', '、'
    assert set(mine) >= kept
    for message_id in mine:
        text = i18n.t(message_id)
        assert JAPANESE.search(text) or message_id in kept, (message_id, text)

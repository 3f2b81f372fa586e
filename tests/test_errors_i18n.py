"""The library core's errors and explanations speak the current language (simlab.i18n); English stays as it was.

Representative texts from each module converted to message ids (addresses, sweeps, nmap's relay tests, the live
lab, the product registry and its products, the restrictions, the standard site), each in Japanese after
``set_language("ja")`` and unchanged in English. What a product writes (a reply, a setting's name, a log line)
stays as the product wrote it, in either language.
"""

from __future__ import annotations

import re
import socket
import warnings

import pytest
from babel.messages.pofile import read_po
from helpers import load_script

from simlab import i18n, products
from simlab.addresses.mail import AddressSyntaxError, parse_path
from simlab.addresses.networks import parse_networks, parse_range
from simlab.addresses.routing import domain_list
from simlab.errors import ConfigError
from simlab.live.server import ListenError, check_client_map, check_host, serve
from simlab.presets import eims_2_1, exim, sims
from simlab.products.base import RFC5321_QUEUE
from simlab.products.common import ip_range_restrictions
from simlab.relaytests import explain, relay_test_bars, relay_test_table, run_relay_test, short_reason
from simlab.restrictions.access import IpRangeRestriction, RouterFilter
from simlab.restrictions.dnsbl import BlocklistZone, Dns, RblClient
from simlab.restrictions.fail2ban_filters import load_filter
from simlab.restrictions.postfix import parse_restrictions
from simlab.restrictions.relay import ClientHosts, RelayRestriction
from simlab.restrictions.submission import ClosedPorts, MasterServices, SubmissionAuthRequired
from simlab.scenarios.site import build_server
from simlab.sweep import expand_grid, sweep

catalogs = load_script("catalogs")

#: The modules whose learner-facing text this conversion moved into the catalogs.
CONVERTED = frozenset({
    "simlab/addresses/mail.py", "simlab/addresses/networks.py", "simlab/addresses/routing.py", "simlab/sweep.py",
    "simlab/relaytests.py", "simlab/live/server.py", "simlab/products/base.py", "simlab/products/common.py",
    "simlab/products/eims.py", "simlab/products/sims.py", "simlab/products/exim.py", "simlab/products/__init__.py",
    "simlab/restrictions/postfix.py", "simlab/restrictions/fail2ban_filters.py", "simlab/restrictions/dnsbl.py",
    "simlab/restrictions/access.py", "simlab/restrictions/relay.py", "simlab/restrictions/submission.py",
    "simlab/scenarios/site.py"})


def _message(call) -> str:
    with pytest.raises((ConfigError, AddressSyntaxError)) as caught:
        call()
    return str(caught.value)


@pytest.fixture(scope="module")
def ours() -> set[str]:
    """The ids the converted modules ask for."""
    return {key for key, where in catalogs.used_ids().items() if where & CONVERTED}


def _texts(code: str, ids: set[str]) -> dict[str, str]:
    with i18n.catalog_path(code).open("rb") as po:
        return {m.id: m.string for m in read_po(po) if m.id in ids}


# --- the catalogs ------------------------------------------------------------------------------------------------


def test_the_catalog_check_passes_for_these_ids(ours):
    assert len(ours) > 150  # the conversion's ids are found in the code
    used = catalogs.used_ids()
    for code in i18n.LANGUAGES:
        missing, _unused = catalogs.problems(code, used)
        assert not set(missing) & ours, code


def test_every_japanese_text_is_a_translation(ours):
    english, japanese = _texts("en", ours), _texts("ja", ours)
    assert english.keys() == japanese.keys() == ours
    same = [key for key in english if english[key] == japanese[key]]
    assert not same, same
    kana = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff（）、。]")
    assert all(kana.search(text) for text in japanese.values())


# --- addresses ---------------------------------------------------------------------------------------------------


def test_address_errors_in_japanese(japanese):
    assert _message(lambda: parse_range("192.0.2.99-192.0.2.10", "ip_range_restriction")) == (
        "ip_range_restriction: '192.0.2.99-192.0.2.10' は始まりと終わりが逆の範囲です。"
        "期待される値: 小さいほうのアドレスを先に書いた範囲 ('A-B')")
    assert "は IPv4 と IPv6 が混ざっています" in _message(lambda: parse_range("192.0.2.1-::1"))
    assert "はネットワークの一覧ではありません" in _message(lambda: parse_networks(5, "mynetworks"))
    assert _message(lambda: domain_list(["bad domain"], "relay_domains")) == (
        "relay_domains: 'bad domain' はドメイン名ではありません。期待される値: 'example.com' のような名前")
    assert _message(lambda: parse_path("<alice@example.com")) == "「>」がありません"
    assert _message(lambda: parse_path("<a@example.com> X=Y=Z")) == "パラメーター 'X=Y=Z' が正しくありません"


def test_address_errors_in_english_are_unchanged(english):
    assert _message(lambda: parse_range("192.0.2.99-192.0.2.10", "ip_range_restriction")) == (
        "ip_range_restriction: '192.0.2.99-192.0.2.10' is a reversed range; expected the lower address first ('A-B')")
    assert _message(lambda: parse_path("<a@example.com> X=Y=Z")) == "bad parameter 'X=Y=Z'"


def test_the_networks_constant_is_read_in_the_current_language(japanese):
    from simlab.addresses.networks import NETWORKS_EXPECTED

    assert NETWORKS_EXPECTED.endswith("コンマ、空白、改行で区切ったもの")
    i18n.set_language("en")
    from simlab.addresses.networks import NETWORKS_EXPECTED

    assert NETWORKS_EXPECTED.startswith("CIDR blocks, addresses or ranges separated by commas")


# --- sweeps ------------------------------------------------------------------------------------------------------


def test_sweep_errors_in_japanese(japanese):
    from simlab.scenarios import ip_rotation

    assert _message(lambda: sweep(ip_rotation, {"pool_size": [1]}, seeds=[])) == (
        "seeds: [] が空です。期待される値: 1 つ以上のシード値")
    assert _message(lambda: expand_grid({"pool_size": 5})) == (
        "grid['pool_size']: 5 は値のリストではありません。期待される値: [5] のようなリスト")
    assert "は ip_rotation にない設定項目の値です" in _message(lambda: expand_grid({"nonsense": [1]}, ip_rotation))
    i18n.set_language("en")
    assert _message(lambda: expand_grid({"pool_size": 5})) == (
        "grid['pool_size']: 5 is not a list of values; expected a list, e.g. [5]")


# --- nmap's relay tests and the products' explanations -----------------------------------------------------------


def test_explanations_in_japanese_keep_the_products_words(japanese):
    story = explain("eims-2.1", 3, relay_restriction=True)
    assert story.startswith("テスト 3 (from@S → to@D): MAIL FROM:<antispam@mail.example.com>、")
    assert "EIMS 2.1 は <relaytest@nmap.scanme.test> の最後の @ のあとのドメインしか見ません。" in story
    assert "ローカルドメイン mail.example.com を名乗っていて" in story
    assert "Relay Restriction がそれを通したため" in story
    assert "250 Recipient <relaytest@nmap.scanme.test> OK と答えました。" in story  # the reply as EIMS wrote it
    refused = explain("eims-2.1", 1, relay_restriction=True)
    assert "Relay Restriction がオンで、送信者 <> にはドメインがないため、拒否しました: 550 Relaying to" in refused
    assert "SIMS が中継するのは Client Hosts (192.0.2.0/24) のクライアントだけで" in explain("sims", 2)
    assert "中継を制御する機能がまったくないため" in explain("eims-1.2", 1)
    exim_story = explain("exim", 14)
    assert "(送信せず)" in exim_story and "allow_domain_literals は既定でオフ" in exim_story
    assert "501 <antispam@[192.0.2.25]>: domain literals not allowed" in exim_story
    assert "パーセントハックを当てはめ" in explain("postfix", 5)


def test_short_reasons_in_japanese(japanese):
    assert short_reason(run_relay_test("eims-1.2", 1)) == "250 中継: 中継の制御なし"
    assert short_reason(run_relay_test("sims", 1, client_ip="192.0.2.101")) == "250 中継: 信頼されたクライアント"
    assert short_reason(run_relay_test("sims", 1)) == "550 中継を拒否"
    assert short_reason(run_relay_test("exim", 14)) == "501 MAIL で送信者を拒否 (RCPT は送らず)"


def test_explanations_in_english_are_unchanged(english):
    assert explain("eims-1.2", 1) == (
        "Test 1 (<> → to@D): MAIL FROM:<>, RCPT TO:<relaytest@nmap.scanme.test>. EIMS 1.2 looks only at the domain "
        "after the last @ of <relaytest@nmap.scanme.test>: nmap.scanme.test is not one of its local domains "
        "(example.com, mail.example.com), so delivering it means relaying. EIMS 1.2 has no relay control at all, so "
        "it answered 250 Recipient <relaytest@nmap.scanme.test> OK: by nmap's rule, a 2xx at RCPT suggests an open "
        "relay.")
    assert short_reason(run_relay_test("sims", 1, client_ip="192.0.2.101")) == "250 relayed: a trusted client"
    assert "relaying for its own users is its job" in explain("sims", 1, client_ip="192.0.2.101")


def test_relay_errors_and_the_chart_in_japanese(japanese):
    assert _message(lambda: explain("sims", 17)) == (
        "test_number: 17 は nmap のテストの番号ではありません。期待される値: 1 から 16 までの整数")
    assert "は (列名, プリセット, 設定) の 3 つ組ではありません" in _message(lambda: relay_test_table([("a", "b")]))
    fig = relay_test_bars(relay_test_table(["eims-1.2"]))
    ax = fig.axes[0]
    assert ax.get_ylabel() == "テスト数"
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["受理 (2xx): 不正中継の疑い", "拒否 (4xx/5xx)"]


# --- the product registry ----------------------------------------------------------------------------------------


def test_registry_errors_in_japanese(japanese):
    assert _message(lambda: products.get("eims-3.0")).startswith(
        "preset: 'eims-3.0' というプリセットはありません。期待される値: 次のいずれか: eims-1.2, eims-2.1, sims")
    lacking = _message(lambda: products.get("eims-1.2").require(products.SMTP_AUTH, "smtp_auth"))
    assert lacking.startswith("smtp_auth: 'eims-1.2' は SMTP AUTH のない製品です (EIMS 1.2)。"
                              "期待される値: その機能のある製品:")
    assert "は SIMS がログに書く行ではありません" in _message(lambda: products.get("sims").pattern("nope"))
    assert "は eims_2_1() に合いません" in _message(lambda: eims_2_1(nonsense=1))
    assert "はサービスの名前ではありません" in _message(lambda: ip_range_restrictions({"imap": ["192.0.2.1"]}))
    assert _message(lambda: exim(primary_hostname="localhost")) == (
        "primary_hostname: 'localhost' は完全修飾のホスト名 (FQDN) ではありません。"
        "期待される値: 'mail.example.com' など")


def test_notes_and_panel_choices_are_read_in_the_current_language(japanese):
    eims = products.get("eims-2.1")
    assert eims.notes.startswith("Relay Restriction と IP Range Restriction はインストール直後はどちらもオフ")
    assert [label for label, _settings in eims.panel_choices] == ["EIMS 2.1 (インストール直後)",
                                                                 "EIMS 2.1 (Relay Restriction オン)"]
    assert products.get("sims").notes.startswith("中継するかどうかは Client Hosts で決まる")
    assert products.get("exim").service_limits[0].source.startswith("smtp_accept_max = 20 (Exim の仕様書")
    i18n.set_language("en")
    assert eims.notes.startswith("Relay Restriction and IP Range Restriction, both off as installed")
    assert eims.panel_choices[1] == ("EIMS 2.1 (Relay Restriction on)", {"relay_restriction": True})
    assert products.get("eims-1.2").panel_choices == (("EIMS 1.2", {}),)  # plain text stays as given


def test_products_with_texts_looked_up_later_still_pickle(japanese):
    import pickle

    for name in products.names():
        product = products.get(name)
        again = pickle.loads(pickle.dumps(product))
        assert again == product and again.notes == product.notes


def test_the_queue_and_the_restrictions_describe_themselves_in_japanese(japanese):
    assert RFC5321_QUEUE.describe() == "5d で配送をあきらめる。再試行: F,forever,30m"
    assert IpRangeRestriction("192.0.2.1-192.0.2.9").describe() == (
        "IP Range Restriction (pop3, smtp): 192.0.2.1-192.0.2.9 を許可")
    assert RouterFilter(deny="203.0.113.0/24").describe() == "ルーターのフィルター (pop3): 203.0.113.0/24 を破棄"
    relay = RelayRestriction(["example.com"])
    assert relay.describe() == "Relay Restriction: only route for local domains and: (なし)"  # EIMS's own words
    assert ClientHosts([]).describe() == "Client Hosts: (なし)"
    assert MasterServices(ClientHosts(["192.0.2.1"]), {587: SubmissionAuthRequired()}).describe() == (
        "ポート 25: Client Hosts: 192.0.2.1; ポート 587: ポート 587: MAIL の前に SMTP 認証が必要")
    assert ClosedPorts([587]).describe() == "ポート 587 では待ち受けていない"
    assert RblClient(["bl.example.test"], Dns()).describe() == "DNS ブロックリスト: bl.example.test"
    server = eims_2_1(relay_restriction=True, smtp_auth=True)
    assert [r.describe() for r in server.restrictions][-1].endswith("、または SMTP 認証")


def test_restrictions_describe_themselves_in_english_as_before(english):
    assert RFC5321_QUEUE.describe() == "give up after 5d; retry F,forever,30m"
    assert RouterFilter(allow="192.0.2.0/24").describe() == "router filter on pop3: allow only 192.0.2.0/24"
    assert ClientHosts([]).describe() == "Client Hosts: (none)"
    assert SubmissionAuthRequired().describe() == "port 587: AUTH before MAIL"


# --- restrictions ------------------------------------------------------------------------------------------------


def test_restriction_errors_in_japanese(japanese):
    assert "は simlab が再現していない制限です" in _message(
        lambda: parse_restrictions("permit_everyone", "smtpd_relay_restrictions"))
    assert _message(lambda: parse_restrictions("check_client_access", "smtpd_client_restrictions")) == (
        "smtpd_client_restrictions: 'check_client_access' には引数が必要です。"
        "期待される値: 'check_client_access <名前>'")
    assert "は simlab に同梱の fail2ban フィルターではありません" in _message(lambda: load_filter("nope"))
    assert _message(lambda: RblClient(["bl.example.test"], Dns(), stage="DATA")) == (
        "rbl stage: 'DATA' は段階 (stage) の名前ではありません。期待される値: 'MAIL' か 'RCPT'")
    assert _message(lambda: IpRangeRestriction([])) == (
        "ip_range_restriction: [] に範囲が 1 つもありません。期待される値: 1 つ以上の 'A-B' の範囲")


def test_the_blocklist_self_test_explains_itself_in_japanese(japanese):
    broken = BlocklistZone("broken.example.test", answers_everything=True)
    ok, why = broken.self_test()
    assert not ok and why.startswith("broken.example.test は 127.0.0.1 を載せています。")
    assert BlocklistZone("bl.example.test").self_test() == (
        True, "bl.example.test は RFC 5782 の自己テストに合格しました")


def test_a_self_testing_client_still_skips_a_broken_list(japanese):
    dns = Dns([BlocklistZone("broken.example.test", answers_everything=True)])
    assert RblClient(["broken.example.test"], dns, self_test=True).listing("203.0.113.7") is None
    assert RblClient(["broken.example.test"], dns).listing("203.0.113.7") is not None


# --- the live lab --------------------------------------------------------------------------------------------------


def test_live_errors_in_japanese(japanese):
    assert _message(lambda: check_host("192.0.2.1")) == (
        "host: '192.0.2.1' はループバックアドレスではありません。期待される値: '127.0.0.1' や '::1' のような"
        "ループバックアドレス (または allow_non_loopback=True)")
    assert _message(lambda: check_client_map({"127.0.0.2": "nowhere"})) == (
        "client_map['127.0.0.2']: 'nowhere' は IP アドレスではありません。期待される値: '203.0.113.7' のようなアドレス")
    with pytest.warns(UserWarning, match="ループバックではないアドレス 192.0.2.1 で待ち受けています"):
        check_host("192.0.2.1", allow_non_loopback=True)


def test_a_port_in_use_is_a_listen_error_in_japanese(japanese):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    port = taken.getsockname()[1]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ResourceWarning)
            with pytest.raises(ListenError) as caught:
                serve(sims(), smtp_port=port, pop3_port=None)
    finally:
        taken.close()
    message = str(caught.value)
    assert message.startswith(f"smtp_port: {port} は 127.0.0.1 で待ち受けできません: ")
    assert message.endswith("期待される値: 空いているポート、または 0 (空いているどれかのポート)")
    assert caught.value.errno is not None


# --- the standard site -------------------------------------------------------------------------------------------


def test_site_errors_in_japanese(japanese):
    assert _message(lambda: build_server("sims", settings={"nonsense": 1})).startswith(
        "settings: 'nonsense' は sims の設定項目ではありません。期待される値: 次のいずれか: ")
    i18n.set_language("en")
    assert _message(lambda: build_server("sims", settings={"nonsense": 1})).startswith(
        "settings: 'nonsense' is not a setting of sims; expected one of ")

"""Lessons 05-09's panels and the lessons' figures speak the language current when they are built.

The panels (rotation, flood, today, sandbox, live lab) built after ``set_language("ja")`` show Japanese
headings, tab titles, control labels and messages, and the same English as before after switching back;
simlab.plots' labels (``LABELS``, ``TIMELINE_LABELS``) are looked up when read; a Japanese figure has a
Japanese title and axis labels and draws without a missing-glyph warning (the Japanese font fallback).
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import pathlib
import re
import sys
import warnings

import matplotlib
import pytest

from simlab import i18n, plots
from simlab.scenarios import run

ROOT = pathlib.Path(__file__).resolve().parents[1]
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
MY_FILES = {"simlab/ui/rotation.py", "simlab/ui/flood.py", "simlab/ui/today.py", "simlab/ui/sandbox.py",
            "simlab/ui/live.py", "simlab/plots/__init__.py"}


@pytest.fixture
def language():
    """Switch with ``language("ja")``; the language and matplotlib's font list are put back afterwards."""
    before, families = i18n.language(), list(matplotlib.rcParams["font.family"])
    yield i18n.set_language
    i18n.set_language(before)
    matplotlib.rcParams["font.family"] = families


def _heading(panel) -> str:
    return panel.children[0].value


def _tabs(panel) -> list[str]:
    return [panel.tabs.get_title(i) for i in range(len(panel.views))]


def _labels(dropdown) -> list[str]:
    return [label for label, _value in dropdown.options]


def _draws_cleanly(figure) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" would be a UserWarning
        figure.savefig(io.BytesIO(), format="png", dpi=40)


def _texts(figure) -> list[str]:
    out = []
    for ax in figure.axes:
        out += [ax.get_title(loc="left"), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        if legend is not None:
            out += [text.get_text() for text in legend.get_texts()]
    return [text for text in out if text]


# --- the panels ------------------------------------------------------------------------------------------


def test_rotation_panel_in_japanese_then_english(language):
    from simlab.ui.rotation import rotation_lab

    language("ja")
    panel = rotation_lab()
    assert "IP アドレスを次々に変える迷惑メール送信者" in _heading(panel)
    assert _tabs(panel) == ["結果", "サーバーのログ", "迷惑メール送信者のセッション"]
    assert panel.controls["pool_size"].description == "迷惑メール送信者のアドレス数 (プール)"
    assert panel.controls["seed"].description == "シード"
    assert _labels(panel.controls["switch"]) == ["メールごとに新しいアドレス", "拒否されたときだけ新しいアドレス"]
    assert "防御の代償:" in panel.views["outcome"].children[1].value
    assert "中継された迷惑メール" in panel.views["outcome"].children[0].value  # the chart's labels
    assert "迷惑メール送信者は" in panel.views["the spammer's sessions"].value
    assert panel.views["outcome"].children[0].value.count("12 時間") == 1
    language("en")
    panel = rotation_lab()
    assert "A spammer rotating IP addresses" in _heading(panel)
    assert _tabs(panel) == ["outcome", "server log", "the spammer's sessions"]
    assert panel.controls["pool_size"].description == "spammer's addresses (pool size)"
    assert "what it cost:" in panel.views["outcome"].children[1].value
    assert not JAPANESE.search(panel.views["the spammer's sessions"].value)


def test_flood_panel_in_japanese_then_english(language):
    from simlab.ui.flood import flood_lab, outcome_line

    language("ja")
    panel = flood_lab()
    assert "接続フラッド" in _heading(panel)
    assert _tabs(panel) == ["結果", "タイムライン", "サーバーのログ"]
    assert panel.controls["process_limit"].description == "プロセス数の上限 (同時接続数)"
    assert panel.controls["connection_limit"].description.startswith("クライアントごとの上限 (")
    assert "smtpd_client_connection_count_limit" in panel.controls["connection_limit"].description  # Postfix's word
    details = panel.views["outcome"].children[1].value
    assert "プロセス数の上限: 同時に" in details and "拒否された攻撃者の接続" in details
    assert "4 時間のログ" in panel.views["server log"].value
    line = outcome_line(panel.outcome[0])
    assert line.startswith("届いたメール ") and "拒否された正規の接続" in line
    panel.tabs.selected_index = 1
    assert "接続フラッド" in panel.views["timeline"].value and "分あたり" in panel.views["timeline"].value
    language("en")
    panel = flood_lab()
    assert "Knocked offline: a connection flood" in _heading(panel)
    assert _tabs(panel) == ["outcome", "timeline", "server log"]
    assert outcome_line(panel.outcome[0]).startswith("mail delivered ")
    assert "log lines in four hours" in panel.views["server log"].value


def test_today_panel_in_japanese_then_english(language):
    from simlab.ui import today

    language("ja")
    panel = today.today_lab()
    assert "1998 年から今日へ" in _heading(panel)
    assert _tabs(panel) == ["グラフ", "対話の記録", "Postfix のログ", "main.cf", "1998 年 → 今日"]
    assert _labels(panel.controls["client"])[0] == "外部の相手 (203.0.113.50)"
    assert panel.controls["mynetworks"].description == "mynetworks"  # a setting's name stays as Postfix spells it
    assert _labels(panel.controls["bantime"])[0] == "10 分 (fail2ban の既定値)"
    assert "今日:" in panel.views["1998 → today"].value and "上の対話" in panel.views["Postfix log"].value
    assert today.CLIENTS[1][0] == "LAN 上の bob の PC (192.0.2.101)"  # the module's table, looked up when read
    assert today.join_multiline_replies(["S: 250-a", "S: 250 b"]) == ["S: 250 a … b (2 行)"]
    language("en")
    panel = today.today_lab()
    assert "From 1998 to today: Postfix settings for each problem" in _heading(panel)
    assert today.CLIENTS[1][0] == "bob's PC on the LAN (192.0.2.101)"
    assert today.SENDER_CHOICES[0] == ("(none: the default)", "")
    assert "Today:" in panel.views["1998 → today"].value


def test_sandbox_panel_in_japanese_then_english(language):
    sandbox = importlib.import_module("simlab.ui.sandbox")

    language("ja")
    panel = sandbox.sandbox()
    assert "サンドボックス" in _heading(panel)
    assert _tabs(panel) == ["集計", "サーバーのログ", "イベント", "タイムライン", "構成"]
    assert panel.controls["guesser"].description == "POP3 のパスワード推測者 (S1)"
    assert panel.controls["eims-2.1:relay_restriction"].description == "relay_restriction"
    assert "サーバー: EIMS" in panel.views["the setup"].value
    svg = sandbox.readable_timeline_svg(panel.outcome.result)
    assert "1 時間あたり" in svg and "中継された迷惑メール" in svg and "時刻 (" in svg
    with pytest.raises(Exception, match="整数ではありません"):
        sandbox.parse_setting(sandbox.SettingSpec("postfix", "smtpd_hard_error_limit", "int", 20), "many")
    language("en")
    panel = sandbox.sandbox()
    assert "Sandbox: your server, your attackers, your defences" in _heading(panel)
    assert panel.controls["guesser"].description == "POP3 guesser (S1)"
    assert "server: EIMS" in panel.views["the setup"].value


def test_live_lab_panel_in_japanese_then_english(language):
    from simlab.ui.live import live_lab, parse_port

    language("ja")
    panel = live_lab()
    try:
        assert "ライブラボ" in _heading(panel)
        assert _tabs(panel) == ["接続のしかた", "セッション", "サーバーのログ", "メールボックス", "中継キュー"]
        assert [b.description for b in panel.buttons.values()] == ["開始", "停止", "更新"]
        assert "未起動。" in panel.status.value and "<b>開始</b>を押してください" in panel.views["how to connect"].value
        assert "まだセッションはありません" in panel.views["sessions"].value
        panel.controls["smtp_port"].value = "http"
        assert panel.start() is None and "はポート番号ではありません" in panel.message.value
        assert "サーバーは起動していません" in panel.message.value
    finally:
        panel.close()
    language("en")
    with pytest.raises(ValueError, match="is not a port"):
        parse_port("http", "smtp_port")
    panel = live_lab()
    try:
        assert [b.description for b in panel.buttons.values()] == ["Start", "Stop", "Refresh"]
        assert "Not started" in panel.status.value and "Press <b>Start</b>" in panel.views["how to connect"].value
    finally:
        panel.close()


# --- the figures and their labels ---------------------------------------------------------------------------


def test_labels_are_looked_up_when_read_and_keep_their_names(language):
    from simlab.ui import common

    sandbox = importlib.import_module("simlab.ui.sandbox")
    assert sandbox.TIMELINE_LABELS is plots.TIMELINE_LABELS and common.LABELS is plots.LABELS
    language("ja")
    assert plots.LABELS["spam_relayed"] == "中継された迷惑メール"
    assert plots.TIMELINE_LABELS["guess_succeeded"] == "侵入 (推測されたパスワード)"
    assert plots.TIMELINE_LABELS["legit_refused"] == "失われた正規のメール"
    language("en")
    assert plots.LABELS["spam_relayed"] == "spam relayed"
    assert plots.TIMELINE_LABELS["guess_succeeded"] == "break-ins (guessed passwords)"
    assert plots.LABELS.get("no such key", "fallback") == "fallback"
    assert list(plots.TIMELINE_LABELS)[:len(plots.LABELS)] == list(plots.LABELS)
    assert "guesser_blocked" in plots.TIMELINE_LABELS and "guesser_blocked" not in plots.LABELS
    assert {**plots.LABELS}["bans"] == "addresses banned"


@pytest.fixture(scope="module")
def rotation_run():
    from simlab.exercises.rotation import rotation_day

    return run(rotation_day("eims-2.1", "per_ip_ban", pool_size=5, duration=4 * 3600.0), seed=1)


def test_a_japanese_figure_has_japanese_text_and_draws_without_missing_glyphs(language, rotation_run):
    language("ja")
    bans = [(600.0, "198.51.100.77", "fail2ban"), (900.0, "203.0.113.9", "fail2ban")]
    figure = plots.bans_figure(rotation_run, bans=bans)
    texts = _texts(figure)
    assert figure.axes[0].get_title(loc="left") == "eims-2.1: 1 日の中継された迷惑メールと BAN"
    assert figure.axes[0].get_ylabel() == "迷惑メール (通)" and "BAN (計 2 回)" in texts
    assert [t.get_text() for t in figure.axes[0].texts] == ["198.51.100.77 を BAN (fail2ban)"]
    _draws_cleanly(figure)
    sweep = {"per_ip_ban": {1: {"spam_relayed": 3}, 30: {"spam_relayed": 40}}}
    drawn = plots.pool_sweep_figure(sweep, sent=60)
    assert drawn.axes[0].get_xlabel().startswith("迷惑メール送信者のアドレス数")
    assert all(JAPANESE.search(text) for text in (drawn.axes[0].get_title(loc="left"), drawn.axes[0].get_ylabel()))
    _draws_cleanly(drawn)
    bars = plots.outcome_bars(rotation_run.summary, title="中継")
    assert bars.axes[0].get_yticklabels()[0].get_text() == "届いた正規のメール"
    _draws_cleanly(bars)
    timeline = plots.readable_timeline(rotation_run, what=("spam_relayed", "bans"))
    assert timeline.axes[0].get_xlabel().startswith("時刻 (") and timeline.axes[0].get_ylabel() == "1 時間あたり"
    _draws_cleanly(timeline)


def test_an_english_figure_keeps_its_words(language, rotation_run):
    language("en")
    figure = plots.bans_figure(rotation_run, bans=[(600.0, "198.51.100.77", "fail2ban")])
    assert figure.axes[0].get_title(loc="left") == "eims-2.1: spam relayed and bans over the day"
    assert "a ban (1 in all)" in _texts(figure)
    assert plots.readable_timeline(rotation_run, what=("spam_relayed",)).axes[0].get_xlabel().startswith(
        "time of day (")


def test_network_pictures_use_the_japanese_font_and_name_the_roles(language, rotation_run):
    from simlab.plots.fonts import JAPANESE_FAMILY
    from simlab.ui import start

    language("ja")
    matplotlib.rcParams["font.family"] = ["sans-serif"]
    figure = start._spring_network_figure(rotation_run.world.network, title="模擬ネットワーク")  # start.py's own Figure
    assert JAPANESE_FAMILY in matplotlib.rcParams["font.family"]
    _draws_cleanly(figure)
    if importlib.util.find_spec("scipy") is not None:  # network_figure's layout needs SciPy
        legend = [text.get_text() for text in plots.network_figure(rotation_run.world.network).axes[0]
                  .get_legend().get_texts()]
        assert "メールサーバー" in legend


# --- the catalogs -------------------------------------------------------------------------------------------


def test_the_catalogs_hold_every_id_these_files_use():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import catalogs
    finally:
        sys.path.pop(0)
    used = catalogs.used_ids()
    mine = {message_id: where for message_id, where in used.items() if where & MY_FILES}
    assert len(mine) > 200
    for code in i18n.LANGUAGES:
        missing, _unused = catalogs.problems(code, mine)
        assert not missing, f"{code}: {missing}"
        unused_mine = [m for m in catalogs.problems(code, used)[1]
                       if m.startswith(("ui.rotation.", "ui.flood.", "ui.today.", "ui.sandbox.", "ui.live.",
                                        "ui.bantime.", "plots."))]
        assert not unused_mine, f"{code}: ids no code uses: {unused_mine}"

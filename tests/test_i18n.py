"""Message catalogs (simlab.i18n): every id the code uses has its text in English and Japanese, and switching works.

A catalog gap fails here (the same check as ``make catalogs``'s ``scripts/catalogs.py --check``); so does a
Japanese text whose ``{placeholders}`` differ from the English one, which would raise at run time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings

import pytest
from babel.messages.pofile import read_po
from helpers import load_script

from simlab import i18n
from simlab.cli import main
from simlab.errors import ConfigError

catalogs = load_script("catalogs")


def _texts(code: str) -> dict[str, str]:
    with i18n.catalog_path(code).open("rb") as po:
        return {message.id: message.string for message in read_po(po) if message.id}


@pytest.fixture(scope="module")
def used():
    return catalogs.used_ids()


@pytest.mark.parametrize("code", i18n.LANGUAGES)
def test_every_message_id_the_code_uses_has_a_text(code, used):
    missing, unused = catalogs.problems(code, used)
    assert not missing, f"{code} catalog lacks {missing} (run make catalogs and fill them in)"
    assert not unused, f"{code} catalog holds ids no code uses: {unused}"


def test_the_extractor_finds_the_ids_of_the_command_line(used):
    assert "cli.run.help" in used and "serve.listening" in used and "error.config" in used
    assert "cli.run.tail.*" in used  # a tn() id: one entry per plural category
    assert {"cli.run.tail.one", "cli.run.tail.other"} <= catalogs.expected_ids("en", used)
    assert "cli.run.tail.one" not in catalogs.expected_ids("ja", used)  # Japanese has one form


def test_japanese_texts_fill_the_same_placeholders_as_english():
    english, japanese = _texts("en"), _texts("ja")
    fields = re.compile(r"\{(\w+)\}")
    for message_id, text in japanese.items():
        base = message_id.rsplit(".", 1)[0] + ".one" if message_id.endswith(".other") else message_id
        source = english.get(message_id) or english.get(base)
        assert source is not None, message_id
        assert set(fields.findall(text)) == set(fields.findall(source)), message_id


def test_english_is_the_default_and_japanese_is_one_call_away(japanese):
    assert i18n.t("serve.stopped") == "停止しました"
    i18n.set_language("en")
    assert i18n.t("serve.stopped") == "stopped"


@pytest.mark.parametrize("text, code", [("ja", "ja"), ("ja_JP.UTF-8", "ja"), ("JA-jp", "ja"), ("en_GB", "en")])
def test_locale_names_are_understood(text, code):
    assert i18n.parse_language(text) == code


def test_a_language_simlab_does_not_speak_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"language: 'fr' is not a language simlab speaks; expected one of en, ja"):
        i18n.set_language("fr")
    assert i18n.language() == "en"


def test_plural_forms_follow_each_language(japanese):
    assert i18n.tn("cli.run.tail", 12, shown=5) == "ログ全 12 行のうち最後の 5 行:"
    i18n.set_language("en")
    assert i18n.tn("cli.run.tail", 1, shown=1) == "Last 1 of 1 log line:"
    assert i18n.tn("cli.run.tail", 12, shown=5) == "Last 5 of 12 log lines:"


def test_a_missing_id_falls_back_and_warns(japanese):
    with pytest.warns(i18n.MissingMessage, match="no.such.id"):
        assert i18n.t("no.such.id") == "no.such.id"


def test_config_errors_speak_the_current_language(japanese):
    from simlab.live.cli import convert_setting

    with pytest.raises(ConfigError) as caught:
        convert_setting("relay_restriction", "maybe", False)
    assert str(caught.value) == ("relay_restriction: 'maybe' は yes でも no でもありません。"
                                 "期待される値: yes/no、true/false、on/off、1/0 のいずれか")
    assert caught.value.setting == "relay_restriction" and caught.value.value == "maybe"


def test_the_command_line_answers_in_japanese(japanese, capsys):
    import io

    out, err = io.StringIO(), io.StringIO()
    assert main(["run", "relay_probe", "--preset", "eims-2.1", "--tail", "2"], stdout=out, stderr=err) == 0
    assert " - プリセット eims-2.1、シード 1\n" in out.getvalue()
    assert "最後の 2 行:" in out.getvalue()
    assert main(["run", "relay_probe", "--set", "nonsense=1"], stdout=out, stderr=err) == 2
    assert err.getvalue().startswith("simlab: エラー: --set: 'nonsense' は relay_probe の設定項目ではありません。")


def test_simlab_lang_sets_the_language_a_process_starts_in():
    env = {**os.environ, "SIMLAB_LANG": "ja_JP.UTF-8"}
    done = subprocess.run([sys.executable, "-m", "simlab", "--help"], capture_output=True, text=True, env=env,
                          check=True)
    assert "シミュレーションのメールサーバーと対話します。" in done.stdout
    env["SIMLAB_LANG"] = "en"
    done = subprocess.run([sys.executable, "-m", "simlab", "--help"], capture_output=True, text=True, env=env,
                          check=True)
    assert "Talk to a simulated mail server." in done.stdout


def test_a_language_file_in_the_working_directory_sets_the_language(tmp_path):
    env = {key: value for key, value in os.environ.items() if key != "SIMLAB_LANG"}
    code = "import simlab.i18n as i; print(i.language())"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          check=True)
    assert done.stdout.strip() == "en"
    (tmp_path / ".simlab-language").write_text("ja\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          check=True)
    assert done.stdout.strip() == "ja"
    env["SIMLAB_LANG"] = "en"  # the environment wins
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path,
                          check=True)
    assert done.stdout.strip() == "en"


def test_an_unknown_simlab_lang_warns_and_speaks_english():
    env = {**os.environ, "SIMLAB_LANG": "fr"}
    done = subprocess.run([sys.executable, "-W", "always", "-c", "import simlab.i18n as i; print(i.language())"],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stdout.strip() == "en"
    assert "SIMLAB_LANG: 'fr' is not a language simlab speaks" in done.stderr


def test_catalogs_load_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for code in i18n.LANGUAGES:
            assert i18n._translations(code).gettext("serve.stopped") != "serve.stopped"


def test_eims_writes_its_log_dates_as_the_japanese_mac_os_did(japanese):
    """The thread's log line: ``1998年 6月 xx日 (木) 1:25:32 AM  DNR timed out to ...`` (the day masked)."""
    from datetime import datetime

    from simlab.clock import ManualClock
    from simlab.presets import eims_2_1

    server = eims_2_1(accounts={"webmaster": "webmaster"}, clock=ManualClock(datetime(1998, 6, 11, 1, 25, 32)))
    session = server.pop3_session("203.0.113.226")
    for line in ("USER webmaster", "PASS guess", "QUIT"):
        session.send(line)
    assert server.log[-1] == "1998年 6月 11日 (木) 1:25:32 AM  POP3 wrong password for webmaster from 203.0.113.226"
    # The words stay as EIMS wrote them; only the Mac OS's date is Japanese. The English Mac OS, on request:
    english = eims_2_1(mac_os_language="en", clock=ManualClock(datetime(1998, 6, 12, 13, 40, 11)))
    line = english.persona.format_log(english.clock.datetime(), "pop3", 0, "x", english)
    assert line == "Fri, Jun 12, 1998 1:40:11 PM  x"


def test_the_japanese_mac_date_keeps_its_shape_all_year():
    from datetime import datetime

    from simlab.products.common import mac_log_time

    assert mac_log_time(datetime(1998, 12, 31, 23, 59, 0), "ja") == "1998年 12月 31日 (木) 11:59:00 PM"
    assert mac_log_time(datetime(1998, 6, 14, 0, 5, 9), "ja") == "1998年 6月 14日 (日) 12:05:09 AM"


def test_a_mac_os_language_simlab_does_not_know_is_refused():
    from simlab.presets import eims_1_2

    with pytest.raises(ConfigError, match="mac_os_language: 'de' is not a language simlab speaks"):
        eims_1_2(mac_os_language="de")

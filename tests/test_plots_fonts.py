"""Japanese chart text is drawn with a real Japanese font, and English text exactly as before."""

from __future__ import annotations

import io
import warnings

import matplotlib
import pytest
from matplotlib import font_manager
from matplotlib.figure import Figure

from simlab.plots.fonts import JAPANESE_FAMILY, japanese_font_path, use_japanese_fallback


@pytest.fixture
def fallback():
    before = list(matplotlib.rcParams["font.family"])
    use_japanese_fallback()
    yield
    matplotlib.rcParams["font.family"] = before


def _draw(text: str) -> None:
    fig = Figure(figsize=(3, 1))
    fig.add_subplot().set_title(text)
    fig.savefig(io.BytesIO(), format="png")


def test_without_the_fallback_japanese_glyphs_are_missing():
    """Why the module exists: the default font has no Japanese (were it to have some, the next test proves nothing)."""
    with matplotlib.rc_context({"font.family": ["sans-serif"]}), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _draw("中継されたスパム")
    assert any("missing from font" in str(w.message) for w in caught)


def test_japanese_labels_draw_without_missing_glyphs(fallback):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _draw("不正中継 (open relay): 正規のメール 54 通")


def test_english_text_keeps_its_font(fallback):
    assert matplotlib.rcParams["font.family"][0] == "sans-serif"
    assert matplotlib.rcParams["font.family"][-1] == JAPANESE_FAMILY
    latin = font_manager.findfont(font_manager.FontProperties(family=["sans-serif"]))
    assert "DejaVuSans" in latin


def test_the_font_is_the_packaged_ipaex_gothic_and_registration_is_idempotent(fallback):
    assert japanese_font_path().endswith("ipaexg.ttf")
    use_japanese_fallback()
    assert matplotlib.rcParams["font.family"].count(JAPANESE_FAMILY) == 1
    found = font_manager.findfont(font_manager.FontProperties(family=JAPANESE_FAMILY), fallback_to_default=False)
    assert found.endswith("ipaexg.ttf")


def test_a_japanese_sequence_diagram_draws_without_a_missing_glyph_or_a_font_fallback(caplog):
    """The lesson pages show any matplotlib warning or font log line: none may appear in Japanese."""
    import logging

    from simlab import i18n
    from simlab.plots import sequence_diagram

    before = (i18n.language(), list(matplotlib.rcParams["font.family"]))
    i18n.set_language("ja")
    try:
        with warnings.catch_warnings(), caplog.at_level(logging.INFO, logger="matplotlib.font_manager"):
            warnings.simplefilter("error")
            fig = sequence_diagram(["C: EHLO outside.test", "S: 250 mail.example.com", "C: (接続を閉じました)"],
                                   title="送信者の確認")
            fig.savefig(io.BytesIO(), format="png")
        assert not [r for r in caplog.records if "findfont" in r.getMessage()]
    finally:
        i18n.set_language(before[0])
        matplotlib.rcParams["font.family"] = before[1]

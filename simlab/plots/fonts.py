"""A Japanese font for chart text, so Japanese labels never show as missing-glyph boxes.

Matplotlib's default font, DejaVu Sans, has no Japanese glyphs. :func:`use_japanese_fallback`
registers IPAex Gothic - the font the ``matplotlib-fontja`` package ships, under the IPA Font
License v1.0 - with matplotlib's font manager (``font_manager.fontManager.addfont``) and appends
its family name to ``rcParams["font.family"]`` (``["sans-serif", "IPAexGothic"]``). Matplotlib
(3.6 and later) falls back glyph by glyph along the families of that list (not within the generic
``sans-serif`` list), so Latin text is drawn in DejaVu Sans exactly as before and only characters
DejaVu Sans lacks come from IPAex Gothic. No system font is needed (a fresh laptop, Binder, CI).

Importing ``matplotlib_fontja`` calls its ``japanize()``, which would make IPAex Gothic the
family of *every* chart; the import runs inside ``matplotlib.rc_context()``, which puts the
settings back, so only the registration stays.
"""

from __future__ import annotations

from functools import cache

__all__ = ["JAPANESE_FAMILY", "japanese_font_path", "use_japanese_fallback"]

#: The family name of the font matplotlib-fontja ships.
JAPANESE_FAMILY = "IPAexGothic"


@cache
def japanese_font_path() -> str:
    """The path of IPAex Gothic's ``.ttf`` file, registered with matplotlib's font manager."""
    import matplotlib
    from matplotlib import font_manager

    with matplotlib.rc_context():
        import matplotlib_fontja

        path = matplotlib_fontja.get_font_ttf_path()
    font_manager.fontManager.addfont(path)
    return path


def use_japanese_fallback() -> None:
    """Make Japanese characters in any later chart text come from IPAex Gothic (idempotent)."""
    import matplotlib

    japanese_font_path()
    families = list(matplotlib.rcParams["font.family"])
    if JAPANESE_FAMILY not in families:
        matplotlib.rcParams["font.family"] = [*families, JAPANESE_FAMILY]

"""Lesson panels (ipywidgets): one function per lesson builds the panel and returns it.

Importing :mod:`simlab` does not import widgets; the panels load on first use.
"""

from __future__ import annotations

import importlib

__all__ = ["relay_lab", "Panel", "solution_button"]

_WHERE = {"relay_lab": "simlab.ui.relay", "Panel": "simlab.ui.common", "solution_button": "simlab.ui.common"}


def __getattr__(name: str):
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'simlab.ui' has no attribute {name!r}")

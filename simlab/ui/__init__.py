"""Lesson panels (ipywidgets): one function per lesson builds the panel and returns it.

Importing :mod:`simlab` does not import widgets; the panels load on first use.
"""

from __future__ import annotations

import importlib

__all__ = ["Panel", "flood_lab", "ip_range_lab", "live_lab", "password_lab", "relay_lab", "rotation_lab", "sandbox",
           "sender_auth_lab", "session_lab", "solution_button", "spoof_lab", "spraying_lab", "today_lab"]

#: One panel function per lesson, and where it lives.
_WHERE = {
    "session_lab": "simlab.ui.start",  # 00
    "password_lab": "simlab.ui.password",  # 01
    "relay_lab": "simlab.ui.relay",  # 02
    "spoof_lab": "simlab.ui.spoof",  # 03
    "ip_range_lab": "simlab.ui.iprange",  # 04
    "rotation_lab": "simlab.ui.rotation",  # 05
    "flood_lab": "simlab.ui.flood",  # 06
    "today_lab": "simlab.ui.today",  # 07
    "sandbox": "simlab.ui.sandbox",  # 08
    "live_lab": "simlab.ui.live",  # 09
    "spraying_lab": "simlab.ui.spraying",  # 10
    "sender_auth_lab": "simlab.ui.sender_auth",  # 11
    "Panel": "simlab.ui.common",
    "solution_button": "simlab.ui.common",
}


def __getattr__(name: str):
    if name in _WHERE:
        value = getattr(importlib.import_module(_WHERE[name]), name)
        # importing simlab.ui.sandbox binds the package's name "sandbox" to that module, which would shadow
        # the panel function on the next lookup: bind the function, as asked for, instead
        globals()[name] = value
        return value
    raise AttributeError(f"module 'simlab.ui' has no attribute {name!r}")

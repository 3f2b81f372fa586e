"""Errors that simlab raises for bad settings.

Bad *settings* (what an instructor or a program configures) raise
:class:`ConfigError`; bad *protocol input* from a client never raises: it gets
the reply the simulated product would send (RFC 5321 §4.2, RFC 1939).
"""

from __future__ import annotations

__all__ = ["ConfigError", "SessionClosed"]


def _config_message(setting: str, value: object, problem: str, expected: str) -> str:
    from simlab.i18n import t  # simlab.i18n raises ConfigError itself: imported when first needed

    return t("error.config", setting=setting, value=repr(value), problem=problem, expected=expected)


class ConfigError(ValueError):
    """A setting has a value the simulator cannot use.

    The message names the setting, the value and what was expected, e.g.
    ``ip_range_restriction: '192.0.2.99-192.0.2.10' is a reversed range;
    expected the lower address first ('A-B')``, in the current language
    (:mod:`simlab.i18n`): ``problem`` and ``expected`` come already worded.
    """

    def __init__(self, setting: str, value: object, problem: str, expected: str) -> None:
        self.setting = setting
        self.value = value
        self.problem = problem
        self.expected = expected
        super().__init__(_config_message(setting, value, problem, expected))


class SessionClosed(RuntimeError):
    """A line was sent on a session the server has already closed.

    This is a mistake of the calling program (a real client would see the TCP
    connection closed), not protocol input, so it raises.
    """

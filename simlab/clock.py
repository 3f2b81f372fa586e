"""A clock the caller controls.

Log timestamps and rate-limit windows (Postfix ``anvil``, fail2ban
``findtime``) read this clock, never the wall clock, so the same calls give
byte-identical logs. The traffic engine advances it as simulated time passes.
"""

from __future__ import annotations

import functools
from datetime import datetime, timedelta

__all__ = ["ManualClock", "DEFAULT_START", "mail_date", "WEEKDAY_ABBREVIATIONS", "MONTH_ABBREVIATIONS"]

#: English day and month abbreviations, Monday first (``datetime.weekday()``) and January first: RFC 5322
#: §3.3's ``day-name`` and ``month``, and what syslog and the English Mac OS write. Written out rather than
#: taken from ``strftime``'s ``%a``/``%b``, which follow the process's locale (a kernel set to a Japanese
#: locale would write 木 and 6月 into a Date header).
WEEKDAY_ABBREVIATIONS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

#: The week the thread's admin was away: June 1998.
DEFAULT_START = datetime(1998, 6, 11, 1, 25, 32)


class ManualClock:
    """Simulated time in seconds since ``start``; moves only when told to.

    >>> clock = ManualClock()
    >>> clock.advance(90)
    >>> clock.now
    90.0
    >>> clock.datetime()
    datetime.datetime(1998, 6, 11, 1, 27, 2)
    """

    def __init__(self, start: datetime = DEFAULT_START, now: float = 0.0) -> None:
        self.start = start
        self.now = float(now)
        self._second: tuple[datetime, int, datetime] | None = None  # (start, whole second, its calendar time)

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` (never backward)."""
        if seconds < 0:
            raise ValueError(f"advance: {seconds!r} is negative; expected seconds >= 0")
        self.now += seconds

    def set(self, now: float) -> None:
        """Jump to ``now`` seconds since start; a time in the past is an error."""
        if now < self.now:
            raise ValueError(f"set: {now!r} is before the current time {self.now!r}")
        self.now = float(now)

    def datetime(self, at: float | None = None) -> datetime:
        """The calendar time of ``at`` (default: now), whole seconds."""
        seconds = int(self.now if at is None else at)
        last = self._second  # a busy run asks for the same second many times: work it out once
        if last is not None and last[1] == seconds and last[0] is self.start:
            return last[2]
        when = self.start + timedelta(seconds=seconds)
        self._second = (self.start, seconds, when)
        return when


def mail_date(when: datetime) -> str:
    """``when`` as a mail ``Date:`` or ``Received:`` header writes it (RFC 5322 §3.3), in UTC.

    Many messages share a second in a busy run, so each second is formatted once.

    >>> mail_date(DEFAULT_START)
    'Thu, 11 Jun 1998 01:25:32 +0000'
    """
    return _mail_date(when, when.tzinfo)


@functools.lru_cache(maxsize=256)
def _mail_date(when: datetime, _zone: object) -> str:
    # the zone is part of the key: one instant reads differently in two zones
    return (f"{WEEKDAY_ABBREVIATIONS[when.weekday()]}, {when.day:02d} {MONTH_ABBREVIATIONS[when.month - 1]} "
            f"{when.year:04d} {when.hour:02d}:{when.minute:02d}:{when.second:02d} +0000")

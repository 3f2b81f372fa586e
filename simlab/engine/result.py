"""What a run returns: counts, the log as the admin saw it, dialogues, events and time series.

``summary`` is a plain dict (see :data:`~simlab.engine.world.SUMMARY_KEYS`).
``events`` and :meth:`Result.series` are pandas tables, built on first use
so that importing simlab stays light; :func:`event_rows` gives the same rows as
plain tuples, for checkers and panels that must not import pandas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from simlab.engine.world import EVENT_COLUMNS, TranscriptRecord

if TYPE_CHECKING:
    import pandas as pd

    from simlab.engine.world import World
    from simlab.products.base import QueueSchedule

__all__ = ["Result", "EventRow", "event_rows"]


class EventRow(NamedTuple):
    """One row of a run's events as the engine recorded it (``time`` in seconds into the run), as
    :attr:`Result.events` has it as a table (its ``time`` a datetime)."""

    time: float
    host: str
    client_ip: str
    actor: str
    command: str
    reply_code: Any
    outcome: str


def event_rows(result: Any, **wanted: Any) -> list[EventRow]:
    """The run's events whose columns have the ``wanted`` values (a value, or a tuple/set/frozenset of values),
    without building the pandas table: a panel's first view need not import pandas (half a second).

    ``result`` is a :class:`Result` (or anything with its ``_events`` rows). An unknown column name is a
    :class:`ValueError` naming it, as a typo must not silently select nothing.
    """
    tests = []
    for name, value in wanted.items():
        if name not in EventRow._fields:
            raise ValueError(f"event_rows: no column {name!r}; the columns are {', '.join(EventRow._fields)}")
        tests.append((EventRow._fields.index(name), value if isinstance(value, tuple | set | frozenset) else (value,)))
    make = EventRow._make
    if not tests:
        return list(map(make, result._events))
    if len(tests) == 1:  # the usual filter, one column: without a generator per row
        (index, allowed), = tests
        return [make(row) for row in result._events if row[index] in allowed]
    return [make(row) for row in result._events if all(row[i] in allowed for i, allowed in tests)]


@dataclass
class Result:
    """The outcome of :func:`simlab.run`.

    Attributes:
        scenario, preset, seed: what was run.
        product, settings: the site server's product (its label) and the settings it was built with.
        summary: counts (legit_delivered, legit_refused, spam_relayed, ...).
        log: the site server's log lines, in its product's style.
        transcripts: one :class:`TranscriptRecord` per session (empty in counts-only runs).
        timeline: ``(time, what)`` pairs for plots (spam relayed, legit lost, bans ...).
        world: the finished world (servers, network, DNS), for inspection.
        queue: the site server's queue schedule as it ran (:class:`~simlab.products.base.QueueSchedule`):
            its product's defaults, or a scenario's shortened lifetime (``queue.source`` says which and why).
    """

    scenario: str
    preset: str
    seed: int
    summary: dict[str, int]
    log: list[str]
    transcripts: list[TranscriptRecord]
    timeline: list[tuple[float, str]]
    start: datetime
    world: World | None = field(default=None, repr=False)
    _events: list[tuple] = field(default_factory=list, repr=False)
    product: str = ""
    settings: dict[str, Any] = field(default_factory=dict, repr=False)
    queue: QueueSchedule | None = field(default=None, repr=False)

    @property
    def server(self):
        """The site's simulated mail server."""
        return self.world.site_host.server

    @property
    def events(self) -> pd.DataFrame:
        """One row per command and reply: time, host, client IP, actor, command, reply code, outcome."""
        import pandas as pd

        cached = self.__dict__.get("_events_frame")
        if cached is None or cached[0] != len(self._events):
            frame = pd.DataFrame(self._events, columns=list(EVENT_COLUMNS))
            frame["time"] = [self.start + timedelta(seconds=t) for t in frame["time"]]
            self.__dict__["_events_frame"] = cached = (len(self._events), frame)
        return cached[1].copy()

    def series(self, freq: str = "1h") -> pd.DataFrame:
        """Counts per time bin: each timeline item, and the site's log lines."""
        import pandas as pd

        rows: list[dict[str, Any]] = [{"time": self.start + timedelta(seconds=t), "what": what}
                                      for t, what in self.timeline]
        if self.world is not None:
            rows += [{"time": self.start + timedelta(seconds=t), "what": "log_lines"}
                     for t, _line in self.server.log_records]
        if not rows:
            return pd.DataFrame()
        frame = pd.DataFrame(rows)
        table = frame.groupby([pd.Grouper(key="time", freq=freq), "what"]).size().unstack(fill_value=0)
        return table

    def transcript(self, actor: str | None = None, index: int = 0) -> list[str]:
        """The dialogue of the ``index``-th session (of ``actor``, if given)."""
        chosen = [t for t in self.transcripts if actor is None or t.actor == actor]
        return list(chosen[index].lines) if chosen else []

    def tail(self, lines: int = 20) -> list[str]:
        return self.log[-lines:]

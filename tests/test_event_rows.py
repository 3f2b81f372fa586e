"""The pandas-free event rows (:func:`simlab.engine.result.event_rows`) and the exercise helpers built on them
give exactly what the pandas table gave (the helpers' former pandas code is kept here as the reference)."""

from __future__ import annotations

import math
from collections import Counter

import pytest

from simlab.engine.result import EventRow, event_rows
from simlab.engine.world import EVENT_COLUMNS
from simlab.exercises.flood import BURST, burst_delivery, flood_day, refused_connections
from simlab.exercises.iprange import ip_range_day, refused_at_connect
from simlab.exercises.password import STAFF, guessing_day, staff_refusals
from simlab.scenarios import run
from simlab.scenarios.site import HOSTNAME

# --- the helpers as they were written with pandas: the reference ------------------------------------------


def _pandas_refused_connections(result):
    events = result.events
    if events.empty:
        return Counter()
    rows = events[(events.command == "CONNECT") & (events.host == HOSTNAME)
                  & ((events.outcome == "refused") | (events.reply_code == 421))]
    return Counter(rows.actor)


def _pandas_burst_delivery(result):
    events = result.events
    rows = events[(events.actor == BURST) & (events.host == HOSTNAME)]
    refused = int(((rows.command == "CONNECT") & ((rows.outcome == "refused") | (rows.reply_code == 421))).sum())
    accepted = rows[(rows.command == ".") & (rows.reply_code == 250)]
    if accepted.empty:
        return refused, float("nan")
    first = rows.time.min()
    return refused, (accepted.time.max() - first).total_seconds() / 60


def _pandas_refused_at_connect(result):
    events = result.events
    if events.empty:
        return []
    rows = events[(events.command == "CONNECT") & (events.host == HOSTNAME) & (events.reply_code == 554)]
    counts = Counter(zip(rows.actor, rows.client_ip, strict=True))
    return [(actor, ip, n) for (actor, ip), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]


def _pandas_staff_refusals(result, staff=tuple(STAFF)):
    from simlab.exercises.password import _logged_in

    refused: Counter[str] = Counter()
    for record in result.transcripts:
        if record.actor in staff and record.service == "pop3" and not _logged_in(record.lines):
            refused[record.actor] += 1
    events = result.events
    if not events.empty:
        rows = events[(events.command == "CONNECT") & events.actor.isin(staff)
                      & events.outcome.isin(("filtered", "down", "refused"))]
        refused.update(rows.actor.tolist())
    return refused


# --- the rows themselves -----------------------------------------------------------------------------------


def test_event_row_columns_are_the_engines():
    assert EventRow._fields == EVENT_COLUMNS


def test_event_rows_match_the_table_filtered_the_same_way():
    result = run(flood_day("postfix", 150, 1, 50, 100), seed=3)
    table = result.events
    rows = event_rows(result, command="CONNECT", host=HOSTNAME)
    chosen = table[(table.command == "CONNECT") & (table.host == HOSTNAME)]
    assert len(rows) == len(chosen) > 0
    assert [r.actor for r in rows] == list(chosen.actor)
    assert [result.start.timestamp() + r.time for r in rows] == pytest.approx(
        [t.timestamp() for t in chosen.time], abs=1e-5)
    assert len(event_rows(result)) == len(table)
    assert event_rows(result, actor=("nobody at all",)) == []


def test_event_rows_name_an_unknown_column():
    result = run(flood_day("postfix", 20, 1, 50, 100, duration=600.0), seed=1)
    with pytest.raises(ValueError, match="clientip"):
        event_rows(result, clientip="192.0.2.1")


def test_ui_event_rows_is_the_engines():
    from simlab.ui import common

    assert common.event_rows is event_rows and common.EventRow is EventRow


# --- the helpers against the reference ---------------------------------------------------------------------

FLOODS = [("eims-2.1", 150, 1, None, 20), ("postfix", 150, 1, 50, 100), ("postfix", 400, 50, 10, 30),
          ("postfix", 150, 1, 0, None)]


@pytest.mark.parametrize("settings", FLOODS)
@pytest.mark.parametrize("seed", [1, 2])
def test_flood_helpers_as_with_pandas(settings, seed):
    result = run(flood_day(*settings), seed=seed)
    assert refused_connections(result) == _pandas_refused_connections(result)
    got, expected = burst_delivery(result), _pandas_burst_delivery(result)
    assert got[0] == expected[0] and type(got[0]) is int
    assert got[1] == expected[1] or (math.isnan(got[1]) and math.isnan(expected[1]))


def test_flood_helpers_find_refusals_and_a_delivered_burst():
    result = run(flood_day("eims-2.1", 150, 1, None, 20), seed=1)
    assert sum(refused_connections(result).values()) > 0
    assert burst_delivery(result)[1] > 0


@pytest.mark.parametrize("ranges,mx_via_provider", [(("192.0.2.1-192.0.2.254",), False),
                                                    (("192.0.2.1-192.0.2.254",), True), ((), False)])
def test_refused_at_connect_as_with_pandas(ranges, mx_via_provider):
    result = run(ip_range_day(ranges, mx_via_provider=mx_via_provider), seed=1)
    assert refused_at_connect(result) == _pandas_refused_at_connect(result)
    if ranges and not mx_via_provider:
        assert refused_at_connect(result)  # the strict range shuts somebody out


@pytest.mark.parametrize("defences", [{}, {"router_filter": True}, {"ip_range_restriction": True},
                                      {"lockout": 3}, {"fail2ban": True}])
def test_staff_refusals_as_with_pandas(defences):
    result = run(guessing_day("eims-2.1" if "fail2ban" not in defences else "postfix", **defences), seed=2)
    assert staff_refusals(result) == _pandas_staff_refusals(result)
    if "router_filter" in defences:
        assert sum(staff_refusals(result).values()) > 0  # the roaming member of staff is filtered


def test_first_panels_import_no_pandas():
    import subprocess
    import sys

    code = ("import sys, simlab.ui\n"
            "for name in ('flood_lab', 'ip_range_lab', 'password_lab'):\n"
            "    getattr(simlab.ui, name)()\n"
            "print('pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"

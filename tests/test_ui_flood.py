"""Lesson 06's panel, timeline and exercise (connection floods), driven headlessly."""

import html
import math
import re
from collections import Counter
from datetime import timedelta

import pytest

import simlab.ui.flood as flood_module
from simlab.engine.result import event_rows
from simlab.errors import ConfigError
from simlab.exercises.flood import (
    ATTACK_START,
    BURST,
    FLOODER,
    burst_delivery,
    check_flood_limits,
    flood_day,
    flood_tally,
    refused_connections,
)
from simlab.plots import to_png
from simlab.scenarios import run
from simlab.scenarios.site import HOSTNAME, PROCESS_LIMITS
from simlab.ui.flood import (
    BUSY_FROM_ANSWERED,
    BUSY_FROM_CONNECTIONS,
    flood_lab,
    flood_timeline,
    heavy_flood,
    outcome_counts,
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def lab():
    return flood_lab()


def test_a_one_address_flood_knocks_eims_offline(lab):
    result = lab.outcome[0]
    assert lab.error is None and result.preset == "eims-2.1"
    counts = outcome_counts(result)
    assert counts["legit_refused"] > 0 and counts["legit_logins_refused"] > 0
    assert counts["legitimate connections refused"] > 0
    assert lab.controls["process_limit"].value == PROCESS_LIMITS["eims-2.1"] == 20
    assert lab.controls["connection_limit"].disabled
    table = lab.views["outcome"].children[1].value
    assert "process limit: 20 connections at once" in table and "per-client limit: not a setting of eims-2.1" in table
    bars = lab.views["outcome"].children[0].value  # HTML bars, one per count, each with its number
    assert "class='simlab-bars'" in bars and all(f"data-key='{html.escape(key)}'" in bars for key in counts)
    assert f">{counts['legit_refused']}</span>" in bars
    assert "0 of them during the flood" in lab.views["server log"].value
    assert "The server wrote nothing while it was flooded" in lab.views["server log"].value
    # the lines shown are said to come after the flood (02:25 to 04:25), and they do
    log = lab.views["server log"].value
    assert "(02:25 to 04:25)" in log and "lines <b>after</b> the flood ended (04:25)" in log
    first_shown = re.search(r"1998 (\d+):(\d\d):\d\d AM", log.split("ended (04:25)")[1])
    assert (int(first_shown[1]), int(first_shown[2])) >= (4, 25)


def test_the_timeline_is_drawn_when_its_tab_opens(lab):
    timeline = lab.views["timeline"]
    before = timeline.value
    lab.tabs.selected_index = list(lab.views).index("timeline")
    drawn = timeline.value  # an SVG the browser draws, with the lesson's words
    assert drawn.startswith("<svg") and drawn != before and "the flood" in drawn and "flooder refused" in drawn
    assert "legitimate connections refused" in drawn and "what the flood cost, 10 minutes at a time" in drawn
    lab.controls["connections"].value = 50  # redrawn at once while the tab is open
    assert timeline.value != drawn
    lab.tabs.selected_index = 0
    lab.controls["connections"].value = 150


def test_switching_to_postfix_brings_its_limits(lab):
    lab.controls["preset"].value = "postfix"
    result, limit_used, connection_limit, process_limit, _tally = lab.outcome
    assert result.preset == "postfix" and limit_used and connection_limit == 50 and process_limit == 100
    assert lab.controls["process_limit"].value == 100 and not lab.controls["connection_limit"].disabled
    assert outcome_counts(result)["legit_refused"] == 0
    assert "too many connections from 203.0.113.200" in lab.views["server log"].value
    lab.controls["connection_limit"].value = 0  # no per-client limit: the flood fills the server
    assert outcome_counts(lab.outcome[0])["legit_refused"] > 0
    lab.controls["connection_limit"].value = 1  # too low: the provider's parallel deliveries get 421
    assert "the provider's 10 parallel deliveries were refused 45 times" in lab.views["outcome"].children[1].value
    lab.controls["connection_limit"].value = 50
    lab.controls["flooder_ips"].value = 10  # many addresses: the per-client limit no longer helps
    assert outcome_counts(lab.outcome[0])["legit_refused"] > 0
    lab.controls["flooder_ips"].value = 1
    lab.controls["preset"].value = "eims-2.1"
    assert lab.controls["process_limit"].value == 20 and lab.controls["connection_limit"].disabled
    assert lab.outcome[0].preset == "eims-2.1" and lab.outcome[2] == 50 and not lab.outcome[1]


def test_a_bigger_process_limit_raises_the_bar():
    lab = flood_lab()
    lab.controls["process_limit"].value = 200
    assert outcome_counts(lab.outcome[0])["legit_refused"] == 0
    lab.controls["connections"].value = 400
    assert outcome_counts(lab.outcome[0])["legit_refused"] > 0


def test_a_setting_the_product_lacks_is_ignored_or_refused():
    with pytest.raises(ConfigError, match=r"without (connection_limit|per-client connection limit)"):
        flood_day("eims-2.1", connection_limit=10)
    lab = flood_lab()
    lost = outcome_counts(lab.outcome[0])["legit_refused"]
    lab.controls["connection_limit"].value = 1  # disabled on EIMS: set from code, it is not applied
    assert lab.error is None and not lab.outcome[1] and outcome_counts(lab.outcome[0])["legit_refused"] == lost
    lab.controls["connections"].value = 10_000  # a nonsense number is clamped by the slider
    assert lab.error is None and lab.controls["connections"].value == 400


def test_burst_and_refusals_are_counted():
    day = run(flood_day("postfix", 150, 1, connection_limit=5), seed=1)
    assert burst_delivery(day)[0] == 5
    assert refused_connections(day)["flooder"] > 0
    assert to_png(flood_timeline(day))[:8] == PNG


def test_checker_reports_lost_mail_and_refused_logins():
    no_limit = check_flood_limits(connection_limit=0, process_limit=100)
    assert not no_limit
    assert ("legitimate mail lost: 10 messages - the flood filled the server's 100 process slots"
            in no_limit.messages)
    # Dovecot's pop3-login has its own process_limit: the SMTP flood no longer refuses POP3 logins
    assert not any("POP3 refused" in message for message in no_limit.messages)
    too_low = check_flood_limits(connection_limit=1)
    assert not too_low and "got '421 too many connections' 45 times" in too_low.messages[-1]
    small_server = check_flood_limits(connection_limit=50, process_limit=20)
    assert not small_server and "20 process slots" in small_server.messages[0]
    assert "is not a limit" in check_flood_limits(connection_limit=-1).messages[0]
    assert "is not a process limit" in check_flood_limits(connection_limit=50, process_limit=0).messages[0]


def test_checker_passes_postfix_defaults():
    verdict = check_flood_limits(connection_limit=50, process_limit=100)
    assert verdict and "turned the flooder away 1200 times" in verdict.messages[0]


def test_checker_requires_a_per_client_limit_even_on_a_big_server():
    big_server = check_flood_limits(connection_limit=0, process_limit=300)
    assert not big_server
    assert big_server.messages[0].startswith("no per-client limit (0): one address may hold all 300 process slots. "
                                             "The flood of 150 did not fill them, but the same address opening 350 "
                                             "connections does - legitimate mail lost: 10 messages")
    limit_too_high = check_flood_limits(connection_limit=300, process_limit=300)
    assert not limit_too_high and "not below the process limit" in limit_too_high.messages[0]
    verdict = check_flood_limits(connection_limit=50, process_limit=300)
    assert verdict and "never hold more than 50 of the 300 slots" in verdict.messages[0]
    assert "at most 1000" in check_flood_limits(connection_limit=50, process_limit=5000).messages[0]


# --- keeping up: the events counted once, the busy state for big runs, the flooder's retries ----------------


def test_the_tally_counts_what_the_events_table_shows():
    day = run(flood_day("postfix", 150, 2, connection_limit=5), seed=3)
    tally = flood_tally(day)
    events = day.events
    turned_away = events[(events.command == "CONNECT") & (events.host == HOSTNAME)
                         & ((events.outcome == "refused") | (events.reply_code == 421))]
    assert tally.refused == Counter(turned_away.actor) and tally.refused["flooder"] > 0
    burst = events[(events.actor == BURST) & (events.host == HOSTNAME)]
    assert tally.burst_refused == len(turned_away[turned_away.actor == BURST]) == 5
    accepted = burst[(burst.command == ".") & (burst.reply_code == 250)]
    assert tally.burst_minutes == (accepted.time.max() - burst.time.min()).total_seconds() / 60
    flooder = events[events.actor == FLOODER]
    assert day.start + timedelta(seconds=tally.flooder_last) == flooder.time.max()
    assert (refused_connections(day), burst_delivery(day)) == (tally.refused, (5, tally.burst_minutes))
    quiet = run(flood_day("eims-2.1", 10, 1, burst=0), seed=1)
    assert math.isnan(flood_tally(quiet).burst_minutes) and flood_tally(quiet).burst_refused == 0


def test_the_panel_counts_a_runs_events_once_for_all_its_views(monkeypatch):
    counted = []

    def tally(result):
        counted.append(result)
        return flood_tally(result)

    monkeypatch.setattr(flood_module, "flood_tally", tally)
    lab = flood_lab()
    assert len(counted) == 1 and lab.outcome.tally.refused == flood_tally(lab.outcome.result).refused
    lab.controls["seed"].value = 2
    lab.controls["seed"].value = 1  # a toggle back: drawn again from the kept run and its counts
    lab.tabs.selected_index = 2
    assert len(counted) == 2
    log = lab.views["server log"].value
    assert log == flood_module.flood_log_html(lab.outcome.result)  # the same view, counted or not
    assert lab.views["outcome"].children[1].value.count("<li>") >= 3


def test_a_flood_the_server_answers_at_length_shows_the_busy_state():
    lab = flood_lab()
    values = lab.values()
    assert not heavy_flood(values)  # EIMS 2.1 answers 20 at once: a twentieth of a second
    assert heavy_flood({**values, "connections": BUSY_FROM_CONNECTIONS})
    assert heavy_flood({**values, "process_limit": BUSY_FROM_ANSWERED, "connections": BUSY_FROM_ANSWERED})
    assert not heavy_flood({**values, "process_limit": 300, "connections": BUSY_FROM_ANSWERED - 10})
    seen = []
    compute = lab.compute

    def watched(v):
        seen.append(lab.is_busy and all(c.disabled for c in lab.controls.values()))
        return compute(v)

    lab.compute = watched
    lab.controls["preset"].value = "postfix"  # Postfix answers 100 at once: a run and its baseline, both busy
    assert seen and all(seen) and not lab.is_busy and not lab.controls["connections"].disabled
    assert not lab.controls["connection_limit"].disabled  # what the product enables stays enabled
    lab.controls["preset"].value = "eims-2.1"  # kept, and small: no busy state
    assert not lab.is_busy and lab.progress.layout.display == "none"


def test_the_flooder_retries_a_refused_connection_later_and_a_closed_one_at_once_from_the_same_address():
    day = run(flood_day("eims-2.1", 60, 3, flooder_retry=600.0), seed=1)
    rows = [row for row in event_rows(day, actor=FLOODER) if row.command in ("CONNECT", "TIMEOUT")]
    by_address: dict[str, list[float]] = {}
    for row in rows:
        if row.command == "CONNECT":
            by_address.setdefault(row.client_ip, []).append(row.time)
    assert sorted(by_address) == ["203.0.113.200", "203.0.113.201", "203.0.113.202"]

    def tried_again(ip: str, after: float, within: float) -> bool:
        return any(after < moment <= after + within for moment in by_address[ip])

    refused = [row for row in rows if row.command == "CONNECT" and row.outcome == "refused"
               and row.time + 601 < ATTACK_START + 2 * 3600]
    closed = [row for row in rows if row.command == "TIMEOUT" and row.time + 1 < ATTACK_START + 2 * 3600]
    assert refused and closed
    assert all(tried_again(row.client_ip, row.time + 600, 1.0) for row in refused)
    assert all(tried_again(row.client_ip, row.time, 1.0) for row in closed)

"""Lesson 10's panel, driven headlessly (observers fire synchronously)."""

from simlab.exercises.spraying import SIZES
from simlab.ui.charts import svg_texts
from simlab.ui.spraying import BOTNET_SIZES, defence_controls, spraying_lab, ticked


def test_the_panel_starts_with_no_defence_and_three_accounts_lost():
    lab = spraying_lab()
    s = lab.outcome.summary
    assert lab.error is None and s["accounts_compromised"] == 3 and s["legit_logins_refused"] == 0
    chart, table = lab.views["outcome"].children
    assert "data-key='accounts_compromised'" in chart.value and "2,000 bots: no defence" in chart.value
    assert "first account lost" in table.value and "attempts made" in table.value
    assert ">spray_" not in table.value  # every row in words (the keys stay in data-key)
    log = lab.views["server log"].value
    assert "SASL PLAIN authentication failed" in log and "pop3-login: Disconnected (auth failed" in log


def test_per_address_defences_change_nothing_per_account_ones_hold():
    lab = spraying_lab()
    lab.controls["defence_fail2ban"].value = True
    lab.controls["defence_anvil"].value = True
    lab.controls["defence_auth_penalty"].value = True
    assert lab.outcome.summary["accounts_compromised"] == 3 and lab.outcome.summary["bans"] == 0
    assert "0 accounts broken into" in lab.comparison.value or "accounts broken into" not in lab.comparison.value
    lab.controls["defence_account_jail"].value = True
    s = lab.outcome.summary
    assert s["accounts_compromised"] == 0 and "no account fell" in lab.views["outcome"].children[1].value
    assert "-3 accounts broken into" in lab.comparison.value
    jail_refused = s["legit_logins_refused"]
    lab.controls["defence_account_jail"].value = False
    lab.controls["defence_lockout"].value = True
    assert lab.outcome.summary["accounts_compromised"] == 0
    assert lab.outcome.summary["legit_logins_refused"] > jail_refused > 0


def test_one_address_with_many_attempts_is_banned():
    lab = spraying_lab()
    lab.controls["botnet_size"].value = 1
    lab.controls["attempts_per_address"].value = 10
    assert lab.outcome.summary["spray_attempts"] == 10
    lab.controls["defence_fail2ban"].value = True
    assert lab.outcome.summary["bans"] == 0  # one try every 5 to 15 minutes: never 5 within fail2ban's 10
    lab.controls["pace"].value = 60.0
    assert lab.outcome.summary["bans"] >= 1 and lab.outcome.summary["spray_refused_fail2ban"] > 0


def test_the_sweep_is_drawn_when_its_tab_is_opened_and_kept():
    lab = spraying_lab()
    view = lab.views["as the botnet grows"]
    assert view.value == ""  # not run until its tab is opened
    runs = []
    lab.progress.observe(lambda change: runs.append((lab.is_busy, lab.controls["seed"].disabled, change["new"])),
                         names="value")
    lab.tabs.selected_index = 1
    first = view.value
    assert first.startswith("<svg") and not lab.is_busy and not lab.controls["seed"].disabled
    assert runs and all(busy and disabled for busy, disabled, _value in runs)  # in the busy state, bar moving
    assert runs[-1][2] == 1.0 and [value for *_, value in runs] == sorted(value for *_, value in runs)
    texts = svg_texts(first)
    assert "3 attempts per address: what the botnet wins as it grows" in texts and "no defence" in texts
    assert {"accounts compromised", "staff logins refused", "minutes to the first compromise"} <= set(texts)
    assert "10,000" in texts and "botnet size (addresses)" in texts
    lab.controls["defence_lockout"].value = True
    second = view.value
    assert second.startswith("<svg") and second != first and "account lockout" in svg_texts(second)
    lab.tabs.selected_index = 0
    lab.controls["defence_lockout"].value = False
    lab.tabs.selected_index = 1
    assert view.value == first  # drawn once per choice


def test_the_sweep_runs_only_what_it_has_not_run(monkeypatch):
    import simlab.ui.spraying as module

    lab = spraying_lab()  # the lesson's 2,000 bots: one of the sweep's sizes, run already
    ran = []
    real = module.sweep_row
    monkeypatch.setattr(module, "sweep_row", lambda d, size, *a: ran.append(size) or real(d, size, *a))
    lab.tabs.selected_index = 1
    assert ran == [size for size in SIZES if size != 2000]
    lab.tabs.selected_index = 0
    lab.controls["botnet_size"].value = 10000
    lab.controls["botnet_size"].value = 1000
    lab.controls["defence_fail2ban"].value = True  # fail2ban at 1,000 bots: its run is the sweep's row for 1,000
    ran.clear()
    lab.tabs.selected_index = 1
    assert ran == [size for size in SIZES if size != 1000]


def test_a_full_run_and_a_counts_only_run_give_the_sweep_the_same_figures():
    from simlab.exercises.spraying import sized, spraying_day, sweep_row
    from simlab.plots.spraying import PANELS
    from simlab.scenarios import run

    for defences in ((), ("account_jail",), ("lockout", "fail2ban")):
        for size in (10, 2000):
            full = sized(run(spraying_day(defences, size), seed=2, transcripts=False).summary, size)
            counted = sweep_row(defences, size, seed=2)
            assert {k: full[k] for k in PANELS} == {k: counted[k] for k in PANELS}


def test_a_heavy_choice_runs_in_the_busy_state():
    lab = spraying_lab()
    assert lab.heavy({"botnet_size": 10000, "attempts_per_address": 3}) and not lab.heavy(lab.values())
    lab.controls["botnet_size"].value = 10000
    assert lab.outcome.summary["accounts_compromised"] == 3 and not lab.is_busy


def test_a_bad_start_is_a_message_not_a_traceback():
    lab = spraying_lab(botnet_size=3)
    assert "botnet_size" in lab.message.value and "Traceback" not in lab.message.value
    assert lab.values()["botnet_size"] == 2000 and 3 not in BOTNET_SIZES


def test_defence_controls_and_ticked():
    specs = defence_controls(("lockout",))
    assert [s["name"] for s in specs][:2] == ["defence_fail2ban", "defence_anvil"]
    assert ticked({s["name"]: s["value"] for s in specs}) == ("lockout",)


def test_the_sweep_chart_draws_each_series_and_skips_what_has_no_value():
    from simlab.ui.spraying_chart import sweep_svg

    rows = [{"botnet_size": 1, "accounts_compromised": 0, "legit_logins_refused": 0, "first_compromise_min": None},
            {"botnet_size": 100, "accounts_compromised": 2, "legit_logins_refused": 1,
             "first_compromise_min": float("nan")},
            {"botnet_size": 10000, "accounts_compromised": 3, "legit_logins_refused": 4, "first_compromise_min": 2.5}]
    one = sweep_svg({"no defence": rows}, title="three attempts")
    texts = svg_texts(one)
    assert texts[:2] == ["three attempts", "no defence"]
    assert one.count("<circle") == 1 + 3 + 3 + 1  # the legend's marker; 3, 3 and 1 points (None, NaN: none)
    assert "2.5" in texts and "no defence: 10,000 addresses: 2.5</title>" in one  # each point: value and tooltip
    two = sweep_svg({"a": rows, "b": rows[:1]}, labels={"a": "per account"})
    assert "per account" in svg_texts(two) and "b" in svg_texts(two)
    assert "2.5" not in svg_texts(two)  # two series: values in the tooltips only, no labels to collide
    assert "#d1495b" in two and "#30638e" in two  # the figure's colours, in order
    none = [{**row, "first_compromise_min": None} for row in rows]
    assert svg_texts(sweep_svg({"x": none})).count("no account fell") == 1


def test_a_change_with_the_sweep_open_runs_wholly_in_the_busy_state():
    lab = spraying_lab()
    lab.tabs.selected_index = 1
    seen = []
    compute = lab.compute
    lab.compute = lambda values: seen.append(lab.is_busy) or compute(values)
    lab.controls["defence_anvil"].value = True  # a new sweep to run: the run and the sweep, busy
    assert seen == [True] and not lab.is_busy and not lab.controls["seed"].disabled
    lab.tabs.selected_index = 0
    lab.controls["defence_postscreen"].value = True  # the sweep's tab closed: only the run, as quick as it is
    assert seen == [True, False]
    lab.tabs.selected_index = 1
    lab.controls["defence_postscreen"].value = False
    lab.controls["defence_anvil"].value = False  # toggled back: the outcome and the sweep are kept
    assert seen == [True, False] and not lab.is_busy


def test_a_long_legend_wraps_inside_the_chart():
    from simlab.ui.spraying_chart import _columns, sweep_svg

    rows = [{"botnet_size": 1, "accounts_compromised": 0, "legit_logins_refused": 0, "first_compromise_min": None}]
    label = ", ".join(["fail2ban per address", "anvil: AUTH rate limit", "Dovecot auth penalty",
                       "fail2ban per account", "account lockout", "postscreen (port 25)"] * 2)
    def legend(svg: str) -> list[str]:  # the texts before the first chart's title (no title given)
        texts = svg_texts(svg)
        return texts[:texts.index("accounts compromised")]

    lines = legend(sweep_svg({label: rows}, width=600))
    assert len(lines) >= 2 and " ".join(lines) == label  # broken after a comma's space, nothing lost
    assert all(_columns(line) * 6.4 <= 600 - 52 for line in lines)
    japanese = "、".join(["アドレスごとの fail2ban", "アカウントロックアウト", "postscreen (ポート 25)"] * 3)
    wide = legend(sweep_svg({japanese: rows}, width=600))
    assert len(wide) >= 2 and "".join(wide) == japanese
    assert all(_columns(line) * 6.4 <= 600 - 52 for line in wide)

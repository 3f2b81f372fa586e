"""Lesson 10's panel, driven headlessly (observers fire synchronously)."""

from simlab.ui.spraying import BOTNET_SIZES, defence_controls, spraying_lab, ticked

PNG = b"\x89PNG\r\n\x1a\n"


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
    assert bytes(view.value) == b""
    lab.tabs.selected_index = 1
    first = bytes(view.value)
    assert first.startswith(PNG) and not lab.is_busy
    lab.controls["defence_lockout"].value = True
    second = bytes(view.value)
    assert second.startswith(PNG) and second != first
    lab.controls["defence_lockout"].value = False
    assert bytes(view.value) == first  # drawn once per choice


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

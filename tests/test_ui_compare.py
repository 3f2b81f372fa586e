"""Panels say what the student's settings changed against the starting ones, on the same traffic."""

import simlab.ui as ui


def test_relay_lab_names_the_change_and_what_it_caused():
    lab = ui.relay_lab(preset="eims-2.1")
    assert "starting settings" in lab.comparison.value and "on the same traffic:" not in lab.comparison.value
    lab.controls["relay_restriction"].value = True
    text = lab.comparison.value
    assert "Relay Restriction (EIMS 2.1): off → on" in text
    assert "-1 spam relayed, +1 spam refused, -1 bounces to postmaster, 0 legitimate lost" in text


def test_the_baseline_follows_product_and_seed_and_is_run_once():
    lab = ui.relay_lab(preset="eims-2.1")
    lab.controls["relay_restriction"].value = True
    runs = []
    compute = lab.compute
    lab.compute = lambda values: runs.append(values) or compute(values)
    lab.controls["queue_hours"].value = 6
    assert len(runs) == 1  # the baseline of this product and seed is kept
    lab.controls["seed"].value = 3
    assert len(runs) == 3  # a new seed: the run, and the starting settings on that seed's traffic
    assert runs[-1]["seed"] == 3 and runs[-1]["relay_restriction"] is False


def test_rotation_and_password_labs_compare_too():
    rotation = ui.rotation_lab()
    rotation.controls["defence"].value = "allowlist"
    assert "spam relayed" in rotation.comparison.value and "legitimate lost" in rotation.comparison.value
    password = ui.password_lab()
    password.controls["strong_passwords"].value = True
    assert "accounts broken into" in password.comparison.value


def test_going_back_to_the_start_says_so():
    lab = ui.ip_range_lab()
    lab.controls["mx_via_provider"].value = True
    assert "legitimate lost" in lab.comparison.value
    lab.controls["mx_via_provider"].value = False
    assert "starting settings: change one" in lab.comparison.value


def test_flood_and_spoof_labs_compare_on_the_same_traffic():
    flood = ui.flood_lab(preset="postfix")
    flood.controls["connection_limit"].value = 10
    assert "per-client limit" in flood.comparison.value and "connections refused" in flood.comparison.value
    spoof = ui.spoof_lab()
    spoof.controls["require_valid_ip"].value = True
    assert "-10 spam relayed" in spoof.comparison.value

"""Lesson 05's panel, pictures and exercise (a spammer rotating IP addresses), driven headlessly."""

import re

import pytest

from simlab.exercises.rotation import (
    bans_in_order,
    check_rotation_defence,
    lost_by_sender,
    pool_sweep,
    relayed_spam_by_network,
    rotation_day,
)
from simlab.plots import to_png
from simlab.scenarios import run
from simlab.ui.rotation import bans_figure, pool_sweep_figure, rotation_lab

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def lab():
    return rotation_lab()


def test_per_ip_bans_lose_against_a_pool(lab):
    result = lab.outcome
    assert lab.error is None and result.preset == "eims-2.1"
    lab.controls["pool_size"].value = 1
    small_pool_relayed = lab.outcome.summary["spam_relayed"]
    assert small_pool_relayed == 3  # one address, banned after three relayed messages
    lab.controls["pool_size"].value = 100
    assert lab.outcome.summary["spam_relayed"] > 20 * small_pool_relayed
    assert lab.outcome.summary["bans"] > 10
    bars = lab.views["outcome"].children[0].value
    assert "class='simlab-bars'" in bars and f">{lab.outcome.summary['bans']}</span>" in bars
    assert "spam relayed" in lab.views["outcome"].children[1].value
    sessions = lab.views["the spammer's sessions"].value
    assert "MAIL FROM:&lt;Postmaster@example.com&gt;" in sessions and "dropped by a ban before any banner" in sessions
    lab.controls["pool_size"].value = 50


def test_allowlist_stops_the_pool_and_the_list_is_checked(lab):
    lab.controls["defence"].value = "allowlist"
    summary = lab.outcome.summary
    assert summary["spam_relayed"] == 0 and summary["bans"] == 0
    assert "alice (roaming): " in lab.views["outcome"].children[1].value  # her mail from outside is refused
    assert "SMTP relay refused for" in lab.views["server log"].value
    good = lab.outcome
    lab.controls["relay_networks"].value = "192.0.2.0/33"
    assert lab.error.startswith("may relay: '192.0.2.0/33' is not an address range")
    assert "Traceback" not in lab.message.value and lab.outcome is good
    assert lab.controls["relay_networks"].value == "192.0.2.0/33"
    lab.controls["relay_networks"].value = "192.0.2.0/24, 198.51.100.77"
    assert lab.error is None and lab.outcome.summary["spam_relayed"] == 0
    assert lost_by_sender(lab.outcome) == {}
    lab.controls["relay_networks"].value = "192.0.2.0/24"
    lab.controls["defence"].value = "per_ip_ban"


def test_a_defence_the_product_lacks_shows_a_message():
    lab = rotation_lab(preset="eims-1.2")
    good = lab.outcome
    lab.controls["defence"].value = "allowlist"
    assert re.search(r"'eims-1\.2' is a (preset without an allow-list relay rule|product without relay by client)",
                     lab.error)
    assert lab.outcome is good and lab.controls["defence"].value == "allowlist"
    lab.controls["preset"].value = "postfix"
    assert lab.error is None and lab.outcome.summary["spam_relayed"] == 0
    assert "Relay access denied" in lab.views["server log"].value


def test_fail2ban_on_relayed_mail_bans_alice():
    day = run(rotation_day("eims-2.1", "per_ip_ban"), seed=1)
    alice = [(ip, by) for _t, ip, by in bans_in_order(day) if ip == "198.51.100.77"]
    assert alice == [("198.51.100.77", "fail2ban")]
    assert lost_by_sender(day) == {"alice (roaming)": 3}
    assert relayed_spam_by_network(day) == [
        "still relayed: 136 spam messages from 203.0.113.0/24, sent from 50 different addresses (250 at RCPT)"]
    assert to_png(bans_figure(day))[:8] == PNG


def test_a_strict_admin_blocks_alice_on_eims():
    """EIMS logs each relayed message and each wrong password: blocking at the first line shuts alice out too."""
    day = run(rotation_day("eims-2.1", "admin_block", ban_after=1), seed=1)
    assert any(ip == "198.51.100.77" and by == "admin" for _t, ip, by in bans_in_order(day))
    assert day.summary["legit_logins_refused"] > 0


def test_dovecot_writes_no_line_for_a_typo_corrected_in_the_same_connection():
    """Dovecot logs a failure only for a connection that ends without a login: alice's typo (seed 2) leaves none,
    so even an admin who blocks at the first suspicious line has nothing to block her for."""
    day = run(rotation_day("postfix", "admin_block", ban_after=1), seed=2)
    assert day.summary["login_failures"] > 0  # she did mistype, and was told so
    assert not any("auth failed" in line and "rip=198.51.100.77" in line for line in day.log)
    assert not any(ip == "198.51.100.77" for _t, ip, _by in bans_in_order(day))
    assert day.summary["legit_logins_refused"] == 0 and day.summary["spam_relayed"] == 0


def test_pool_sweep_separates_bans_from_the_allowlist():
    sweep = pool_sweep([1, 30], defences=("per_ip_ban", "allowlist"), messages=60)
    assert sweep["per_ip_ban"][1]["spam_relayed"] == 3 and sweep["per_ip_ban"][30]["spam_relayed"] > 30
    assert sweep["allowlist"][1]["spam_relayed"] == sweep["allowlist"][30]["spam_relayed"] == 0
    assert to_png(pool_sweep_figure(sweep, sent=60))[:8] == PNG


def test_checker_reports_relayed_spam_by_network_and_costs():
    strictest_ban = check_rotation_defence("eims-2.1", "per_ip_ban", ban_after=1)
    assert not strictest_ban
    assert ("still relayed: 50 spam messages from 203.0.113.0/24, sent from 50 different addresses (250 at RCPT)"
            in strictest_ban.messages)
    assert "198.51.100.77 was banned - that is not the spammer" in strictest_ban.messages
    wrong_list = check_rotation_defence("eims-2.1", "allowlist", relay_networks=["192.0.2.128/25", "198.51.100.77"])
    assert not wrong_list
    assert any(m.startswith("LAN staff mail lost: bob (LAN) at 192.0.2.101 had 13 messages refused")
               for m in wrong_list.messages)
    assert not check_rotation_defence("eims-2.1", "firewall")
    assert re.search("is a (preset without an allow-list|product without relay by client)",
                     check_rotation_defence("eims-1.2", "allowlist").messages[0])


def test_checker_wants_alice_kept_on_eims():
    lan_only = check_rotation_defence("eims-2.1", "allowlist")  # spam stopped, but alice's mail is refused
    assert not lan_only and lan_only.messages == [
        "alice's mail lost: alice (roaming) at 198.51.100.77 had 6 messages refused - she sends through the site "
        "from outside its network"]
    whole_network = check_rotation_defence("eims-2.1", "allowlist", relay_networks=["192.0.2.0/24", "198.51.100.0/24"])
    assert not whole_network and whole_network.messages[0].startswith(
        "relay list: 198.51.100.0/24 lets 256 addresses outside the site's network relay")
    other_product = check_rotation_defence("postfix", "none")  # the lesson shows Postfix passing: not the task
    assert not other_product and "the site's server is EIMS 2.1" in other_product.messages[0]
    assert check_rotation_defence("eims-2.1", "allowlist", relay_networks="192.0.2.0/33").messages[0].startswith(
        "relay_networks: '192.0.2.0/33' is not an address range")


def test_checker_passes_the_list_with_alice():
    verdict = check_rotation_defence("eims-2.1", "allowlist", relay_networks=["192.0.2.0/24", "198.51.100.77"])
    assert verdict and verdict.messages[0].startswith("no spam relayed; bob's mail from the LAN and alice's")

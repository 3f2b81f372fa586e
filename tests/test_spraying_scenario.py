"""The password-spraying scenario: the headline comparison, determinism, common random numbers, bad knobs."""

import ipaddress

import pytest

import simlab
from simlab.engine.botnet import MAX_BOTS, bot_addresses
from simlab.errors import ConfigError
from simlab.scenarios import password_spraying, spraying_sweep
from simlab.scenarios.spraying import first_compromise

STAFF = ("bob (LAN)", "sales desk (LAN)", "webmaster (LAN)", "alice (roaming)")


def summary(**knobs):
    return simlab.run(password_spraying(**knobs), seed=1, counts_only=True).summary


@pytest.fixture(scope="module")
def headline():
    """A smaller botnet than the lesson's 2,000 (500 addresses), same story."""
    return {name: summary(botnet_size=500, defences=defences) for name, defences in {
        "none": (), "per_ip": ("fail2ban",), "account_jail": ("account_jail",), "lockout": ("lockout",),
        "anvil": ("anvil",), "penalty": ("auth_penalty",), "postscreen": ("postscreen",)}.items()}


def test_per_ip_bans_fail_where_per_account_defences_hold(headline):
    assert headline["none"]["accounts_compromised"] == 3
    per_ip = headline["per_ip"]
    assert per_ip["accounts_compromised"] == 3 and per_ip["bans"] == 0  # three attempts per address: no ban
    for name in ("account_jail", "lockout"):
        assert headline[name]["accounts_compromised"] == 0, name
        assert headline[name]["first_compromise_s"] == -1
        assert headline[name][f"right_guesses_refused_{'jail' if name == 'account_jail' else 'lockout'}"] == 3
    assert headline["none"]["legit_logins_refused"] == 0
    # the lockout also locks the staff out; the jail lets the LAN in and costs less
    assert headline["lockout"]["legit_logins_refused"] > headline["account_jail"]["legit_logins_refused"] > 0


def test_rate_limits_and_postscreen_do_not_touch_a_slow_spray(headline):
    for name in ("anvil", "penalty", "postscreen"):
        assert headline[name]["accounts_compromised"] == 3, name
        assert headline[name]["spray_refused_anvil"] == 0
    assert headline["penalty"]["penalty_wait_s"] < 60  # only a staff typo retried in the same session waits
    assert headline["postscreen"]["postscreen_dropped"] == 0  # the bots never came to port 25


def test_one_address_is_stopped_by_per_ip_bans_a_botnet_is_not():
    lone = summary(botnet_size=1, attempts_per_address=200, pace=60, defences=("fail2ban",))
    assert lone["bans"] > 0 and lone["spray_refused_fail2ban"] > lone["spray_failed"]
    free = summary(botnet_size=1, attempts_per_address=200, pace=60)
    assert free["spray_failed"] > lone["spray_failed"]


def test_deterministic():
    first = simlab.run(password_spraying(botnet_size=300, defences=("fail2ban",)), seed=5)
    again = simlab.run(password_spraying(botnet_size=300, defences=("fail2ban",)), seed=5)
    assert first.summary == again.summary and first.log == again.log
    other = simlab.run(password_spraying(botnet_size=300, defences=("fail2ban",)), seed=6)
    assert other.summary != first.summary


def staff_day(result):
    events = result.events
    rows = events[(events["command"] == "CONNECT") & events["actor"].isin(STAFF)]
    return list(zip(rows["time"], rows["actor"], strict=True))


def bot_starts(result):
    events = result.events
    rows = events[(events["command"] == "CONNECT") & (events["actor"] == "botnet")]
    first = {}
    for ip, time in zip(rows["client_ip"], rows["time"], strict=True):
        first.setdefault(ip, time)
    return first


def test_a_defence_changes_only_what_it_causes():
    base = simlab.run(password_spraying(botnet_size=200), seed=2)
    jailed = simlab.run(password_spraying(botnet_size=200, defences=("account_jail",)), seed=2)
    assert staff_day(base) == staff_day(jailed)  # the staff check and send at the same times
    first, other = bot_starts(base), bot_starts(jailed)
    common = first.keys() & other.keys()
    assert len(common) >= 150  # (a bot whose turn came after the work list ran out never connects)
    assert all(first[ip] == other[ip] for ip in common)  # each bot's first attempt at the same time


def test_a_bigger_botnet_keeps_the_first_bots_as_they_were():
    small = simlab.run(password_spraying(botnet_size=50), seed=3)
    big = simlab.run(password_spraying(botnet_size=80), seed=3)
    assert staff_day(small) == staff_day(big)
    small_first, big_first = bot_starts(small), bot_starts(big)
    assert len(small_first) == 50 and all(big_first[ip] == t for ip, t in small_first.items())


def test_bots_due_at_the_same_moment_start_in_their_order():
    result = simlab.run(password_spraying(botnet_size=40, start_spread=0, duration=3 * 3600), seed=4)
    events = result.events
    rows = events[(events["command"] == "CONNECT") & (events["actor"] == "botnet")]
    assert len(set(rows["time"][:40])) == 1  # every bot at the campaign's start ...
    assert list(rows["client_ip"][:40]) == bot_addresses(40)  # ... in the order of their numbers


def test_once_the_work_list_is_done_the_bots_still_to_come_cost_the_run_nothing():
    small = simlab.run(password_spraying(botnet_size=2000), seed=1, counts_only=True)
    big = simlab.run(password_spraying(botnet_size=10_000), seed=1, counts_only=True)
    assert big.summary["spray_attempts"] <= 16 * 40 + big.summary["spray_refused_other"]
    # 8,000 more bots, none of them with work: none of them is a step of the loop
    assert big.world.loop.steps - small.world.loop.steps < 2000


def test_services_and_the_log_lines_are_the_real_products():
    result = simlab.run(password_spraying(botnet_size=60, duration=3 * 3600), seed=1)
    log = "\n".join(result.log)
    assert "postfix/submission/smtpd[" in log and "postfix/submissions/smtpd[" in log
    assert "SASL PLAIN authentication failed: (reason unavailable), sasl_username=" in log
    assert "dovecot: pop3-login: Disconnected (auth failed, 1 attempts in 2 secs): user=<" in log
    only_pop3 = summary(botnet_size=60, services=(110,), duration=3 * 3600)
    assert only_pop3["spray_attempts"] == 60 * 3 or only_pop3["spray_attempts"] == 16 * 40


def test_weak_password_rank_decides_what_the_jail_can_save():
    early = summary(botnet_size=500, defences=("account_jail",), weak_passwords={"info": 3})
    assert early["accounts_compromised"] == 1  # among the first maxretry tries: found before the jail shuts


def test_bot_addresses():
    assert bot_addresses(3) == ["203.0.113.1", "203.0.113.3", "203.0.113.4"]
    many = bot_addresses(10_000)
    assert len(set(many)) == 10_000 and many[249] == "198.18.0.1" and "203.0.113.226" not in many
    assert all(not ip.startswith(("192.0.2.", "198.51.100.")) for ip in many)
    with pytest.raises(ConfigError):
        bot_addresses(MAX_BOTS + 1)
    every = bot_addresses(MAX_BOTS)  # written from the integers: the text ipaddress writes
    benchmark = ipaddress.ip_network("198.18.0.0/15")
    assert every[249:] == [str(ip) for ip in benchmark.hosts()]
    assert every[-1] == "198.19.255.254" and len(set(every)) == MAX_BOTS


def test_sweep_over_botnet_size():
    table = spraying_sweep(sizes=(1, 100, 1000), defences=("fail2ban",))
    assert list(table["botnet_size"]) == [1, 100, 1000]
    assert list(table["accounts_compromised"]) == sorted(table["accounts_compromised"])
    assert table["first_compromise_min"].isna().iloc[0] and table["first_compromise_min"].iloc[2] < 60
    assert first_compromise({"first_compromise_s": -1}) is None and first_compromise({"first_compromise_s": 7}) == 7


@pytest.mark.parametrize(("knobs", "field"), [
    ({"botnet_size": 0}, "botnet_size"), ({"botnet_size": MAX_BOTS + 1}, "botnet_size"),
    ({"botnet_size": 2.5}, "botnet_size"), ({"attempts_per_address": 0}, "attempts_per_address"),
    ({"pace": -1}, "pace"), ({"start_spread": "soon"}, "start_spread"), ({"users": "admin"}, "users"),
    ({"passwords": []}, "passwords"), ({"weak_passwords": {"info": 99}}, "weak_passwords['info']"),
    ({"weak_passwords": ["info"]}, "weak_passwords"), ({"services": (25,)}, "services"),
    ({"services": 587}, "services"), ({"defences": ("moat",)}, "defences"), ({"maxretry": 0}, "maxretry"),
    ({"defences": ("anvil",), "auth_rate_limit": -2}, "auth_rate_limit"), ({"duration": 0}, "duration"),
    ({"defences": ("lockout",), "lockout_after": True}, "lockout_after"),
])
def test_bad_knobs_name_the_field_and_value(knobs, field):
    with pytest.raises(ConfigError) as info:
        password_spraying(**knobs)
    assert info.value.setting == field
    assert repr(info.value.value) in str(info.value) or field == "weak_passwords['info']"


def test_a_product_without_the_capability_is_refused():
    with pytest.raises(ConfigError) as info:
        password_spraying(preset="eims-2.1")
    assert info.value.setting == "services"
    with pytest.raises(ConfigError) as info:
        password_spraying(preset="exim", services=(110,), defences=("anvil",))
    assert info.value.setting == "defences"


def test_on_a_server_of_your_own():
    mine = simlab.presets.postfix(myhostname="mail.mycompany.test", mydestination=["mycompany.test"],
                                  mynetworks=["192.0.2.0/24"], inet_interfaces=["192.0.2.30"])
    result = simlab.run(password_spraying(server=mine, botnet_size=300), seed=1, counts_only=True)
    assert result.summary["accounts_compromised"] == 3 and result.product == "Postfix 3.7"


def test_exim_with_dovecot_for_pop3_only():
    """Exim has no submission port here, but its POP3 is Dovecot's: the same guards act there."""
    free = simlab.run(password_spraying(preset="exim", services=(110,), botnet_size=300), seed=1, counts_only=True)
    jailed = simlab.run(password_spraying(preset="exim", services=(110,), botnet_size=300, defences=("account_jail",)),
                        seed=1, counts_only=True)
    assert free.product == "Exim 4.96" and free.summary["accounts_compromised"] == 3
    assert free.summary["legit_logins_refused"] == 0  # alice does not try AUTH where there is no port for it
    assert jailed.summary["accounts_compromised"] == 0 and jailed.summary["right_guesses_refused_jail"] == 3

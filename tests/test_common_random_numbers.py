"""Fair comparisons: each actor draws from its own random stream, so a change of defence, product or
attacker leaves the ordinary day exactly as it was (common random numbers)."""

import pytest

import simlab
from simlab.engine.world import World

S = simlab.scenarios
ORDINARY = ("bob (LAN)", "alice (roaming)", "carol's MTA", "yourcompany's MTA")


def ordinary_day(result):
    """When each ordinary actor wrote each message, and when it connected (and to which service)."""
    written = [(t, actor, mid) for t, actor, mid in result.world.written if actor in ORDINARY]
    events = result.events
    connects = events[(events["command"] == "CONNECT") & events["actor"].isin(ORDINARY)]
    return written, list(zip(connects["time"], connects["actor"], connects["host"], strict=True))


# Pairs that differ only in a defence, a product or an attacker's knob, and refuse no ordinary connection.
PAIRS = {
    "wrong_password: fail2ban": (S.wrong_password(), S.wrong_password(fail2ban=True)),
    "wrong_password: guesser pool": (S.wrong_password(), S.wrong_password(guesser_ips=8, pace=30)),
    "wrong_password: lockout": (S.wrong_password(), S.wrong_password(lockout=3)),
    "relay_probe: product": (S.relay_probe(preset="eims-1.2"), S.relay_probe(preset="sims")),
    "relay_probe: Relay Restriction": (S.relay_probe(preset="eims-2.1"),
                                       S.relay_probe(preset="eims-2.1", relay_restriction=True)),
    "relay_probe: queue lifetime": (S.relay_probe(queue_lifetime=3600), S.relay_probe(queue_lifetime=12 * 3600)),
    "spoofed_postmaster: spam volume": (S.spoofed_postmaster(messages=5), S.spoofed_postmaster(messages=40)),
    "spoofed_postmaster: product": (S.spoofed_postmaster(), S.spoofed_postmaster(preset="postfix")),
    "strict_ip_range: spam": (S.strict_ip_range(spam_messages=2), S.strict_ip_range(spam_messages=20)),
    "ip_rotation: pool size": (S.ip_rotation(pool_size=1), S.ip_rotation(pool_size=200)),
    "ip_rotation: switching": (S.ip_rotation(switch="session"), S.ip_rotation(switch="refusal")),
    "ip_rotation: please stop": (S.ip_rotation(), S.ip_rotation(defence="please_stop")),
    "flood: attack size": (S.flood(connections=20), S.flood(connections=40)),
    "mixed_traffic: product": (S.mixed_traffic(sessions=300), S.mixed_traffic(sessions=300, preset="eims-2.1")),
}


@pytest.mark.parametrize("pair", PAIRS.values(), ids=PAIRS.keys())
@pytest.mark.parametrize("seed", [1, 7])
def test_the_ordinary_day_is_the_same(pair, seed):
    first, second = (simlab.run(scenario, seed=seed) for scenario in pair)
    written, connects = ordinary_day(first)
    assert (written and connects) or pair[0].name == "mixed_traffic"
    assert ordinary_day(second) == (written, connects)


@pytest.mark.parametrize("scenario", [S.flood(connections=150), S.strict_ip_range(),
                                      S.ip_rotation(defence="allowlist"), S.ip_rotation(defence="per_ip_ban")],
                         ids=["flood", "strict range", "allowlist", "per-ip ban"])
def test_refused_mail_is_still_written_at_the_same_times(scenario):
    """A defence that refuses ordinary mail changes its fate, not when it was written."""
    baseline = simlab.run(S.SCENARIOS[scenario.name](**{k: v for k, v in scenario.knobs.items()
                                                        if k in ("preset", "duration")}), seed=3)
    changed = simlab.run(scenario, seed=3)
    assert ordinary_day(changed)[0] == ordinary_day(baseline)[0]


def test_streams_are_seeded_by_seed_and_name():
    def world(seed):
        return World(seed, network=None, dns=None, site="x")

    a, b = world(1), world(1)
    assert [a.stream("bob").random() for _ in range(3)] == [b.stream("bob").random() for _ in range(3)]
    assert world(1).stream("bob").random() != world(2).stream("bob").random()
    assert world(1).stream("bob").random() != world(1).stream("alice").random()


def test_compare_shows_only_what_the_change_caused():
    comparison = simlab.compare(S.relay_probe, baseline={"preset": "eims-2.1"}, change={"relay_restriction": True},
                                seeds=range(1, 4))
    moved = set(comparison.changed().index)
    assert {"spam_relayed", "spam_refused", "bounces_to_postmaster"} <= moved
    assert not moved & {"legit_delivered", "legit_refused", "legit_sent", "logins_ok"}
    assert comparison.sentence() == "-1 spam relayed, +1 spam refused, -1 bounces to postmaster, 0 legitimate lost"

"""simlab.compare: paired runs, the table, the sentence and the chart."""

import pytest

import simlab
from simlab import ConfigError
from simlab.plots import to_png

S = simlab.scenarios


@pytest.fixture(scope="module")
def bans():
    return simlab.compare(S.ip_rotation, baseline={"preset": "eims-2.1"}, change={"defence": "per_ip_ban"},
                          seeds=range(1, 4))


def test_table_pairs_the_runs_seed_by_seed(bans):
    table, runs = bans.table, bans.runs
    assert list(table.columns) == ["baseline", "change", "difference", "low", "high", "seeds_changed"]
    assert len(runs) == 6 and set(runs["side"]) == {"baseline", "change"}
    for key in ("spam_relayed", "legit_refused"):
        base = runs[runs["side"] == "baseline"].set_index("seed")[key]
        new = runs[runs["side"] == "change"].set_index("seed")[key]
        assert table.loc[key, "difference"] == pytest.approx((new - base).mean())
        assert table.loc[key, "low"] <= table.loc[key, "difference"] <= table.loc[key, "high"]
    assert table.loc["legit_sent", "seeds_changed"] == 0  # the same ordinary day on both sides
    assert bans.change == {"preset": "eims-2.1", "defence": "per_ip_ban"}


def test_sentence_and_chart(bans):
    sentence = bans.sentence()
    assert sentence.startswith("-") and "spam relayed" in sentence and sentence.endswith("legitimate lost")
    assert bans.sentence(["spam_refused"]).startswith("+")
    png = to_png(bans.plot(title="per-address bans"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_one_seed_has_no_spread():
    single = simlab.compare(S.relay_probe, {"preset": "eims-2.1"}, {"relay_restriction": True}, seeds=[5])
    row = single.table.loc["spam_relayed"]
    assert row["low"] == row["high"] == row["difference"] == -1


@pytest.mark.parametrize(("change", "fragment"), [({}, "is not a change"), (None, "is not a change"),
                                                  ({"preset": "eims-2.1"}, "changes nothing")])
def test_bad_changes(change, fragment):
    with pytest.raises(ConfigError, match=fragment):
        simlab.compare(S.relay_probe, {"preset": "eims-2.1"}, change, seeds=[1])


def test_a_knob_the_scenario_lacks_is_refused():
    with pytest.raises(ConfigError, match="knob relay_probe does not have"):
        simlab.compare(S.relay_probe, {}, {"pool_size": 3}, seeds=[1])


def test_cli_compare_prints_what_moved(capsys):
    from simlab.cli import main

    assert main(["compare", "relay_probe", "--preset", "eims-2.1", "--change", "relay_restriction=yes",
                 "--seeds", "1,2"]) == 0
    out = capsys.readouterr().out
    assert "2 seeds, same traffic" in out
    assert "spam_relayed" in out and "legit_delivered" not in out
    assert out.rstrip().endswith("-1 spam relayed, +1 spam refused, -1 bounces to postmaster, 0 legitimate lost")


@pytest.mark.parametrize(("argv", "fragment"), [
    (["compare", "relay_probe", "--change", "relay_restriction=yes", "--seeds", "x"], "--seeds: 'x'"),
    (["compare", "relay_probe", "--change", "pool_size=3"], "is not a knob of relay_probe"),
    (["compare", "relay_probe", "--preset", "sims", "--change", "relay_restriction=yes", "--seeds", "1"],
     "without relay by sender domain"),
])
def test_cli_compare_errors_are_one_line(capsys, argv, fragment):
    from simlab.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert fragment in err and "\n" not in err

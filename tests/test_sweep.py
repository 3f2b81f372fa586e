"""simlab.sweep: the same table on every executor, and bad grids refused by name (issue: speed and scale)."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pytest

import simlab
from simlab import ConfigError
from simlab.engine import SUMMARY_KEYS

GRID = {"defence": ["none", "per_ip_ban"], "pool_size": [1, 50]}
SEEDS = (1, 2)
rotation = simlab.scenarios.ip_rotation  # a module-level function: it travels to other processes by name


@pytest.fixture(scope="module")
def serial():
    return simlab.sweep(rotation, GRID, seeds=SEEDS, executor="serial")


def test_one_row_per_setting_and_seed_in_grid_order(serial):
    assert len(serial) == 4 * 2
    assert list(serial.columns[:3]) == ["defence", "pool_size", "seed"]
    assert list(serial.columns[3:3 + len(SUMMARY_KEYS)]) == list(SUMMARY_KEYS)
    assert list(zip(serial["defence"], serial["pool_size"], serial["seed"], strict=True)) == [
        (defence, pool, seed) for defence in GRID["defence"] for pool in GRID["pool_size"] for seed in SEEDS]


def test_rows_are_counts_only_runs_of_the_factory(serial):
    row = serial.iloc[5]  # per_ip_ban, pool 1, seed 2
    assert (row["defence"], row["pool_size"], row["seed"]) == ("per_ip_ban", 1, 2)
    expected = simlab.run(rotation(defence="per_ip_ban", pool_size=1), seed=2, counts_only=True).summary
    assert {key: row[key] for key in expected} == expected
    # the defence shows: one banned address stops a one-address spammer, fifty do not
    banned = serial.set_index(["defence", "pool_size", "seed"])["spam_relayed"]
    assert banned["per_ip_ban", 1, 1] < banned["none", 1, 1]


def test_a_list_of_settings_and_an_import_path(serial):
    table = simlab.sweep("simlab.scenarios.ip_rotation",
                         [{"defence": "per_ip_ban", "pool_size": 50}, {"defence": "none", "pool_size": 1}],
                         seeds=[2], executor="serial")
    picked = serial[serial["seed"] == 2].set_index(["defence", "pool_size"])
    for _, row in table.iterrows():
        assert row.drop(["defence", "pool_size"]).to_dict() == picked.loc[(row["defence"], row["pool_size"])].to_dict()


def test_a_thread_pool_gives_the_same_table(serial):
    with ThreadPoolExecutor(max_workers=2) as pool:
        assert simlab.sweep(rotation, GRID, seeds=SEEDS, executor=pool).equals(serial)


def test_local_processes_give_the_same_table(serial):
    assert simlab.sweep(rotation, GRID, seeds=SEEDS).equals(serial)  # the default: a process pool
    with ProcessPoolExecutor(max_workers=2) as pool:
        assert simlab.sweep(rotation, GRID, seeds=SEEDS, executor=pool).equals(serial)


def test_a_dask_cluster_gives_the_same_table(serial):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        workers = client.scheduler_info()["workers"]
        assert len(workers) == 2
        assert all(address.startswith("tcp://127.0.0.1:") for address in [cluster.scheduler_address, *workers])
        table = simlab.sweep(rotation, GRID, seeds=SEEDS, executor=client.get_executor())
    assert table.equals(serial)


@pytest.mark.parametrize(("grid", "named"), [
    ({"pool_sise": [1, 2]}, "grid['pool_sise']: [1, 2]"),
    ({"pool_size": []}, "grid['pool_size']: []"),
    ({"pool_size": 50}, "grid['pool_size']: 50"),
    ({"defence": "none"}, "grid['defence']: 'none'"),
    ([], "grid: []"),
    ([{"pool_size": 1}, "none"], "grid[1]: 'none'"),
    ([{"pool_sise": 1}], "grid['pool_sise']: 1"),
    ({"defence": ["none", "moat"]}, "defence: 'moat'"),
])
def test_bad_grids_name_the_key_and_the_value(grid, named):
    with pytest.raises(ConfigError) as error:
        simlab.sweep(rotation, grid, executor="serial")
    assert str(error.value).startswith(named)


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"seeds": []}, "seeds: []"), ({"seeds": 3}, "seeds: 3"), ({"seeds": [1, "2"]}, "seeds: '2'"),
    ({"executor": "cluster"}, "executor: 'cluster'"),
])
def test_bad_seeds_and_executors(kwargs, named):
    with pytest.raises(ConfigError) as error:
        simlab.sweep(rotation, {"pool_size": [1]}, **kwargs)
    assert str(error.value).startswith(named)


@pytest.mark.parametrize("factory", ["simlab.scenarios.no_such_case", "nowhere.at_all", 42])
def test_bad_factories(factory):
    with pytest.raises(ConfigError) as error:
        simlab.sweep(factory, {"pool_size": [1]}, executor="serial")
    assert str(error.value).startswith("scenario_factory:")


def test_simlab_sweep_is_the_function_even_once_its_module_is_imported():
    import inspect
    import sys

    import simlab.sweep  # binds the name simlab.sweep to the module, if it was not imported yet

    for candidate in (simlab.sweep, sys.modules["simlab.sweep"]):
        assert callable(candidate)
        assert list(inspect.signature(candidate).parameters) == ["scenario_factory", "grid", "seeds", "executor",
                                                                  "counts_only"]
    table = sys.modules["simlab.sweep"](simlab.scenarios.ip_rotation, {"pool_size": [1]}, executor="serial")
    assert table.loc[0, "pool_size"] == 1

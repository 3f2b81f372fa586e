"""Sweeps: run a scenario over many settings and seeds, on this machine's cores or a Dask cluster.

::

    table = simlab.sweep(simlab.scenarios.ip_rotation,
                         {"defence": ["none", "per_ip_ban", "allowlist"], "pool_size": [1, 10, 50, 250]},
                         seeds=range(1, 6))
    table.groupby("defence")["spam_relayed"].mean()

Each setting is one call ``scenario_factory(**setting)``; each run is a counts-only
:func:`simlab.run` (so ``log_lines`` is 0: a counts-only run keeps no log). The result is a
pandas table with one row per setting and seed, in the order of the grid and then of the seeds,
whatever ran it: the default pool of local processes, ``"serial"`` (this process, no pool), or
any :class:`concurrent.futures.Executor` - for instance a Dask cluster's
(``distributed.Client(...).get_executor()``, with ``pip install simlab[dask]``). Runs are
deterministic, so the table is the same on every executor.

What travels to a worker is the factory (a module-level function, or its import path such as
``"simlab.scenarios.ip_rotation"``), the setting (a dict) and the seed; the worker builds the
scenario and sends back the summary. Every setting is first built here, so a bad grid or a bad
setting raises :class:`~simlab.errors.ConfigError` at once, before any run starts, worded in the current
language (:mod:`simlab.i18n`, ids ``sweep.*``).
"""

from __future__ import annotations

import importlib
import inspect
import itertools
import sys
import types
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import TYPE_CHECKING, Any

from simlab.errors import ConfigError
from simlab.i18n import t

if TYPE_CHECKING:
    import pandas as pd

    from simlab.scenarios.base import Scenario

__all__ = ["sweep", "expand_grid"]

Factory = Callable[..., "Scenario"] | str


def sweep(scenario_factory: Factory, grid: Mapping[str, list] | Sequence[Mapping[str, Any]],
          seeds: Iterable[int] = (1,), executor: Executor | str | None = None,
          counts_only: bool = True) -> pd.DataFrame:
    """Run ``scenario_factory(**setting)`` for every setting of ``grid`` and every seed.

    Args:
        scenario_factory: a function returning a :class:`~simlab.scenarios.base.Scenario`
            (``simlab.scenarios.ip_rotation``), or its import path (``"simlab.scenarios.ip_rotation"``).
        grid: a dict of lists - every combination is a setting (``{"pool_size": [1, 50], "switch":
            ["session", "refusal"]}`` is four) - or a list of dicts, one per setting.
        seeds: the seeds each setting is run with.
        executor: ``None`` for a pool of local processes (one per core), ``"serial"`` to run here, one
            after the other, or any :class:`concurrent.futures.Executor` (it is not shut down).
        counts_only: counts-only runs (the default: fast and small); ``False`` keeps mail flowing, so
            relayed mail is delivered onward and bounces come back (slower).

    Returns:
        A DataFrame: the grid's keys, ``seed``, then the summary counts, one row per setting and seed.

    Raises:
        ConfigError: an unknown knob, an empty list, a value that is not a list, a bad seed, or a
            setting the scenario refuses.
    """
    factory = _resolve(scenario_factory)
    settings = expand_grid(grid, factory)
    seeds = _seeds(seeds)
    for setting in settings:
        factory(**setting)  # the scenario's own checks, here rather than in a worker
    jobs = [(scenario_factory if isinstance(scenario_factory, str) else factory, setting, seed, counts_only)
            for setting in settings for seed in seeds]
    if executor == "serial":
        summaries = [run_one(*job) for job in jobs]
    elif executor is None:
        with ProcessPoolExecutor() as pool:
            summaries = _gather(pool, jobs)
    elif isinstance(executor, Executor) or callable(getattr(executor, "submit", None)):
        summaries = _gather(executor, jobs)
    else:
        raise ConfigError("executor", executor, t("sweep.error.not_an_executor"), t("sweep.expected.executor"))
    return _table(jobs, summaries)


def run_one(scenario_factory: Factory, setting: Mapping[str, Any], seed: int,
            counts_only: bool = True) -> dict[str, int]:
    """One run (what a worker does): the summary of ``scenario_factory(**setting)`` at ``seed``."""
    from simlab.scenarios.run import run

    return run(_resolve(scenario_factory)(**setting), seed=seed, counts_only=counts_only,
               transcripts=False).summary


def expand_grid(grid: Mapping[str, list] | Sequence[Mapping[str, Any]],
                factory: Callable[..., Any] | None = None) -> list[dict[str, Any]]:
    """The settings of ``grid``: the cartesian product of a dict of lists, or a list of dicts as given.

    With ``factory``, every key must be one of its parameters.

    >>> expand_grid({"pool_size": [1, 50], "switch": ["session", "refusal"]})
    ... # doctest: +NORMALIZE_WHITESPACE
    [{'pool_size': 1, 'switch': 'session'}, {'pool_size': 1, 'switch': 'refusal'},
     {'pool_size': 50, 'switch': 'session'}, {'pool_size': 50, 'switch': 'refusal'}]
    """
    if isinstance(grid, Mapping):
        for key, values in grid.items():
            _check_knob(key, values, factory)
            if not isinstance(values, list):
                raise ConfigError(f"grid[{key!r}]", values, t("sweep.error.not_a_list"),
                                  t("sweep.expected.list", example=repr([values])))
            if not values:
                raise ConfigError(f"grid[{key!r}]", values, t("sweep.error.empty_list"), t("sweep.expected.a_value"))
        keys = list(grid)
        return [dict(zip(keys, combination, strict=True)) for combination in itertools.product(*grid.values())]
    if not isinstance(grid, list | tuple) or not grid:
        raise ConfigError("grid", grid, t("sweep.error.not_a_grid"), t("sweep.expected.grid"))
    settings = []
    for i, setting in enumerate(grid):
        if not isinstance(setting, Mapping):
            raise ConfigError(f"grid[{i}]", setting, t("sweep.error.not_a_setting"), t("sweep.expected.setting"))
        for key, value in setting.items():
            _check_knob(key, value, factory)
        settings.append(dict(setting))
    return settings


def _check_knob(key: object, value: object, factory: Callable[..., Any] | None) -> None:
    if not isinstance(key, str):
        raise ConfigError("grid", key, t("sweep.error.not_a_knob_name"), t("sweep.expected.knob_name"))
    if factory is None:
        return
    parameters = inspect.signature(factory).parameters
    if key in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values()):
        return
    name = getattr(factory, "__name__", None) or t("sweep.the_scenario")
    raise ConfigError(f"grid[{key!r}]", value, t("sweep.error.no_such_knob", scenario=name),
                      t("expected.one_of", choices=", ".join(parameters) or t("sweep.expected.no_knobs")))


def _resolve(factory: Factory) -> Callable[..., Scenario]:
    """The factory itself, or the function an import path names (``"pkg.module.function"``)."""
    if isinstance(factory, str):
        module_name, sep, attribute = factory.replace(":", ".").rpartition(".")
        try:
            function = getattr(importlib.import_module(module_name), attribute) if sep else None
        except (ImportError, AttributeError):
            function = None
        if not callable(function):
            raise ConfigError("scenario_factory", factory, t("sweep.error.names_no_function"),
                              t("sweep.expected.import_path"))
        return function
    if not callable(factory):
        raise ConfigError("scenario_factory", factory, t("sweep.error.not_a_function"), t("sweep.expected.function"))
    return factory


def _seeds(seeds: Iterable[int]) -> list[int]:
    if isinstance(seeds, int | str) or not isinstance(seeds, Iterable):
        raise ConfigError("seeds", seeds, t("sweep.error.not_seeds"), t("sweep.expected.seeds"))
    out = list(seeds)
    if not out:
        raise ConfigError("seeds", seeds, t("sweep.error.empty"), t("sweep.expected.a_seed"))
    for seed in out:
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ConfigError("seeds", seed, t("setting.error.not_whole_number"), t("sweep.expected.seed"))
    return out


def _gather(executor: Executor, jobs: list[tuple]) -> list[dict[str, int]]:
    futures = [executor.submit(run_one, *job) for job in jobs]
    return [future.result() for future in futures]  # in the order submitted, whoever finished first


def _table(jobs: list[tuple], summaries: list[dict[str, int]]) -> pd.DataFrame:
    import pandas as pd

    from simlab.engine.world import SUMMARY_KEYS

    knobs = list(dict.fromkeys(key for _factory, setting, _seed, _counts in jobs for key in setting))
    counts = list(dict.fromkeys([*SUMMARY_KEYS, *(key for summary in summaries for key in summary)]))
    rows = [{**setting, "seed": seed, **{key: summary.get(key, 0) for key in counts}}
            for (_factory, setting, seed, _counts), summary in zip(jobs, summaries, strict=True)]
    return pd.DataFrame(rows, columns=[*knobs, "seed", *counts])


class _CallableModule(types.ModuleType):
    """``simlab.sweep`` is meant to be the function :func:`sweep`, but importing this module (as
    ``from simlab.sweep import ...`` does) binds that name to the module: so the module answers
    calls as the function does, and shows the function's signature."""

    def __call__(self, *args: Any, **kwargs: Any) -> pd.DataFrame:
        return sweep(*args, **kwargs)


__signature__ = inspect.signature(sweep)
sys.modules[__name__].__class__ = _CallableModule

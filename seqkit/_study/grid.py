"""A comparison's grid: its axes (run settings and plugin options), its points (cell x
setting x seed), each point's configuration, and parameter matching across cells."""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from seqkit._core.config import OPTION_TABLES, RunConfig
from seqkit._core.errors import ConfigError, UnknownNameError
from seqkit._plugins.registry import Registry, get_registry
from seqkit._run.plan import plan
from seqkit._study.param_match import hidden_size_for, parameter_count

OPTION_KINDS = {table.removesuffix("_options"): table for table in OPTION_TABLES}
"""Axis prefixes for plugin options: `cell.K`, `task.K`, `topology.K`, `trainer.K`."""
NOT_AXES = frozenset({"task", "cell", "seed", "threads", "tensorboard", *OPTION_TABLES})
"""RunConfig fields that cannot vary: the cells and seeds are axes of their own, a
comparison is of one task, and threads follow `jobs`."""
SETTING_AXES = tuple(f.name for f in dataclasses.fields(RunConfig) if f.name not in NOT_AXES)


@dataclass(frozen=True)
class GridPoint:
    cell: str
    setting: tuple[tuple[str, Any], ...]
    """The axes' values at this point, by axis name (`lr`, `task.seq_len`, ...)."""
    seed: int
    fixed: tuple[tuple[str, Any], ...] = ()
    """The task options every point shares (the base's, less the grid's keys)."""

    @property
    def label(self) -> str:
        """The grid's values; without a grid, the fixed task options; else "defaults"."""
        return _pairs(self.setting) or _pairs(self.fixed) or "defaults"

    def describe(self) -> str:
        """`gru seq_len=30 seed 1`: the point in a message."""
        return f"{self.cell} {self.label} seed {self.seed}"


def display(axis: str) -> str:
    """How an axis is written in labels: task options bare (`seq_len`), the rest as given."""
    return axis.removeprefix("task.")


def _pairs(options: tuple[tuple[str, Any], ...]) -> str:
    return ",".join(f"{display(k)}={v}" for k, v in options)


def check_axes(axes: Mapping[str, Sequence[Any]]) -> None:
    """Every axis names a setting or a plugin option and has at least one value."""
    for axis, values in axes.items():
        kind, dot, key = axis.partition(".")
        if not (axis in SETTING_AXES or (dot and kind in OPTION_KINDS and key)):
            raise ConfigError(
                f"unknown axis '{axis}'; an axis is a run setting ({', '.join(SETTING_AXES)}) "
                f"or a plugin option ({', '.join(k + '.KEY' for k in OPTION_KINDS)})"
            )
        if isinstance(values, str) or not len(values):
            raise ConfigError(f"axis '{axis}' needs a list of values (got {values!r})")
        twice = [v for i, v in enumerate(values) if v in list(values)[:i]]
        if twice:
            raise ConfigError(
                f"{display(axis)} lists {twice[0]} twice: a repeated value would count as "
                "more seeds of one row; give each value once"
            )


def check_cells(cells: Sequence[str]) -> None:
    """Each cell once: a repeated cell would be counted as more seeds of its rows."""
    twice = sorted({c for c in cells if list(cells).count(c) > 1})
    if twice:
        raise ConfigError(f"--cells names '{twice[0]}' twice; give each cell once")


def with_value(config: RunConfig, axis: str, value: Any) -> RunConfig:
    """`config` with one axis set: a field, or one key of a plugin's option table."""
    kind, dot, key = axis.partition(".")
    if not dot:
        return dataclasses.replace(config, **{axis: value})
    table = OPTION_KINDS[kind]
    changes: dict[str, Any] = {table: {**getattr(config, table), key: value}}
    return dataclasses.replace(config, **changes)


def fixed_options(base: RunConfig, axes: Mapping[str, Sequence[Any]]) -> dict[str, Any]:
    """The task options the base sets that the grid does not vary."""
    return {k: v for k, v in base.task_options.items() if f"task.{k}" not in axes}


def grid(
    base: RunConfig, cells: Sequence[str], axes: Mapping[str, Sequence[Any]], seeds: int
) -> list[GridPoint]:
    """Every combination, settings in the order given, seeds 0..seeds-1 offset by base."""
    keys = list(axes)
    settings = [
        tuple(zip(keys, values, strict=True))
        for values in itertools.product(*(axes[k] for k in keys))
    ]
    fixed = tuple(fixed_options(base, axes).items())
    return [
        GridPoint(cell, setting, base.seed + s, fixed)
        for setting in settings
        for cell in cells
        for s in range(seeds)
    ]


def config_for(base: RunConfig, point: GridPoint) -> RunConfig:
    config = dataclasses.replace(base, cell=point.cell, seed=point.seed)
    for axis, value in point.setting:
        config = with_value(config, axis, value)
    return config


def _key(config: RunConfig) -> str:
    """The configuration less its seed, as a key: what a parameter count depends on."""
    settings = {k: v for k, v in config.as_dict().items() if k != "seed"}
    return json.dumps(settings, sort_keys=True, default=str)


def match_hidden_sizes(
    configs: list[RunConfig],
    reference: str | None = None,
    params: int | None = None,
    registry: Registry | None = None,
) -> list[RunConfig]:
    """Each configuration with the hidden size whose model's parameter count is within 5%
    of the reference cell's at the same settings (or of `params`); the reference keeps
    its own. A count that cannot be met is a ConfigError naming the cell."""
    if (reference is None) == (params is None):
        raise ConfigError("parameter matching takes a reference cell or a count, not both")
    if params is not None and (isinstance(params, bool) or not isinstance(params, int)):
        raise ConfigError(f"--params must be a whole number of parameters (got {params!r})")
    if params is not None and params < 1:
        raise ConfigError(f"--params must be at least 1 (got {params})")

    @functools.cache
    def target(key: str) -> int:
        if params is not None:
            return params
        the_plan = plan(RunConfig.from_dict(json.loads(key)), registry)
        return parameter_count(the_plan, the_plan.config.hidden_size or 0)

    @functools.cache
    def matched(key: str) -> int:
        config = RunConfig.from_dict(json.loads(key))
        the_plan = plan(config, registry)
        goal = target(_key(dataclasses.replace(config, cell=reference or config.cell)))
        count = functools.cache(functools.partial(parameter_count, the_plan))
        return hidden_size_for(count, goal, f"matching parameters: cell '{config.cell}'")

    if reference is not None:
        try:
            (registry or get_registry()).get("cell", reference)
        except UnknownNameError as exc:
            raise ConfigError(f"--match-params: {exc}") from None
    return [
        config
        if config.cell == reference
        else dataclasses.replace(config, hidden_size=matched(_key(config)))
        for config in configs
    ]

"""What a suite is: its entries, each a comparison with its task and budget.

A module of its own, importing nothing of torch's or the run's: the suites plugin builds
its suites when it is imported, which `seqkit --help` does too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from seqkit._core.errors import ConfigError, UnknownNameError
from seqkit._plugins.registry import Registry, get_registry


@dataclass(frozen=True)
class SuiteEntry:
    """One comparison of a suite: a task with its options and the budget to train it."""

    name: str
    """How the leaderboard names the entry (`adding T=100`)."""
    task: str
    task_options: Mapping[str, Any] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)
    """RunConfig fields for every run of the entry: `epochs`, `lr`, `hidden_size`, ..."""
    source: str = ""
    """Where the task and budget come from (a paper, a benchmark's config)."""
    evaluate_on: Mapping[str, Sequence[Any]] = field(default_factory=dict)
    """Other settings of the task each trained model is also scored at, e.g.
    `{"seq_len": [40, 100]}` (length generalisation; see `Task.evaluable`)."""


@dataclass(frozen=True)
class Suite:
    """A fixed, documented set of comparisons (`seqkit suite NAME`). A plugin registers a
    factory `() -> Suite` with `register_suites`: `register("long-range", make_suite)`."""

    entries: Sequence[SuiteEntry]
    about: str = ""
    """What the suite measures and how its budgets were chosen, for the leaderboard."""


def get_suite(name: str, registry: Registry | None = None) -> Suite:
    """The suite registered as `name`, built and checked."""
    try:
        entry = (registry or get_registry()).get("suite", name)
    except UnknownNameError as exc:
        raise ConfigError(str(exc)) from None
    suite = entry.factory()
    if not isinstance(suite, Suite) or not suite.entries:
        raise ConfigError(
            f"suite '{name}' (plugin '{entry.plugin}') did not build a seqkit.Suite with entries"
        )
    return suite


def slug(name: str) -> str:
    """An entry's directory name: `adding T=100` -> `adding-T=100`."""
    return re.sub(r"[^A-Za-z0-9._=+-]+", "-", name).strip("-")

"""seqkit: train, compare and understand recurrent sequence models in PyTorch.

This module is seqkit's whole public API, for library users and plugin authors alike:
every name in `__all__` is documented in docs/api.md and kept stable. The modules
whose names start with an underscore (`seqkit._run.runner`, ...) are internal and may change
at any time; a plugin imports only from `seqkit` (the built-in plugins do).

    import seqkit
    result = seqkit.run(cell="gru", task="sum", epochs=5, seed=0)
    model = seqkit.build_model(cell="lstm", topology="many-to-one",
                               input_size=1, hidden_size=50, output_size=1)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from seqkit._version import __version__

# Every name is imported on first use: a plugin's `from seqkit import hookimpl, Option,
# lazy` loads only the modules those need (never torch), and `seqkit --help` and
# `seqkit list` pay for nothing they do not use.
_LAZY = {
    "RunConfig": "seqkit._core.config",
    "ConfigError": "seqkit._core.errors",
    "NameClashError": "seqkit._core.errors",
    "NonFiniteError": "seqkit._core.errors",
    "PluginError": "seqkit._core.errors",
    "SeqkitError": "seqkit._core.errors",
    "UnknownNameError": "seqkit._core.errors",
    "hookimpl": "seqkit._plugins.hookspecs",
    "Callback": "seqkit._plugins.interfaces",
    "Cell": "seqkit._plugins.interfaces",
    "CellFactory": "seqkit._plugins.interfaces",
    "ChecksSettings": "seqkit._plugins.interfaces",
    "ChunkedTopology": "seqkit._plugins.interfaces",
    "ChunkTargets": "seqkit._plugins.interfaces",
    "Constrained": "seqkit._plugins.interfaces",
    "Data": "seqkit._plugins.interfaces",
    "Equations": "seqkit._plugins.interfaces",
    "Executor": "seqkit._plugins.interfaces",
    "ForgetGates": "seqkit._plugins.interfaces",
    "History": "seqkit._plugins.interfaces",
    "IOSpec": "seqkit._plugins.task",
    "IGNORE": "seqkit._plugins.objectives",
    "MakeCell": "seqkit._plugins.interfaces",
    "NamedStateParts": "seqkit._plugins.interfaces",
    "RecurrentMatrices": "seqkit._plugins.interfaces",
    "RunsDistributed": "seqkit._plugins.interfaces",
    "State": "seqkit._plugins.interfaces",
    "Suite": "seqkit._plugins.suite_entries",
    "SuiteEntry": "seqkit._plugins.suite_entries",
    "Task": "seqkit._plugins.task",
    "DataTask": "seqkit._plugins.data_task",
    "Splits": "seqkit._plugins.data_task",
    "file_identity": "seqkit._core.datafiles",
    "require_memory": "seqkit._core.memory:check_fits",
    "TaskKind": "seqkit._plugins.task",
    "TopologyFactory": "seqkit._plugins.interfaces",
    "Trainer": "seqkit._plugins.interfaces",
    "TrainState": "seqkit._plugins.interfaces",
    "lazy": "seqkit._core.lazy",
    "Option": "seqkit._core.options",
    "sample_options": "seqkit._core.options",
    "Entry": "seqkit._plugins.registry",
    "Registry": "seqkit._plugins.registry",
    "Resolved": "seqkit._plugins.registry",
    "get_registry": "seqkit._plugins.registry",
    "load_registry": "seqkit._plugins.registry",
    "Checkpoint": "seqkit._train.checkpoint",
    "Comparison": "seqkit._study.compare",
    "compare": "seqkit._study.compare",
    "resume_comparison": "seqkit._study.compare",
    "Leaderboard": "seqkit._study.suite",
    "run_suite": "seqkit._study.suite",
    "resume_suite": "seqkit._study.suite",
    "TuneResult": "seqkit._study.tune",
    "tune": "seqkit._study.tune",
    "ContractError": "seqkit._contracts.findings",
    "Finding": "seqkit._contracts.findings",
    "launched_by_torchrun": "seqkit._train.distributed:launched",
    "evaluate": "seqkit._train.evaluate",
    "explain": "seqkit._study.explain",
    "GradientReport": "seqkit._study.gradients",
    "gradients": "seqkit._study.gradients",
    "LoadedRun": "seqkit._run.load",
    "load_run": "seqkit._run.load",
    "OPTIMIZERS": "seqkit._model.optim",
    "make_optimizer": "seqkit._model.optim",
    "make_schedule": "seqkit._model.optim",
    "Plan": "seqkit._run.plan",
    "build_model": "seqkit._model.assemble",
    "plan": "seqkit._run.plan",
    "DataSource": "seqkit._run.sources",
    "from_arrays": "seqkit._run.sources",
    "from_csv": "seqkit._run.sources",
    "from_text": "seqkit._run.sources",
    "RunResult": "seqkit._run.runner",
    "resume": "seqkit._run.runner",
    "run": "seqkit._run.runner",
    "LoopTrainer": "seqkit._train.loop",
    "Step": "seqkit._train.loop",
    "testing": "seqkit.testing:",
}

if TYPE_CHECKING:
    from seqkit import testing
    from seqkit._contracts.findings import ContractError, Finding
    from seqkit._core.config import RunConfig
    from seqkit._core.datafiles import file_identity
    from seqkit._core.errors import (
        ConfigError,
        NameClashError,
        NonFiniteError,
        PluginError,
        SeqkitError,
        UnknownNameError,
    )
    from seqkit._core.lazy import lazy
    from seqkit._core.memory import check_fits as require_memory
    from seqkit._core.options import Option, sample_options
    from seqkit._model.assemble import build_model
    from seqkit._model.optim import OPTIMIZERS, make_optimizer, make_schedule
    from seqkit._plugins.data_task import DataTask, Splits
    from seqkit._plugins.hookspecs import hookimpl
    from seqkit._plugins.interfaces import (
        Callback,
        Cell,
        CellFactory,
        ChecksSettings,
        ChunkedTopology,
        ChunkTargets,
        Constrained,
        Data,
        Equations,
        Executor,
        ForgetGates,
        History,
        MakeCell,
        NamedStateParts,
        RecurrentMatrices,
        RunsDistributed,
        State,
        TopologyFactory,
        Trainer,
        TrainState,
    )
    from seqkit._plugins.objectives import IGNORE
    from seqkit._plugins.registry import Entry, Registry, Resolved, get_registry, load_registry
    from seqkit._plugins.suite_entries import Suite, SuiteEntry
    from seqkit._plugins.task import IOSpec, Task, TaskKind
    from seqkit._run.load import LoadedRun, load_run
    from seqkit._run.plan import Plan, plan
    from seqkit._run.runner import RunResult, resume, run
    from seqkit._run.sources import DataSource, from_arrays, from_csv, from_text
    from seqkit._study.compare import Comparison, compare, resume_comparison
    from seqkit._study.explain import explain
    from seqkit._study.gradients import GradientReport, gradients
    from seqkit._study.suite import Leaderboard, resume_suite, run_suite
    from seqkit._study.tune import TuneResult, tune
    from seqkit._train.checkpoint import Checkpoint
    from seqkit._train.distributed import launched as launched_by_torchrun
    from seqkit._train.evaluate import evaluate
    from seqkit._train.loop import LoopTrainer, Step


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'seqkit' has no attribute {name!r}")
    module, _, attribute = _LAZY[name].partition(":")
    loaded = importlib.import_module(module)
    value = loaded if _LAZY[name].endswith(":") else getattr(loaded, attribute or name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


def _or_default(registry: Registry | None) -> Registry:
    """`registry`, else the process-wide one (a module-level name is no import)."""
    from seqkit._plugins.registry import get_registry

    return registry or get_registry()


def _entries(kind: str, registry: Registry | None) -> list[Entry]:
    return _or_default(registry).entries(kind)


def list_cells(registry: Registry | None = None) -> list[Entry]:
    """Every registered cell: name, description, options, providing plugin and version."""
    return _entries("cell", registry)


def list_topologies(registry: Registry | None = None) -> list[Entry]:
    """Every registered topology (see `list_cells`)."""
    return _entries("topology", registry)


def list_tasks(registry: Registry | None = None) -> list[Entry]:
    """Every registered task (see `list_cells`)."""
    return _entries("task", registry)


def list_trainers(registry: Registry | None = None) -> list[Entry]:
    """Every registered trainer (see `list_cells`)."""
    return _entries("trainer", registry)


def get_task(name: str, registry: Registry | None = None, **options: Any) -> Task:
    """The task `name` with its options resolved (`get_task("sum", seq_len=10)`)."""
    task: Task = _or_default(registry).resolve("task", name, options).build()
    return task


def get_cell(name: str, registry: Registry | None = None) -> Entry:
    """The registry entry of cell `name` (its factory builds the cell)."""
    return _or_default(registry).get("cell", name)


__all__ = [
    "IGNORE",
    "OPTIMIZERS",
    "Callback",
    "Cell",
    "CellFactory",
    "Checkpoint",
    "ChecksSettings",
    "ChunkTargets",
    "ChunkedTopology",
    "Comparison",
    "ConfigError",
    "Constrained",
    "ContractError",
    "Data",
    "DataSource",
    "DataTask",
    "Entry",
    "Equations",
    "Executor",
    "Finding",
    "ForgetGates",
    "GradientReport",
    "History",
    "IOSpec",
    "Leaderboard",
    "LoadedRun",
    "LoopTrainer",
    "MakeCell",
    "NameClashError",
    "NamedStateParts",
    "NonFiniteError",
    "Option",
    "Plan",
    "PluginError",
    "RecurrentMatrices",
    "Registry",
    "Resolved",
    "RunConfig",
    "RunResult",
    "RunsDistributed",
    "SeqkitError",
    "Splits",
    "State",
    "Step",
    "Suite",
    "SuiteEntry",
    "Task",
    "TaskKind",
    "TopologyFactory",
    "TrainState",
    "Trainer",
    "TuneResult",
    "UnknownNameError",
    "__version__",
    "build_model",
    "compare",
    "evaluate",
    "explain",
    "file_identity",
    "from_arrays",
    "from_csv",
    "from_text",
    "get_cell",
    "get_registry",
    "get_task",
    "gradients",
    "hookimpl",
    "launched_by_torchrun",
    "lazy",
    "list_cells",
    "list_tasks",
    "list_topologies",
    "list_trainers",
    "load_registry",
    "load_run",
    "make_optimizer",
    "make_schedule",
    "plan",
    "require_memory",
    "resume",
    "resume_comparison",
    "resume_suite",
    "run",
    "run_suite",
    "sample_options",
    "testing",
    "tune",
]

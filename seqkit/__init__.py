"""seqkit: train, compare and understand recurrent sequence models in PyTorch.

This module is seqkit's whole public API, for library users and plugin authors alike:
every name in `__all__` is documented in docs/api.md and kept stable. The modules
whose names start with an underscore (`seqkit._runner`, ...) are internal and may change
at any time; a plugin imports only from `seqkit` (the built-in plugins do).

    import seqkit
    result = seqkit.run(cell="gru", task="sum", epochs=5, seed=0)
    model = seqkit.build_model(cell="lstm", topology="many-to-one",
                               input_size=1, hidden_size=50, output_size=1)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Every name is imported on first use: a plugin's `from seqkit import hookimpl, Option,
# lazy` loads only the modules those need (never torch), and `seqkit --help` and
# `seqkit list` pay for nothing they do not use.
_LAZY = {
    "RunConfig": "seqkit._config",
    "ConfigError": "seqkit._errors",
    "NameClashError": "seqkit._errors",
    "NonFiniteError": "seqkit._errors",
    "PluginError": "seqkit._errors",
    "SeqkitError": "seqkit._errors",
    "UnknownNameError": "seqkit._errors",
    "hookimpl": "seqkit._hookspecs",
    "Callback": "seqkit._interfaces",
    "Cell": "seqkit._interfaces",
    "CellFactory": "seqkit._interfaces",
    "ChecksSettings": "seqkit._interfaces",
    "ChunkedTopology": "seqkit._interfaces",
    "ChunkTargets": "seqkit._interfaces",
    "Constrained": "seqkit._interfaces",
    "Data": "seqkit._interfaces",
    "Equations": "seqkit._interfaces",
    "Executor": "seqkit._interfaces",
    "ForgetGates": "seqkit._interfaces",
    "History": "seqkit._interfaces",
    "IOSpec": "seqkit._interfaces",
    "MakeCell": "seqkit._interfaces",
    "NamedStateParts": "seqkit._interfaces",
    "RecurrentMatrices": "seqkit._interfaces",
    "RunsDistributed": "seqkit._interfaces",
    "State": "seqkit._interfaces",
    "Suite": "seqkit._suite_entries",
    "SuiteEntry": "seqkit._suite_entries",
    "Task": "seqkit._interfaces",
    "TaskKind": "seqkit._interfaces",
    "TopologyFactory": "seqkit._interfaces",
    "Trainer": "seqkit._interfaces",
    "TrainState": "seqkit._interfaces",
    "lazy": "seqkit._lazy",
    "Option": "seqkit._options",
    "sample_options": "seqkit._options",
    "Entry": "seqkit._registry",
    "Registry": "seqkit._registry",
    "Resolved": "seqkit._registry",
    "get_registry": "seqkit._registry",
    "load_registry": "seqkit._registry",
    "Checkpoint": "seqkit._checkpoint",
    "Comparison": "seqkit._compare",
    "compare": "seqkit._compare",
    "resume_comparison": "seqkit._compare",
    "Leaderboard": "seqkit._suite",
    "run_suite": "seqkit._suite",
    "resume_suite": "seqkit._suite",
    "ContractError": "seqkit._contracts",
    "Finding": "seqkit._contracts",
    "launched_by_torchrun": "seqkit._distributed:launched",
    "evaluate": "seqkit._evaluate",
    "explain": "seqkit._explain",
    "GradientReport": "seqkit._gradients",
    "gradients": "seqkit._gradients",
    "LoadedRun": "seqkit._load",
    "load_run": "seqkit._load",
    "OPTIMIZERS": "seqkit._optim",
    "make_optimizer": "seqkit._optim",
    "make_schedule": "seqkit._optim",
    "Plan": "seqkit._plan",
    "build_model": "seqkit._plan",
    "plan": "seqkit._plan",
    "RunResult": "seqkit._runner",
    "resume": "seqkit._runner",
    "run": "seqkit._runner",
    "LoopTrainer": "seqkit._training",
    "Step": "seqkit._training",
    "testing": "seqkit.testing:",
}

if TYPE_CHECKING:
    from seqkit import testing
    from seqkit._checkpoint import Checkpoint
    from seqkit._compare import Comparison, compare, resume_comparison
    from seqkit._config import RunConfig
    from seqkit._contracts import ContractError, Finding
    from seqkit._distributed import launched as launched_by_torchrun
    from seqkit._errors import (
        ConfigError,
        NameClashError,
        NonFiniteError,
        PluginError,
        SeqkitError,
        UnknownNameError,
    )
    from seqkit._evaluate import evaluate
    from seqkit._explain import explain
    from seqkit._gradients import GradientReport, gradients
    from seqkit._hookspecs import hookimpl
    from seqkit._interfaces import (
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
        IOSpec,
        MakeCell,
        NamedStateParts,
        RecurrentMatrices,
        RunsDistributed,
        State,
        Task,
        TaskKind,
        TopologyFactory,
        Trainer,
        TrainState,
    )
    from seqkit._lazy import lazy
    from seqkit._load import LoadedRun, load_run
    from seqkit._optim import OPTIMIZERS, make_optimizer, make_schedule
    from seqkit._options import Option, sample_options
    from seqkit._plan import Plan, build_model, plan
    from seqkit._registry import Entry, Registry, Resolved, get_registry, load_registry
    from seqkit._runner import RunResult, resume, run
    from seqkit._suite import Leaderboard, resume_suite, run_suite
    from seqkit._suite_entries import Suite, SuiteEntry
    from seqkit._training import LoopTrainer, Step


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
    from seqkit._registry import get_registry

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
    "State",
    "Step",
    "Suite",
    "SuiteEntry",
    "Task",
    "TaskKind",
    "TopologyFactory",
    "TrainState",
    "Trainer",
    "UnknownNameError",
    "__version__",
    "build_model",
    "compare",
    "evaluate",
    "explain",
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
    "resume",
    "resume_comparison",
    "resume_suite",
    "run",
    "run_suite",
    "sample_options",
    "testing",
]

"""seqkit: train, compare and understand recurrent sequence models in PyTorch.

import seqkit
result = seqkit.run(cell="gru", task="sum", epochs=5, seed=0)
model = seqkit.build_model(cell="lstm", topology="many-to-one",
                           input_size=1, hidden_size=50, output_size=1)
"""

from __future__ import annotations

from typing import Any

from seqkit._hookspecs import hookimpl

__version__ = "0.1.0"

from seqkit._config import RunConfig
from seqkit._errors import (
    ConfigError,
    NameClashError,
    NonFiniteError,
    PluginError,
    SeqkitError,
    UnknownNameError,
)
from seqkit._interfaces import (
    Callback,
    Cell,
    Data,
    History,
    IOSpec,
    Task,
    Trainer,
    TrainState,
    check_cell,
    sample_options,
)
from seqkit._load import LoadedRun, load_run
from seqkit._options import Option
from seqkit._plan import build_model, plan
from seqkit._registry import Entry, Registry, get_registry, load_registry
from seqkit._runner import RunResult, run


def _entries(kind: str, registry: Registry | None) -> list[Entry]:
    return (registry or get_registry()).entries(kind)


def list_cells(registry: Registry | None = None) -> list[Entry]:
    """Every registered cell: name, description, providing plugin and version."""
    return _entries("cell", registry)


def list_topologies(registry: Registry | None = None) -> list[Entry]:
    return _entries("topology", registry)


def list_tasks(registry: Registry | None = None) -> list[Entry]:
    return _entries("task", registry)


def list_trainers(registry: Registry | None = None) -> list[Entry]:
    return _entries("trainer", registry)


def get_task(name: str, registry: Registry | None = None, **options: Any) -> Task:
    """The task `name` with its options resolved (`get_task("sum", seq_len=10)`)."""
    from seqkit._options import resolve_options

    entry = (registry or get_registry()).get("task", name)
    task: Task = entry.factory(**resolve_options(f"task '{name}'", entry.options, options))
    return task


def get_cell(name: str, registry: Registry | None = None) -> Entry:
    """The registry entry of cell `name` (its factory builds the cell)."""
    return (registry or get_registry()).get("cell", name)


__all__ = [
    "Callback",
    "Cell",
    "ConfigError",
    "Data",
    "Entry",
    "History",
    "IOSpec",
    "LoadedRun",
    "NameClashError",
    "NonFiniteError",
    "Option",
    "PluginError",
    "Registry",
    "RunConfig",
    "RunResult",
    "SeqkitError",
    "Task",
    "TrainState",
    "Trainer",
    "UnknownNameError",
    "__version__",
    "build_model",
    "check_cell",
    "get_cell",
    "get_registry",
    "get_task",
    "hookimpl",
    "list_cells",
    "list_tasks",
    "list_topologies",
    "list_trainers",
    "load_registry",
    "load_run",
    "plan",
    "run",
    "sample_options",
]

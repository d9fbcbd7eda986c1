"""The pluggy hook specifications: one hook per kind, in register-callback style.

A plugin implements any of these with `@seqkit.hookimpl` and calls `register(...)` once
per thing it provides::

    @hookimpl
    def register_cells(register):
        register("mingru", MinGRU, description="minGRU (Feng et al. 2024)")

`register(name, factory, description="", **keywords)`: the keywords let the host grow
without changing a hook's signature (`options=` declares validated options).
"""

from __future__ import annotations

from typing import Any

import pluggy

PROJECT = "seqkit"
API_VERSION = 1
"""The plugin API this seqkit offers. A plugin may declare the one it was written for as
`SEQKIT_API = 1` (or a collection of versions it supports) on its module or object."""

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def register_cells(register: Any) -> None:
    """Register cell factories `(input_size, hidden_size, **options) -> Cell`."""


@hookspec
def register_topologies(register: Any) -> None:
    """Register topology factories `(make_cell, io, **options) -> nn.Module`."""


@hookspec
def register_tasks(register: Any) -> None:
    """Register Task subclasses (or factories `(**options) -> Task`)."""


@hookspec
def register_trainers(register: Any) -> None:
    """Register trainer factories `(**options) -> Trainer`."""


@hookspec
def register_executors(register: Any) -> None:
    """Register executor factories `(jobs, **options) -> Executor` for `compare --executor`."""


@hookspec
def register_suites(register: Any) -> None:
    """Register suite factories `() -> Suite` for `seqkit suite NAME`."""


@hookspec
def register_commands(cli: Any) -> None:
    """Add click commands to the `seqkit` command group `cli`."""

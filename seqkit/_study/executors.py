"""The executor a comparison, a suite or a study runs its jobs on, built and checked."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from seqkit._core.errors import ConfigError, PluginError, UnknownNameError
from seqkit._plugins.interfaces import Executor
from seqkit._plugins.registry import Registry, get_registry


def make_executor(
    name: str | None, jobs: int, options: Mapping[str, Any], registry: Registry | None = None
) -> Executor:
    """The executor `name` (None: the one a plugin marked the default) built with `jobs`
    and its options (checked: one clear error)."""
    registry = registry or get_registry()
    name = name if name is not None else registry.default("executor")
    try:
        resolved = registry.resolve("executor", name, options)
    except UnknownNameError as exc:
        raise ConfigError(f"--executor: {exc}") from None
    built: Executor = resolved.entry.factory(jobs, **resolved.options)
    if not (callable(getattr(built, "map", None)) and callable(getattr(built, "close", None))):
        raise PluginError(
            f"executor '{name}' (plugin '{resolved.entry.plugin}') built {type(built).__name__}, "
            "which has no map(fn, items) and close(): see the Executor contract"
        )
    return built

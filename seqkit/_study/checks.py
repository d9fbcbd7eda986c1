"""Contract checks of the kinds comparisons use: executors and suites (see _contracts).

An executor must call a module-level function once per item and yield every index once
with its result, and yield a raising call's exception without stopping the others. A
suite must be a Suite of uniquely named entries, each a run seqkit can plan."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seqkit._contracts.findings import Broken
from seqkit._core.config import RunConfig
from seqkit._plugins.data_task import DataTask
from seqkit._plugins.registry import Entry, Registry
from seqkit._plugins.suite_entries import Suite, SuiteEntry
from seqkit._run.plan import plan

ITEMS = [3, 1, 4, 1, 5]


def twice(x: int) -> int:
    """What the executor checks send to workers (module-level: importable anywhere)."""
    if x == 4:
        raise ValueError("four is refused")
    return 2 * x


@dataclass
class ExecutorSubject:
    entry: Entry
    options: dict[str, Any]

    def mapped(self, jobs: int) -> dict[int, Any]:
        executor = self.entry.factory(jobs, **self.options)
        try:
            seen: dict[int, Any] = {}
            for index, out in executor.map(twice, ITEMS):
                if index in seen:
                    raise Broken(f"map yielded index {index} twice")
                seen[index] = out
            return seen
        finally:
            executor.close()


def _check_mapped(seen: dict[int, Any], jobs: int) -> None:
    if sorted(seen) != list(range(len(ITEMS))):
        raise Broken(f"with jobs={jobs}, map yielded indices {sorted(seen)}, not 0..4 once each")
    for i, x in enumerate(ITEMS):
        if x == 4:
            if not isinstance(seen[i], ValueError):
                raise Broken(f"a call that raised ValueError yielded {seen[i]!r}, not the error")
        elif seen[i] != 2 * x:
            raise Broken(f"item {i} ({x}) yielded {seen[i]!r}, not {2 * x}")


def executor_maps_every_item_once(s: ExecutorSubject) -> None:
    _check_mapped(s.mapped(1), 1)


def executor_maps_with_several_jobs(s: ExecutorSubject) -> None:
    _check_mapped(s.mapped(2), 2)


EXECUTOR_CHECKS: dict[str, Callable[[Any], None]] = {
    "maps_every_item_once": executor_maps_every_item_once,
    "maps_with_several_jobs": executor_maps_with_several_jobs,
}


@dataclass
class SuiteSubject:
    entry: Entry
    registry: Registry

    def suite(self) -> Suite:
        built = self.entry.factory()
        if not isinstance(built, Suite):
            raise Broken(f"its factory returned {type(built).__name__}, not a seqkit.Suite")
        return built


def suite_is_a_suite_of_named_entries(s: SuiteSubject) -> None:
    suite = s.suite()
    if not suite.entries:
        raise Broken("the suite has no entries")
    names = [e.name for e in suite.entries]
    if not all(isinstance(e, SuiteEntry) for e in suite.entries):
        raise Broken("every entry must be a seqkit.SuiteEntry")
    twice_named = sorted({n for n in names if names.count(n) > 1})
    if twice_named:
        raise Broken(f"entries named more than once: {', '.join(twice_named)}")


def suite_entries_plan(s: SuiteSubject) -> None:
    """Every entry is a run seqkit accepts, with the default cell (no training). An entry
    whose task reads files the user gives (`--task-opt root=DIR`) is planned on the
    small example of its data the task writes (`DataTask.example`), as `seqkit check`
    checks such a task."""

    cell = s.registry.names("cell")[0]
    for e in s.suite().entries:
        with tempfile.TemporaryDirectory(prefix="seqkit-check-") as scratch:
            options = {**dict(e.task_options), **_example_options(s.registry, e, Path(scratch))}
            config = RunConfig.from_dict(
                {"task": e.task, "cell": cell, **e.settings, "task_options": options}
            )
            try:
                plan(config, s.registry)
            except Exception as exc:
                raise Broken(f"entry '{e.name}' is not a valid run: {exc}") from None


def _example_options(registry: Registry, entry: SuiteEntry, scratch: Path) -> dict[str, Any]:
    """The options that point a data task at its example written in `scratch` ({} for a
    task that makes its own data or has no example)."""
    try:
        task = registry.resolve("task", entry.task, dict(entry.task_options)).build()
    except Exception:
        return {}  # planning the entry says what is wrong
    example = getattr(task, "example", None)
    return (example(scratch) or {}) if isinstance(task, DataTask) and example else {}


SUITE_CHECKS: dict[str, Callable[[Any], None]] = {
    "is_a_suite_of_named_entries": suite_is_a_suite_of_named_entries,
    "entries_plan": suite_entries_plan,
}

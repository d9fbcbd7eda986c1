"""`seqkit.run_suite`: every entry of a suite as a comparison of the given cells, and a
leaderboard of them all (Markdown, CSV, JSON and HTML).

Each entry is kept in its own comparison directory under the suite's, as it goes, so a
suite that stops goes on with `resume_suite` (finished entries are read back, the
interrupted one resumes point by point). The leaderboard's rows are per entry and cell,
on the held-out test set: parameters, the headline metric and the loss with 95%
intervals over seeds, solved k/n with Wilson's interval (and the median steps until
validation met the rule); per entry, which differences between
cells are resolved at this many seeds, and whether the budget rather than the cell
looks like the limit (no cell solved it, or a cell was still improving at the end).
"""

from __future__ import annotations

import csv
import io
import json
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqkit._core import files
from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError, SeqkitError
from seqkit._core.fmt import interval
from seqkit._plugins.registry import Registry, get_registry
from seqkit._plugins.suite_entries import Suite, SuiteEntry, get_suite, slug
from seqkit._present.report import write_leaderboard_report
from seqkit._run import rundir
from seqkit._study.compare import (
    SPEC,
    compare,
    differences,
    kept_ranges,
    prepare_grid,
    resume_comparison,
    test_spread,
)
from seqkit._study.equal_effort import check_tuning, described, tuning_space
from seqkit._study.grid import check_cells
from seqkit._train import host

if TYPE_CHECKING:  # `seqkit describe SUITE` reads a suite without importing torch
    from seqkit._study.compare import Comparison
    from seqkit._study.grid import GridPoint

SUITE_SPEC = "suite.json"
STILL_IMPROVING = 0.9
"""A run whose mean validation loss over its last tenth of epochs is below this fraction of
its loss at three quarters of training was still learning when its budget ran out."""


@dataclass
class Leaderboard:
    """What `run_suite` found: one row per entry and cell, and per entry what is resolved."""

    suite: str
    cells: list[str]
    seeds: int
    rows: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    about: str = ""
    match: dict[str, Any] | None = None
    out_dir: Path | None = None
    comparisons: dict[str, Comparison] = field(default_factory=dict, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "suite": self.suite,
            "about": self.about,
            "cells": self.cells,
            "seeds": self.seeds,
            "match": self.match,
            "rows": self.rows,
            "entries": self.entries,
        }

    def markdown(self) -> str:
        """The leaderboard as a Markdown table, then what each entry resolves."""
        lines = [
            f"# {self.suite}: {', '.join(self.cells)}, {self.seeds} seed(s) per cell",
            "",
            self.about,
            "",
            "On the held-out test set: mean over seeds with a 95% t-interval (cut to the "
            "range the value can take); solved k/n with a 95% Wilson interval; resolved: "
            "the test-loss intervals do not overlap.",
            "",
            "| entry | cell | params | hidden | metric | test loss | solved | steps to solve |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in self.rows:
            lines.append(
                f"| {r['entry']} | {r['cell']} | {r['parameters']:,} | {r['hidden_size']} "
                f"| {r['metric']} {interval(r['metric_mean'], r['metric_ci95'])} "
                f"| {interval(r['test_loss_mean'], r['test_loss_ci95'])} "
                f"| {_solved(r)} | {_steps(r['median_steps_to_solve'])} |"
            )
        lines.append("")
        for e in self.entries:
            about = f"{e['steps']:,} steps; {e['source']}"
            lines.append(f"- **{e['entry']}** ({about}): {e['verdict']}")
        return "\n".join(lines) + "\n"


def _solved(row: Mapping[str, Any]) -> str:
    if row["solved"] is None:
        return "-"
    low, high = row["solved_ci95"]
    return f"{row['solved']}/{row['seeds']} [{low:.2f}, {high:.2f}]"


def run_suite(
    name: str,
    cells: Sequence[str],
    *,
    seeds: int = 3,
    jobs: int = 1,
    entries: Sequence[str] | None = None,
    match_params: str | None = None,
    params: int | None = None,
    out: str | Path | None = None,
    overwrite: bool = False,
    executor: str | None = None,
    executor_options: Mapping[str, Any] | None = None,
    on_done: Callable[[str, GridPoint, dict[str, Any]], None] | None = None,
    registry: Registry | None = None,
    tune: Sequence[str] | None = None,
    trials: int = 20,
    tune_seeds: int = 1,
    on_trial: Callable[[str, dict[str, Any], int], None] | None = None,
    task_options: Mapping[str, Any] | None = None,
) -> Leaderboard:
    """Run suite `name` for `cells`: each entry (or those named in `entries`) is a
    `compare` of the cells with `seeds` seeds at the entry's task and budget, optionally
    parameter-matched; with `out`, every entry is kept there as it goes, and the
    leaderboard is written as leaderboard.md, .csv, .json and .html. With `tune`, each
    entry is an equal-effort comparison (`compare(..., tune=...)`): every cell tuned at
    that entry with `trials` trials before its runs. `task_options` go to every entry
    whose task has them, such as where its data are (`{"root": "~/mnist"}`)."""
    suite = get_suite(name, registry)
    chosen = given_options(_chosen(suite, entries, name), task_options or {}, name, registry)
    out_dir = Path(out) if out is not None else None
    spec = {
        "suite": name,
        "cells": list(cells),
        "seeds": seeds,
        "entries": [e.name for e in chosen],
        "match_params": match_params,
        "params": params,
        "tune": {"space": list(tune), "trials": trials, "seeds": tune_seeds} if tune else None,
        "task_options": dict(task_options or {}),
        # decided by the process that starts the suite; a resumed suite keeps it
        "flush_denormals": host.owns_process(),
    }
    check_entries(chosen, list(cells), match_params, params, registry)
    if tune:  # checked now, before anything runs (each entry checks its own values again)
        check_tuning(tuning_space(tune), match_params is not None or params is not None, {}, None)
    running = {
        "jobs": jobs, "executor": executor, "executor_options": executor_options,
        "on_trial": on_trial,
    }  # fmt: skip
    if out_dir is None:
        return _carry_out(suite, spec, chosen, out_dir, running, on_done, registry)
    with rundir.claimed(out_dir, overwrite):  # all is checked: from here on it is kept
        files.write_json(out_dir / SUITE_SPEC, spec)
        return _carry_out(suite, spec, chosen, out_dir, running, on_done, registry)


def resume_suite(
    out: str | Path,
    *,
    jobs: int = 1,
    executor: str | None = None,
    executor_options: Mapping[str, Any] | None = None,
    on_done: Callable[[str, GridPoint, dict[str, Any]], None] | None = None,
    registry: Registry | None = None,
    on_trial: Callable[[str, dict[str, Any], int], None] | None = None,
) -> Leaderboard:
    """Go on with the suite kept in `out`: finished entries are read back, the rest run
    (an interrupted entry resumes point by point, its studies where they stopped)."""
    out_dir = Path(out)
    try:
        spec = json.loads((out_dir / SUITE_SPEC).read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--resume {out_dir}: no readable {SUITE_SPEC} there ({exc})") from None
    suite = get_suite(spec["suite"], registry)
    gone = [n for n in spec["entries"] if n not in {e.name for e in suite.entries}]
    if gone:
        raise ConfigError(
            f"--resume {out_dir}: suite '{spec['suite']}' no longer has the entry '{gone[0]}' "
            "this suite was begun with (the plugin changed it since); its finished entries "
            "are kept there; start the suite again in another --out"
        )
    chosen = _chosen(suite, spec["entries"], spec["suite"])
    chosen = given_options(chosen, spec.get("task_options") or {}, spec["suite"], registry)
    running = {
        "jobs": jobs, "executor": executor, "executor_options": executor_options,
        "on_trial": on_trial,
    }  # fmt: skip
    with files.locked(out_dir, f"--resume {out_dir}"):  # one writer in the directory
        return _carry_out(suite, spec, chosen, out_dir, running, on_done, registry)


def _chosen(suite: Suite, names: Sequence[str] | None, suite_name: str) -> list[SuiteEntry]:
    if names is None:
        return list(suite.entries)
    listed = ", ".join(slug(e.name) for e in suite.entries)
    if not names or not all(names):
        raise ConfigError(
            f"--entries names no entry; give one or more of suite '{suite_name}': {listed}"
        )
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"--entries names '{twice[0]}' twice; each entry runs once")
    by_name = {e.name: e for e in suite.entries}
    by_slug = {slug(e.name): e for e in suite.entries}
    unknown = [n for n in names if n not in by_name and n not in by_slug]
    if unknown:
        raise ConfigError(
            f"suite '{suite_name}' has no entry '{unknown[0]}' (its entries: {listed})"
        )
    return [by_name.get(n) or by_slug[n] for n in names]


def given_options(
    chosen: list[SuiteEntry], given: Mapping[str, Any], suite: str, registry: Registry | None
) -> list[SuiteEntry]:
    """The entries with `given` task options set where their task declares them; an
    option no chosen entry's task declares is refused."""
    registry = registry or get_registry()
    declared = {e.name: registry.get("task", e.task).options for e in chosen}
    for key in given:
        if not any(key in options for options in declared.values()):
            tasks = ", ".join(sorted({e.task for e in chosen}))
            raise ConfigError(
                f"--task-opt {key}: no entry of suite '{suite}' run here has a task with "
                f"that option (their tasks: {tasks}; seqkit describe TASK lists its options)"
            )
    return [_with_options(e, {k: v for k, v in given.items() if k in declared[e.name]})
            for e in chosen]  # fmt: skip


def _with_options(entry: SuiteEntry, given: Mapping[str, Any]) -> SuiteEntry:
    """`entry` with `given` task options; one that changes a value the entry sets itself
    is written into its source line, so the leaderboard does not pass it for the
    entry's own recipe."""
    changed = [
        f"{k}={v} (the entry's: {entry.task_options[k]})"
        for k, v in given.items()
        if k in entry.task_options and str(v) != str(entry.task_options[k])
    ]
    source = entry.source + (f"; changed here: {', '.join(changed)}" if changed else "")
    return replace(entry, task_options={**entry.task_options, **given}, source=source)


def check_entries(
    chosen: list[SuiteEntry],
    cells: list[str],
    match_params: str | None,
    params: int | None,
    registry: Registry | None,
) -> None:
    """Every entry's grid for these cells, planned (parameter matching included), before
    anything is written or runs: one clear error for the first that is not valid."""

    if not cells:
        raise ConfigError("a suite needs at least one cell: --cells a,b,...")
    check_cells(cells)
    for entry in chosen:
        prepare_grid(entry_config(entry, cells[0]), cells, {}, 1, match_params, params, registry)


def entry_config(entry: SuiteEntry, cell: str, flush_denormals: bool | None = None) -> RunConfig:
    """The entry's run for `cell`; `flush_denormals` as the suite recorded it (a suite
    kept by an older seqkit flushed: its default then)."""
    settings = {"task": entry.task, "cell": cell, **entry.settings}
    if flush_denormals is not None and "flush_denormals" not in entry.settings:
        settings["flush_denormals"] = flush_denormals
    return RunConfig.from_dict({**settings, "task_options": dict(entry.task_options)})


def _carry_out(
    suite: Suite,
    spec: Mapping[str, Any],
    chosen: list[SuiteEntry],
    out_dir: Path | None,
    running: Mapping[str, Any],
    on_done: Callable[[str, GridPoint, dict[str, Any]], None] | None,
    registry: Registry | None,
) -> Leaderboard:

    cells, seeds = list(spec["cells"]), spec["seeds"]
    comparisons: dict[str, Comparison] = {}
    for entry in chosen:
        where = out_dir / slug(entry.name) if out_dir is not None else None
        done = (lambda p, r, n=entry.name: on_done(n, p, r)) if on_done else None
        options: dict[str, Any] = {**running, "on_done": done, "registry": registry}
        tuning = spec.get("tune") or {}
        searched = {
            "tune": tuning.get("space"),
            "trials": tuning.get("trials", 20),
            "tune_seeds": tuning.get("seeds", 1),
        }
        try:
            if where is not None and (where / SPEC).exists():
                comparisons[entry.name] = resume_comparison(where, **options)
            else:
                comparisons[entry.name] = compare(
                    cells,
                    entry_config(entry, cells[0], spec.get("flush_denormals", True)),
                    seeds=seeds,
                    match_params=spec.get("match_params"),
                    params=spec.get("params"),
                    evaluate_on=dict(entry.evaluate_on) or None,
                    out=where,
                    overwrite=True,
                    **searched,
                    **options,
                )
        except SeqkitError as exc:  # a failed point: the suite, not the entry, resumes
            if where is None or out_dir is None:
                raise
            said = str(exc).replace(
                f"seqkit compare --resume {where}", f"seqkit suite --resume {out_dir}"
            )
            kind = type(exc) if type(exc).__init__ is SeqkitError.__init__ else ConfigError
            raise kind(f"suite entry '{entry.name}': {said}") from None
    board = leaderboard(spec["suite"], suite, chosen, comparisons, cells, seeds)
    board.match = next(iter(comparisons.values())).match
    board.out_dir = out_dir
    if out_dir is not None:
        write_leaderboard(out_dir, board)
    return board


def leaderboard(
    name: str,
    suite: Suite,
    chosen: list[SuiteEntry],
    comparisons: Mapping[str, Comparison],
    cells: list[str],
    seeds: int,
) -> Leaderboard:
    """Rows and verdicts on the held-out test set: the loss, the headline metric, solved
    k/n and which differences are resolved, all on test."""

    rows, verdicts = [], []
    for entry in chosen:
        comparison = comparisons[entry.name]
        improving = _still_improving(comparison)
        entry_rows = [
            {
                "entry": entry.name,
                "setting": entry.name,
                "task": entry.task,
                **{k: r[k] for k in KEPT if k in r},
                **_on_test(comparison, r["cell"], r["metric"]),
                "still_improving": improving.get(r["cell"], 0),
            }
            for r in comparison.rows
        ]
        found = differences(entry_rows, "test_loss")
        verdicts.append(_verdict(entry, comparison, entry_rows, found, improving))
        rows += [{k: v for k, v in r.items() if k != "setting"} for r in entry_rows]
    about = suite.about
    tuned = next(iter(comparisons.values())).tuning if comparisons else None
    if tuned:  # an equal-effort suite says how its rows were made
        about += f" Equal effort: {described(tuned, seeds)}."
    board = Leaderboard(name, cells, seeds, rows, verdicts, about)
    board.comparisons = dict(comparisons)
    return board


KEPT: tuple[str, ...] = ("cell", "parameters", "hidden_size", "seeds", "chance_loss")
KEPT += ("median_steps_to_solve", "wall_s_mean", "evaluations")
"""What a leaderboard row keeps of its comparison's row; the rest it takes on test."""


def _on_test(comparison: Comparison, cell: str, metric: str) -> dict[str, Any]:
    """A cell's runs on the test set: loss and metric over seeds, solved k/n."""

    runs = [r for r in comparison.runs if r["cell"] == cell]
    scores = [{**r["test_metrics"], "solved": r["test_solved"]} for r in runs]
    return test_spread(scores, "test_" + metric.removeprefix("val_"), kept_ranges(runs))


def _steps(median: float | None) -> str:
    """The median steps to solve as a count: `1,450` (the median of two seeds may be x.5)."""
    return f"{median:,.0f}" if median else "-"


def _still_improving(comparison: Comparison) -> dict[str, int]:
    """Per cell, how many seeds' validation loss was still falling when training ended."""
    counts: dict[str, int] = {}
    for run in comparison.runs:
        curve = run["curve"]
        if len(curve) < 8 or run["solved"]:
            continue
        tail = statistics.fmean(curve[-max(1, len(curve) // 10) :])
        if tail < STILL_IMPROVING * curve[(3 * len(curve)) // 4 - 1]:
            counts[run["cell"]] = counts.get(run["cell"], 0) + 1
    return counts


def _verdict(
    entry: SuiteEntry,
    comparison: Comparison,
    rows: list[dict[str, Any]],
    found: list[dict[str, Any]],
    improving: Mapping[str, int],
) -> dict[str, Any]:
    """What the entry shows on test: the resolved differences, the unresolved ones, and
    where the budget looks like the limit."""
    said = []
    for d in (d for d in found if d["resolved"]):
        other = next(c for c in d["cells"] if c != d["lower"])
        said.append(f"{d['lower']} < {other} (resolved)")
    for d in (d for d in found if not d["resolved"]):
        said.append(f"{' vs '.join(d['cells'])} not resolved at {d['seeds']} seeds")
    if all(not r["solved"] for r in rows if r["solved"] is not None):
        said.append("no cell solved it: within this budget, the budget may be the limit")
    for cell, n in improving.items():
        said.append(f"{cell} still improving at the end in {n} seed(s): budget-limited")
    first = comparison.runs[0]
    return {
        "entry": entry.name,
        "task": entry.task,
        "task_options": dict(entry.task_options),
        "settings": dict(entry.settings),
        "source": entry.source,
        "steps": int(first["steps_per_epoch"]) * len(first["curve"]),
        "verdict": "; ".join(said) if said else "one cell only",
        "differences": found,
    }


def write_leaderboard(out_dir: Path, board: Leaderboard) -> None:
    """leaderboard.md, .csv, .json, and .html (with a link to each entry's report)."""
    files.write_text(out_dir / "leaderboard.md", board.markdown())
    files.write_json(out_dir / "leaderboard.json", board.as_dict())
    fields = ["entry", "task", "cell", "parameters", "hidden_size", "seeds", "metric"]
    fields += ["metric_mean", "metric_ci95", "test_loss_mean", "test_loss_ci95", "solved"]
    fields += ["solved_ci95", "median_steps_to_solve", "still_improving", "wall_s_mean"]
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=fields, extrasaction="ignore")
    writer.writeheader()
    for row in board.rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()})
    files.write_text(out_dir / "leaderboard.csv", text.getvalue())

    links = {e["entry"]: slug(e["entry"]) for e in board.entries}
    write_leaderboard_report(out_dir, board.as_dict(), links)

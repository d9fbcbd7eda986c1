"""What the JSON files of a run's and a comparison's directory hold, and their checked
readers: `summary.json`, `metrics.jsonl` (one epoch per line), `gradients.json` and a
comparison's `results.json`. Each reader returns the file's content only once it has
the shape the code that uses it expects (`seqkit._core.schema`); else one ConfigError
names the file, the line or field, and what was expected.

Fields added to a file in a later version are optional here, so that older run
directories still read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from seqkit._core.errors import ConfigError
from seqkit._core.files import CONFIG, GRADIENTS, METRICS, RESULTS, SUMMARY, read_json
from seqkit._core.schema import (
    ANY_RECORD,
    COUNT,
    FLAG,
    NUMBER,
    POSITIVE,
    TEXT,
    check,
    list_of,
    mapping_of,
    optional,
    record,
)

_GRADIENT_BRIEF = record(
    {"epoch": COUNT, "log10_vanishing_factor": NUMBER, "steps_to_1e6_drop": optional(COUNT)},
    {"log10_grad_at_T": NUMBER, "log10_grad_at_1": NUMBER},
)
SUMMARY_RECORD = record(
    {
        "task": TEXT,
        "cell": TEXT,
        "topology": TEXT,
        "epochs_run": COUNT,
        "stopped": optional(TEXT),
        "train_loss": optional(NUMBER),
        "val_loss": optional(NUMBER),
        "chance_loss": NUMBER,
        "solved": optional(FLAG),
        "metrics": mapping_of(optional(NUMBER)),
        "device": TEXT,
        "parameters": COUNT,
        "examples": list_of(record({"text": TEXT})),
        "gradients": optional(record({"init": _GRADIENT_BRIEF, "end": _GRADIENT_BRIEF})),
        "config": ANY_RECORD,
        "versions": mapping_of(TEXT),
    },
    {
        "run_id": optional(TEXT),
        "trainer": TEXT,
        "processes": POSITIVE,
        "chance_rule": optional(TEXT),
        "solved_rule": optional(TEXT),
        "split_rule": optional(TEXT),
        "baselines": mapping_of(NUMBER),
        "reference_losses": optional(mapping_of(NUMBER)),
        "test_loss": optional(NUMBER),
        "test_metrics": mapping_of(optional(NUMBER)),
        "train_time_s": NUMBER,
        "tuning": optional(ANY_RECORD),
        "run_dir": optional(TEXT),
        "failures": list_of(TEXT),
    },
)
EPOCH_RECORD = record(
    {"epoch": POSITIVE, "step": COUNT, "train_loss": NUMBER, "val_loss": NUMBER},
    {"run_id": optional(TEXT)},
)
"""A line of metrics.jsonl; its other fields (metrics, times) are numbers."""
GRADIENTS_RECORD = record(
    {
        "records": list_of(
            record(
                {
                    "epoch": COUNT,
                    "headline": TEXT,
                    "log10_grad": mapping_of(list_of(NUMBER)),
                    "hidden_norm": list_of(NUMBER),
                }
            )
        ),
        "grad_norm": list_of(NUMBER),
        "grad_clip": optional(NUMBER),
    },
    {"run_id": optional(TEXT)},
)
RESULTS_RECORD = record(
    {
        "task": TEXT,
        "rows": list_of(
            record(
                {
                    "cell": TEXT,
                    "setting": TEXT,
                    "seeds": POSITIVE,
                    "metric": TEXT,
                    "chance_loss": optional(NUMBER),
                }
            )
        ),
        "plots": list_of(TEXT),
    },
    {"solved_rule": optional(TEXT)},
)


def recorded_run_id(run_dir: Path) -> str | None:
    """The id in `run_dir`'s config.json (None for runs of earlier versions, or none)."""
    path = run_dir / CONFIG
    recorded = read_json(path) if path.is_file() else None
    found = recorded.get("run_id") if isinstance(recorded, dict) else None
    return found if isinstance(found, str) else None


def check_same_run(found: Any, expected: str | None, path: Path) -> None:
    """Refuse `path` if it carries a run id other than the directory's (`expected`, from
    config.json). Files of earlier versions carry none and are not refused."""
    if found is not None and expected is not None and found != expected:
        raise ConfigError(
            f"{path} belongs to run {found}, but {path.parent / CONFIG} to run {expected}: the "
            "directory mixes the files of two runs; run again with --overwrite, or use the "
            "directory each run was written to"
        )


def read_summary(run_dir: Path) -> dict[str, Any]:
    """A finished run's summary.json, checked."""
    path = run_dir / SUMMARY
    summary = read_json(path, f"{run_dir}: not a finished run (no {SUMMARY})")
    return check(summary, SUMMARY_RECORD, str(path))


def read_run_files(run_dir: Path) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    """A finished run's summary, epochs and gradient records (or None), each checked and
    all of the one run that config.json names."""
    summary = read_summary(run_dir)
    run_id = summary.get("run_id")
    check_same_run(run_id, recorded_run_id(run_dir), run_dir / SUMMARY)
    epochs = read_epochs(run_dir, run_id=run_id)
    if len(epochs) != summary["epochs_run"]:
        raise ConfigError(
            f"{run_dir / METRICS}: holds {len(epochs)} epoch(s), {SUMMARY} says "
            f"{summary['epochs_run']}: the file was cut short or edited"
        )
    gradients = read_gradients(run_dir)
    if gradients is not None:
        check_same_run(gradients.get("run_id"), run_id, run_dir / GRADIENTS)
    return summary, epochs, gradients


def read_epochs(
    run_dir: Path, upto: int | None = None, run_id: str | None = None
) -> list[dict[str, Any]]:
    """The epoch records of metrics.jsonl (none if there is no such file), the first `upto`
    of them if given (lines after those are not read: a run stopped while writing one may
    have left it cut off). Each must be a record of numbers, epochs counting from 1, of
    the run `run_id` where both name one."""
    path = run_dir / METRICS
    try:
        lines = path.read_text().splitlines() if path.is_file() else []
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc})") from None
    lines = [line for line in lines if line.strip()]
    if upto is not None:
        if len(lines) < upto:
            raise ConfigError(
                f"{path}: holds {len(lines)} epoch(s), the checkpoint {upto}: the file was cut "
                "short"
            )
        lines = lines[:upto]
    epochs = []
    for number, line in enumerate(lines, start=1):
        where = f"{path}, line {number}"
        try:
            epoch = json.loads(line)
        except ValueError as exc:
            raise ConfigError(f"{where}: not valid JSON ({exc})") from None
        check(epoch, EPOCH_RECORD, where)
        check({k: v for k, v in epoch.items() if k != "run_id"}, mapping_of(NUMBER), where)
        check_same_run(epoch.get("run_id"), run_id, Path(where))
        if epoch["epoch"] != number:
            raise ConfigError(f"{where}: field 'epoch' must be {number} (got {epoch['epoch']})")
        epochs.append(epoch)
    return epochs


def read_gradients(run_dir: Path) -> dict[str, Any] | None:
    """gradients.json, checked; None if the run kept none."""
    path = run_dir / GRADIENTS
    if not path.is_file():
        return None
    return check(read_json(path), GRADIENTS_RECORD, str(path))


def read_results(out_dir: Path) -> dict[str, Any]:
    """A finished comparison's results.json, checked."""
    path = out_dir / RESULTS
    results = read_json(path, f"{out_dir}: not a finished comparison (no {RESULTS})")
    return check(results, RESULTS_RECORD, str(path))

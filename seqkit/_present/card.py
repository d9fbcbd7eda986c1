"""The model card an export writes beside its file (`MODEL.md`): what the model reads and
returns, what it was trained on and how well it did, from the run's recorded files.
A pure function of plain data: the run's config.json and summary.json as dicts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from seqkit._core.fmt import CHANCE_RULE, interval

TRAINING_FLAGS = ("topology", "hidden_size", "epochs", "lr", "batch_size", "seed")
"""The settings the card's `seqkit run` line spells out (config.json holds every one)."""


def model_card(
    *,
    file_name: str,
    format_line: str,
    config: Mapping[str, Any],
    summary: Mapping[str, Any] | None,
    task_description: str,
    input_line: str,
    output_line: str,
    checks: Sequence[str],
    versions: Mapping[str, str],
) -> str:
    """The card's Markdown. `checks`: one line per batch the export was checked on."""
    cell, topology, task = config.get("cell"), config.get("topology"), config.get("task")
    lines = [
        f"# {cell} / {topology} on {task}",
        "",
        f"`{file_name}`: {format_line}, exported by seqkit from a run directory. It holds "
        "the whole inference path: the standardisation of the inputs, the model, and its "
        "outputs mapped back to the task's units.",
        "",
        f"- **Run**: {config.get('run_id') or 'an earlier version run (no id)'}",
        f"- **Task**: {task}: {task_description}",
        f"- **Data**: {data_line(config.get('data'), config)}",
        f"- **Input**: {input_line}",
        f"- **Output**: {output_line}",
    ]
    lines += results(summary)
    lines += ["", "## Checked against torch", ""]
    lines += [f"- {line}" for line in checks]
    lines += ["", "## How it was made", ""]
    lines.append(f"- **Trained by**: `{training_command(config)}`")
    lines.append(
        "  (every setting is in the run's `config.json`; `seqkit run --config "
        "config.json` trains the same run again)"
    )
    trained = config.get("versions") or {}
    if trained:
        lines.append("- **Trained with**: " + versions_text(trained))
    lines.append("- **Exported with**: " + versions_text(versions))
    return "\n".join(lines) + "\n"


def data_line(data: Mapping[str, Any] | None, config: Mapping[str, Any]) -> str:
    """The data's identity as the run recorded it, or how a synthetic task drew them."""
    if not data:
        return f"synthetic, drawn by the task from seed {config.get('seed')}"
    shown = [f"{key} {data[key]}" for key in ("path", "bytes", "size", "sha256") if key in data]
    return ", ".join(shown) if shown else ", ".join(f"{k} {v}" for k, v in data.items())


def results(summary: Mapping[str, Any] | None) -> list[str]:
    """The run's chance level and test results (with an interval where one is recorded)."""
    if not summary:
        return ["- **Results**: the run recorded no summary.json"]
    lines = []
    chance = summary.get("chance_loss")
    if chance is not None:
        rule = summary.get("chance_rule") or CHANCE_RULE
        lines.append(f"- **Chance level**: loss {chance:.4g} ({rule})")
    tests = {"test_loss": summary.get("test_loss"), **(summary.get("test_metrics") or {})}
    shown = [
        f"{name.removeprefix('test_')} {scored(value)}"
        for name, value in tests.items()
        if value is not None
    ]
    if shown:
        lines.append("- **Test set** (held out, scored once after training): " + ", ".join(shown))
    else:
        lines.append("- **Test set**: not scored by this run")
    return lines


def scored(value: Any) -> str:
    """A recorded number, or `{"mean": m, "ci": [low, high]}` with its interval."""
    if isinstance(value, Mapping):
        return interval(float(value["mean"]), value.get("ci"))
    return f"{float(value):.4g}"


def training_command(config: Mapping[str, Any]) -> str:
    """The `seqkit run` line of the run's main settings."""
    parts = ["seqkit run", f"--task {config.get('task')}", f"--cell {config.get('cell')}"]
    for key in TRAINING_FLAGS:
        if config.get(key) is not None:
            parts.append(f"--{key.replace('_', '-')} {config[key]}")
    for kind in ("cell", "task", "topology"):
        for name, value in (config.get(f"{kind}_options") or {}).items():
            shown = str(value).lower() if isinstance(value, bool) else value
            parts.append(f"--{kind}-opt {name}={shown}")
    return " ".join(parts)


def versions_text(versions: Mapping[str, str]) -> str:
    return ", ".join(f"{name} {version}" for name, version in versions.items())

"""Length generalisation: score a trained model on other settings of its task.

`compare(..., evaluate_on={"seq_len": [100, 200, 400]})` scores every trained model on
fresh test data at each setting (the product, when several options are given). A task
declares which options may differ between training and evaluation (`Task.evaluable`);
a setting that changes the input or output size, the kind or the topology is refused
before anything trains, with the reason."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from seqkit._core.errors import ConfigError
from seqkit._core.seeds import EVAL_SEED_OFFSET
from seqkit._plugins.registry import get_registry
from seqkit._run.plan import plan
from seqkit._train.evaluate import evaluate

if TYPE_CHECKING:
    from seqkit._core.config import RunConfig
    from seqkit._plugins.registry import Registry
    from seqkit._plugins.task import Task
    from seqkit._run.runner import RunResult

Setting = tuple[tuple[str, Any], ...]

"""Each evaluation set's generator seed: the run seed plus this plus the setting's
index, apart from the training, validation and test streams."""


def settings_of(evaluate_on: Mapping[str, Sequence[Any]] | None) -> list[Setting]:
    """Every combination of the options' values, in the order given."""
    if not evaluate_on:
        return []
    keys = list(evaluate_on)
    for key, values in evaluate_on.items():
        if isinstance(values, str) or not len(values):
            raise ConfigError(f"--eval-task-opt {key}: give one or more values (got {values!r})")
    return [
        tuple(zip(keys, values, strict=True))
        for values in itertools.product(*(evaluate_on[k] for k in keys))
    ]


def label(setting: Setting) -> str:
    return ",".join(f"{k}={v}" for k, v in setting)


def evaluation_task(trained: Task, config: RunConfig, setting: Setting, registry: Registry) -> Task:
    """The task at `setting`, checked against the one the model was trained on."""
    allowed = tuple(getattr(trained, "evaluable", ()))
    for key, _ in setting:
        if key not in allowed:
            may = ", ".join(allowed) if allowed else "none: it declares no evaluable options"
            raise ConfigError(
                f"--eval-task-opt {key}: task '{config.task}' does not allow '{key}' to differ "
                f"between training and evaluation (it allows: {may})"
            )
    options = {**config.task_options, **dict(setting)}
    try:
        task: Task = registry.resolve("task", config.task, options).build()
    except ConfigError as exc:
        raise ConfigError(f"--eval-task-opt {label(setting)}: {exc}") from None
    a, b = trained.io, task.io
    mismatch = [
        f"{what} would be {after}, not {before}"
        for what, before, after in (
            ("the input size", a.input_size, b.input_size),
            ("the output size", a.output_size, b.output_size),
            ("the kind", trained.kind, task.kind),
            ("the topology", trained.default_topology, task.default_topology),
        )
        if before != after
    ]
    if b.padded_inputs and not a.padded_inputs:
        mismatch.append(
            "its sequences would have different lengths, and a model trained on one length "
            "reads no padding (train it with mixed lengths to score it there)"
        )
    if mismatch:
        raise ConfigError(
            f"--eval-task-opt {label(setting)}: a model trained on {config.task} cannot be "
            f"scored there: {'; '.join(mismatch)}"
        )
    return task


def check(config: RunConfig, settings: list[Setting], registry: Registry | None) -> None:
    """Refuse, before training, an evaluation the trained model cannot be scored on."""
    if not settings:
        return

    the_plan = plan(config, registry)
    for setting in settings:
        evaluation_task(the_plan.task, the_plan.config, setting, the_plan.registry)


def evaluate_all(
    result: RunResult, settings: list[Setting], registry: Registry | None
) -> dict[str, dict[str, Any]]:
    """The trained model on fresh test data at each setting: loss, metrics, chance, solved."""
    import torch

    found: dict[str, dict[str, Any]] = {}
    device = next(result.model.parameters()).device
    for i, setting in enumerate(settings):
        task = evaluation_task(result.task, result.config, setting, registry or get_registry())
        seed = result.config.seed + EVAL_SEED_OFFSET + i
        generator = torch.Generator(device=device).manual_seed(seed)
        x, y = task.generate(task.val_samples, generator, device)
        scores = evaluate(result.model, task, x, y, prefix="test_")
        as_val = {"val_" + k.removeprefix("test_"): v for k, v in scores.items()}
        found[label(setting)] = {
            **scores,
            "chance_loss": task.chance_loss(y),
            "solved": task.solved(as_val),
        }
    return found

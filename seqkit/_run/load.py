"""Reuse a finished run: `seqkit.load_run(path).predict(...)` and `seqkit predict`.

The model is rebuilt from the run's saved configuration through the registry (so the
plugins that made it must be installed) and its weights are read with
`torch.load(..., weights_only=True)`: a file that carries pickled code is refused,
never executed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._core import files
from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError
from seqkit._plugins.registry import Registry
from seqkit._run import rundir
from seqkit._run.plan import Plan, plan
from seqkit._run.runner import _plain


@dataclass
class LoadedRun:
    """A run's configuration, task and trained model, ready to predict."""

    path: Path
    plan: Plan
    model: nn.Module

    @property
    def config(self) -> RunConfig:
        return self.plan.config

    def predict(self, inputs: Any) -> list[dict[str, Any]]:
        """Predictions for `inputs`: one sequence or a batch, as numbers, nested lists or
        a tensor `(B, T, D)`. Each row holds input, output, the task's answer, and a line
        in the task's own format."""
        task = self.plan.task
        x = as_batch(inputs, task.io.input_size, task.io.input_len)
        with torch.no_grad():
            pred = task.predict(self.model.eval()(x.to(self.plan.device))).cpu()
        answer = task.targets(x)
        return [
            {
                "input": _plain(x[i]),
                "output": _plain(pred[i]),
                "answer": _plain(answer[i]),
                "text": task.format_example(x[i], pred[i], answer[i]),
            }
            for i in range(x.shape[0])
        ]


def load_run(path: str | Path, registry: Registry | None = None) -> LoadedRun:
    """Load the run directory at `path` (written by `seqkit run`)."""
    path = Path(path)
    config = rundir.read_run_config(path)
    model_file = path / files.MODEL
    if not model_file.is_file():
        raise ConfigError(f"{path} holds no trained model ({files.MODEL}): the run did not finish")
    config.device = (
        "cpu"
        if config.device.startswith("cuda") and not torch.cuda.is_available()
        else config.device
    )
    the_plan = plan(config, registry)
    task = the_plan.task
    # Placeholder statistics: the real ones come with the saved weights.
    x = torch.zeros(2, task.io.input_len or 1, task.io.input_size)
    y = torch.zeros(2, task.io.output_len or 1, task.io.output_size)
    model = the_plan.fresh_model(x, y)
    state = files.load_tensors(model_file, the_plan.device)
    try:
        model.load_state_dict(state)
    except (RuntimeError, TypeError) as exc:
        raise ConfigError(
            f"{model_file} does not fit the model its config describes: {str(exc).splitlines()[0]}"
        ) from None
    return LoadedRun(path, the_plan, model)


def as_batch(inputs: Any, d: int, t: int | None) -> Tensor:
    """`inputs` as a float batch `(B, T, D)`, checked against the task's D and T.

    A flat list of numbers is one sequence of T steps when D = 1 (`[2, 4, 6]`); a list
    of such lists is a batch. With D > 1 each step is a list of D numbers.
    """
    try:
        x = torch.as_tensor(inputs, dtype=torch.float32)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"input must be numbers (got {inputs!r}): {exc}") from None
    if not torch.isfinite(x).all():
        raise ConfigError("input must be finite numbers (got nan or inf)")
    if x.dim() == 0:
        x = x.view(1, 1, 1)
    elif x.dim() == 1:
        x = x.view(1, -1, 1) if d == 1 else x.view(1, 1, -1)
    elif x.dim() == 2:
        x = x.unsqueeze(-1) if d == 1 else x.unsqueeze(0)
    if x.dim() != 3 or x.shape[2] != d:
        raise ConfigError(f"input must have {d} number(s) per step (got shape {tuple(x.shape)})")
    if t is not None and x.shape[1] != t:
        raise ConfigError(
            f"input must have {t} step(s) per sequence, as the run was trained (got {x.shape[1]})"
        )
    return x


def read_inputs(text: str, source: str) -> Any:
    """Inputs from the command line or a file: JSON, or comma/whitespace-separated rows."""
    text = text.strip()
    if not text:
        raise ConfigError(f"{source} is empty")
    if text[0] in "[{":
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{source} is not valid JSON: {exc}") from None
    rows = []
    for line in text.splitlines():
        if line.strip():
            try:
                rows.append([float(v) for v in line.replace(",", " ").split()])
            except ValueError:
                raise ConfigError(
                    f"{source}: {line.strip()!r} is not a row of numbers "
                    "(comma- or space-separated)"
                ) from None
    return rows

"""Loss and metrics of a model on a data set, in chunks, without gradients."""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqkit._plugins.task import Task


@torch.no_grad()
def evaluate(
    model: nn.Module, task: Task, x: Tensor, y: Tensor, chunk: int = 4096, prefix: str = ""
) -> dict[str, float]:
    """Mean loss and task metrics over `(x, y)`: each chunk's, weighted by the targets it
    scores (`Task.scored`). One sync at the end."""
    was_training = model.training
    model.eval()
    n = x.shape[0]
    scored = task.scored(y).reshape(n, -1).sum(1).double()
    total_scored = scored.sum().clamp_min(1)
    total: dict[str, Tensor] = {}
    for i in range(0, n, chunk):
        xb, yb = x[i : i + chunk], y[i : i + chunk]
        out = model(xb)
        w = scored[i : i + chunk].sum() / total_scored
        for key, value in {"loss": task.loss(out, yb), **task.metrics(out, yb)}.items():
            total[key] = total.get(key, 0) + value.detach() * w
    model.train(was_training)
    values = torch.stack(list(total.values())).tolist()
    return {prefix + key: float(v) for key, v in zip(total, values, strict=True)}

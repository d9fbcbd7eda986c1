"""Optimizers by name: torch's, with their usual spelling on the command line."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import torch

from seqkit._errors import UnknownNameError

OPTIMIZERS: dict[str, Any] = {
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adagrad": torch.optim.Adagrad,
}


def make_optimizer(
    name: str, params: Iterable[torch.nn.Parameter], lr: float, weight_decay: float = 0.0
) -> torch.optim.Optimizer:
    if name not in OPTIMIZERS:
        raise UnknownNameError("optimizer", name, OPTIMIZERS)
    optimizer: torch.optim.Optimizer = OPTIMIZERS[name](params, lr=lr, weight_decay=weight_decay)
    return optimizer


def make_schedule(
    name: str, optimizer: torch.optim.Optimizer, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """A per-step schedule: `cosine` decays the rate to 0 at `total_steps`; `constant`: None."""
    if name == "constant":
        return None
    total = max(total_steps, 1)
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))
    )


def learning_rates(
    name: str, lr: float, epochs: int, records: list[dict[str, float]]
) -> list[float]:
    """The rate `make_schedule` gives at each record's last step (`record["step"]`), for a
    run of `epochs` epochs starting at `lr`: what the loss plot draws beside the losses."""
    if not records:
        return []
    last = records[-1]
    per_epoch = last["step"] / max(last["epoch"], 1)
    probe = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr)
    schedule = make_schedule(name, probe, round(per_epoch * epochs))
    if schedule is None:
        return [lr] * len(records)
    factor = schedule.lr_lambdas[0]  # type: ignore[attr-defined]
    return [lr * factor(int(r["step"])) for r in records]

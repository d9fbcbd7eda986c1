"""Optimizers by name: torch's, with their usual spelling on the command line."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

from seqkit._core import schedules
from seqkit._core.errors import UnknownNameError

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
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: schedules.factor(name, step, total_steps)
    )

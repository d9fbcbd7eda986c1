"""Learning-rate schedules as plain functions of the step (no torch: the report draws
the schedule in a process that never imports it)."""

from __future__ import annotations

import math


def factor(name: str, step: int, total_steps: int) -> float:
    """The multiple of the base rate at `step`: `cosine` decays it to 0 at `total_steps`;
    `constant` keeps it."""
    if name == "constant":
        return 1.0
    total = max(total_steps, 1)
    return 0.5 * (1.0 + math.cos(math.pi * min(step, total) / total))


def learning_rates(
    name: str, lr: float, epochs: int, records: list[dict[str, float]]
) -> list[float]:
    """The rate at each record's last step (`record["step"]`), for a run of `epochs`
    epochs starting at `lr`: what the loss plot draws beside the losses."""
    if not records:
        return []
    last = records[-1]
    per_epoch = last["step"] / max(last["epoch"], 1)
    total = round(per_epoch * epochs)
    return [lr * factor(name, int(r["step"]), total) for r in records]

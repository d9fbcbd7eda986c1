"""Parameter-matched baselines: the hidden size that gives a cell a parameter budget.

The count is the built model's own (`sum(p.numel())` of the plan's cell inside the plan's
topology), so any cell, a third party's included, is matched without a formula.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from seqkit._core.errors import ConfigError
from seqkit._model.assemble import assemble
from seqkit._run.plan import Plan

TOLERANCE = 0.05
"""A matched count is within 5% of its target."""
MAX_HIDDEN = 1_000_000
"""RunConfig's largest hidden size: the search stops there."""


def parameter_count(the_plan: Plan, hidden_size: int) -> int:
    """Parameters of the plan's model at `hidden_size`. Built on torch's meta device
    (shapes only, no memory) where the cell allows it, else on the CPU."""

    def build() -> int:
        model = assemble(the_plan.cell, the_plan.topology, the_plan.task.io, hidden_size)
        return sum(p.numel() for p in model.parameters())

    try:
        with torch.device("meta"):
            return build()
    except Exception:  # a cell whose initialisation needs real numbers
        return build()


def hidden_size_for(count: Callable[[int], int], target: int, what: str) -> int:
    """The hidden size whose `count(h)` is nearest `target`, assuming `count` grows with h;
    ConfigError when even the nearest is more than 5% away. `what` names the cell."""
    if count(1) >= target:
        best = 1
    else:
        low, high = 1, 2  # count(low) < target
        while count(high) < target:
            if high >= MAX_HIDDEN or count(high) <= count(low):
                raise ConfigError(
                    f"{what}: no hidden size up to {high:,} reaches {target:,} parameters "
                    f"(at {high:,}: {count(high):,})"
                )
            low, high = high, min(2 * high, MAX_HIDDEN)
        while high - low > 1:  # count(low) < target <= count(high)
            mid = (low + high) // 2
            low, high = (mid, high) if count(mid) < target else (low, mid)
        best = min((low, high), key=lambda h: (abs(count(h) - target), h))
    if abs(count(best) - target) > TOLERANCE * target:
        raise ConfigError(
            f"{what}: the nearest parameter count to {target:,} is {count(best):,} "
            f"(hidden size {best}), more than {TOLERANCE:.0%} away; choose a larger budget"
        )
    return best

"""Numbers and shapes as the summary, the printed tables and the report show them."""

from __future__ import annotations

import math
from typing import Any

CHANCE_RULE = "best input-blind prediction"
"""What a chance level is unless the task says otherwise (`Task.chance_rule`)."""


def percent(ratio: float) -> str:
    """`ratio` as a percentage to 2 significant digits, without an exponent: 0.0018, 27,
    150; a nonzero ratio never shows as 0."""
    pct = ratio * 100
    if pct == 0 or not math.isfinite(pct):
        return f"{pct:g}"
    pct = float(f"{pct:.2g}")  # rounded first, so 0.0995 becomes 0.10, not 0.100
    decimals = max(0, 1 - math.floor(math.log10(abs(pct))))
    return f"{pct:.{decimals}f}"


def interval(mean: float, ci: list[float] | None) -> str:
    """`mean [low, high]`, or the mean alone where there is no interval (one seed)."""
    return f"{mean:.4g} [{ci[0]:.3g}, {ci[1]:.3g}]" if ci else f"{mean:.4g}"


def shape(dims: Any) -> str:
    """A shape as text: `(2, 3)`; nested shapes (a state) in brackets: `[(2, 3), (2, 3)]`."""
    if dims is None:
        return "None"
    if dims and all(isinstance(v, int) for v in dims):
        return "(" + ", ".join(map(str, dims)) + ")"
    if not dims:
        return "()"
    return "[" + ", ".join(shape(s) for s in dims) + "]"


def stage_io(stage: dict[str, Any]) -> str:
    """A stage of `seqkit.explain`'s record as `inputs -> outputs` shapes."""
    inputs = [s for s in stage["inputs"] if s is not None]
    ins = shape(inputs[0]) if len(inputs) == 1 else shape(inputs)
    outs = stage["outputs"]
    if isinstance(outs, list) and outs and not all(isinstance(v, int) for v in outs):
        out_text = (
            f"outputs {shape(outs[0])}, state {shape(outs[1])}" if len(outs) == 2 else shape(outs)
        )
    else:
        out_text = shape(outs)
    return f"{ins} -> {out_text}"

"""Losses, metrics, chance baselines and predictions for the three task kinds.

Outputs are `(B, T_out, K)`; regression and binary targets `(B, T_out, K)` (binary: 0/1
floats, K = 1, outputs are logits), classification targets `(B, T_out)` int64.

A target may be left unscored: IGNORE (-100) for classification, NaN for regression and
binary. That is how a padded step, or a position a task does not ask about (the queries
of associative recall), is marked: the loss, the metrics and the chance level read only
the scored targets, and a position no sequence scores counts for nothing.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # imported where a loss is computed: a task's class can be defined without it
    from torch import Tensor

LOSS_NAMES = {"regression": "MSE", "classification": "cross-entropy", "binary": "BCE-with-logits"}
HEADLINE_METRICS = {"regression": "mae", "classification": "accuracy", "binary": "accuracy"}
"""The metric of `metrics(kind, ...)` that comparisons report beside the loss."""
UNBOUNDED = (-math.inf, math.inf)
LOSS_RANGE = (0.0, math.inf)
"""Where `loss(kind, ...)` lies: MSE, cross-entropy and BCE are never below 0."""
METRIC_RANGES = {"mae": (0.0, math.inf), "accuracy": (0.0, 1.0)}
"""Where the metrics of `metrics(kind, ...)` lie."""


IGNORE = -100
"""A classification target that is not scored (torch's `ignore_index` default)."""


def scored(kind: str, y: Tensor) -> Tensor:
    """Which targets are scored: a bool tensor of `y`'s shape."""
    import torch

    return y != IGNORE if kind == "classification" else ~torch.isnan(y)


def _filled(out: Tensor, y: Tensor, mask: Tensor) -> Tensor:
    """`y` with each unscored target replaced by the output itself (detached), so that
    no NaN reaches the loss or its backward pass; `_mean` then leaves those positions
    out (for MSE their loss is 0 already, for BCE it is not, and the mask removes it)."""
    import torch

    return torch.where(mask, y, out.detach().to(y.dtype))


def _mean(values: Tensor, mask: Tensor) -> Tensor:
    """The mean of `values` over the scored positions (`mask`), 0 where none is."""
    return (values * mask).sum() / mask.sum().clamp_min(1)


def loss(kind: str, out: Tensor, y: Tensor, masked: bool = True) -> Tensor:
    """The kind's mean loss over the scored targets. `masked=False` (a task that scores
    every target) takes torch's plain mean, with no mask made at every training step."""
    import torch.nn.functional as F

    if not masked:
        if kind == "regression":
            return F.mse_loss(out, y)
        if kind == "classification":
            return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
        if kind == "binary":
            return F.binary_cross_entropy_with_logits(out, y)
        raise ValueError(f"unknown task kind {kind!r}")
    if kind == "classification":  # IGNORE is cross_entropy's own ignore_index: 0 there
        flat = y.reshape(-1)
        each = F.cross_entropy(out.reshape(-1, out.shape[-1]), flat, reduction="none")
        return each.sum() / (flat != IGNORE).sum().clamp_min(1)  # 0, not NaN, if none is
    mask = scored(kind, y)
    target = _filled(out, y, mask)
    if kind == "regression":
        return _mean(F.mse_loss(out, target, reduction="none"), mask)
    if kind == "binary":
        return _mean(F.binary_cross_entropy_with_logits(out, target, reduction="none"), mask)
    raise ValueError(f"unknown task kind {kind!r}")


def predict(kind: str, out: Tensor) -> Tensor:
    if kind == "classification":
        return out.argmax(-1)
    if kind == "binary":
        return (out > 0).to(out.dtype)
    return out


def metrics(kind: str, out: Tensor, y: Tensor, masked: bool = True) -> dict[str, Tensor]:
    """The kind's metrics over the scored targets (`masked=False`: over all of them)."""
    if not masked:
        if kind == "regression":
            return {"mae": (out - y).abs().mean()}
        return {"accuracy": (predict(kind, out) == y).float().mean()}
    mask = scored(kind, y)
    if kind == "regression":
        return {"mae": _mean((out - _filled(out, y, mask)).abs(), mask)}
    return {"accuracy": _mean((predict(kind, out) == y).float(), mask)}


def chance_loss(kind: str, y: Tensor) -> float:
    """The loss of the best predictor that ignores the input, per output position, over
    the scored targets (each position weighted by how many it scores)."""
    import torch.nn.functional as F

    mask = scored(kind, y).double()
    count = mask.sum(0)  # per position (and output channel)
    if kind == "classification":
        n_classes = max(int(y.max()) + 1, 1)
        onehot = F.one_hot(y.clamp_min(0), n_classes).double() * mask.unsqueeze(-1)
        freq = onehot.sum(0) / count.clamp_min(1).unsqueeze(-1)
        ent = -(freq * freq.clamp_min(1e-12).log()).sum(-1)
        return float((ent * count).sum() / count.sum().clamp_min(1))
    values = y.double().nan_to_num() * mask
    mean = values.sum(0) / count.clamp_min(1)
    if kind == "regression":
        # Predicting each position's mean: the loss is the variance around it.
        per = ((values - mean) ** 2 * mask).sum(0)
        return float(per.sum() / count.sum().clamp_min(1))
    if kind == "binary":
        p = mean.clamp(1e-12, 1 - 1e-12)
        ent = -(p * p.log() + (1 - p) * (1 - p).log())
        return float((ent * count).sum() / count.sum().clamp_min(1))
    raise ValueError(f"unknown task kind {kind!r}")


__all__ = ["IGNORE", "chance_loss", "loss", "metrics", "predict", "scored"]

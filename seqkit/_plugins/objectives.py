"""Losses, metrics, chance baselines and predictions for the three task kinds.

Outputs are `(B, T_out, K)`; regression and binary targets `(B, T_out, K)` (binary: 0/1
floats, K = 1, outputs are logits), classification targets `(B, T_out)` int64.
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


def loss(kind: str, out: Tensor, y: Tensor) -> Tensor:
    import torch.nn.functional as F

    if kind == "regression":
        return F.mse_loss(out, y)
    if kind == "classification":
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    if kind == "binary":
        return F.binary_cross_entropy_with_logits(out, y)
    raise ValueError(f"unknown task kind {kind!r}")


def predict(kind: str, out: Tensor) -> Tensor:
    if kind == "classification":
        return out.argmax(-1)
    if kind == "binary":
        return (out > 0).to(out.dtype)
    return out


def metrics(kind: str, out: Tensor, y: Tensor) -> dict[str, Tensor]:
    if kind == "regression":
        return {"mae": (out - y).abs().mean()}
    return {"accuracy": (predict(kind, out) == y).float().mean()}


def chance_loss(kind: str, y: Tensor) -> float:
    """The loss of the best predictor that ignores the input, per output position."""
    import torch.nn.functional as F

    if kind == "regression":
        # Predicting each position's mean: the loss is the variance around it.
        return float(y.double().var(dim=0, unbiased=False).mean())
    if kind == "binary":
        p = y.double().mean(dim=0).clamp(1e-12, 1 - 1e-12)
        return float((-(p * p.log() + (1 - p) * (1 - p).log())).mean())
    if kind == "classification":
        n_classes = int(y.max()) + 1
        freq = F.one_hot(y.reshape(y.shape[0], -1), n_classes).double().mean(dim=0)
        ent = -(freq * freq.clamp_min(1e-12).log()).sum(-1)
        return float(ent.mean())
    raise ValueError(f"unknown task kind {kind!r}")


__all__ = ["chance_loss", "loss", "metrics", "predict"]

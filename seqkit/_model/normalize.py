"""Standardisation of inputs and regression targets, carried inside the model.

The notebook's sum task sits at loss ~98 (the variance of the targets) for 2000
epochs because a default-initialised net outputs ~0 while targets are ~45: with inputs
and targets standardised from training statistics the net starts at the right scale.
The statistics are buffers, so a saved model predicts in the task's own units.

Only continuous input channels are standardised. A task declares its categorical
channels (one-hot symbols, markers, bits: `Task.categorical_inputs`) and those pass
unchanged: standardising a one-hot channel makes a rare symbol about sqrt(L) large, and
measured on recall L=30 that reorders the cells against the raw-input recipe of the
papers (see docs/reference.md, "Standardisation").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._core.config import RunConfig
from seqkit._plugins.data_task import DataTask
from seqkit._plugins.interfaces import ChunkedTopology, ChunkTargets
from seqkit._plugins.task import Task


class Standardized(nn.Module):
    """`inner` sees `(x - mean_x) / std_x`; its outputs are mapped back by `* std_y + mean_y`."""

    x_mean: Tensor
    x_std: Tensor
    y_mean: Tensor
    y_std: Tensor

    def __init__(
        self,
        inner: nn.Module,
        x: Tensor,
        y: Tensor | None,
        categorical: Sequence[int] | str = (),
        stats: Mapping[str, Tensor] | None = None,
    ) -> None:
        super().__init__()
        self.inner = inner
        given = stats or {}
        mean_x, std_x = (
            (given["x_mean"].clone(), given["x_std"].clone()) if "x_mean" in given else _stats(x)
        )
        kept = range(x.shape[-1]) if categorical == "all" else [int(c) for c in categorical]
        for channel in kept:  # a symbol, marker or bit: as it is
            mean_x[..., channel], std_x[..., channel] = 0.0, 1.0
        self.register_buffer("x_mean", mean_x)
        self.register_buffer("x_std", std_x)
        self.scale_output = y is not None
        if y is None:
            mean_y, std_y = torch.zeros(()), torch.ones(())
        elif "y_mean" in given:
            mean_y, std_y = given["y_mean"].clone(), given["y_std"].clone()
        else:
            mean_y, std_y = _stats(y)
        self.register_buffer("y_mean", mean_y)
        self.register_buffer("y_std", std_y)
        self._memo: list[tuple[tuple[Any, ...], Tensor, Tensor]] = []

    def forward(self, x: Tensor) -> Tensor:
        """`(B, T_in, D)` -> `(B, T_out, K)` in the task's units."""
        return self._unscale(self.inner(self._standardised(x)))

    def _standardised(self, x: Tensor) -> Tensor:
        """`(x - mean) / std`, computed once for an input seen again unchanged: full-batch
        training and validation pass the same tensors every epoch, and on the notebook's
        section 4 (T=20000) the two passes over the data were ~4% of an LSTM step.

        An input is the same when its memory, layout and version counter (bumped by any
        in-place write, on every view of the storage) are, and so are the statistics';
        the memo holds the input, so its memory cannot be reused while it is kept. Inputs
        that need a gradient, inference tensors, compiled graphs and traces are not memoised."""
        if (
            x.requires_grad
            or x.is_inference()
            or torch.compiler.is_compiling()
            or torch.jit.is_tracing()  # an export must record the arithmetic, not a memo
        ):
            return (x - self.x_mean) / self.x_std
        key = (
            x.data_ptr(), x.shape, x.stride(), x.dtype, x.device, x._version,
            self.x_mean.data_ptr(), self.x_mean._version, self.x_std._version,
        )  # fmt: skip
        for seen, _, out in self._memo:
            if seen == key:
                return out
        out = (x - self.x_mean) / self.x_std
        self._memo = [(key, x, out), *self._memo[:1]]  # the training and validation data
        return out

    def __getstate__(self) -> dict[str, Any]:
        """Copies and pickles leave the memo behind (it holds whole data sets)."""
        return {**super().__getstate__(), "_memo": []}

    @property
    def chunk_targets(self) -> ChunkTargets | None:
        """The inner topology's, when it is a ChunkedTopology (truncated BPTT)."""
        return self.inner.chunk_targets if isinstance(self.inner, ChunkedTopology) else None

    def forward_chunk(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """The inner topology's `forward_chunk` (truncated BPTT), in the task's units."""
        inner: Any = self.inner
        out, state = inner.forward_chunk((x - self.x_mean) / self.x_std, state)
        return self._unscale(out), state

    def _unscale(self, out: Tensor) -> Tensor:
        return out * self.y_std + self.y_mean if self.scale_output else out


def _stats(t: Tensor) -> tuple[Tensor, Tensor]:
    """Per-feature mean and std over batch and time, `(1, 1, F)`, of the values that are
    not NaN (a target NaN is not scored); a constant feature gets 1."""
    flat = t.detach().double().reshape(-1, t.shape[-1])
    if bool(flat.isnan().any()):
        mean = flat.nanmean(0).nan_to_num(0.0)  # a column never scored: 0, not NaN
        std = ((flat - mean) ** 2).nanmean(0).sqrt().nan_to_num(1.0)
    else:
        mean, std = flat.mean(0), flat.std(0, unbiased=False)
    std = torch.where(std > 1e-8, std, torch.ones_like(std))
    return mean.to(t.dtype).view(1, 1, -1), std.to(t.dtype).view(1, 1, -1)


def standardized(
    model: nn.Module, task: Task, train_x: Tensor, train_y: Tensor, config: RunConfig
) -> nn.Module:
    """`model` standardised with the training data's statistics (targets too for a
    regression task; the task's categorical input channels are left as they are), or
    `model` itself when the run's `normalize` is off."""
    if not config.normalize:
        return model
    regression = task.kind == "regression"
    # token ids are symbols whatever the task declares: standardised, they would be
    # other ids after the one-hot encoder truncates them
    categorical = "all" if task.io.input_tokens else getattr(task, "categorical_inputs", ())
    stats = task.statistics() if isinstance(task, DataTask) else None
    return Standardized(model, train_x, train_y if regression else None, categorical, stats)

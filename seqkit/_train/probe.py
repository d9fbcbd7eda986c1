"""`GradientProbe`: gradient diagnostics recorded during training, as a trainer callback.

At initialisation, every `every` epochs and at the end it measures the gradient flow
(`gradflow.gradient_flow`) on a fixed probe batch, the hidden-state norm over t, the
recurrent matrices' spectral radius and largest singular value and the mean keep
(forget) gate over t, for cells that offer `RecurrentMatrices` / `ForgetGates`.
At every step it keeps the global gradient norm before clipping and each parameter
group's norm, on the device, and reads them once per epoch.

Without this callback the training step does none of this work.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._plugins.interfaces import Callback, ForgetGates, RecurrentMatrices, TrainState
from seqkit._plugins.task import Task
from seqkit._train.gradflow import find_cell, gradient_flow

PROBE_SEED = 20_240_601
"""The probe batch's own generator seed: the same sequences at every record and run."""


def probe_batch(task: Task, size: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """The fixed probe batch: the same sequences at every record and in every run."""
    gen = torch.Generator(device=device).manual_seed(PROBE_SEED)
    return task.generate(size, gen, device)


def probe_model(
    model: nn.Module, task: Task, x: Tensor, y: Tensor, dtype: torch.dtype | None = None
) -> dict[str, Any]:
    """Gradient flow, hidden norms, and (where the cell offers them) the recurrent
    matrices' spectral radius and largest singular value and the keep gate over t."""
    entry = gradient_flow(model, task.loss, x, y, dtype).as_dict()
    cell = find_cell(model)
    if isinstance(cell, RecurrentMatrices):
        entry["recurrent"] = {name: spectrum(w) for name, w in cell.recurrent_matrices().items()}
    if isinstance(cell, ForgetGates):
        keep = cell.forget_gates(_cell_input(model, cell, x))
        if keep is not None:
            entry["keep_gate"] = [float(v) for v in keep]
    return entry


def spectrum(w: Tensor) -> dict[str, float]:
    """Spectral radius and largest singular value; NaN for a non-finite matrix (LAPACK
    must never see one: MKL's eigenvalue routine crashed the process on NaN weights)."""
    if not bool(torch.isfinite(w).all()):
        return {"spectral_radius": math.nan, "max_singular_value": math.nan}
    w = w.double()
    return {
        "spectral_radius": float(torch.linalg.eigvals(w).abs().max()),
        "max_singular_value": float(torch.linalg.svdvals(w)[0]),
    }


@torch.no_grad()
def _cell_input(model: nn.Module, cell: nn.Module, x: Tensor) -> Tensor:
    """What the cell itself reads (after any normalisation in the model)."""
    seen: dict[str, Tensor] = {}
    handle = cell.register_forward_pre_hook(
        lambda mod, args: seen.setdefault("x", args[0].detach())
    )
    try:
        model(x)
    finally:
        handle.remove()
    return seen["x"]


class GradientProbe(Callback):
    """Record gradient diagnostics; `as_dict()` gives everything as JSON-able data."""

    def __init__(
        self, every: int = 0, batch_size: int = 32, dtype: torch.dtype | None = None
    ) -> None:
        self.every, self.batch_size, self.dtype = every, batch_size, dtype
        self.records: list[dict[str, Any]] = []
        self.grad_norm: list[float] = []
        self.group_norms: dict[str, list[float]] = {}
        self._pending: list[Tensor] = []
        self._groups: list[str] = []
        self.clip: float | None = None

    def on_fit_start(self, state: TrainState) -> None:
        state.track_grad_norm = True
        self.clip = state.config.grad_clip
        device = next(state.model.parameters()).device
        self.x, self.y = probe_batch(state.task, self.batch_size, device)
        self._groups = [name for name, _ in state.model.named_parameters()]
        self.record(state.model, state.task, epoch=state.epoch)  # 0, or a resumed epoch

    def on_step_end(self, state: TrainState) -> None:
        grads = [p.grad for p in state.model.parameters() if p.grad is not None]
        if state.grad_norm is not None and len(grads) == len(self._groups):
            # One fused kernel for every group's norm; nothing is read until epoch end.
            norms = torch._foreach_norm(grads)
            self._pending.append(torch.stack([state.grad_norm.detach(), *norms]))

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        if self._pending:
            rows = torch.stack(self._pending).tolist()
            self._pending.clear()
            for row in rows:
                self.grad_norm.append(row[0])
                for name, value in zip(self._groups, row[1:], strict=True):
                    self.group_norms.setdefault(name, []).append(value)
        if self.every and state.epoch % self.every == 0 and state.epoch != state.epochs:
            self.record(state.model, state.task, state.epoch)

    def on_fit_end(self, state: TrainState) -> None:
        if not self.records or self.records[-1]["epoch"] != state.epoch:
            self.record(state.model, state.task, state.epoch)

    def record(self, model: nn.Module, task: Task, epoch: int) -> None:
        entry = probe_model(model, task, self.x, self.y, self.dtype)
        self.records.append({"epoch": epoch, **entry})

    def as_dict(self) -> dict[str, Any]:
        return {
            "probe_batch": self.batch_size,
            "records": self.records,
            "grad_norm": self.grad_norm,
            "grad_clip": self.clip,
            "group_norms": self.group_norms,
        }

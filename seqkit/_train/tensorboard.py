"""TensorBoard event files in the run directory (`--tensorboard`, an optional extra)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch

from seqkit._core.errors import ConfigError
from seqkit._plugins.interfaces import Callback, TrainState

INSTALL = "pip install 'seqkit[tensorboard]' (or: pip install tensorboard)"
SUBDIR = "tensorboard"


def require() -> None:
    """Raise ConfigError, saying how to get it, if TensorBoard cannot be imported."""
    try:
        from torch.utils.tensorboard import SummaryWriter  # noqa: F401
    except ImportError:
        raise ConfigError(f"--tensorboard needs the tensorboard package: {INSTALL}") from None


class TensorBoardLog(Callback):
    """Per epoch: losses, metrics, learning rate and the steps' gradient norms (mean and
    max before clipping), written under `run_dir/tensorboard` (`tensorboard --logdir`).

    Gradient norms stay on the device until the epoch ends, so steps are not synced."""

    def __init__(self, run_dir: Path, config: dict[str, Any]) -> None:
        self.dir, self.config = run_dir / SUBDIR, config
        self._norms: list[torch.Tensor] = []
        self.writer: Any = None

    def on_fit_start(self, state: TrainState) -> None:
        from torch.utils.tensorboard import SummaryWriter

        state.track_grad_norm = True
        self.writer = SummaryWriter(log_dir=str(self.dir), purge_step=state.epoch + 1)
        if state.epoch == 0:
            text = "    " + json.dumps(self.config, indent=2).replace("\n", "\n    ")
            self.writer.add_text("config", text, 0)

    def on_step_end(self, state: TrainState) -> None:
        if state.grad_norm is not None:
            self._norms.append(state.grad_norm.detach())

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        epoch = state.epoch
        for key, value in record.items():
            if key != "epoch":
                group = "loss" if key.endswith("loss") else "metrics"
                self.writer.add_scalar(f"{group}/{key}", value, epoch)
        self.writer.add_scalar("train/lr", state.optimizer.param_groups[0]["lr"], epoch)
        if self._norms:
            norms = torch.stack(self._norms).float()
            mean, top = norms.mean().item(), norms.max().item()
            self.writer.add_scalar("train/grad_norm_mean", mean, epoch)
            self.writer.add_scalar("train/grad_norm_max", top, epoch)
            self._norms.clear()
        self.writer.flush()

    def on_fit_end(self, state: TrainState) -> None:
        if self.writer is not None:
            self.writer.close()

"""Checkpoints: everything a run needs to continue, saved atomically and restored.

One `Checkpoint` is captured from the trainer's `TrainState` at an epoch's end and written
to `checkpoint.pt` as a plain dict of tensors and numbers (loaded back with
`weights_only=True`). On resume the runner restores the model, the data stream and
torch's RNG (`restore_run`), and the trainer restores its optimizer, schedule, scaler,
shuffling stream and history (`restore_training`), so the continued run equals one that
never stopped, bit for bit, on the same platform.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

import torch

from seqkit._core.errors import ConfigError
from seqkit._core.files import CHECKPOINT, load_tensors, save_tensors
from seqkit._plugins.interfaces import Callback, Data, TrainState
from seqkit._train import distributed


@dataclass
class Checkpoint:
    """The state of a run after `epoch` complete epochs."""

    epoch: int
    step: int
    history: list[dict[str, float]]
    model: dict[str, Any]
    optimizer: dict[str, Any]
    schedule: dict[str, Any] | None
    generator: torch.Tensor | None
    """The trainer's shuffling stream."""
    scaler: dict[str, Any] | None
    data_generator: torch.Tensor | None
    """The training data's stream (tasks with fresh data each epoch)."""
    torch_rng: torch.Tensor
    """torch's global RNG (dropout)."""
    processes: int = 1

    @classmethod
    def capture(cls, state: TrainState, data_generator: torch.Generator | None) -> Checkpoint:
        schedule, scaler = state.schedule, state.scaler
        return cls(
            epoch=state.epoch,
            step=state.step,
            history=list(state.history.epochs),
            model=state.model.state_dict(),
            optimizer=state.optimizer.state_dict(),
            schedule=schedule.state_dict() if schedule is not None else None,
            generator=state.generator.get_state() if state.generator is not None else None,
            scaler=scaler.state_dict() if scaler is not None else None,
            data_generator=data_generator.get_state() if data_generator is not None else None,
            torch_rng=torch.get_rng_state(),
            processes=distributed.world_size(),
        )

    def save(self, path: Path) -> None:
        save_tensors(path, asdict(self))

    @classmethod
    def load(cls, run_dir: Path, device: torch.device) -> Checkpoint:
        """The checkpoint in `run_dir`; ConfigError if it is missing or not seqkit's."""
        path = run_dir / CHECKPOINT
        if not path.is_file():
            raise ConfigError(f"--resume {run_dir}: no {CHECKPOINT} to continue from")
        payload = load_tensors(path, device)
        names = {f.name for f in fields(cls)}
        required = {f.name for f in fields(cls) if f.name != "processes"}
        if not isinstance(payload, dict) or not required <= set(payload):
            raise ConfigError(f"--resume {run_dir}: {CHECKPOINT} is not a seqkit checkpoint")
        return cls(**{k: v for k, v in payload.items() if k in names})

    def restore_run(self, model: torch.nn.Module, data: Data) -> None:
        """The run's part: model weights, the data stream, torch's global RNG."""
        model.load_state_dict(self.model)
        if data.generator is not None and self.data_generator is not None:
            data.generator.set_state(self.data_generator)
        torch.set_rng_state(self.torch_rng)

    def restore_training(self, state: TrainState) -> None:
        """The trainer's part, into `state`: optimizer, schedule, fp16 scaler, shuffling
        stream, history, epoch and step. Training continues at epoch `self.epoch + 1`."""
        state.optimizer.load_state_dict(self.optimizer)
        if state.schedule is not None and self.schedule is not None:
            state.schedule.load_state_dict(self.schedule)
        if state.scaler is not None and self.scaler is not None:
            state.scaler.load_state_dict(self.scaler)
        if state.generator is not None and self.generator is not None:
            state.generator.set_state(self.generator)
        state.history.epochs = list(self.history)
        state.step, state.epoch = self.step, self.epoch


class Checkpointer(Callback):
    """Writes `checkpoint.pt` at every `every`-th epoch's end and at the last epoch."""

    def __init__(self, path: Path, every: int, data_generator: torch.Generator | None):
        self.path, self.every, self.data_generator = path, every, data_generator

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        if (self.every and state.epoch % self.every == 0) or state.epoch == state.epochs:
            Checkpoint.capture(state, self.data_generator).save(self.path)

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
from seqkit._core.records import EPOCH_RECORD
from seqkit._core.schema import COUNT, POSITIVE, TEXT, Kind, check, list_of, optional, record
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
    run_id: str | None = None
    """The run it belongs to (None in checkpoints of older versions)."""
    source: Path | None = None
    """The file it was loaded from (not saved)."""

    @classmethod
    def capture(
        cls, state: TrainState, data_generator: torch.Generator | None, run_id: str | None = None
    ) -> Checkpoint:
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
            run_id=run_id,
        )

    def save(self, path: Path) -> None:
        save_tensors(path, {k: v for k, v in asdict(self).items() if k != "source"})

    @classmethod
    def load(cls, run_dir: Path, device: torch.device) -> Checkpoint:
        """The checkpoint in `run_dir`, its every field checked (`CHECKPOINT_RECORD`);
        ConfigError if it is missing, not seqkit's or damaged."""
        path = run_dir / CHECKPOINT
        if not path.is_file():
            raise ConfigError(f"--resume {run_dir}: no {CHECKPOINT} to continue from")
        payload = load_tensors(path, device)
        if not isinstance(payload, dict) or not {"epoch", "model", "torch_rng"} <= set(payload):
            raise ConfigError(f"--resume {run_dir}: {CHECKPOINT} is not a seqkit checkpoint")
        check(payload, CHECKPOINT_RECORD, str(path))
        if len(payload["history"]) != payload["epoch"]:
            raise ConfigError(
                f"{path}: field 'history' must hold one record per epoch, {payload['epoch']} "
                f"(got {len(payload['history'])})"
            )
        names = {f.name for f in fields(cls)} - {"source"}
        return cls(**{k: v for k, v in payload.items() if k in names}, source=path)

    def restore_run(self, model: torch.nn.Module, data: Data) -> None:
        """The run's part: model weights, the data stream, torch's global RNG. Weights of
        another model are a ConfigError naming the checkpoint's file."""
        fit_weights(model, self.model, self.source or Path(CHECKPOINT))
        if data.generator is not None and self.data_generator is not None:
            data.generator.set_state(self.data_generator)
        torch.set_rng_state(self.torch_rng)

    def restore_training(self, state: TrainState) -> None:
        """The trainer's part, into `state`: optimizer, schedule, fp16 scaler, shuffling
        stream, history, epoch and step. Training continues at epoch `self.epoch + 1`."""
        try:
            state.optimizer.load_state_dict(self.optimizer)
            if state.schedule is not None and self.schedule is not None:
                state.schedule.load_state_dict(self.schedule)
            if state.scaler is not None and self.scaler is not None:
                state.scaler.load_state_dict(self.scaler)
        except (KeyError, ValueError, TypeError, RuntimeError) as exc:
            raise ConfigError(
                f"{CHECKPOINT}: the optimizer's state does not fit this run's optimizer "
                f"({_first_line(exc)})"
            ) from None
        if state.generator is not None and self.generator is not None:
            state.generator.set_state(self.generator)
        state.history.epochs = list(self.history)
        state.step, state.epoch = self.step, self.epoch


def fit_weights(model: torch.nn.Module, weights: dict[str, Any], source: Path) -> None:
    """Load `weights` into `model`; weights of another model (another cell, size or
    topology) are a ConfigError naming `source`, the file they came from."""
    try:
        model.load_state_dict(weights)
    except (RuntimeError, TypeError, KeyError) as exc:
        raise ConfigError(
            f"{source} does not fit the model its config describes: {_first_line(exc)}"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _tensor(says: str, accepts: Any = lambda t: True) -> Kind:
    return Kind(says, lambda v: isinstance(v, torch.Tensor) and accepts(v))


_RNG_STATE = _tensor("a torch.uint8 tensor (a generator's state)", lambda t: t.dtype == torch.uint8)
CHECKPOINT_RECORD = record(
    {
        "epoch": POSITIVE,
        "step": COUNT,
        "history": list_of(EPOCH_RECORD),
        "model": Kind(
            "an object of tensors",
            lambda v: isinstance(v, dict) and all(isinstance(t, torch.Tensor) for t in v.values()),
        ),
        "optimizer": record(
            {
                "state": Kind("an object", lambda v: isinstance(v, dict)),
                "param_groups": list_of(record({"params": list_of(COUNT)})),
            }
        ),
        "schedule": optional(Kind("an object", lambda v: isinstance(v, dict))),
        "generator": optional(_RNG_STATE),
        "scaler": optional(Kind("an object", lambda v: isinstance(v, dict))),
        "data_generator": optional(_RNG_STATE),
        "torch_rng": _RNG_STATE,
    },
    {"processes": POSITIVE, "run_id": optional(TEXT)},
)
"""What checkpoint.pt holds (older checkpoints have no `processes` or `run_id`)."""


class Checkpointer(Callback):
    """Writes `checkpoint.pt` at every `every`-th epoch's end and at the last epoch."""

    def __init__(
        self,
        path: Path,
        every: int,
        data_generator: torch.Generator | None,
        run_id: str | None = None,
    ):
        self.path, self.every, self.data_generator = path, every, data_generator
        self.run_id = run_id

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        if (self.every and state.epoch % self.every == 0) or state.epoch == state.epochs:
            Checkpoint.capture(state, self.data_generator, self.run_id).save(self.path)

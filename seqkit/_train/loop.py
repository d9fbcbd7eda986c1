"""The training loop: epochs of optimizer steps, validation, events for callbacks.

`LoopTrainer` is the loop every built-in trainer is (`minibatch`, `fullbatch`) or builds
on (`ddp`); a third party's trainer subclasses it or composes it the same way, from the
public API. `Step` is one batch's forward passes and updates: autocast with a grad scaler
for fp16, torch.compile, clipping with the pre-clip norm kept on the device, truncated
BPTT. `Events` calls only the callbacks that override an event.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._core.config import RunConfig
from seqkit._core.seeds import SHUFFLE_SEED_OFFSET
from seqkit._model import tbptt
from seqkit._model.optim import make_optimizer, make_schedule
from seqkit._plugins.interfaces import Callback, Constrained, Data, History, TrainState
from seqkit._plugins.task import Task
from seqkit._train.checkpoint import Checkpoint
from seqkit._train.evaluate import evaluate


class Events:
    """Dispatches trainer events to the callbacks that override them (the rest cost nothing)."""

    def __init__(self, callbacks: list[Callback]) -> None:
        def wanting(event: str) -> list[Any]:
            return [
                getattr(cb, event)
                for cb in callbacks
                if getattr(type(cb), event, None) is not getattr(Callback, event)
            ]

        self.fit_start, self.epoch_start = wanting("on_fit_start"), wanting("on_epoch_start")
        self.step_start, self.step_end = wanting("on_step_start"), wanting("on_step_end")
        self.epoch_end, self.fit_end = wanting("on_epoch_end"), wanting("on_fit_end")


class LoopTrainer:
    """Epochs of optimizer steps over the training set, validation after each epoch.

    `batch_size=None` takes the whole training set in one step per epoch (the notebook's
    recipe). The per-epoch training loss is accumulated on the device and read once per
    epoch, so the training step forces no device sync. The run's `precision` (autocast,
    a grad scaler for fp16), `compile` and `tbptt` settings act here.

    Subclasses change how batches are drawn and reduced (the `ddp` trainer) by
    overriding `wrap`, `batches`, `batches_per_epoch`, `reduce_loss`, `validate`,
    `agree` and `interrupt_now`, and refuse settings they cannot honour in `check`.
    """

    distributed: bool = False
    """True for a trainer that runs as one of torchrun's processes (see `RunsDistributed`)."""

    def __init__(self, full_batch: bool = False, shuffle: bool = True) -> None:
        self.full_batch, self.shuffle = full_batch, shuffle

    def check(self, config: RunConfig) -> None:
        """Raise ConfigError for settings this trainer cannot honour (called by `plan`,
        before anything is written). The loop itself honours every RunConfig field."""

    # -- what a distributed subclass overrides ------------------------------------------
    def wrap(self, model: nn.Module) -> nn.Module:
        """The module whose forward the training step calls."""
        return model

    def batches(
        self, n: int, batch_size: int, gen: torch.Generator, device: torch.device
    ) -> Iterator[tuple[slice | Tensor, float]]:
        """Index sets into the training set, each with its loss weight (here 1)."""
        if self.full_batch or batch_size >= n:
            yield slice(None), 1.0
            return
        order = torch.randperm(n, generator=gen, device=device) if self.shuffle else None
        for i in range(0, n, batch_size):
            yield (
                (order[i : i + batch_size] if order is not None else slice(i, i + batch_size)),
                1.0,
            )

    def batches_per_epoch(self, n: int, batch_size: int) -> int:
        return 1 if self.full_batch else math.ceil(n / batch_size)

    def reduce_loss(self, total: Tensor, steps: int) -> float:
        """The epoch's mean training loss (one device sync)."""
        return float(total / steps)

    def validate(self, model: nn.Module, task: Task, data: Data) -> dict[str, float]:
        return evaluate(model, task, data.val_x, data.val_y, prefix="val_")

    def agree(self, state: TrainState) -> None:
        """Make every process agree on `state.stop` and `state.interrupt` at an epoch's
        end (one process: nothing to do)."""

    def interrupt_now(self, state: TrainState) -> bool:
        """Whether to leave the epoch after this batch, abandoning it (a signal arrived)."""
        return bool(state.interrupt)

    # -- the loop --------------------------------------------------------------------------
    def fit(
        self,
        model: nn.Module,
        data: Data,
        task: Task,
        config: RunConfig,
        callbacks: list[Callback],
        resume: Checkpoint | None = None,
    ) -> History:
        """Train `model` in place on `data` with the resolved `config`; `resume` continues
        a checkpointed run after its last complete epoch."""
        state, step = self.setup(model, data, task, config)
        if resume is not None:
            resume.restore_training(state)
        events = Events(callbacks)
        for fn in events.fit_start:
            fn(state)
        for epoch in range(state.epoch + 1, state.epochs + 1):
            state.epoch = epoch
            for fn in events.epoch_start:
                fn(state)
            record = self.run_epoch(state, step, data, events)
            if record is None:
                break
            state.history.epochs.append(record)
            for fn2 in events.epoch_end:
                fn2(state, record)
            self.agree(state)
            if state.interrupt:  # arrived after the epoch's last step: the epoch is kept
                state.history.stopped, state.history.interrupted = state.interrupt, True
                break
            if state.stop:
                state.history.stopped = state.stop
                break
        for fn in events.fit_end:
            fn(state)
        return state.history

    def setup(
        self, model: nn.Module, data: Data, task: Task, config: RunConfig
    ) -> tuple[TrainState, Step]:
        """The optimizer, schedule, shuffling stream and step for a fresh run."""
        device = data.train_x.device
        n, seq_len = data.train_x.shape[0], data.train_x.shape[1]
        batch_size, epochs = config.batch_size or n, config.epochs or 1
        opt = make_optimizer(
            config.optimizer or "adam", model.parameters(), config.lr or 1e-3, config.weight_decay
        )
        per_batch = tbptt.updates_per_batch(model, seq_len, config.tbptt)
        per_epoch = self.batches_per_epoch(n, batch_size) * per_batch
        state = TrainState(model, opt, task, config, History(), epochs, per_epoch)
        state.schedule = make_schedule(config.lr_schedule, opt, per_epoch * epochs)
        state.generator = torch.Generator(device=device).manual_seed(
            config.seed + SHUFFLE_SEED_OFFSET
        )
        step = Step(self.wrap(model), state, device)
        return state, step

    def run_epoch(
        self, state: TrainState, step: Step, data: Data, events: Events
    ) -> dict[str, float] | None:
        """One epoch's steps and validation: its record, or None when training stops
        inside it (a signal, a non-finite loss), with the reason in the history."""
        model, config, device = state.model, state.config, data.train_x.device
        assert state.generator is not None
        model.train()
        t0 = time.perf_counter()
        train_x, train_y = data.train_x, data.train_y
        if data.resample is not None and state.epoch > 1:
            train_x, train_y = data.resample(state.epoch)
        n = train_x.shape[0]
        total, batches = torch.zeros((), device=device), 0
        for idx, weight in self.batches(n, config.batch_size or n, state.generator, device):
            for loss, share in step.losses(train_x[idx], train_y[idx]):
                if loss is None:  # a truncated-BPTT chunk that scores nothing
                    step.skip()
                    continue
                for fn in events.step_start:
                    fn(state)
                step.update(loss * weight if weight != 1.0 else loss)
                total += loss.detach() * share
                for fn in events.step_end:
                    fn(state)
            batches += 1
            if self.interrupt_now(state):
                break
        if self.interrupt_now(state):  # the partial epoch is abandoned, not checkpointed
            state.history.stopped, state.history.interrupted = state.interrupt, True
            return None
        record: dict[str, float] = {
            "epoch": state.epoch,
            "step": state.step,
            "train_loss": self.reduce_loss(total, batches),  # waits for the steps
            "train_time": time.perf_counter() - t0,
        }
        if not math.isfinite(record["train_loss"]):
            state.history.stopped = (
                f"the training loss became {record['train_loss']} in epoch {state.epoch}"
            )
            state.history.non_finite = True
            return None
        record |= self.validate(model, state.task, data)
        record["epoch_time"] = time.perf_counter() - t0
        return record


AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


class Step:
    """One batch's forward passes and optimizer updates: autocast and the fp16 grad scaler,
    torch.compile, clipping (keeping the pre-clip norm on the device), truncated BPTT,
    and each `Constrained` module's `constrain()` after every update.

    `forward` is the module the step calls (the model, or its DDP wrapper). The optimizer,
    the schedule and the scaler are read from the TrainState at every update, so a trainer
    that sets its own in `setup` (after `LoopTrainer.setup`) runs what it set."""

    def __init__(self, forward: nn.Module, state: TrainState, device: torch.device) -> None:
        config = state.config
        self.dtype = AUTOCAST.get(config.precision)
        self.device_type = device.type
        if state.scaler is None and config.precision == "fp16":
            state.scaler = torch.amp.GradScaler(device.type)
        self.forward = torch.compile(forward) if config.compile else forward
        self.model, self.task, self.state = state.model, state.task, state
        self.chunk, self.clip = config.tbptt, config.grad_clip
        self.constrained = [m for m in self.model.modules() if isinstance(m, Constrained)]

    def autocast(self) -> Any:
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.dtype is not None)

    def losses(self, x: Tensor, y: Tensor) -> Iterator[tuple[Tensor | None, float]]:
        """Each loss to step on for batch `(x, y)`, with its share of the batch's loss;
        None for a truncated-BPTT chunk that scores nothing (see `skip`)."""
        if not self.chunk:
            with self.autocast():
                loss = self.task.loss(self.forward(x), y)
            yield loss, 1.0
            return
        scored = self.task.scored if self.task.partial_targets else None
        pieces = tbptt.chunks(self.model, x, y, self.chunk, scored)
        while True:
            with self.autocast():
                piece = next(pieces, None)
                if piece is None:
                    return
                out, target, share = piece
                if out is None or target is None:
                    yield None, 0.0
                    continue
                loss = self.task.loss(out, target)
            yield loss, share

    @property
    def scaler(self) -> torch.amp.GradScaler | None:
        return self.state.scaler

    def skip(self) -> None:
        """A planned update that has nothing to learn from (a chunk with no scored
        target): the schedule and the step count move on, the weights do not."""
        if self.state.schedule is not None:
            self.state.schedule.step()
        self.state.step += 1

    def update(self, loss: Tensor) -> None:
        state = self.state
        opt, schedule = state.optimizer, state.schedule
        opt.zero_grad(set_to_none=True)
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
        else:
            loss.backward()
        if self.clip or state.track_grad_norm:
            if self.scaler is not None:
                self.scaler.unscale_(opt)
            # The pre-clip global norm, kept on the device (no sync here).
            state.grad_norm = nn.utils.clip_grad_norm_(
                self.model.parameters(), self.clip or math.inf
            )
        if self.scaler is not None:
            self.scaler.step(opt)
            self.scaler.update()
        else:
            opt.step()
        if self.constrained:
            with torch.no_grad():
                for module in self.constrained:
                    module.constrain()
        if schedule is not None:
            if self.scaler is None:
                schedule.step()
            else:  # the scaler skips steps with inf gradients; the schedule moves on
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step")
                    schedule.step()
        state.step += 1
        state.loss = loss

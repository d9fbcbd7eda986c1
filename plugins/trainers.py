"""Built-in trainers: `minibatch` (the default) and `fullbatch` (the notebook's recipe)."""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from seqkit import _tbptt as tbptt
from seqkit import hookimpl
from seqkit._evaluate import evaluate
from seqkit._interfaces import Callback, Data, History, Task, TrainState
from seqkit._optim import make_optimizer, make_schedule
from seqkit._options import Option


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

    Subclasses change how batches are drawn and reduced (see `ddp`) by overriding
    `wrap`, `batches`, `reduce_loss`, `validate` and `agree`.
    """

    def __init__(self, full_batch: bool = False, shuffle: bool = True) -> None:
        self.full_batch, self.shuffle = full_batch, shuffle

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
        config: Any,
        callbacks: list[Callback],
        resume: dict[str, Any] | None = None,
    ) -> History:
        device = data.train_x.device
        opt = make_optimizer(config.optimizer, model.parameters(), config.lr, config.weight_decay)
        gen = torch.Generator(device=device).manual_seed(config.seed + 1)
        events = Events(callbacks)
        n, seq_len = data.train_x.shape[0], data.train_x.shape[1]
        chunk = getattr(config, "tbptt", 0)
        per_batch = tbptt.updates_per_batch(model, seq_len, chunk)
        per_epoch = self.batches_per_epoch(n, config.batch_size) * per_batch
        state = TrainState(model, opt, task, config, History(), config.epochs, per_epoch)
        schedule = make_schedule(config.lr_schedule, opt, per_epoch * config.epochs)
        step = Step(self.wrap(model), model, opt, schedule, task, config, state, device)
        state.schedule, state.generator, state.scaler = schedule, gen, step.scaler
        first = 1
        if resume is not None:
            opt.load_state_dict(resume["optimizer"])
            if schedule is not None and resume["schedule"] is not None:
                schedule.load_state_dict(resume["schedule"])
            if step.scaler is not None and resume.get("scaler") is not None:
                step.scaler.load_state_dict(resume["scaler"])
            gen.set_state(resume["generator"])
            state.history.epochs = list(resume["history"])
            state.step, state.epoch = resume["step"], resume["epoch"]
            first = resume["epoch"] + 1
        train_x, train_y = data.train_x, data.train_y
        for fn in events.fit_start:
            fn(state)
        for epoch in range(first, config.epochs + 1):
            state.epoch = epoch
            for fn in events.epoch_start:
                fn(state)
            model.train()
            t0 = time.perf_counter()
            if data.resample is not None and epoch > 1:
                train_x, train_y = data.resample(epoch)
            total, batches = torch.zeros((), device=device), 0
            for idx, weight in self.batches(n, config.batch_size, gen, device):
                for loss, share in step.losses(train_x[idx], train_y[idx]):
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
                state.history.stopped = state.interrupt
                state.history.interrupted = True
                break
            record: dict[str, float] = {
                "epoch": epoch,
                "step": state.step,
                "train_loss": self.reduce_loss(total, batches),  # waits for the steps
                "train_time": time.perf_counter() - t0,
            }
            if not math.isfinite(record["train_loss"]):
                state.history.stopped = (
                    f"the training loss became {record['train_loss']} in epoch {epoch}"
                )
                state.history.non_finite = True
                break
            record |= self.validate(model, task, data)
            record["epoch_time"] = time.perf_counter() - t0
            state.history.epochs.append(record)
            for fn2 in events.epoch_end:
                fn2(state, record)
            self.agree(state)
            if state.interrupt:  # arrived after the epoch's last step: the epoch is kept
                state.history.stopped = state.interrupt
                state.history.interrupted = True
                break
            if state.stop:
                state.history.stopped = state.stop
                break
        for fn in events.fit_end:
            fn(state)
        return state.history


AUTOCAST = {"bf16": torch.bfloat16, "fp16": torch.float16}


class Step:
    """One batch's forward passes and optimizer updates: autocast and the fp16 grad scaler,
    torch.compile, clipping (keeping the pre-clip norm on the device), truncated BPTT."""

    def __init__(
        self,
        forward: nn.Module,
        model: nn.Module,
        opt: torch.optim.Optimizer,
        schedule: Any,
        task: Task,
        config: Any,
        state: TrainState,
        device: torch.device,
    ) -> None:
        precision = getattr(config, "precision", "fp32")
        self.dtype = AUTOCAST.get(precision)
        self.device_type = device.type
        self.scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
        self.forward = torch.compile(forward) if getattr(config, "compile", False) else forward
        self.model, self.opt, self.schedule, self.task = model, opt, schedule, task
        self.chunk, self.clip, self.state = getattr(config, "tbptt", 0), config.grad_clip, state

    def autocast(self) -> Any:
        return torch.autocast(self.device_type, dtype=self.dtype, enabled=self.dtype is not None)

    def losses(self, x: Tensor, y: Tensor) -> Iterator[tuple[Tensor, float]]:
        """Each loss to step on for batch `(x, y)`, with its share of the batch's loss."""
        if not self.chunk:
            with self.autocast():
                loss = self.task.loss(self.forward(x), y)
            yield loss, 1.0
            return
        pieces = tbptt.chunks(self.model, x, y, self.chunk)
        while True:
            with self.autocast():
                piece = next(pieces, None)
                if piece is None:
                    return
                out, target, share = piece
                loss = self.task.loss(out, target)
            yield loss, share

    def update(self, loss: Tensor) -> None:
        state, opt = self.state, self.opt
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
        if self.schedule is not None:
            if self.scaler is None:
                self.schedule.step()
            else:  # the scaler skips steps with inf gradients; the schedule moves on
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "Detected call of `lr_scheduler.step")
                    self.schedule.step()
        state.step += 1
        state.loss = loss


def minibatch(shuffle: bool = True) -> LoopTrainer:
    """Shuffled mini-batches, validation each epoch."""
    return LoopTrainer(full_batch=False, shuffle=shuffle)


def fullbatch() -> LoopTrainer:
    """The notebook's recipe: every step sees the whole training set."""
    return LoopTrainer(full_batch=True)


@hookimpl
def register_trainers(register: Any) -> None:
    register(
        "minibatch",
        minibatch,
        description="shuffled mini-batches, validation each epoch",
        options={"shuffle": Option(True, "reshuffle every epoch")},
        default=True,
    )
    register(
        "fullbatch",
        fullbatch,
        description="one step per epoch on the whole training set (the notebook's recipe)",
    )
    from seqkit_plugins.ddp import ddp

    register(
        "ddp",
        ddp,
        description="DistributedDataParallel over torchrun's processes (--nproc N)",
        options={"shuffle": Option(True, "reshuffle every epoch")},
    )

"""Built-in trainers: `minibatch` (the default) and `fullbatch` (the notebook's recipe)."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import torch
from torch import Tensor, nn

from seqkit import hookimpl
from seqkit.evaluate import evaluate
from seqkit.interfaces import Callback, Data, History, Task, TrainState
from seqkit.optim import make_optimizer, make_schedule
from seqkit.options import Option


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
    epoch, so the training step forces no device sync.
    """

    def __init__(self, full_batch: bool = False, shuffle: bool = True) -> None:
        self.full_batch, self.shuffle = full_batch, shuffle

    def batches(
        self, n: int, batch_size: int, gen: torch.Generator, device: torch.device
    ) -> Iterator[slice | Tensor]:
        if self.full_batch or batch_size >= n:
            yield slice(None)
            return
        order = torch.randperm(n, generator=gen, device=device) if self.shuffle else None
        for i in range(0, n, batch_size):
            yield order[i : i + batch_size] if order is not None else slice(i, i + batch_size)

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
        n = data.train_x.shape[0]
        per_epoch = 1 if self.full_batch else math.ceil(n / config.batch_size)
        state = TrainState(model, opt, task, config, History(), config.epochs, per_epoch)
        schedule = make_schedule(config.lr_schedule, opt, per_epoch * config.epochs)
        state.schedule, state.generator = schedule, gen
        first = 1
        if resume is not None:
            opt.load_state_dict(resume["optimizer"])
            if schedule is not None and resume["schedule"] is not None:
                schedule.load_state_dict(resume["schedule"])
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
            total, steps = torch.zeros((), device=device), 0
            for idx in self.batches(n, config.batch_size, gen, device):
                for fn in events.step_start:
                    fn(state)
                loss = task.loss(model(train_x[idx]), train_y[idx])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip or state.track_grad_norm:
                    # The pre-clip global norm, kept on the device (no sync here).
                    state.grad_norm = nn.utils.clip_grad_norm_(
                        model.parameters(), config.grad_clip or math.inf
                    )
                opt.step()
                if schedule is not None:
                    schedule.step()
                total += loss.detach()
                steps += 1
                state.step += 1
                state.loss = loss
                for fn in events.step_end:
                    fn(state)
                if state.interrupt:
                    break
            if state.interrupt:  # the partial epoch is abandoned; its checkpoint is not
                state.history.stopped = state.interrupt
                state.history.interrupted = True
                break
            record: dict[str, float] = {
                "epoch": epoch,
                "step": state.step,
                "train_loss": float(total / steps),
            }
            if not math.isfinite(record["train_loss"]):
                state.history.stopped = (
                    f"the training loss became {record['train_loss']} in epoch {epoch}"
                )
                state.history.non_finite = True
                break
            record |= evaluate(model, task, data.val_x, data.val_y, prefix="val_")
            record["epoch_time"] = time.perf_counter() - t0
            state.history.epochs.append(record)
            for fn2 in events.epoch_end:
                fn2(state, record)
            if state.stop:
                state.history.stopped = state.stop
                break
        for fn in events.fit_end:
            fn(state)
        return state.history


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

"""The Trainer contract's checks: a tiny task learned, the events honoured, the schedule
the trainer holds run."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._contracts.cells import seeded
from seqkit._contracts.findings import Broken, Skipped
from seqkit._core.config import RunConfig
from seqkit._plugins.interfaces import Callback, Data, TrainState
from seqkit._plugins.registry import Entry
from seqkit._plugins.task import IOSpec, Task


# -- trainer checks: a tiny task, learned --------------------------------------------------------
class _MeanTask(Task):
    """The trainer checks' task: the mean of 4 numbers (regression, many-to-one)."""

    name = "mean-of-four"
    fresh_data = False

    @property
    def io(self) -> IOSpec:
        return IOSpec(1, 1, 4, 1)

    def inputs(self, n: int, generator: torch.Generator, device: torch.device) -> Tensor:
        return torch.randn(n, 4, 1, generator=generator, device=device)

    def targets(self, x: Tensor) -> Tensor:
        return x.mean(dim=1, keepdim=True)


class _LinearReader(nn.Module):
    """A minimal model for the trainer checks: a GRU and a head, `(B, 4, 1) -> (B, 1, 1)`."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = nn.GRU(1, 8, batch_first=True)
        self.head = nn.Linear(8, 1)

    def forward(self, x: Tensor) -> Tensor:
        out, _ = self.rnn(x)
        return self.head(out[:, -1:])


class _Recorder(Callback):
    def __init__(self, stop_at: int | None = None) -> None:
        self.events: list[str] = []
        self.stop_at = stop_at

    def on_fit_start(self, state: TrainState) -> None:
        self.events.append("fit_start")

    def on_epoch_start(self, state: TrainState) -> None:
        self.events.append("epoch_start")

    def on_step_end(self, state: TrainState) -> None:
        self.events.append("step")

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        self.events.append("epoch_end")
        if self.stop_at is not None and state.epoch >= self.stop_at:
            state.stop = "the check's callback stopped it"

    def on_fit_end(self, state: TrainState) -> None:
        self.events.append("fit_end")


@dataclass
class TrainerSubject:
    entry: Entry
    options: dict[str, Any]

    def fit(
        self, epochs: int, callbacks: list[Callback], schedule: str = "constant"
    ) -> tuple[Any, Data, Task]:
        task = _MeanTask(num_samples=256, val_samples=128)
        g = torch.Generator().manual_seed(0)
        data = Data(
            *task.generate(256, g, torch.device("cpu")), *task.generate(128, g, torch.device("cpu"))
        )
        config = RunConfig(
            task=task.name,
            cell="gru-in-the-check",
            topology="many-to-one-in-the-check",
            trainer=self.entry.name,
            hidden_size=8,
            epochs=epochs,
            lr=3e-2,
            batch_size=32,
            optimizer="adam",
            lr_schedule=schedule,
            device="cpu",
        )
        with seeded(0):
            model = _LinearReader()
        trainer = self.entry.factory(**self.options)
        history = trainer.fit(model, data, task, config, callbacks)
        return history, data, task


EPOCHS = 40
"""The trainer checks' budget: 40 epochs of 256 sequences (320 steps in batches of 32,
40 in full batches), at lr 0.03 with Adam."""


def trainer_reduces_the_loss(s: TrainerSubject) -> None:
    history, data, task = s.fit(EPOCHS, [])
    chance = task.chance_loss(data.train_y)
    last = history.last.get("val_loss")
    if last is None or not last < 0.2 * chance:
        raise Broken(
            f"after {EPOCHS} epochs on the mean of 4 numbers the validation loss is {last}, "
            f"not below 20% of chance ({chance:.3g})"
        )


def trainer_honours_the_events(s: TrainerSubject) -> None:
    recorder = _Recorder(stop_at=2)
    history, _, _ = s.fit(5, [recorder])
    e = recorder.events
    if e[:1] != ["fit_start"] or e[-1:] != ["fit_end"]:
        raise Broken(
            f"events must start with on_fit_start and end with on_fit_end, got {e[:1]}..{e[-1:]}"
        )
    if e.count("epoch_end") != 2 or len(history.epochs) != 2:
        raise Broken(
            f"a callback set state.stop after epoch 2 of 5: expected 2 epochs, got "
            f"{e.count('epoch_end')} epoch ends and {len(history.epochs)} records"
        )
    if e.count("step") < 2 or e.count("epoch_start") != 2:
        raise Broken("on_epoch_start and on_step_end must be called for every epoch and step")


class _Rates(Callback):
    """At every step's end: the learning rates the optimizer used and those the state's
    schedule says it set."""

    def __init__(self) -> None:
        self.seen: list[tuple[list[float], list[float] | None]] = []
        self.held = False

    def on_step_end(self, state: TrainState) -> None:
        used = [float(g["lr"]) for g in state.optimizer.param_groups]
        schedule = state.schedule
        readable = schedule is not None and callable(getattr(schedule, "get_last_lr", None))
        said = [float(r) for r in schedule.get_last_lr()] if readable else None
        self.seen.append((used, said))
        self.held = schedule is not None


def trainer_runs_the_schedule_it_holds(s: TrainerSubject) -> None:
    """The schedule in `state.schedule` is the one that moves the optimizer's learning
    rate: a trainer that sets its own in `setup` must not leave the loop stepping another
    (on a cosine schedule every step changes the rate, so a stale one shows at once), and
    one that holds none must not move the rate (a schedule stepped aside is not saved in
    checkpoints, so a resumed run would not continue it)."""
    rates = _Rates()
    s.fit(2, [rates], schedule="cosine")
    if not rates.seen:
        raise Broken("no step ended: on_step_end was never called")
    if rates.held and rates.seen[0][1] is None:
        raise Skipped("state.schedule has no get_last_lr(): its rates cannot be read")
    first = rates.seen[0][0]
    for i, (used, said) in enumerate(rates.seen, 1):
        if said is None and used != first:
            raise Broken(
                f"after step {i} the learning rate is {used[0]:.6g}, not {first[0]:.6g}, "
                "while state.schedule is None: a schedule stepped outside the state is "
                "not saved in checkpoints"
            )
        if said is not None and not all(
            math.isclose(u, v, rel_tol=1e-9) for u, v in zip(used, said, strict=False)
        ):
            raise Broken(
                f"after step {i} the optimizer's learning rate is {used[0]:.6g} but "
                f"state.schedule set {said[0]:.6g}: the loop steps another schedule than "
                "state.schedule, or state.schedule drives another optimizer than "
                "state.optimizer"
            )


TRAINER_CHECKS: dict[str, Callable[[Any], None]] = {
    "reduces_the_loss": trainer_reduces_the_loss,
    "honours_the_events": trainer_honours_the_events,
    "runs_the_schedule_it_holds": trainer_runs_the_schedule_it_holds,
}

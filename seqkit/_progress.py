"""Progress reporting as trainer callbacks: a bar on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from seqkit._interfaces import Callback, TrainState


class PlainProgress(Callback):
    """One line every `every` epochs and for the last epoch run, for logs and pipes."""

    def __init__(self, every: int, chance: float, stream: TextIO | None = None) -> None:
        self.every, self.chance = every, chance
        self.stream = stream or sys.stderr
        self.last: tuple[int, dict[str, float]] | None = None
        self.printed = 0

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        self.last = (state.epoch, record)
        if state.epoch % self.every == 0 or state.epoch == state.epochs:
            self._print(state, state.epoch, record)

    def on_fit_end(self, state: TrainState) -> None:
        if self.last is not None and self.printed != self.last[0]:  # stopped early
            self._print(state, *self.last)

    def _print(self, state: TrainState, epoch: int, record: dict[str, float]) -> None:
        width = len(str(state.epochs))
        print(
            f"epoch {epoch:>{width}}/{state.epochs}  train {record['train_loss']:.4g}"
            f"  val {record['val_loss']:.4g}  (chance {self.chance:.4g})",
            file=self.stream,
            flush=True,
        )
        self.printed = epoch


class BarProgress(Callback):
    """A tqdm bar over optimizer steps, showing the epoch and its losses.

    It reads no loss per step (that would force a device sync): losses appear as each
    epoch ends.
    """

    def __init__(self, chance: float) -> None:
        self.chance = chance
        self.bar: Any = None

    def on_fit_start(self, state: TrainState) -> None:
        from tqdm.auto import tqdm

        total = state.epochs * (state.steps_per_epoch or 1)
        self.bar = tqdm(total=total, unit="step", file=sys.stderr, dynamic_ncols=True)

    def on_step_end(self, state: TrainState) -> None:
        self.bar.update(1)

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        self.bar.set_description(f"epoch {state.epoch}/{state.epochs}", refresh=False)
        self.bar.set_postfix(
            train=f"{record['train_loss']:.4g}",
            val=f"{record['val_loss']:.4g}",
            chance=f"{self.chance:.3g}",
        )

    def on_fit_end(self, state: TrainState) -> None:
        if self.bar is not None:
            self.bar.close()

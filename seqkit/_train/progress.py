"""Progress reporting as trainer callbacks: a bar on a terminal or in Jupyter (tqdm.auto:
a widget there), plain lines otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TextIO

from seqkit._plugins.interfaces import Callback, TrainState


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
        bar = {"total": total, "unit": "step", "file": sys.stderr, "dynamic_ncols": True}
        try:
            self.bar = tqdm(**bar)
        except ImportError:  # Jupyter without ipywidgets: tqdm.auto has no widget to draw
            from tqdm.std import tqdm as text_bar

            self.bar = text_bar(**bar)

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


def in_notebook() -> bool:
    """Whether this is a Jupyter (or Colab) kernel, whose output cells show widgets."""
    shell = sys.modules.get("IPython")
    ipython = getattr(shell, "get_ipython", lambda: None)() if shell else None
    return ipython is not None and hasattr(ipython, "kernel")


def interactive_progress() -> Callable[[float], Callback] | None:
    """A bar for a library run where someone watches (Jupyter, a terminal); else None:
    a script's log or a test's output gets no bar."""
    if in_notebook() or sys.stderr.isatty():
        return BarProgress
    return None

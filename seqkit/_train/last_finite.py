"""The weights a run keeps after a non-finite loss: those at the end of its last epoch
whose loss was finite (or at the start, if the first epoch was not), not the NaN that
followed."""

from __future__ import annotations

from typing import Any

from torch import nn

from seqkit._plugins.interfaces import Callback, TrainState


class LastFinite(Callback):
    """A CPU copy of `model`'s weights at the fit's start and at each finished epoch's end
    (an epoch with a non-finite loss does not end); `restore()` puts them back."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model  # the run's own module, not a trainer's wrapper around it
        self.weights: dict[str, Any] | None = None

    def on_fit_start(self, state: TrainState) -> None:
        self.keep()

    def on_epoch_end(self, state: TrainState, record: dict[str, float]) -> None:
        self.keep()

    def keep(self) -> None:
        self.weights = {
            k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()
        }

    def restore(self) -> None:
        if self.weights is not None:
            self.model.load_state_dict(self.weights)

"""A third-party trainer, written from docs/plugins.md with the public API alone.

`early-stopping` is seqkit's loop (`seqkit.LoopTrainer`) plus a callback that ends
training once the validation loss has not improved by `min_delta` for `patience`
epochs, and puts the best epoch's weights back. Use it in process:

    import seqkit, early_stopping
    registry = seqkit.load_registry(plugins=[early_stopping])
    seqkit.run(cell="gru", task="sum", trainer="early-stopping", registry=registry)

or, packaged, through an entry point in the `seqkit` group (see seqkit-mingru).
"""

from __future__ import annotations

import copy
from typing import Any

import seqkit


class EarlyStop(seqkit.Callback):
    """Stops after `patience` epochs without a better `val_loss`; keeps the best weights."""

    def __init__(self, patience: int, min_delta: float) -> None:
        self.patience, self.min_delta = patience, min_delta
        self.best, self.best_epoch, self.best_state = float("inf"), 0, None

    def on_epoch_end(self, state: seqkit.TrainState, record: dict[str, float]) -> None:
        if record["val_loss"] < self.best - self.min_delta:
            self.best, self.best_epoch = record["val_loss"], state.epoch
            self.best_state = copy.deepcopy(state.model.state_dict())
        elif state.epoch - self.best_epoch >= self.patience:
            state.stop = (
                f"no better val_loss for {self.patience} epochs (best: epoch {self.best_epoch})"
            )

    def on_fit_end(self, state: seqkit.TrainState) -> None:
        if self.best_state is not None:
            state.model.load_state_dict(self.best_state)


class EarlyStoppingTrainer(seqkit.LoopTrainer):
    """seqkit's loop with early stopping on the validation loss."""

    def __init__(self, patience: int = 3, min_delta: float = 0.0) -> None:
        super().__init__()
        self.patience, self.min_delta = patience, min_delta

    def check(self, config: seqkit.RunConfig) -> None:
        if config.epochs is not None and config.epochs <= self.patience:
            raise seqkit.ConfigError(
                f"trainer 'early-stopping': patience ({self.patience}) must be below "
                f"--epochs ({config.epochs}), or it never stops early"
            )

    def fit(
        self,
        model: Any,
        data: seqkit.Data,
        task: seqkit.Task,
        config: seqkit.RunConfig,
        callbacks: list[seqkit.Callback],
        resume: seqkit.Checkpoint | None = None,
    ) -> seqkit.History:
        stop = EarlyStop(self.patience, self.min_delta)
        return super().fit(model, data, task, config, [*callbacks, stop], resume)


@seqkit.hookimpl
def register_trainers(register: Any) -> None:
    register(
        "early-stopping",
        EarlyStoppingTrainer,
        description="seqkit's loop, stopping when the validation loss stops improving",
        options={
            "patience": seqkit.Option(3, "epochs without improvement before stopping", min=1),
            "min_delta": seqkit.Option(0.0, "the smallest decrease that counts", min=0.0),
        },
    )

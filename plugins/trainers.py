"""Built-in trainers: `minibatch` (the default), `fullbatch` (the notebook's recipe) and
`ddp` (DistributedDataParallel under torchrun). The loop itself is the core's
`seqkit.LoopTrainer`; each trainer here is a configuration of it or a subclass."""

from __future__ import annotations

from typing import Any

from seqkit import LoopTrainer, Option, hookimpl

SEQKIT_API = 1
"""The seqkit plugin API this plugin is written for."""


def minibatch(shuffle: bool = True) -> LoopTrainer:
    """Shuffled mini-batches, validation each epoch."""
    return LoopTrainer(full_batch=False, shuffle=shuffle)


def fullbatch() -> LoopTrainer:
    """The notebook's recipe: every step sees the whole training set."""
    return LoopTrainer(full_batch=True)


def ddp(shuffle: bool = True) -> LoopTrainer:
    """DistributedDataParallel across torchrun's processes; batch size per process."""
    from seqkit_plugins.ddp import DDPTrainer  # torch.distributed only when it is used

    return DDPTrainer(shuffle=shuffle)


@hookimpl
def register_trainers(register: Any) -> None:
    shuffle = {"shuffle": Option(True, "reshuffle the training set every epoch")}
    register(
        "minibatch",
        minibatch,
        description="shuffled mini-batches, validation each epoch",
        options=shuffle,
        default=True,
    )
    register(
        "fullbatch",
        fullbatch,
        description="one step per epoch on the whole training set (the notebook's recipe)",
    )
    register(
        "ddp",
        ddp,
        description="DistributedDataParallel over torchrun's processes (--nproc N)",
        options=shuffle,
    )

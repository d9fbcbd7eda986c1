"""Built-in trainers: `minibatch` (the default), `fullbatch` (the notebook's recipe) and
`ddp` (DistributedDataParallel under torchrun). The loop itself is the core's
`seqkit.LoopTrainer`; the factories, in `seqkit_plugins.loops`, configure or subclass it
and are imported when a trainer is first built."""

from __future__ import annotations

from typing import Any

from seqkit import Option, hookimpl, lazy

SEQKIT_API = 1
"""The seqkit plugin API this plugin is written for."""


@hookimpl
def register_trainers(register: Any) -> None:
    shuffle = {"shuffle": Option(True, "reshuffle the training set every epoch")}
    register(
        "minibatch",
        lazy("seqkit_plugins.loops:minibatch"),
        description="shuffled mini-batches, validation each epoch",
        options=shuffle,
        default=True,
    )
    register(
        "fullbatch",
        lazy("seqkit_plugins.loops:fullbatch"),
        description="one step per epoch on the whole training set (the notebook's recipe)",
    )
    register(
        "ddp",
        lazy("seqkit_plugins.loops:ddp"),
        description="DistributedDataParallel over torchrun's processes (--nproc N)",
        options=shuffle,
    )

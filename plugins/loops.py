"""The built-in trainers' factories: configurations of the core's `seqkit.LoopTrainer`
(and, for `ddp`, its subclass in `seqkit_plugins.ddp`). `seqkit_plugins.trainers`
registers them; this module is imported, with torch, when a trainer is first built."""

from __future__ import annotations

from seqkit import LoopTrainer


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

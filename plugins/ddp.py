"""The `ddp` trainer: DistributedDataParallel over torch.distributed, started by torchrun.

    torchrun --nproc_per_node=2 -m seqkit run --trainer ddp --cell lstm --task sum
    seqkit run --trainer ddp --nproc 2 --cell lstm --task sum   # the same, via torchrun

Every rank builds the same data from the run seed and the same shuffled order from the
trainer's seed; each global batch of `batch_size x world` sequences is split across the
ranks (`--batch-size` is per rank), and each rank's loss is weighted by its share, so
DDP's gradient average equals the gradient of the global batch's mean loss: a 2-process
run with batch b takes the same steps as a 1-process run with batch 2b. Training loss
and validation metrics are reduced across ranks; rank 0 alone writes (see the runner).
The backend is `nccl` on CUDA and `gloo` otherwise. Without torchrun it runs as a
single process (a world of one).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import torch
import torch.distributed as dist
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel

from seqkit import (
    Callback,
    Checkpoint,
    ConfigError,
    Data,
    History,
    LoopTrainer,
    RunConfig,
    Task,
    TrainState,
    evaluate,
    launched_by_torchrun,
)


class DDPTrainer(LoopTrainer):
    """LoopTrainer with the model in DistributedDataParallel and batches split by rank."""

    distributed = True

    def __init__(self, shuffle: bool = True) -> None:
        super().__init__(full_batch=False, shuffle=shuffle)
        self.rank, self.world = 0, 1
        self.device = torch.device("cpu")

    def fit(
        self,
        model: nn.Module,
        data: Data,
        task: Task,
        config: RunConfig,
        callbacks: list[Callback],
        resume: Checkpoint | None = None,
    ) -> History:
        self.check(config)
        self.device = data.train_x.device
        created = not dist.is_initialized()
        if created:
            init_process_group(self.device)
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        try:
            history = super().fit(model, data, task, config, callbacks, resume)
            dist.barrier()  # no rank leaves while another still communicates
            return history
        finally:
            if created:
                # DDP's reducer (inside reference cycles) must go before the group does:
                # freed later, at interpreter exit, it aborted a worker (SIGABRT, ~1 in 8).
                gc.collect()
                dist.destroy_process_group()

    def check(self, config: RunConfig) -> None:
        """Settings this trainer cannot honour, refused before the run starts."""
        if config.tbptt:
            raise ConfigError("the ddp trainer does not support --tbptt yet; use minibatch")

    def wrap(self, model: nn.Module) -> nn.Module:
        ids = [self.device.index] if self.device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def batches(
        self, n: int, batch_size: int, gen: torch.Generator, device: torch.device
    ) -> Iterator[tuple[slice | Tensor, float]]:
        """This rank's part of each global batch, and the weight that makes the average
        of the ranks' gradients the gradient of the global batch's mean loss."""
        size = batch_size * self.world
        order = (
            torch.randperm(n, generator=gen, device=device)
            if self.shuffle
            else torch.arange(n, device=device)
        )
        for i in range(0, n, size):
            batch = order[i : i + size]
            if batch.numel() < self.world:  # too few to give every rank one: dropped
                break
            part = batch.tensor_split(self.world)[self.rank]
            yield part, part.numel() * self.world / batch.numel()

    def batches_per_epoch(self, n: int, batch_size: int) -> int:
        size = batch_size * self.world
        return n // size + (1 if n % size >= self.world else 0)

    def reduce_loss(self, total: Tensor, steps: int) -> float:
        total = total.clone()
        dist.all_reduce(total)
        return float(total / (steps * self.world))

    def validate(self, model: nn.Module, task: Task, data: Data) -> dict[str, float]:
        """Each rank evaluates its share of the validation set; the means are combined."""
        x = data.val_x.tensor_split(self.world)[self.rank]
        y = data.val_y.tensor_split(self.world)[self.rank]
        share = x.shape[0]
        if not share:  # fewer validation sequences than processes: the keys, weight 0
            x, y = data.val_x[:1], data.val_y[:1]
        local = evaluate(model, task, x, y, prefix="val_")
        keys = sorted(local)
        sums = torch.tensor(
            [local[k] * share for k in keys], dtype=torch.float64, device=self.device
        )
        dist.all_reduce(sums)
        return dict(zip(keys, (sums / data.val_x.shape[0]).tolist(), strict=True))

    def agree(self, state: TrainState) -> None:
        flags = torch.tensor(
            [bool(state.stop), bool(state.interrupt)], dtype=torch.int32, device=self.device
        )
        dist.all_reduce(flags, op=dist.ReduceOp.MAX)
        stop, interrupt = flags.tolist()
        if stop and not state.stop:
            state.stop = "another process stopped training"
        if interrupt and not state.interrupt:
            state.interrupt = "was interrupted on another process"

    def interrupt_now(self, state: TrainState) -> bool:
        # With several processes a signal is acted on at the epoch's end, where `agree`
        # runs: the ranks must leave together, and the finished epoch is kept.
        return self.world == 1 and bool(state.interrupt)


def init_process_group(device: torch.device) -> None:
    """Join torchrun's job (its env:// rendezvous), or form a world of one without it."""
    backend = "nccl" if device.type == "cuda" else "gloo"
    if launched_by_torchrun():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group(backend)
    else:
        dist.init_process_group(backend, store=dist.HashStore(), rank=0, world_size=1)

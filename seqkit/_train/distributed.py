"""Where this process stands in a torch.distributed job started by torchrun.

torchrun gives every worker RANK, LOCAL_RANK and WORLD_SIZE in its environment; seqkit
reads them here, before any process group exists, so that only rank 0 prints and writes.
The process group itself is the `ddp` trainer's business.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def launched() -> bool:
    """Whether torchrun (or another env:// launcher) started this process."""
    return "WORLD_SIZE" in os.environ


def world_size() -> int:
    """Processes in the job: WORLD_SIZE, 1 when not started by torchrun."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank() -> int:
    """This process's global rank: RANK, 0 when not started by torchrun."""
    return int(os.environ.get("RANK", "0"))


def is_main() -> bool:
    """Whether this process prints, writes the run directory and checkpoints."""
    return rank() == 0


def local_device(device: torch.device) -> torch.device:
    """Under torchrun, a bare `cuda` means this worker's own GPU, `cuda:LOCAL_RANK`."""
    import torch

    if device.type == "cuda" and device.index is None and "LOCAL_RANK" in os.environ:
        return torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return device

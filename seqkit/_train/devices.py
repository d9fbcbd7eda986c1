"""Device choice: `auto`, `cpu`, `cuda[:N]`, `mps`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

from seqkit._core.errors import ConfigError

ALLOWED = "auto, cpu, cuda, cuda:N, mps"


def resolve_device(name: str) -> torch.device:
    """The torch device for `name`, or a ConfigError if it is unknown or not present."""
    if not isinstance(name, str):  # from a config file: `device = 5`
        raise ConfigError(f"--device must be one of {ALLOWED} (got {name!r})")
    name = name.strip().lower()
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "mps":
        if not torch.backends.mps.is_available():
            raise ConfigError("--device mps: no Apple MPS device here; use cpu or auto")
        return torch.device("mps")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {name}: no CUDA device here; use cpu or auto")
        index = name.partition(":")[2]
        if index and (not index.isdigit() or int(index) >= torch.cuda.device_count()):
            raise ConfigError(
                f"--device {name}: there are {torch.cuda.device_count()} CUDA devices"
            )
        return torch.device(name)
    raise ConfigError(f"unknown device '{name}'; allowed: {ALLOWED}")


@contextmanager
def kept_rng(device: torch.device) -> Iterator[None]:
    """torch's global random streams of the CPU and of `device` are, after the block, as
    they were before it (what a library call owes its caller)."""
    with torch.random.fork_rng(devices=[device] if device.type == "cuda" else []):
        if device.type != "mps":
            yield
            return
        state = torch.mps.get_rng_state()
        try:
            yield
        finally:
            torch.mps.set_rng_state(state)


def seed_rng(device: torch.device, seed: int) -> None:
    """Seed torch's global streams of the CPU and of `device` alone (`torch.manual_seed`
    would reseed every GPU, which `kept_rng(device)` does not give back)."""
    torch.random.default_generator.manual_seed(seed)
    if device.type == "cuda":
        with torch.cuda.device(device):
            torch.cuda.manual_seed(seed)
    elif device.type == "mps":
        torch.mps.manual_seed(seed)

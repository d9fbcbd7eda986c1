"""Device choice: `auto`, `cpu`, `cuda[:N]`, `mps`."""

from __future__ import annotations

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

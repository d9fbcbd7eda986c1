"""MNIST-1D (Greydanus 2020, "Scaling down deep learning"): ten 1-D templates, shifted,
scaled, sheared and noised into sequences of 40 steps, 10 classes. The `mnist1d` package
generates it from its templates with no download (`pip install 'seqkit[mnist1d]'`).

The package seeds numpy's and Python's global generators and imports pyplot, so the data
are made in a child process: the caller's process is left as it was. The package's
split is kept: its 4,000 training sequences (the last `val_samples` of them held out
for validation) and its 1,000 test sequences, scored once.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from seqkit import ConfigError, DataTask, IOSpec, Splits

MAKE = """
import json, sys
import numpy as np
from mnist1d.data import get_dataset_args, make_dataset
args = get_dataset_args()
for key, value in json.loads(sys.argv[1]).items():
    setattr(args, key, value)
data = make_dataset(args)
np.savez(sys.argv[2], x=data["x"], y=data["y"], x_test=data["x_test"], y_test=data["y_test"])
"""
"""What the child process runs: the package's own `make_dataset`, its arguments as given."""


class MNIST1D(DataTask):
    """Classify an MNIST-1D sequence (40 steps, 1 feature) into one of 10 digits."""

    name = "mnist1d"
    kind = "classification"
    default_topology = "many-to-one"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 6,
        "epochs": 200,  # 8,000 steps of 100, the paper's GRU budget
        "lr": 1e-2,
        "batch_size": 100,
        "normalize": False,  # the package centres and scales the data itself
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.shuffle_seq: bool = options.get("shuffle_seq", False)
        self.seed: int = options.get("seed", 42)
        self.val: int = options.get("val_samples", 500)
        self._made: dict[str, np.ndarray] | None = None

    @property
    def split_rule(self) -> str:  # type: ignore[override]
        return (
            f"the package's split: its first {4000 - self.val:,} training sequences train, "
            f"the last {self.val:,} validate, its 1,000 test sequences are the test"
        )

    @property
    def io(self) -> IOSpec:
        return IOSpec(1, 10, 40, 1)

    def arguments(self) -> dict[str, Any]:
        """The `make_dataset` arguments that differ from the package's defaults."""
        return {"shuffle_seq": self.shuffle_seq, "seed": self.seed}

    def made(self) -> dict[str, np.ndarray]:
        """The package's data set, made once in a child process."""
        if self._made is None:
            with tempfile.TemporaryDirectory(prefix="seqkit-mnist1d-") as tmp:
                out = Path(tmp) / "data.npz"
                proc = subprocess.run(
                    [sys.executable, "-c", MAKE, json.dumps(self.arguments()), str(out)],
                    capture_output=True,
                    text=True,
                    check=False,
                )
                if proc.returncode != 0:
                    missing = "No module named 'mnist1d'" in proc.stderr
                    raise ConfigError(
                        "task 'mnist1d' needs the mnist1d package: pip install 'seqkit[mnist1d]'"
                        if missing
                        else "task 'mnist1d': the mnist1d package failed to make the data: "
                        + (proc.stderr.strip().splitlines() or ["no message"])[-1]
                    )
                with np.load(out) as data:
                    self._made = {k: data[k] for k in data.files}
        return self._made

    def identity(self) -> dict[str, Any]:
        made = self.made()
        digest = hashlib.sha256()
        for key in sorted(made):
            digest.update(np.ascontiguousarray(made[key]).tobytes())
        return {
            "path": "mnist1d:" + json.dumps(self.arguments(), sort_keys=True),
            "bytes": int(sum(a.nbytes for a in made.values())),
            "sha256": digest.hexdigest(),
        }

    def load(self) -> Splits:
        made = self.made()
        x, y = made["x"], made["y"]
        if not 1 <= self.val < x.shape[0]:
            raise ConfigError(
                f"task option 'val_samples' must leave training sequences: 1..{x.shape[0] - 1}"
            )
        cut = x.shape[0] - self.val
        return Splits(
            _pair(x[:cut], y[:cut]), _pair(x[cut:], y[cut:]), _pair(made["x_test"], made["y_test"])
        )

    def solved(self, metrics: dict[str, float]) -> bool | None:
        return None  # the paper reports accuracy; there is no success threshold


def _pair(x: np.ndarray, y: np.ndarray) -> tuple[Tensor, Tensor]:
    return (
        torch.from_numpy(x.astype(np.float32)).unsqueeze(-1),
        torch.from_numpy(y.astype(np.int64)).view(-1, 1),
    )


__all__ = ["MNIST1D"]

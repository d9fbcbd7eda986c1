"""What a data-backed task is: fixed train / validation / test splits read from data,
instead of inputs drawn from a generator (`DataTask`).

The core asks every task for its splits the same way (`Task.split`); a data-backed task
reads its data once, on first use, and answers from it whatever the seed. Everything it
must declare besides (how the split was made, the identity of its data, the baselines
that set its chance level) is computed from the training split alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from seqkit._core.errors import ConfigError
from seqkit._core.options import Option
from seqkit._plugins import objectives
from seqkit._plugins.task import SplitName, Task

if TYPE_CHECKING:
    from pathlib import Path

    import torch
    from torch import Tensor

PROBES = 3
"""How many validation sequences a run prints as examples."""


@dataclass(frozen=True)
class Splits:
    """Inputs and targets of each split: `(X, Y)` pairs, batch first, on the CPU. They
    may be views of one array (a text's windows share its ids)."""

    train: tuple[Tensor, Tensor]
    val: tuple[Tensor, Tensor]
    test: tuple[Tensor, Tensor]


class DataTask(Task):
    """A task backed by fixed data. Subclass it, set the class attributes a `Task` has,
    and implement `load` (read the data, split it) and `identity` (what the run records
    of the data); `io` and the rest are a `Task`'s.

    The data are read on first use and kept for the task's lifetime. `generate(n, g)`
    draws `n` training sequences with `g` (contract checks, `explain`, the gradient
    probe); a run trains on the whole training split, selects on the validation split
    and is scored once on the test split.
    """

    options: ClassVar[dict[str, Option]] = {}
    split_rule: ClassVar[str] = ""
    """How the data were split, in words (`"chronological: first 90% train, next 5%
    validation, last 5% test"`); the run's summary (`summary.json`) records it."""

    def __init__(self, **options: Any) -> None:
        self.opts: dict[str, Any] = dict(options)
        self._splits: Splits | None = None
        self.recorded: dict[str, Any] | None = None
        """For a finished run loaded to use its model: the identity it recorded
        (`identity()` then), from which the task rebuilds what the model needs (a
        vocabulary, column names, sizes) without reading its data."""

    # -- what a data-backed task defines -----------------------------------------------
    def load(self) -> Splits:
        """Read the data and split them; raise ConfigError naming what is wrong."""
        raise NotImplementedError

    def identity(self) -> dict[str, Any]:
        """What the run records of its data (`config.json`'s `data`): for a file, its
        path, size, modification time and content hash (`seqkit.file_identity`), and
        whatever the model needs to be rebuilt without the data (a vocabulary)."""
        return {}

    def baselines(self) -> dict[str, float]:
        """Named losses of simple predictors on the training split that may see the input
        (a forecast's persistence); the chance level is the best of these and the best
        input-blind prediction."""
        return {}

    def statistics(self) -> dict[str, Tensor] | None:
        """Standardisation statistics from the training split, each `(1, 1, F)`:
        `x_mean`, `x_std` (and `y_mean`, `y_std` for regression), for a task whose
        windows overlap (a series: every row is in `input_len` windows, and the windows
        are views that statistics over them would copy). None: seqkit computes them over
        the training inputs and targets."""
        return None

    def example(self, directory: Path) -> dict[str, Any] | None:
        """Write a small example of the data this task reads into `directory` and return
        the options that point at it: `seqkit check` and `seqkit.testing` check the task
        on it when given none of its options. None: the task has no example."""
        return None

    def inputs_from_file(self, path: Path, where: str) -> Tensor | None:
        """Inputs `(B, T, D)` read from a file in the data's own format (`seqkit predict
        --input-file`), or None to read it as numbers (JSON or rows)."""
        return None

    # -- what the core asks --------------------------------------------------------------
    @property
    def splits(self) -> Splits:
        """The data's splits, read once."""
        if self._splits is None:
            splits = self.load()
            for name in ("train", "val", "test"):
                x, y = getattr(splits, name)
                if x.shape[0] == 0:
                    raise ConfigError(f"task '{self.name}': the {name} split is empty")
                if y.shape[0] != x.shape[0]:
                    raise ConfigError(
                        f"task '{self.name}': the {name} split has {x.shape[0]} inputs "
                        f"but {y.shape[0]} targets"
                    )
            self._splits = splits
        return self._splits

    @property
    def num_samples(self) -> int:  # type: ignore[override]
        return int(self.splits.train[0].shape[0])

    @property
    def val_samples(self) -> int:  # type: ignore[override]
        return int(self.splits.val[0].shape[0])

    def split(self, which: SplitName, seed: int, device: torch.device) -> tuple[Tensor, Tensor]:
        x, y = getattr(self.splits, which)
        return x.to(device), y.to(device)

    def generate(
        self, n: int, generator: torch.Generator, device: torch.device
    ) -> tuple[Tensor, Tensor]:
        import torch

        x, y = self.splits.train
        pick = torch.randint(x.shape[0], (n,), generator=generator, device=generator.device)
        pick = pick.cpu()
        return x[pick].to(device), y[pick].to(device)

    def probes(self) -> Tensor:
        return self.examples()[0]

    def examples(self) -> tuple[Tensor, Tensor]:
        x, y = self.splits.val
        return x[:PROBES].clone(), y[:PROBES].clone()

    def targets(self, x: Tensor) -> Tensor:
        raise ConfigError(f"task '{self.name}' is data: it has no rule that answers an input")

    def answers(self, x: Tensor) -> Tensor | None:
        return None

    def data_bytes(self) -> int:
        return 0  # read already, within the memory `load` checked before reading

    def chance_loss(self, y: Tensor) -> float:
        blind = objectives.chance_loss(self.kind, y)
        return min([blind, *self.baselines().values()])


__all__ = ["DataTask", "Splits"]

"""The `arrays` task: sequences already in arrays, from a `.npz` or `.pt` file.

The file holds `X` `(N, T, D)` and `y`: class indices `(N,)` or `(N, T)` for
classification, 0/1 for binary, numbers `(N,)`, `(N, K)` or `(N, T, K)` for
regression. Splits it holds (`X_val`/`y_val`, `X_test`/`y_test`) are used as they are;
the rest is split at random with a seed of its own (`split_seed`), the same for every
run, so runs with other seeds are scored on the same test set.
"""

from __future__ import annotations

import math
import zipfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from seqkit_plugins.data_files import FileTask
from torch import Tensor

from seqkit import IGNORE, ConfigError, IOSpec, Splits, require_memory

SUFFIXES = (".npz", ".pt")
MAX_CLASSES = 1_000_000
"""The most classes a classification's output layer is built for."""
KINDS = ("classification", "binary", "regression")


class Arrays(FileTask):
    name = "arrays"
    reads_what = ".npz or .pt holding X and y"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 64,
        "epochs": 20,
        "lr": 3e-3,
        "batch_size": 64,
    }

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.kind = options.get("kind", "classification")  # type: ignore[misc]
        self.val_fraction: float = options.get("val_fraction", 0.1)
        self.test_fraction: float = options.get("test_fraction", 0.1)
        self.split_seed: int = options.get("split_seed", 0)
        self._shape: dict[str, int] | None = None
        self._held: list[str] = []
        self._padded = False
        self._partial = False

    @property
    def split_rule(self) -> str:  # type: ignore[override]
        held = " and ".join(self._held) if self._held else "none"
        return (
            f"splits the file holds: {held}; the rest at random (split_seed "
            f"{self.split_seed}): {self.val_fraction:.0%} validation, "
            f"{self.test_fraction:.0%} test of all sequences, the same for every run"
        )

    def identity(self) -> dict[str, Any]:
        return {**self.file(), "shape": self.shape}

    @property
    def shape(self) -> dict[str, int]:
        """Steps, features and outputs (`input_len`, `input_size`, `output_len`,
        `output_size`): from the data, or for a loaded run, from what it recorded."""
        if self._shape is None:
            recorded = (self.recorded or {}).get("shape")
            if isinstance(recorded, dict):
                self._shape = recorded
            else:
                self.splits  # noqa: B018 - reading the data sets the shape
        assert self._shape is not None
        return self._shape

    @property
    def partial_targets(self) -> bool:  # type: ignore[override]
        """Whether some targets are not scored: the file's IGNORE or NaN, or per-step
        targets past the end of a shorter sequence (known once the data are read)."""
        self.splits  # noqa: B018
        return self._partial

    @property
    def io(self) -> IOSpec:
        s = self.shape
        return IOSpec(
            s["input_size"],
            s["output_size"],
            s["input_len"],
            s["output_len"],
            padded_inputs=bool(s.get("padded")),
        )

    @property
    def default_topology(self) -> str:  # type: ignore[override]
        return "many-to-one" if self.shape["output_len"] == 1 else "many-to-many"

    def example(self, directory: Path) -> dict[str, Any]:
        """Sequences of 20 steps of 3 features, labelled by the sign of the first
        feature's mean (or, for regression, by its sum)."""
        rng = np.random.default_rng(0)
        x = rng.normal(size=(800, 20, 3)).astype(np.float32)
        if self.kind == "regression":
            y: np.ndarray = x[:, :, 0].sum(1)
        else:
            y = (x[:, :, 0].mean(1) > 0).astype(np.int64)
        path = directory / "example.npz"
        np.savez(path, X=x, y=y)
        return {"path": str(path), "kind": self.kind}

    # -- reading -------------------------------------------------------------------------
    def load(self) -> Splits:
        where, size = self._where(), self.file()["bytes"]
        if self.path.suffix not in SUFFIXES:
            raise ConfigError(
                f"{where}: a {self.path.suffix or 'file without a suffix'} is not read; give "
                ".npz (numpy.savez) or .pt (torch.save of a dict) holding X and y"
            )
        require_memory(2 * unpacked_bytes(self.path, size), where, "reading its arrays")
        found = self._read(where)
        pairs = {}
        for split in ("", "_val", "_test"):
            if f"X{split}" in found or f"y{split}" in found:
                pairs[split] = self._pair(found, split, where)
        self._partial = self._partial or any(
            not bool(self.scored(y).all()) for _, y in pairs.values()
        )
        if "" not in pairs:
            raise ConfigError(f"{where}: holds no X and y (found: {', '.join(found) or 'nothing'})")
        self._held = [f"X{s}/y{s}" for s in pairs if s]
        x, y = pairs.pop("")
        if "_val" not in pairs or "_test" not in pairs:
            x, y, drawn = self._random_split(x, y, "_val" not in pairs, "_test" not in pairs, where)
            pairs |= drawn
        train = (x, y)
        self._check_shapes(train, pairs["_val"], pairs["_test"], where=where)
        return Splits(train, pairs["_val"], pairs["_test"])

    def _read(self, where: str) -> dict[str, Any]:
        try:
            if self.path.suffix == ".npz":
                with np.load(self.path, allow_pickle=False) as npz:
                    return {k: npz[k] for k in npz.files}
            loaded = torch.load(self.path, map_location="cpu", weights_only=True)
        except (OSError, ValueError, zipfile.BadZipFile, RuntimeError, EOFError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(f"{where}: cannot be read as {self.path.suffix}: {reason}") from None
        except Exception as exc:  # torch's unpickler refuses code with its own errors
            raise ConfigError(f"{where}: cannot be read safely: {type(exc).__name__}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"{where}: must hold a dict with X and y (got {type(loaded).__name__})"
            )
        return loaded

    def _pair(self, found: dict[str, Any], split: str, where: str) -> tuple[Tensor, Tensor]:
        if f"X{split}" not in found or f"y{split}" not in found:
            have = "X" if f"X{split}" in found else "y"
            other = "y" if have == "X" else "X"
            raise ConfigError(f"{where}: holds {have}{split} but no {other}{split}")
        given = found.get(f"lengths{split}")
        try:
            x, lengths = stacked(found[f"X{split}"])
            y = torch.as_tensor(np.asarray(found[f"y{split}"]))
        except (TypeError, ValueError, RuntimeError) as exc:
            raise ConfigError(
                f"{where}: X{split} and y{split} must be numeric arrays ({exc})"
            ) from None
        if x.dim() == 2:
            x = x.unsqueeze(-1)  # (N, T): one feature per step
        if x.dim() != 3 or x.is_complex():
            raise ConfigError(
                f"{where}: X{split} must be (N, T, D) or (N, T) numbers, or a list of "
                f"(T_i, D) sequences (got shape {tuple(x.shape)})"
            )
        if given is not None:
            lengths = self._lengths(given, x.shape[0], x.shape[1], split, where)
        pad = None if lengths is None else torch.arange(x.shape[1]) >= lengths.unsqueeze(1)
        x = x.float()
        if pad is not None:
            x[pad] = 0.0  # what a file holds past a sequence's end is not read
        if not bool(torch.isfinite(x).all()):
            row = int((~torch.isfinite(x)).reshape(x.shape[0], -1).any(1).nonzero()[0])
            raise ConfigError(f"{where}: X{split}[{row}] holds NaN or inf")
        if y.dim() == 0 or y.shape[0] != x.shape[0]:
            count = "one number" if y.dim() == 0 else f"{y.shape[0]}"
            raise ConfigError(
                f"{where}: X{split} holds {x.shape[0]} sequences but y{split} {count}"
            )
        y = self._targets(y, x.shape[1], split, where)
        if pad is not None and bool(pad.any()):
            self._padded = True
            x[pad] = math.nan  # seqkit's padding: the model reads each length from it
            if y.shape[1] == x.shape[1] > 1:  # a target per step: none past the end
                y[pad] = IGNORE if self.kind == "classification" else math.nan
                self._partial = True
        return x, y

    def _lengths(self, given: Any, n: int, steps: int, split: str, where: str) -> Tensor:
        lengths = torch.as_tensor(np.asarray(given))
        if lengths.shape != (n,) or lengths.is_floating_point() or lengths.is_complex():
            raise ConfigError(
                f"{where}: lengths{split} must hold one whole number per sequence ({n}), "
                f"got shape {tuple(lengths.shape)}"
            )
        if bool(((lengths < 1) | (lengths > steps)).any()):
            raise ConfigError(
                f"{where}: lengths{split} must lie in 1..{steps} (the steps of X{split}), got "
                f"{int(lengths.min())}..{int(lengths.max())}"
            )
        return lengths.long()

    def _targets(self, y: Tensor, steps: int, split: str, where: str) -> Tensor:
        if self.kind == "classification":
            if y.is_floating_point() and not bool((y == y.round()).all()):
                raise ConfigError(
                    f"{where}: y{split} must hold class indices 0, 1, 2, ... "
                    "for kind=classification"
                )
            y = y.long()
            if bool(((y < 0) & (y != IGNORE)).any()):
                raise ConfigError(
                    f"{where}: y{split} holds a negative class index (only {IGNORE}, "
                    "seqkit.IGNORE, marks a target that is not scored)"
                )
            if y.dim() == 1:
                y = y.unsqueeze(1)
            if y.dim() != 2 or y.shape[1] not in (1, steps):
                raise ConfigError(
                    f"{where}: classification y{split} must be (N,) or (N, T) with T = {steps} "
                    f"(got {tuple(y.shape)})"
                )
            return y
        y = y.float()
        if bool(torch.isinf(y).any()):
            raise ConfigError(f"{where}: y{split} holds inf (NaN marks a target not scored)")
        if self.kind == "binary" and not bool(((y == 0) | (y == 1) | y.isnan()).all()):
            raise ConfigError(f"{where}: y{split} must hold 0 or 1 for kind=binary")
        if y.dim() == 1:
            y = y.view(-1, 1, 1)
        elif y.dim() == 2:  # regression: (N, K) numbers; binary: (N, T) bits
            y = y.unsqueeze(1) if self.kind == "regression" else y.unsqueeze(-1)
        if y.dim() != 3 or y.shape[1] not in (1, steps):
            raise ConfigError(
                f"{where}: y{split} must be (N,), (N, T) or (N, T, K) with T = {steps} "
                f"(got {tuple(y.shape)})"
            )
        return y

    def _random_split(
        self, x: Tensor, y: Tensor, val: bool, test: bool, where: str
    ) -> tuple[Tensor, Tensor, dict[str, tuple[Tensor, Tensor]]]:
        n = x.shape[0]
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self.split_seed))
        sizes = {"_val": round(n * self.val_fraction) if val else 0}
        sizes["_test"] = round(n * self.test_fraction) if test else 0
        if n - sizes["_val"] - sizes["_test"] < 1 or any(
            v < 1 for k, v in sizes.items() if (val if k == "_val" else test)
        ):
            raise ConfigError(
                f"{where}: {n} sequences are too few to split into train, validation and "
                "test; give more, or X_val/y_val and X_test/y_test in the file"
            )
        drawn, start = {}, 0
        for split, size in sizes.items():
            if size:
                pick = order[start : start + size]
                drawn[split] = (x[pick], y[pick])
                start += size
        rest = order[start:].sort().values
        return x[rest], y[rest], drawn

    def _check_shapes(self, *pairs: tuple[Tensor, Tensor], where: str) -> None:
        (x, y), rest = pairs[0], pairs[1:]
        for i, (xs, ys) in enumerate(rest):
            name = ("validation", "test")[i]
            if xs.shape[1:] != x.shape[1:] or ys.shape[1:] != y.shape[1:]:
                raise ConfigError(
                    f"{where}: the {name} arrays' shapes {tuple(xs.shape)}, {tuple(ys.shape)} "
                    f"differ from the training arrays' {tuple(x.shape)}, {tuple(y.shape)}"
                )
        if self.kind == "classification":
            classes = int(max(int(p[1].max()) for p in pairs)) + 1
            seen = torch.cat([p[1].reshape(-1) for p in pairs]).unique()
            seen = seen[seen != IGNORE]
            if classes < 2 or seen.numel() < 2:
                raise ConfigError(f"{where}: y holds one class only; classification needs two")
            if classes > MAX_CLASSES or classes > 10 * seen.numel() + 100:
                raise ConfigError(
                    f"{where}: y's largest class index is {classes - 1}, but it holds "
                    f"{seen.numel()} distinct classes; number them 0..K-1 (e.g. with "
                    "numpy.unique(y, return_inverse=True))"
                )
            output = classes
        else:
            output = int(y.shape[-1])
        self._shape = {
            "input_len": int(x.shape[1]),
            "input_size": int(x.shape[2]),
            "output_len": int(y.shape[1]),
            "output_size": output,
            "padded": self._padded,
        }


def unpacked_bytes(path: Path, size: int) -> int:
    """What the arrays of `path` take once read: a `.npz`'s members as stored unpacked
    (a compressed file may be far smaller than its arrays), else the file's size."""
    if path.suffix != ".npz":
        return size
    try:
        with zipfile.ZipFile(path) as archive:
            return sum(info.file_size for info in archive.infolist())
    except (OSError, zipfile.BadZipFile):
        return size  # np.load says what is wrong with it


def stacked(value: Any) -> tuple[Tensor, Tensor | None]:
    """An array `(N, T, ...)` as it is, or a list of sequences `(T_i, ...)` of different
    lengths padded to the longest (with zeros) and their lengths."""
    if isinstance(value, list | tuple) and value:
        sequences = [torch.as_tensor(np.asarray(s)) for s in value]
        if len({s.shape[1:] for s in sequences}) > 1 or sequences[0].dim() == 0:
            raise ValueError("every sequence must have the same number of features")
        lengths = torch.tensor([s.shape[0] for s in sequences])
        if bool((lengths < 1).any()):
            raise ValueError("a sequence has no steps")
        out = sequences[0].new_zeros((len(sequences), int(lengths.max()), *sequences[0].shape[1:]))
        for i, s in enumerate(sequences):
            out[i, : s.shape[0]] = s
        return out, lengths
    return torch.as_tensor(np.asarray(value)), None


__all__ = ["Arrays"]

"""Sequential and permuted sequential MNIST (`smnist`, `psmnist`): each image read as a
sequence of 784 pixels, `pixels_per_step` at a time, from the standard MNIST IDX files.

The recipe is written down, because "psMNIST" has meant four different permutations
in four codebases: the permutation is an option with the conventions named
(`permutation=expRNN|coRNN|LMU|NRU|bitreversal|seed:N`), and the run records it with a hash.
The validation split is fixed (the last `val_images` training images), and the test set
is the 10,000 test images, scored once after training.
"""

from __future__ import annotations

import gzip
import hashlib
import math
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import Tensor

from seqkit import ConfigError, DataTask, IOSpec, Splits, file_identity, require_memory

PIXELS = 784
FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
"""The IDX files, as yann.lecun.com and torchvision name them (each may end in `.gz`)."""
MAGIC = {3: 0x00000803, 1: 0x00000801}
"""An IDX file's magic number by its number of dimensions (unsigned bytes)."""


def permutation(name: str) -> np.ndarray | None:
    """The pixel order a convention names (None: the identity, sequential MNIST).

    Each was read in its codebase (row-major 28 x 28 images, pixels in [0, 1]):

    - `expRNN`: `numpy.random.RandomState(92916).permutation(784)` (Casado &
      Martinez-Rubio 2019, lezcano/expRNN `2_mnist.py`).
    - `coRNN`: `torch.randperm(784)` right after `torch.manual_seed(12008)` (Rusch & Mishra
      2021, tk-rusch/coRNN `psMNIST/psMNIST_task.py`).
    - `LMU`: `numpy.random.RandomState(0).permutation(784)`, keras-lmu's psMNIST example.
    - `NRU`: the second draw of `numpy.random.RandomState(50)`, after a permutation of the
      60,000 training images (Chandar et al. 2019, apsarath/NRU `mnist_task.py`): the
      order the LMU paper (Voelker et al. 2019) used, through NRU's data.
    - `bitreversal`: S4's `bitreversal_permutation(784)` (Gu et al. 2022,
      state-spaces/s4 `src/utils/permutations.py`).
    - `seed:N`: `torch.randperm(784, generator=torch.Generator().manual_seed(N))`.
    """
    if name == "none":
        return None
    if name == "expRNN":
        return np.random.RandomState(92916).permutation(PIXELS)
    if name == "LMU":
        return np.random.RandomState(0).permutation(PIXELS)
    if name == "NRU":
        rng = np.random.RandomState(50)
        rng.permutation(60_000)  # NRU shuffles the training images first
        return rng.permutation(PIXELS)
    if name == "coRNN":
        with torch.random.fork_rng(devices=[]):  # the caller's stream is left as it was
            torch.manual_seed(12008)
            return torch.randperm(PIXELS).numpy()
    if name == "bitreversal":
        return bit_reversal(PIXELS)
    if name.startswith("seed:") and name[5:].isdigit():
        generator = torch.Generator().manual_seed(int(name[5:]))
        return torch.randperm(PIXELS, generator=generator).numpy()
    raise ConfigError(
        f"task option 'permutation' must be none, expRNN, coRNN, LMU, NRU, bitreversal or "
        f"seed:N (got {name!r})"
    )


def bit_reversal(n: int) -> np.ndarray:
    """S4's `bitreversal_permutation(n)`: the bit-reversal order of the next power of two,
    with the indices >= n left out."""
    m = math.ceil(math.log2(n))
    order = np.arange(1 << m).reshape(-1, 1)
    for _ in range(m):
        half = order.shape[0] // 2
        order = np.hstack((order[:half], order[half:]))
    order = order.squeeze(0)
    return order[order < n]


def read_idx(path: Path, dims: int, where: str) -> np.ndarray:
    """An IDX file of unsigned bytes (gzipped or not) as an array, its header checked."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as exc:
        raise ConfigError(f"{where}: {path.name} cannot be read ({exc})") from None
    header = 4 + 4 * dims
    if len(data) < header or int.from_bytes(data[:4], "big") != MAGIC[dims]:
        raise ConfigError(f"{where}: {path.name} is not an IDX file of {dims}-D unsigned bytes")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(dims))
    if len(data) - header != math.prod(shape):
        raise ConfigError(
            f"{where}: {path.name} holds {len(data) - header:,} bytes of data, its header "
            f"says {math.prod(shape):,} (a cut-off file?)"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


class SequentialMNIST(DataTask):
    """Classify an MNIST digit from its pixels read one step at a time."""

    name = "smnist"
    kind = "classification"
    default_topology = "many-to-one"
    solved_rule = "accuracy > 98%"
    defaults: ClassVar[dict[str, Any]] = {
        "hidden_size": 128,
        "epochs": 10,
        "lr": 1e-3,
        "batch_size": 100,
        "normalize": False,  # pixels scaled to [0, 1], as the papers do
    }
    default_permutation = "none"

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.root = Path(options.get("root", "")).expanduser()
        self.per_step: int = options.get("pixels_per_step", 1)
        self.val_images: int = options.get("val_images", 5000)
        self.download: bool = options.get("download", False)
        self.order_name: str = options.get("permutation", self.default_permutation)
        if PIXELS % self.per_step:
            raise ConfigError(
                f"task option 'pixels_per_step' must divide 784 (1, 2, 4, 7, 8, 14, 16, 28, "
                f"...; got {self.per_step})"
            )
        self.order = permutation(self.order_name)
        self._files: dict[str, Path] | None = None

    @property
    def split_rule(self) -> str:  # type: ignore[override]
        return (
            f"the first {60000 - self.val_images:,} training images train, the last "
            f"{self.val_images:,} validate; the 10,000 test images are the test"
        )

    @property
    def io(self) -> IOSpec:
        steps = PIXELS // self.per_step
        return IOSpec(self.per_step, 10, steps, 1)

    def _where(self) -> str:
        if not str(self.root) or str(self.root) == ".":
            raise ConfigError(
                f"task '{self.name}' needs --task-opt root=DIR: a directory holding the MNIST "
                "IDX files (train-images-idx3-ubyte and the other three, .gz or not), or "
                "where --task-opt download=true may put them"
            )
        return f"--task-opt root={self.root}"

    def files(self) -> dict[str, Path]:
        """The four IDX files under `root` (or its `MNIST/raw`, torchvision's layout),
        downloaded there first when `download=true`."""
        if self._files is None:
            self._where()
            found = self._find()
            if found is None and self.download:
                self._fetch()
                found = self._find()
            if found is None:
                raise ConfigError(
                    f"{self._where()}: no MNIST files there (train-images-idx3-ubyte and the "
                    "other three, .gz or not, or torchvision's MNIST/raw); put them there, or "
                    "add --task-opt download=true (needs `pip install seqkit[vision]` and a "
                    "network)"
                )
            self._files = found
        return self._files

    def _find(self) -> dict[str, Path] | None:
        for folder in (self.root, self.root / "MNIST" / "raw"):
            found = {}
            for key, stem in FILES.items():
                match = next(
                    (folder / (stem + s) for s in ("", ".gz") if (folder / (stem + s)).is_file()),
                    None,
                )
                if match is None:
                    break
                found[key] = match
            else:
                return found
        return None

    def _fetch(self) -> None:
        try:
            from torchvision.datasets import MNIST  # seqkit[vision]
        except ImportError:
            raise ConfigError(
                "--task-opt download=true needs torchvision: pip install 'seqkit[vision]'"
            ) from None
        try:
            MNIST(str(self.root), train=True, download=True)
            MNIST(str(self.root), train=False, download=True)
        except Exception as exc:  # no network, a proxy, a full disk: say so in one line
            raise ConfigError(f"{self._where()}: downloading MNIST failed ({exc})") from None

    def identity(self) -> dict[str, Any]:
        files = {key: file_identity(path, self._where()) for key, path in self.files().items()}
        order = self.order if self.order is not None else np.arange(PIXELS)
        return {
            "path": str(self.root.resolve()),
            "files": files,
            "sha256": hashlib.sha256(
                "".join(f["sha256"] for f in files.values()).encode()
            ).hexdigest(),
            "bytes": sum(f["bytes"] for f in files.values()),
            "permutation": self.order_name,
            "permutation_sha256": hashlib.sha256(order.astype(np.int64).tobytes()).hexdigest(),
        }

    def load(self) -> Splits:
        where, files = self._where(), self.files()
        require_memory(
            sum(p.stat().st_size for p in files.values()) * 8, where, "reading MNIST as floats"
        )
        train_x = read_idx(files["train_images"], 3, where)
        train_y = read_idx(files["train_labels"], 1, where)
        test_x = read_idx(files["test_images"], 3, where)
        test_y = read_idx(files["test_labels"], 1, where)
        for images, labels, name in ((train_x, train_y, "train"), (test_x, test_y, "t10k")):
            if images.shape[1:] != (28, 28) or images.shape[0] != labels.shape[0]:
                raise ConfigError(
                    f"{where}: the {name} files hold {images.shape} images and "
                    f"{labels.shape[0]} labels; MNIST's are (N, 28, 28) and N labels"
                )
        if not 1 <= self.val_images < train_x.shape[0]:
            raise ConfigError(
                f"task option 'val_images' must leave training images: 1..{train_x.shape[0] - 1} "
                f"(got {self.val_images})"
            )
        cut = train_x.shape[0] - self.val_images
        return Splits(
            self._pairs(train_x[:cut], train_y[:cut]),
            self._pairs(train_x[cut:], train_y[cut:]),
            self._pairs(test_x, test_y),
        )

    def _pairs(self, images: np.ndarray, labels: np.ndarray) -> tuple[Tensor, Tensor]:
        """Images `(N, 28, 28)` uint8 -> pixels in [0, 1] `(N, 784 / K, K)` in the
        permutation's order, labels `(N, 1)`."""
        pixels = images.reshape(images.shape[0], PIXELS)
        if self.order is not None:
            pixels = pixels[:, self.order]
        x = torch.from_numpy(pixels.astype(np.float32) / 255.0)
        y = torch.from_numpy(labels.astype(np.int64)).view(-1, 1)
        return x.view(x.shape[0], PIXELS // self.per_step, self.per_step), y

    def solved(self, metrics: dict[str, float]) -> bool | None:
        return metrics["val_accuracy"] > 0.98

    def example(self, directory: Path) -> dict[str, Any]:
        """A tiny MNIST-shaped set: 120 training and 40 test "images" whose label is the
        row (0-9) holding the brightest stroke."""
        write_fixture(directory, train=120, test=40)
        return {"root": str(directory), "val_images": 20}

    def format_example(self, x: Tensor, pred: Tensor, answer: Tensor | None) -> str:
        shown = f"{PIXELS} pixels" if self.order is None else f"{PIXELS} pixels ({self.order_name})"
        line = f"Image: {shown} -> Output: {int(pred)}"
        return line + (f" (answer {int(answer)})" if answer is not None else "")


class PermutedMNIST(SequentialMNIST):
    """Sequential MNIST with the pixels in a fixed random order (`permutation`)."""

    name = "psmnist"
    default_permutation = "bitreversal"


def write_fixture(directory: Path, train: int, test: int, seed: int = 0) -> None:
    """Write the four IDX files of a tiny MNIST-shaped data set (for tests and `seqkit
    check`): each image is noise with one bright row, whose index is the label."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    for split, n in (("train", train), ("t10k", test)):
        labels = (np.arange(n) % 10).astype(np.uint8)
        images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
        images[np.arange(n), 2 * labels.astype(int) + 4, 4:24] = 255
        write_idx(directory / f"{split}-images-idx3-ubyte", images)
        write_idx(directory / f"{split}-labels-idx1-ubyte", labels)


def write_idx(path: Path, array: np.ndarray) -> None:
    header = MAGIC[array.ndim].to_bytes(4, "big")
    header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


__all__ = ["PermutedMNIST", "SequentialMNIST", "bit_reversal", "permutation", "read_idx"]

"""Sequential and permuted sequential MNIST (issue 31 item 1) on tiny IDX files the tests
write: the reader, the splits, the named permutations, the recorded recipe, the errors,
and a model that learns."""

from __future__ import annotations

import gzip
import hashlib
import json

import numpy as np
import pytest
import torch
from seqkit_plugins.pixel_data import bit_reversal, permutation, write_fixture

import seqkit
from seqkit import ConfigError


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    path = tmp_path_factory.mktemp("mnist")
    write_fixture(path, train=300, test=100)
    return path


def test_the_idx_files_become_pixel_sequences_with_a_fixed_validation_split(root):
    task = seqkit.get_task("smnist", root=str(root), val_images=50)
    (x, y), (vx, _), (tx, _) = task.splits.train, task.splits.val, task.splits.test
    assert x.shape == (250, 784, 1) and vx.shape == (50, 784, 1) and tx.shape == (100, 784, 1)
    assert y.shape == (250, 1) and y.dtype == torch.int64
    assert float(x.min()) >= 0 and float(x.max()) == 1.0  # pixels / 255
    raw = np.frombuffer((root / "train-images-idx3-ubyte").read_bytes()[16:], np.uint8)
    images = raw.reshape(300, 784)
    assert torch.equal(vx[0, :, 0], torch.from_numpy(images[250] / np.float32(255)))  # the last 50
    rows = seqkit.get_task("smnist", root=str(root), val_images=50, pixels_per_step=28)
    assert rows.splits.train[0].shape == (250, 28, 28) and rows.io.input_len == 28


def test_a_permutation_reorders_every_image_the_same_way(root):
    plain = seqkit.get_task("smnist", root=str(root), val_images=50).splits.train[0][:, :, 0]
    for name in ("bitreversal", "expRNN", "coRNN", "LMU", "NRU", "seed:7"):
        task = seqkit.get_task("psmnist", root=str(root), val_images=50, permutation=name)
        order = torch.from_numpy(permutation(name))
        assert torch.equal(task.splits.train[0][:, :, 0], plain[:, order]), name
    assert seqkit.get_task("psmnist", root=str(root)).order_name == "bitreversal"
    names = ("expRNN", "coRNN", "LMU", "NRU", "bitreversal", "seed:0")
    orders = {name: tuple(permutation(name)) for name in names}
    assert len(set(orders.values())) == 6  # six conventions, six orders
    assert orders["bitreversal"][:8] == (0, 512, 256, 768, 128, 640, 384, 64)  # S4's
    # pinned: a numpy or torch whose generators drew otherwise would change the benchmark
    assert orders["expRNN"][:5] == (319, 576, 323, 107, 355)
    assert orders["coRNN"][:5] == (91, 97, 471, 426, 157)
    assert orders["LMU"][:5] == (693, 85, 647, 392, 765)
    assert orders["NRU"][:5] == (46, 466, 537, 44, 515)
    nru = np.random.RandomState(50)
    nru.permutation(60_000)
    assert np.array_equal(permutation("NRU"), nru.permutation(784))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(12008)
        assert torch.equal(torch.from_numpy(permutation("coRNN")), torch.randperm(784))
    assert bit_reversal(8).tolist() == [0, 4, 2, 6, 1, 5, 3, 7]
    assert np.array_equal(permutation("expRNN"), np.random.RandomState(92916).permutation(784))
    with pytest.raises(ConfigError, match="permutation' must be none, expRNN"):
        seqkit.get_task("psmnist", root=str(root), permutation="random")


def test_the_run_records_the_files_and_the_permutation(root, tmp_path):
    out = tmp_path / "run"
    seqkit.run(
        cell="gru", task="psmnist", device="cpu", epochs=1, quiet=True, out=out,
        task_options={"root": str(root), "val_images": 50, "pixels_per_step": 28},
    )  # fmt: skip
    data = json.loads((out / "config.json").read_text())["data"]
    order = permutation("bitreversal").astype(np.int64)
    assert data["permutation"] == "bitreversal"
    assert data["permutation_sha256"] == hashlib.sha256(order.tobytes()).hexdigest()
    assert set(data["files"]) == {"train_images", "train_labels", "test_images", "test_labels"}


def test_gzipped_files_and_torchvisions_layout_are_read(root, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for path in root.iterdir():
        (raw / (path.name + ".gz")).write_bytes(gzip.compress(path.read_bytes()))
    gz = seqkit.get_task("smnist", root=str(tmp_path), val_images=50).splits.train[0]
    assert torch.equal(gz, seqkit.get_task("smnist", root=str(root), val_images=50).splits.train[0])


def test_missing_or_broken_files_are_one_line(root, tmp_path):
    with pytest.raises(ConfigError, match="needs --task-opt root=DIR"):
        seqkit.get_task("smnist").splits  # noqa: B018
    with pytest.raises(ConfigError, match=r"no MNIST files there .* download=true"):
        seqkit.get_task("smnist", root=str(tmp_path)).splits  # noqa: B018
    for path in root.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    cut = tmp_path / "t10k-images-idx3-ubyte"
    cut.write_bytes(cut.read_bytes()[:-100])
    with pytest.raises(ConfigError, match="holds 78,300 bytes of data, its header says 78,400"):
        seqkit.get_task("smnist", root=str(tmp_path)).splits  # noqa: B018
    with pytest.raises(ConfigError, match="'pixels_per_step' must divide 784"):
        seqkit.get_task("smnist", root=str(root), pixels_per_step=5)


def test_a_gru_reads_the_digit_row_by_row(root):
    """On the fixture the label is the row of the bright stroke: 28 steps of 28 pixels."""
    result = seqkit.run(
        cell="gru", task="smnist", seed=0, device="cpu", quiet=True, epochs=15, batch_size=25,
        lr=3e-3,
        task_options={"root": str(root), "val_images": 50, "pixels_per_step": 28},
    )  # fmt: skip
    assert result.test["test_accuracy"] > 0.9
    assert result.test["test_loss"] < 0.3 * result.chance_loss

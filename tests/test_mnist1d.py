"""MNIST-1D (issue 31 item 3): the package's data, made without touching the caller's
process, its split kept, and the paper's model expressible (a readout over every step)."""

from __future__ import annotations

import random
import sys

import numpy as np
import pytest
import torch

import seqkit
from seqkit import ConfigError


@pytest.fixture(scope="module")
def task():
    return seqkit.get_task("mnist1d")


def test_the_packages_data_and_split(task):
    (x, y), (vx, _), (tx, ty) = task.splits.train, task.splits.val, task.splits.test
    assert x.shape == (3500, 40, 1) and vx.shape == (500, 40, 1) and tx.shape == (1000, 40, 1)
    assert set(ty.reshape(-1).tolist()) == set(range(10)) and y.dtype == torch.int64
    everything = torch.cat([x, vx, tx])
    assert abs(float(everything.mean())) < 1e-3 and abs(float(everything.std()) - 1) < 1e-3


def test_making_the_data_leaves_this_process_as_it_was():
    """The package seeds numpy's and Python's global generators and imports pyplot: it
    runs in a child process."""
    np_state, py_state = np.random.get_state()[1].copy(), random.getstate()
    had_pyplot = "matplotlib.pyplot" in sys.modules
    seqkit.get_task("mnist1d", seed=7).splits  # noqa: B018
    assert np.array_equal(np.random.get_state()[1], np_state) and random.getstate() == py_state
    assert ("matplotlib.pyplot" in sys.modules) == had_pyplot


def test_the_shuffled_variant_and_the_seed_change_the_data(task):
    shuffled = seqkit.get_task("mnist1d", shuffle_seq=True)
    assert not torch.equal(shuffled.splits.train[0], task.splits.train[0])
    assert torch.equal(shuffled.splits.train[1], task.splits.train[1])  # same labels, order
    assert shuffled.identity()["sha256"] != task.identity()["sha256"]
    assert task.identity() == seqkit.get_task("mnist1d").identity()  # made the same again


def test_a_readout_over_every_step_is_a_topology_option():
    io = seqkit.IOSpec(1, 10, 40, 1)
    model = seqkit.build_model(
        "gru", "many-to-one", io=io, hidden_size=6, cell_options={"bidirectional": True},
        topology_options={"readout": "all"},
    )  # fmt: skip
    assert model.head.in_features == 40 * 12  # every step's [forward | backward] outputs
    assert model(torch.randn(5, 40, 1)).shape == (5, 1, 10)
    with pytest.raises(ConfigError, match="readout=all reads every step"):
        seqkit.build_model(
            "gru", "many-to-one", io=seqkit.IOSpec(1, 10, None, 1), hidden_size=6,
            topology_options={"readout": "all"},
        )  # fmt: skip


def test_the_papers_gru_learns_mnist1d_quickly():
    """Bidirectional, hidden size 6, every step read (Greydanus's model), 20 epochs:
    well above the 10% of chance (the paper's 91% takes its 8,000 steps)."""
    result = seqkit.run(
        cell="gru", task="mnist1d", cell_options={"bidirectional": True},
        topology_options={"readout": "all"},
        epochs=20, seed=0, device="cpu", quiet=True,
    )  # fmt: skip
    assert result.test["test_accuracy"] > 0.5

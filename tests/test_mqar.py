"""Multi-query associative recall (issue 31 item 4): Zoology's data, scored at the queries
only, with its chance level and solved rule."""

from __future__ import annotations

import math

import pytest
import torch

import seqkit
from seqkit import IGNORE

SMALL = {"vocab": 24, "seq_len": 16, "pairs": 2}


def test_each_query_asks_a_key_for_the_value_it_was_paired_with():
    task = seqkit.get_task("mqar", vocab=40, seq_len=32, pairs=5)
    x, y = task.generate(200, torch.Generator().manual_seed(0), torch.device("cpu"))
    assert x.shape == (200, 32, 1) and x.dtype == torch.int64 and y.shape == (200, 32)
    ids = x[..., 0]
    for row, labels in zip(ids, y, strict=True):
        keys, values = row[0:10:2].tolist(), row[1:10:2].tolist()
        assert len(set(keys)) == 5 and len(set(values)) == 5
        assert all(1 <= k < 20 for k in keys) and all(20 <= v < 40 for v in values)
        asked = (labels != IGNORE).nonzero().reshape(-1).tolist()
        assert len(asked) == 5 and all(t >= 10 and t % 2 == 0 for t in asked)
        pairs = dict(zip(keys, values, strict=True))
        assert sorted(int(row[t]) for t in asked) == sorted(keys)  # each key asked once
        assert all(int(labels[t]) == pairs[int(row[t])] for t in asked)


def test_the_data_follow_the_seed_and_the_queries_prefer_short_gaps():
    task = seqkit.get_task("mqar", vocab=200, seq_len=128, pairs=4)
    draw = [
        task.generate(500, torch.Generator().manual_seed(s), torch.device("cpu")) for s in (1, 1, 2)
    ]
    assert torch.equal(draw[0][0], draw[1][0]) and torch.equal(draw[0][1], draw[1][1])
    assert not torch.equal(draw[0][0], draw[2][0])
    asked = (draw[0][1] != IGNORE).nonzero()[:, 1].float()
    gaps = (asked - 8) / 2  # distance after the pairs, in query slots (60 of them)
    assert gaps.median() < 15  # power_a 0.01: most queries come soon after the pairs


def test_bad_sizes_are_refused_with_zoologys_constraints():
    with pytest.raises(seqkit.ConfigError, match="seq_len >= 4 \\* pairs and vocab > seq_len"):
        seqkit.get_task("mqar", vocab=64, seq_len=64, pairs=4)


def test_the_contract_holds_and_chance_is_a_uniform_guess_among_the_values():
    from seqkit import testing

    failed = [f for f in (c.run() for c in testing.task_checks("mqar", **SMALL)) if not f.passed]
    assert failed == []
    task = seqkit.get_task("mqar", **SMALL)
    _, y = task.generate(4000, torch.Generator().manual_seed(3), torch.device("cpu"))
    assert task.chance_loss(y) == pytest.approx(math.log(12))


def test_a_gru_learns_which_values_are_in_play():
    """With 2 pairs a GRU learns in a few epochs that the answer is one of the two values
    it was shown (loss near ln 2, accuracy near 50%, against 1/12 by chance); binding
    each key to its value takes far longer, which is what MQAR measures."""
    result = seqkit.run(
        cell="gru", task="mqar", task_options={**SMALL, "num_samples": 4000, "val_samples": 500},
        epochs=12, seed=0, device="cpu", quiet=True,
    )  # fmt: skip
    assert result.metrics["val_loss"] < 0.35 * result.chance_loss
    assert result.test["test_accuracy"] > 0.4

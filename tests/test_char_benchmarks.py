"""text8 and enwik8 (issue 31 item 2): the text task at the standard split counts, on
small files the tests write with the counts scaled down (no download)."""

from __future__ import annotations

import numpy as np
import pytest

import seqkit
from seqkit import ConfigError


def letters(path, n: int):
    rng = np.random.default_rng(0)
    words = ["anarchism", "originated", "as", "a", "term", "of", "abuse", "first", "used"]
    text = " ".join(words[i] for i in rng.integers(0, len(words), n // 5))[:n]
    path.write_text(text)
    return text


def test_text8_splits_at_the_standard_counts(tmp_path):
    text = letters(tmp_path / "text8", 3000)
    task = seqkit.get_task(
        "text8", path=str(tmp_path / "text8"), seq_len=20, train_chars=2400, val_chars=300
    )
    assert task.level == "char" and "first 2,400 chars train" in task.split_rule
    (x, _), (vx, _), (tx, _) = task.splits.train, task.splits.val, task.splits.test
    assert task.decode(x[0]) == text[:20]
    assert task.decode(vx[0]) == text[2400:2420] and task.decode(tx[0]) == text[2700:2720]
    assert x.shape[0] == (2400 - 1) // 20


def test_enwik8_reads_bytes(tmp_path):
    raw = "<page><title>Anarchism</title> 아나키즘 </page>\n".encode() * 60
    (tmp_path / "enwik8").write_bytes(raw)
    task = seqkit.get_task(
        "enwik8", path=str(tmp_path / "enwik8"), seq_len=16, train_chars=2000, val_chars=300
    )
    assert task.io.input_size == 256 and task.level == "byte"
    assert bytes(task.splits.val[0][0].view(-1).tolist()) == raw[2000:2016]


def test_a_file_too_short_for_the_split_is_one_line(tmp_path):
    letters(tmp_path / "text8", 1000)
    with pytest.raises(ConfigError, match=r"holds 1,000 chars, too few for text8's split"):
        seqkit.get_task("text8", path=str(tmp_path / "text8")).splits  # noqa: B018


def test_a_character_model_of_text8_beats_unigram_chance(tmp_path):
    letters(tmp_path / "text8", 6000)
    result = seqkit.run(
        cell="lstm", task="text8", epochs=8, batch_size=16, lr=1e-2, hidden_size=64, seed=0,
        device="cpu", quiet=True,
        task_options={"path": str(tmp_path / "text8"), "seq_len": 30, "train_chars": 5000,
                      "val_chars": 500},
    )  # fmt: skip
    assert result.test["test_bpc"] < 0.6 * result.chance_loss / np.log(2)

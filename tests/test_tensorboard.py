"""--tensorboard: event files in the run directory, and a clear message without the extra."""

from __future__ import annotations

import json
import sys

import pytest

import seqkit
from seqkit._core import files
from seqkit._core.errors import ConfigError


def test_event_files_hold_each_epochs_losses_and_gradient_norms(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "run"
    r = seqkit.run(cell="gru", task="cumsum", epochs=3, device="cpu", out=out, tensorboard=True)
    events = EventAccumulator(str(out / "tensorboard"))
    events.Reload()
    train = [(e.step, e.value) for e in events.Scalars("loss/train_loss")]
    records = [json.loads(line) for line in (out / files.METRICS).read_text().splitlines()]
    assert [s for s, _ in train] == [1, 2, 3]
    assert [v for _, v in train] == pytest.approx([rec["train_loss"] for rec in records])
    val = [e.value for e in events.Scalars("loss/val_loss")]
    assert val[-1] == pytest.approx(r.metrics["val_loss"])
    norms = [e.value for e in events.Scalars("train/grad_norm_max")]
    assert len(norms) == 3 and all(n > 0 for n in norms)
    assert events.Tags()["tensors"] == ["config/text_summary"]  # the resolved settings


def test_overwrite_starts_the_event_files_afresh(tmp_path):
    out = tmp_path / "run"
    for _ in range(2):
        seqkit.run(cell="gru", task="square", epochs=1, out=out, overwrite=True, tensorboard=True)
    assert len(list((out / "tensorboard").iterdir())) == 1


def test_without_the_extra_the_flag_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    with pytest.raises(ConfigError, match=r"pip install 'seqkit\[tensorboard\]'"):
        seqkit.run(cell="gru", task="sum", out=tmp_path / "run", tensorboard=True)
    assert not (tmp_path / "run").exists()


def test_library_use_needs_a_run_directory():
    with pytest.raises(ConfigError, match="give out=DIR"):
        seqkit.run(cell="gru", task="sum", tensorboard=True)

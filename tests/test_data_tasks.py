"""Your own sequences (issue 30): the `text`, `series` and `arrays` tasks on small files
the tests write, trained for real, recorded with their data's identity, and used after
(`sample`, `predict`). Bad data files are in test_bad_inputs.py's table."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

import seqkit
from seqkit._cli.main import cli
from seqkit._core.errors import ConfigError

VERSE = (
    "동해 물과 백두산이 마르고 닳도록 하느님이 보우하사 우리나라 만세.\n"
    "무궁화 삼천리 화려 강산 대한 사람 대한으로 길이 보전하세.\n"
)


def korean_text(path: Path, lines: int = 120) -> Path:
    path.write_text(VERSE * (lines // 2), encoding="utf-8")
    return path


def sine_csv(path: Path, rows: int = 1200, noise: float = 0.1) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(rows)
    level = 10 + 5 * np.sin(2 * np.pi * t / 24) + rng.normal(0, noise, rows)
    other = rng.normal(0, 1, rows)
    body = "".join(f"{a:.4f},{b:.4f}\n" for a, b in zip(other, level, strict=True))
    path.write_text("noise,level\n" + body)
    return path


# -- text ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("text")
    path = korean_text(root / "verse.txt")
    out = root / "run"
    result = seqkit.run(
        cell="lstm",
        data=seqkit.from_text(path, seq_len=30),
        epochs=30,
        lr=1e-2,
        hidden_size=64,
        batch_size=16,
        seed=0,
        device="cpu",
        quiet=True,
        out=out,
    )
    return path, out, result


def test_a_character_model_learns_a_korean_text(text_run):
    _, _, result = text_run
    task = result.task
    assert set(task.vocabulary) == set(VERSE)  # Hangul syllables are characters
    unigram = result.chance_loss
    assert result.summary()["chance_rule"] == "unigram entropy of the training split"
    assert 2.5 < unigram < math.log(len(task.vocabulary))
    assert result.test["test_loss"] < 0.1 * unigram  # the verse is learnt, not guessed
    assert result.test["test_bpc"] == pytest.approx(result.test["test_loss"] / math.log(2))


def test_text_windows_are_views_of_one_id_array_split_in_order(tmp_path):
    text = "".join(chr(ord("a") + i % 26) for i in range(1000))
    path = tmp_path / "abc.txt"
    path.write_text(text)
    task = seqkit.get_task("text", path=str(path), seq_len=10)
    (x, y), (vx, _), (tx, _) = task.splits.train, task.splits.val, task.splits.test
    assert x.dtype == y.dtype == torch.int64 and x.shape == (89, 10, 1) and y.shape == (89, 10)
    assert x.untyped_storage().data_ptr() == y.untyped_storage().data_ptr()  # no copies
    assert torch.equal(y[:, :-1], x[:, 1:, 0])  # targets: the same window one step on
    decoded = task.decode(x[0])
    assert decoded == text[:10]
    assert task.decode(vx[0]) == text[900:910]  # validation follows training
    assert task.decode(tx[0]) == text[950:960]  # and the test comes last


def test_byte_level_reads_any_bytes(tmp_path):
    path = tmp_path / "bytes.txt"
    raw = "가나다 abc\n".encode() * 50 + b"\x00\xff"
    path.write_bytes(raw)
    task = seqkit.get_task("text", path=str(path), level="byte", seq_len=8)
    assert task.io.input_size == 256
    x, y = task.splits.train
    assert bytes(x[0].view(-1).tolist()) == raw[:8] and bytes(y[0].tolist()) == raw[1:9]
    assert task.decode(x[0]) == "가나\ufffd"  # a cut character is replaced, not an error


def test_the_run_records_its_data_and_refuses_it_changed(text_run, tmp_path):
    path, out, _ = text_run
    recorded = json.loads((out / "config.json").read_text())["data"]
    assert recorded["path"] == str(path.resolve())
    assert recorded["bytes"] == path.stat().st_size
    assert len(recorded["sha256"]) == 64
    assert recorded["vocabulary"] == "".join(sorted(set(VERSE)))
    changed = tmp_path / "changed"
    changed.mkdir()
    config = changed / "config.json"
    config.write_text((out / "config.json").read_text())
    before = path.read_bytes()
    try:
        path.write_text(VERSE * 61, encoding="utf-8")  # one more verse
        args = ["run", "--config", str(config), "--epochs", "1", "--out", str(changed / "r")]
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 2
        assert "the data changed" in res.output and "--data-changed" in res.output
        assert not (changed / "r").exists()
        res = CliRunner().invoke(cli, [*args, "--data-changed", "-q"])
        assert res.exit_code == 0, res.output
        again = json.loads((changed / "r" / "config.json").read_text())["data"]
        assert again["sha256"] != recorded["sha256"]
    finally:
        path.write_bytes(before)


def test_sampling_is_seeded_and_continues_the_text(text_run):
    _, out, _ = text_run
    run = seqkit.load_run(out)
    greedy = run.sample("동해 물과 ", length=20, temperature=0)
    assert greedy == "백두산이 마르고 닳도록 하느님이 보우"  # the verse goes on
    one = run.sample("무궁화", length=40, temperature=0.8, top_k=5, seed=3)
    assert one == run.sample("무궁화", length=40, temperature=0.8, top_k=5, seed=3)
    assert len(one) == 40 and set(one) <= set(VERSE)
    others = {run.sample("무궁화", length=40, temperature=2.0, seed=s) for s in range(4)}
    assert len(others) > 1  # the seed is used
    res = CliRunner().invoke(
        cli, ["sample", str(out), "--prime", "동해", "--length", "10", "--temperature", "0"]
    )
    assert res.exit_code == 0 and res.output.startswith("동해 물과 백두산이")


def test_sampling_refuses_what_the_model_never_saw(text_run):
    _, out, _ = text_run
    run = seqkit.load_run(out)
    with pytest.raises(ConfigError, match="characters the model never saw: 'xyz'"):
        run.sample("xyz")
    with pytest.raises(ConfigError, match="--temperature must be a number >= 0"):
        run.sample("동해", temperature=-1)


def test_a_loaded_text_run_needs_no_data_file(text_run, tmp_path):
    """A run trained here samples on a machine without its text: the vocabulary and
    sizes come from config.json."""
    path, out, _ = text_run
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    for name in ("config.json", "model.safetensors"):
        (moved / name).write_bytes((out / name).read_bytes())
    hidden = path.with_suffix(".away")
    path.rename(hidden)
    try:
        assert seqkit.load_run(moved).sample("동해 물과 ", length=5, temperature=0) == "백두산이 "
    finally:
        hidden.rename(path)


def test_truncated_bptt_and_explain_work_on_text(tmp_path):
    path = korean_text(tmp_path / "v.txt", lines=40)
    result = seqkit.run(
        cell="gru",
        data=seqkit.from_text(path, seq_len=40),
        tbptt=10,
        epochs=2,
        device="cpu",
        quiet=True,
    )
    assert math.isfinite(result.metrics["val_loss"])
    report = seqkit.explain(
        seqkit.RunConfig(task="text", cell="lstm", task_options={"path": str(path), "seq_len": 40})
    )
    assert report["input"][2] == 1  # ids (B, T, 1) in; the cells see one-hot vectors
    assert report["output"][2] == len(set(VERSE))


# -- series -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def series_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("series")
    path = sine_csv(root / "level.csv")
    out = root / "run"
    result = seqkit.run(
        cell="gru",
        data=seqkit.from_csv(path, input_len=24, inputs="level"),
        epochs=15,
        seed=0,
        device="cpu",
        quiet=True,
        out=out,
    )
    return path, out, result


def test_series_windows_split_and_baselines(tmp_path):
    path = sine_csv(tmp_path / "s.csv", rows=200)
    task = seqkit.get_task("series", path=str(path), input_len=5, horizon=2)
    values = np.loadtxt(path, delimiter=",", skiprows=1, dtype=np.float32)
    (x, y), (vx, vy) = task.splits.train, task.splits.val
    assert x.shape == (154, 5, 2) and y.shape == (154, 2, 1)  # targets: rows 5..159
    assert x.untyped_storage().data_ptr() == task.splits.val[0].untyped_storage().data_ptr()
    assert torch.equal(x[7], torch.from_numpy(values[7:12]))
    assert torch.equal(y[7, :, 0], torch.from_numpy(values[12:14, 1]))
    assert torch.equal(vy[0, :, 0], torch.from_numpy(values[160:162, 1]))  # val rows 160..179
    assert torch.equal(vx[0], torch.from_numpy(values[155:160]))  # its inputs precede it
    persistence = float(((y - x[:, -1:, 1:]) ** 2).double().mean())
    mean = float(((y - y.mean()) ** 2).double().mean())
    assert task.baselines() == {
        "training mean": pytest.approx(mean),
        "persistence": pytest.approx(persistence),
    }
    blind = float(y.double().var(dim=0, unbiased=False).mean())
    assert task.chance_loss(y) == pytest.approx(min(blind, mean, persistence))


def test_a_forecaster_beats_its_baselines_and_predicts_in_units(series_run):
    path, out, result = series_run
    persistence = result.task.baselines()["persistence"]
    assert result.chance_loss == pytest.approx(persistence)  # better than the mean here
    assert result.test["test_loss"] < 0.5 * persistence
    model, values = result.model, np.loadtxt(path, delimiter=",", skiprows=1)
    train_rows = values[: 1200 - 120 - 120, 1]  # standardised by the training rows alone
    assert model.x_mean.item() == pytest.approx(train_rows.mean(), rel=1e-5)
    assert model.x_std.item() == pytest.approx(train_rows.std(), rel=1e-5)
    rows = np.loadtxt(path, delimiter=",", skiprows=1)
    tail = path.parent / "tail.csv"
    tail.write_text("level,noise\n" + "".join(f"{b},{a}\n" for a, b in rows[-60:-1]))
    (row,) = seqkit.load_run(out).predict(seqkit.load_run(out).inputs_from_file(tail, 1 << 20))
    assert abs(row["output"] - rows[-1, 1]) < 0.6  # the next row, in the data's units
    res = CliRunner().invoke(cli, ["predict", str(out), "--input-file", str(tail), "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["output"] == pytest.approx(row["output"])


# -- arrays -------------------------------------------------------------------------------
def test_from_arrays_learns_and_keeps_one_test_set_across_seeds():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 12, 2)).astype(np.float32)
    y = (x[:, :, 0].mean(1) > 0).astype(np.int64)
    data = seqkit.from_arrays(x, y, kind="classification")
    assert data == seqkit.from_arrays(torch.from_numpy(x), torch.from_numpy(y))  # by content
    results = [
        seqkit.run(cell="gru", data=data, epochs=15, seed=s, device="cpu", quiet=True)
        for s in (0, 1)
    ]
    assert results[0].test["test_accuracy"] > 0.85
    tests = [r.task.splits.test for r in results]
    assert torch.equal(tests[0][0], tests[1][0])  # the split has a seed of its own
    assert results[0].metrics["val_loss"] != results[1].metrics["val_loss"]


def test_arrays_use_the_splits_a_file_holds(tmp_path):
    rng = np.random.default_rng(1)
    x, xv, xt = (rng.normal(size=(n, 6, 1)).astype(np.float32) for n in (50, 7, 9))
    path = tmp_path / "a.pt"
    torch.save(
        {
            "X": torch.from_numpy(x),
            "y": torch.from_numpy(x.sum((1, 2))),
            "X_val": torch.from_numpy(xv),
            "y_val": torch.from_numpy(xv.sum((1, 2))),
            "X_test": torch.from_numpy(xt),
            "y_test": torch.from_numpy(xt.sum((1, 2))),
        },
        path,
    )
    task = seqkit.get_task("arrays", path=str(path), kind="regression")
    assert [s[0].shape[0] for s in (task.splits.train, task.splits.val, task.splits.test)] == [
        50,
        7,
        9,
    ]
    assert task.io == seqkit.IOSpec(1, 1, 6, 1)
    assert "X_val/y_val and X_test/y_test" in task.split_rule


def test_arrays_refuse_a_pickle_that_carries_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)

    class Payload:
        def __reduce__(self):
            return (os.system, ("touch pwned",))

    path = tmp_path / "evil.pt"
    torch.save({"X": Payload()}, path)
    with pytest.raises(ConfigError, match=r"evil\.pt: cannot be read"):
        seqkit.get_task("arrays", path=str(path)).splits  # noqa: B018
    assert not (tmp_path / "pwned").exists()


def test_a_file_larger_than_the_memory_is_refused_before_reading(tmp_path, monkeypatch):
    from seqkit._core import memory

    path = korean_text(tmp_path / "v.txt")
    monkeypatch.setattr(memory, "available_memory", lambda: 1000)
    with pytest.raises(ConfigError, match=r"reading it as token ids .* needs about"):
        seqkit.get_task("text", path=str(path)).splits  # noqa: B018


def test_the_data_tasks_pass_their_contract_on_their_examples():
    from seqkit import testing

    for name in ("text", "series", "arrays"):
        failed = [c for c in testing.task_checks(name) if not c.run().passed]
        assert failed == [], name


# -- the engines: ddp and a comparison's workers read the same data ------------------------
def _seqkit(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seqkit", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ddp_on_a_text_equals_one_process_with_the_global_batch(tmp_path):
    """Each rank reads the text and trains on its half of every global batch of 16."""
    path = korean_text(tmp_path / "v.txt", lines=60)
    # 107 windows: no last batch of 1, which two ranks cannot share (ddp drops it)
    assert seqkit.get_task("text", path=str(path), seq_len=18).num_samples % 16 > 1
    common = ["--cell", "lstm", "--task", "text", "--task-opt", f"path={path}"]
    common += ["--task-opt", "seq_len=18", "--epochs", "2", "--seed", "3", "-q"]
    two = _seqkit(
        "run", *common, "--trainer", "ddp", "--nproc", "2", "--batch-size", "8", "--out", "two",
        cwd=tmp_path,
    )  # fmt: skip
    assert two.returncode == 0, two.stderr
    one = seqkit.run(
        cell="lstm", data=seqkit.from_text(path, seq_len=18), epochs=2, seed=3, batch_size=16,
        device="cpu", quiet=True,
    )  # fmt: skip

    a, b = load_file(tmp_path / "two" / "model.safetensors"), one.model.state_dict()
    assert max((a[k] - b[k]).abs().max().item() for k in b) < 1e-5
    recorded = json.loads((tmp_path / "two" / "config.json").read_text())["data"]
    assert recorded["sha256"] == one.config.data["sha256"]


def test_a_comparison_on_a_csv_runs_each_point_on_the_same_data(tmp_path):
    path = sine_csv(tmp_path / "s.csv", rows=600)
    comparison = seqkit.compare(
        ["rnn", "gru"], data=seqkit.from_csv(path, input_len=12), epochs=3, device="cpu",
        seeds=2, jobs=2, out=tmp_path / "c",
    )  # fmt: skip
    hashes = {
        json.loads(p.read_text())["data"]["sha256"]
        for p in (tmp_path / "c" / "points").glob("*/config.json")
    }
    assert len(hashes) == 1 and len(list((tmp_path / "c" / "points").iterdir())) == 4
    assert {row["cell"] for row in comparison.rows} == {"rnn", "gru"}
    kept = json.loads((tmp_path / "c" / "comparison.json").read_text())
    assert kept["base"]["data"]["sha256"] in hashes
    # the data change before a resume: the comparison refuses to go on with them
    (
        tmp_path
        / "c"
        / "points"
        / sorted(p.name for p in (tmp_path / "c" / "points").iterdir())[0]
        / "point.json"
    ).unlink()
    sine_csv(path, rows=600, noise=0.2)
    with pytest.raises(ConfigError, match="the data changed"):
        seqkit.resume_comparison(tmp_path / "c")


def test_a_loaded_series_run_keeps_its_columns_without_its_file(tmp_path):
    path = sine_csv(tmp_path / "s.csv", rows=300)
    out = tmp_path / "run"
    seqkit.run(
        cell="gru", data=seqkit.from_csv(path, input_len=8, inputs="level,noise"), epochs=1,
        device="cpu", quiet=True, out=out,
    )  # fmt: skip
    path.rename(tmp_path / "away.csv")
    names, inputs, targets = seqkit.load_run(out).plan.task.columns
    assert [names[i] for i in inputs] == ["level", "noise"] and [names[i] for i in targets] == [
        "level"
    ]


def test_token_ids_are_never_standardised(tmp_path):
    path = korean_text(tmp_path / "v.txt", lines=20)
    run = seqkit.run(
        cell="gru", data=seqkit.from_text(path, seq_len=10), normalize=True, epochs=1,
        device="cpu", quiet=True,
    )  # fmt: skip
    assert run.model.x_mean.abs().max() == 0 and (run.model.x_std == 1).all()


def test_a_time_stamp_column_is_left_out_by_default(tmp_path):
    path = tmp_path / "stamped.csv"
    rows = [f"2026-01-{1 + i // 24:02d}T{i % 24:02d}:00,{math.sin(i / 4):.4f}" for i in range(300)]
    path.write_text("time,level\n" + "\n".join(rows) + "\n")
    task = seqkit.get_task("series", path=str(path), input_len=6)
    names, inputs, targets = task.columns
    assert [names[i] for i in inputs] == ["level"] and [names[i] for i in targets] == ["level"]
    with pytest.raises(ConfigError, match=r"line 2, column 'time': '2026-01-01T00:00' is not"):
        seqkit.get_task("series", path=str(path), inputs="time,level").splits  # noqa: B018


def test_a_text_run_trained_standardised_loads_and_refuses_numbers(tmp_path):
    path = korean_text(tmp_path / "v.txt", lines=20)
    out = tmp_path / "run"
    seqkit.run(
        cell="gru", data=seqkit.from_text(path, seq_len=10), normalize=True, epochs=1,
        device="cpu", quiet=True, out=out,
    )  # fmt: skip
    loaded = seqkit.load_run(out)
    assert len(loaded.sample("동해", length=5, temperature=0)) == 5
    with pytest.raises(ConfigError, match="reads token ids, not numbers: draw text from it"):
        loaded.predict([1, 2, 3])


def test_resume_from_another_directory_does_not_read_another_file(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir(), second.mkdir()
    korean_text(first / "v.txt", lines=20)
    (second / "v.txt").write_text("another text, another file\n" * 40)
    monkeypatch.chdir(first)
    with pytest.raises(seqkit.SeqkitError, match="resume with"):
        seqkit.run(
            cell="gru", data=seqkit.from_text("v.txt", seq_len=10), epochs=3, device="cpu",
            quiet=True, out=tmp_path / "run", checkpoint_every=1, callbacks=[StopAfter(1)],
        )  # fmt: skip
    monkeypatch.chdir(second)
    with pytest.raises(ConfigError, match=r"the run read .*a/v\.txt, this would read .*b/v\.txt"):
        seqkit.resume(tmp_path / "run")


class StopAfter(seqkit.Callback):
    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_epoch_end(self, state, record) -> None:
        if state.epoch >= self.epochs:
            state.interrupt = "stopped by the test"


def test_arrays_refuse_what_they_cannot_hold(tmp_path, monkeypatch):
    x = np.zeros((40, 3, 1), dtype=np.float32)
    cases = {
        "huge.npz": ({"X": x, "y": np.array([0, 10**9] * 20)}, "number them 0..K-1"),
        "scalar.npz": ({"X": x, "y": np.int64(3)}, "X holds 40 sequences but y one number"),
    }
    for name, (arrays, message) in cases.items():
        np.savez(tmp_path / name, **arrays)
        with pytest.raises(ConfigError, match=message):
            seqkit.get_task("arrays", path=str(tmp_path / name)).splits  # noqa: B018
    big = np.zeros((2000, 1000, 1), dtype=np.float32)  # 8 MB of zeros: tiny compressed
    np.savez_compressed(tmp_path / "packed.npz", X=big, y=np.arange(2000) % 2)
    from seqkit._core import memory

    monkeypatch.setattr(memory, "available_memory", lambda: 12 << 20)
    with pytest.raises(ConfigError, match="reading its arrays needs about"):
        seqkit.get_task("arrays", path=str(tmp_path / "packed.npz")).splits  # noqa: B018


def test_arrays_may_leave_targets_unscored_and_take_bfloat16():
    rng = np.random.default_rng(4)
    x = torch.from_numpy(rng.normal(size=(200, 5, 1)).astype(np.float32)).bfloat16()
    y = (x[:, :, 0].float() > 0).long()
    y[:, :2] = seqkit.IGNORE  # the first two steps are not asked about
    task = seqkit.get_task("arrays", **seqkit.from_arrays(x, y).options)
    assert task.partial_targets and task.io.output_len == 5
    assert bool((task.splits.train[1][:, :2] == seqkit.IGNORE).all())


def test_ray_runs_a_comparison_on_a_text_as_the_process_executor_does(tmp_path):
    """Ray's workers read the file themselves, and get the numbers the process pool does."""
    path = korean_text(tmp_path / "v.txt", lines=40)
    common = dict(data=seqkit.from_text(path, seq_len=12), epochs=2, device="cpu", seeds=1)
    local = seqkit.compare(["rnn", "gru"], jobs=2, **common)
    distributed = seqkit.compare(["rnn", "gru"], jobs=2, executor="ray", **common)
    assert [r["val_loss_mean"] for r in distributed.rows] == [
        r["val_loss_mean"] for r in local.rows
    ]

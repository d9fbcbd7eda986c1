"""Every file seqkit reads back is checked before it is used (issue 33 items 2 and 3): a
damaged summary, metrics line, gradients file, results.json, model or checkpoint, or
files of two runs in one directory, is one `Error:` line naming the file and what was
expected, exit 2, and every file in the directory is left as it was."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import seqkit
from seqkit._cli.main import cli
from seqkit._core import files

SMALL = dict(cell="gru", task="sum", hidden_size=8, task_options={"num_samples": 200})


class StopAfter(seqkit.Callback):
    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_epoch_end(self, state, record) -> None:
        if record["epoch"] >= self.epochs:
            state.interrupt = "stopped by the test"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """`done` and `other` (two finished runs of one config, gradients recorded), `cut` (a
    run stopped after 2 of 4 epochs) and `cmp` (a comparison)."""
    root = tmp_path_factory.mktemp("made")
    for name in ("done", "other"):
        seqkit.run(**SMALL, epochs=2, probe_every=1, out=root / name, quiet=True)
    with pytest.raises(seqkit.SeqkitError, match="2 epochs are complete"):
        seqkit.run(**SMALL, epochs=4, out=root / "cut", quiet=True, callbacks=[StopAfter(2)])
    seqkit.compare(["rnn", "gru"], seqkit.RunConfig(**SMALL, epochs=1), seeds=1, out=root / "cmp")
    return root


def snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file()}


def edit_json(path: Path, change: Callable[[dict], object]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def edit_lines(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    path.write_text("".join(line + "\n" for line in change(path.read_text().splitlines())))


def edit_checkpoint(path: Path, change: Callable[[dict], object]) -> None:
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)


def cut_in_half(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def word(line: str, key: str) -> str:
    """The metrics line with `key` set to a word."""
    return json.dumps({**json.loads(line), key: "one"})


def without_id(line: str) -> str:
    return json.dumps({k: v for k, v in json.loads(line).items() if k != "run_id"})


def bump_epoch(c: dict) -> None:
    c["epoch"] += 1


# (the directory, what is done to it, the command, what the line says)
CASES = {
    "summary cut off": (
        "done",
        lambda d: cut_in_half(d / files.SUMMARY),
        ["report"],
        "summary.json: cannot be read",
    ),
    "summary not an object": (
        "done",
        lambda d: (d / files.SUMMARY).write_text("[1]"),
        ["report"],
        "summary.json: must be an object (got [1])",
    ),
    "summary without its task": (
        "done",
        lambda d: edit_json(d / files.SUMMARY, lambda s: s.pop("task")),
        ["report"],
        "summary.json: field 'task' is missing",
    ),
    "summary with a word for a loss": (
        "done",
        lambda d: edit_json(d / files.SUMMARY, lambda s: s.update(val_loss="low")),
        ["report"],
        "summary.json: field 'val_loss' must be a number or null (got 'low')",
    ),
    "summary with a bad example": (
        "done",
        lambda d: edit_json(d / files.SUMMARY, lambda s: s["examples"].append(3)),
        ["report"],
        "field 'examples[1]' must be an object",
    ),
    "metrics line cut off": (
        "done",
        lambda d: edit_lines(d / files.METRICS, lambda ls: [ls[0], ls[1][:20]]),
        ["report"],
        "metrics.jsonl, line 2: not valid JSON",
    ),
    "metrics epoch as a word": (
        "done",
        lambda d: edit_lines(d / files.METRICS, lambda ls: [word(ls[0], "epoch"), ls[1]]),
        ["report"],
        "metrics.jsonl, line 1: field 'epoch' must be an integer >= 1 (got 'one')",
    ),
    "metrics loss as a word": (
        "done",
        lambda d: edit_lines(d / files.METRICS, lambda ls: [ls[0], word(ls[1], "val_loss")]),
        ["report"],
        "metrics.jsonl, line 2: field 'val_loss' must be a number",
    ),
    "metrics with an epoch missing": (
        "done",
        lambda d: edit_lines(d / files.METRICS, lambda ls: ls[:1]),
        ["report"],
        "metrics.jsonl: holds 1 epoch(s), summary.json says 2",
    ),
    "gradients damaged": (
        "done",
        lambda d: edit_json(d / files.GRADIENTS, lambda g: g.update(records=3)),
        ["report"],
        "gradients.json: field 'records' must be a list",
    ),
    "summary of another run": (
        "done",
        lambda d: shutil.copy(d.parent / "other" / files.SUMMARY, d / files.SUMMARY),
        ["report"],
        "summary.json belongs to run",
    ),
    "metrics of another run": (
        "done",
        lambda d: shutil.copy(d.parent / "other" / files.METRICS, d / files.METRICS),
        ["report"],
        "metrics.jsonl, line 1 belongs to run",
    ),
    "model cut off": (
        "done",
        lambda d: cut_in_half(d / files.MODEL),
        ["predict", "{dir}", "--input", "1,2,3,4,5,6"],
        "model.safetensors is corrupt or truncated",
    ),
    "model of another run": (
        "done",
        lambda d: shutil.copy(d.parent / "other" / files.MODEL, d / files.MODEL),
        ["predict", "{dir}", "--input", "1,2,3,4,5,6"],
        "model.safetensors belongs to run",
    ),
    "model of another cell": (
        "done",
        lambda d: edit_json(d / files.CONFIG, lambda c: c.update(cell="lstm")),
        ["predict", "{dir}", "--input", "1,2,3,4,5,6"],
        "model.safetensors does not fit the model its config describes",
    ),
    "checkpoint epoch negative": (
        "cut",
        lambda d: edit_checkpoint(d / files.CHECKPOINT, lambda c: c.update(epoch=-1)),
        ["run", "--resume", "{dir}"],
        "checkpoint.pt: field 'epoch' must be an integer >= 1 (got -1)",
    ),
    "checkpoint epoch as text": (
        "cut",
        lambda d: edit_checkpoint(d / files.CHECKPOINT, lambda c: c.update(epoch="2")),
        ["run", "--resume", "{dir}"],
        "checkpoint.pt: field 'epoch' must be an integer >= 1 (got '2')",
    ),
    "checkpoint step negative": (
        "cut",
        lambda d: edit_checkpoint(d / files.CHECKPOINT, lambda c: c.update(step=-5)),
        ["run", "--resume", "{dir}"],
        "checkpoint.pt: field 'step' must be an integer >= 0 (got -5)",
    ),
    "checkpoint history of another length": (
        "cut",
        lambda d: edit_checkpoint(d / files.CHECKPOINT, bump_epoch),
        ["run", "--resume", "{dir}"],
        "field 'history' must hold one record per epoch, 3 (got 2)",
    ),
    "checkpoint optimizer damaged": (
        "cut",
        lambda d: edit_checkpoint(d / files.CHECKPOINT, lambda c: c.update(optimizer={"x": 1})),
        ["run", "--resume", "{dir}"],
        "checkpoint.pt: field 'optimizer.state' is missing",
    ),
    "checkpoint generator state damaged": (
        "cut",
        lambda d: edit_checkpoint(
            d / files.CHECKPOINT, lambda c: c.update(torch_rng=torch.ones(3))
        ),
        ["run", "--resume", "{dir}"],
        "field 'torch_rng' must be a torch.uint8 tensor",
    ),
    "checkpoint of another cell": (
        "cut",
        lambda d: edit_json(d / files.CONFIG, lambda c: c.update(cell="lstm")),
        ["run", "--resume", "{dir}"],
        "checkpoint.pt does not fit the model its config describes",
    ),
    "checkpoint of another run": (
        "cut",
        lambda d: edit_checkpoint(d / files.CHECKPOINT, lambda c: c.update(run_id="0123456789ab")),
        ["run", "--resume", "{dir}"],
        "checkpoint.pt belongs to run 0123456789ab",
    ),
    "metrics shorter than the checkpoint": (
        "cut",
        lambda d: edit_lines(d / files.METRICS, lambda ls: ls[:1]),
        ["run", "--resume", "{dir}"],
        "metrics.jsonl: holds 1 epoch(s), the checkpoint 2",
    ),
    "results rows damaged": (
        "cmp",
        lambda d: edit_json(d / files.RESULTS, lambda r: r.update(rows="x")),
        ["report"],
        "results.json: field 'rows' must be a list",
    ),
    "results without its task": (
        "cmp",
        lambda d: edit_json(d / files.RESULTS, lambda r: r.pop("task")),
        ["report"],
        "results.json: field 'task' is missing",
    ),
    "results naming a missing plot": (
        "cmp",
        lambda d: edit_json(d / files.RESULTS, lambda r: r.update(plots=["loss-9.png"])),
        ["report"],
        "results.json names the plot loss-9.png, which cannot be read",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_damaged_file_is_one_line_and_nothing_changes(made, tmp_path, case):
    which, damage, command, expected = CASES[case]
    shutil.copytree(made, tmp_path / "copy")
    directory = tmp_path / "copy" / which
    damage(directory)
    before = snapshot(tmp_path / "copy")
    args = [a.replace("{dir}", str(directory)) for a in command]
    if args == ["report"]:
        args.append(str(directory))
    res = CliRunner().invoke(cli, args)
    line = res.output.strip()
    assert res.exit_code == 2, res.output
    assert "\n" not in line and line.startswith("Error: ") and expected in line, line
    assert snapshot(tmp_path / "copy") == before


def test_the_undamaged_copies_do_what_the_damaged_ones_refuse(made, tmp_path):
    """The control: the same commands on the files as written succeed."""
    shutil.copytree(made, tmp_path / "copy")
    copy = tmp_path / "copy"
    for args in (
        ["report", str(copy / "done")],
        ["report", str(copy / "cmp")],
        ["predict", str(copy / "done"), "--input", "1,2,3,4,5,6"],
        ["run", "--resume", str(copy / "cut"), "--quiet"],
    ):
        res = CliRunner().invoke(cli, args)
        assert res.exit_code == 0, (args, res.output)
    ids = {
        json.loads(line)["run_id"]
        for line in (copy / "cut" / files.METRICS).read_text().splitlines()
    }
    assert ids == {json.loads((copy / "cut" / files.SUMMARY).read_text())["run_id"]}


def test_every_file_of_a_run_carries_its_id(made):
    done = made / "done"
    run_id = json.loads((done / files.CONFIG).read_text())["run_id"]
    other = json.loads((made / "other" / files.CONFIG).read_text())["run_id"]
    assert len(run_id) == 16 and run_id != other
    assert json.loads((done / files.SUMMARY).read_text())["run_id"] == run_id
    assert json.loads((done / files.GRADIENTS).read_text())["run_id"] == run_id
    lines = (done / files.METRICS).read_text().splitlines()
    assert [json.loads(line)["run_id"] for line in lines] == [run_id, run_id]
    assert torch.load(done / files.CHECKPOINT, weights_only=True)["run_id"] == run_id
    from safetensors import safe_open

    with safe_open(str(done / files.MODEL), framework="pt") as f:
        metadata = f.metadata()
    assert metadata["run_id"] == run_id
    assert json.loads(metadata["config"])["cell"] == "gru"


def test_a_run_directory_of_an_earlier_version_still_loads(made, tmp_path):
    """Weights in model.pt (a state dict), no run ids anywhere: predict and report work."""
    old = tmp_path / "old"
    shutil.copytree(made / "done", old)
    model = seqkit.load_run(old)
    want = model.predict([[1, 2, 3, 4, 5, 6]])[0]["output"]
    torch.save(model.model.state_dict(), old / files.LEGACY_MODEL)
    (old / files.MODEL).unlink()
    for name in (files.CONFIG, files.SUMMARY, files.GRADIENTS):
        edit_json(old / name, lambda d: d.pop("run_id"))
    edit_lines(old / files.METRICS, lambda ls: [without_id(line) for line in ls])
    assert seqkit.load_run(old).predict([[1, 2, 3, 4, 5, 6]])[0]["output"] == want
    res = CliRunner().invoke(cli, ["report", str(old)])
    assert res.exit_code == 0, res.output

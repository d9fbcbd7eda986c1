"""Reusing a run: `seqkit.load_run(...).predict(...)` and `seqkit predict`."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
from click.testing import CliRunner

import seqkit
from seqkit._cli.main import cli
from seqkit._core.errors import ConfigError


@pytest.fixture(scope="module")
def sum_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "sum"
    result = seqkit.run(
        cell="gru", task="sum", epochs=6, device="cpu", out=out, task_options={"num_samples": 5000}
    )
    return out, result


def test_loaded_model_predicts_exactly_as_the_trained_one(sum_run):
    out, result = sum_run
    loaded = seqkit.load_run(out)
    x = torch.tensor([[[2.0], [4.0], [6.0], [8.0], [10.0], [11.0]]])
    with torch.no_grad():
        assert torch.equal(loaded.model(x), result.model.eval()(x))
    (row,) = loaded.predict([2, 4, 6, 8, 10, 11])
    assert row["answer"] == 41.0 and abs(row["output"] - 41) < 1.0
    assert row["text"].startswith("Input: [2, 4, 6, 8, 10, 11] -> Output: ")
    rows = loaded.predict([[1, 1, 1, 1, 1, 1], [3, 3, 3, 3, 3, 3]])
    assert [r["answer"] for r in rows] == [6.0, 18.0]


def test_predict_command_with_input_and_file(sum_run, tmp_path):
    out, _ = sum_run
    res = CliRunner().invoke(cli, ["predict", str(out), "--input", "2,4,6,8,10,11"])
    assert res.exit_code == 0 and "(answer 41)" in res.output
    csv_file = tmp_path / "rows.csv"
    csv_file.write_text("1,2,3,4,5,6\n14 14 14 14 14 14\n")
    res = CliRunner().invoke(cli, ["predict", str(out), "--input-file", str(csv_file), "--json"])
    rows = [json.loads(line) for line in res.output.splitlines()]
    assert [r["answer"] for r in rows] == [21.0, 84.0]
    json_file = tmp_path / "rows.json"
    json_file.write_text("[[1, 1, 1, 1, 1, 1]]")
    res = CliRunner().invoke(cli, ["predict", str(out), "--input-file", str(json_file)])
    assert res.exit_code == 0 and "(answer 6)" in res.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["--input", "1,2,3"], "must have 6 step(s) per sequence"),
        (["--input", "a,b"], "is not a row of numbers"),
        (["--input", "[1, 2"], "is not valid JSON"),
        ([], "give exactly one of --input and --input-file"),
        (["--input-file", "/nonexistent.csv"], "No such file"),
    ],
)
def test_bad_predict_input(sum_run, args, message):
    out, _ = sum_run
    res = CliRunner().invoke(cli, ["predict", str(out), *args])
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output


def test_not_a_run_directory(tmp_path):
    with pytest.raises(ConfigError, match="not a run directory"):
        seqkit.load_run(tmp_path)


class Payload:
    """Unpickling this runs code: a malicious "checkpoint"."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_model_file_with_pickled_code_is_refused_not_run(sum_run, tmp_path):
    out, _ = sum_run
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "config.json").write_text((out / "config.json").read_text())
    marker = tmp_path / "pwned"
    with (bad / "model.pt").open("wb") as f:
        pickle.dump(Payload(marker), f)
    with pytest.raises(ConfigError, match="was refused: it is not a plain tensor file"):
        seqkit.load_run(bad)
    assert not marker.exists()


def test_truncated_model_file(sum_run, tmp_path):
    out, _ = sum_run
    bad = tmp_path / "cut"
    bad.mkdir()
    (bad / "config.json").write_text((out / "config.json").read_text())
    data = (out / "model.safetensors").read_bytes()
    (bad / "model.safetensors").write_bytes(data[: len(data) // 2])
    res = CliRunner().invoke(cli, ["predict", str(bad), "--input", "1,2,3,4,5,6"])
    assert res.exit_code == 2 and "corrupt or truncated" in res.output

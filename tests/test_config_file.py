"""`--config FILE`: TOML settings, CLI flags over them, and reruns from a saved run."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import load_file

from seqkit._cli.main import cli

TOML = """
task = "cumsum"
cell = "lstm"
hidden-size = 24
epochs = 3
seed = 4
lr_schedule = "constant"

[task_options]
num_samples = 400
seq_len = 4
"""


def _run(args):
    res = CliRunner().invoke(cli, ["run", "--quiet", "--json", *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_toml_settings_with_flags_and_options_winning(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(TOML)
    s = _run(
        [
            "--config",
            str(path),
            "--epochs",
            "2",
            "--task-opt",
            "seq_len=6",
            "--out",
            str(tmp_path / "r"),
        ]
    )
    c = s["config"]
    assert (c["task"], c["cell"], c["hidden_size"], c["seed"]) == ("cumsum", "lstm", 24, 4)
    assert c["epochs"] == 2 and c["lr_schedule"] == "constant"  # flag wins, file kept
    assert c["task_options"]["seq_len"] == 6 and c["task_options"]["num_samples"] == 400


def _epochs(run_dir):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [
        {k: v for k, v in r.items() if k not in ("epoch_time", "train_time", "run_id")}
        for r in rows
    ]


def test_a_saved_config_reruns_to_the_same_result_bit_for_bit(tmp_path):
    path = tmp_path / "exp.toml"
    path.write_text(TOML)
    _run(["--config", str(path), "--out", str(tmp_path / "a")])
    _run(["--config", str(tmp_path / "a" / "config.json"), "--out", str(tmp_path / "b")])
    assert _epochs(tmp_path / "a") == _epochs(tmp_path / "b")
    wa = load_file(tmp_path / "a" / "model.safetensors")
    wb = load_file(tmp_path / "b" / "model.safetensors")
    assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize(
    "content, suffix, message",
    [
        (None, ".toml", "No such file"),
        ('task = "sum\n', ".toml", "not valid TOML"),
        ('task = "sum"\ncell = "gru"\nbogus = 1\n', ".toml", "unknown setting 'bogus'"),
        ("{", ".json", "not valid JSON"),
        ('cell = "gru"\n', ".toml", "a run needs a task"),
        ('task = "sum"\ncell = "gru"\nepochs = -1\n', ".toml", "--epochs must be an integer"),
    ],
)
def test_bad_config_files(tmp_path, content, suffix, message):
    path = tmp_path / f"exp{suffix}"
    if content is not None:
        path.write_text(content)
    out = tmp_path / "never"
    res = CliRunner().invoke(cli, ["run", "--config", str(path), "--out", str(out)])
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    assert not out.exists()

"""`seqkit export` / `LoadedRun.export` (issue 34): a run's model as ONNX or TorchScript,
checked against torch, with its model card; a cell that cannot export gets one line."""

from __future__ import annotations

import contextlib
import io
import json
import math
import sys
from pathlib import Path

import numpy as np
import onnxruntime
import pytest
import torch
from click.testing import CliRunner
from torch import Tensor, nn

import seqkit
import seqkit.testing
from seqkit._cli.main import cli
from seqkit._plugins import registry as registry_module
from seqkit._run.export import TOLERANCE

TOPOLOGY_TASKS = {
    "one-to-one": "square",
    "one-to-many": "multiples",
    "many-to-one": "sum",
    "many-to-many": "cumsum",
    "seq2seq": "cumsum",
}
DYNAMIC_LENGTH = {"many-to-one", "many-to-many", "seq2seq"}
SMALL = {"num_samples": 32, "val_samples": 16}


def make_run(out: Path, cell: str, task: str, registry=None, **settings) -> Path:
    """A run trained for one epoch on a tiny set (the export needs a run, not a good model)."""
    with contextlib.redirect_stdout(io.StringIO()):
        seqkit.run(
            cell=cell, task=task, epochs=1, hidden_size=8, device="cpu", out=out,
            registry=registry, **settings,
        )  # fmt: skip
    return out


def run_file(path: Path, x: Tensor) -> Tensor:
    """The exported file's outputs on `x`, run without seqkit."""
    if path.suffix == ".onnx":
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        return torch.from_numpy(session.run(None, {"x": x.numpy()})[0])
    with torch.no_grad():
        return torch.jit.load(str(path))(x)


def torch_outputs(run: seqkit.LoadedRun, x: Tensor) -> Tensor:
    with torch.no_grad():
        out: Tensor = run.model.eval()(x)
    return out


def within_tolerance(got: Tensor, expected: Tensor) -> float:
    assert got.shape == expected.shape
    difference = float((got - expected).abs().max())
    assert difference <= TOLERANCE * max(1.0, float(expected.abs().max()))
    return difference


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    made: dict[tuple[str, str, str], Path] = {}

    def get(cell: str, impl: str, topology: str) -> Path:
        key = (cell, impl, topology)
        if key not in made:
            out = tmp_path_factory.mktemp("runs") / "-".join(key)
            made[key] = make_run(
                out, cell, TOPOLOGY_TASKS[topology], topology=topology,
                cell_options={"impl": impl}, task_options=SMALL,
            )  # fmt: skip
        return made[key]

    return get


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("topology", sorted(TOPOLOGY_TASKS))
@pytest.mark.parametrize("impl", ["fused", "scratch"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_every_cell_and_topology_round_trips(runs, cell, impl, topology, fmt, tmp_path):
    run = seqkit.load_run(runs(cell, impl, topology))
    out = tmp_path / ("m.onnx" if fmt == "onnx" else "m.pt")
    result = run.export(fmt, out)
    assert result.path == out and out.is_file() and result.card == tmp_path / "MODEL.md"
    assert result.max_difference <= TOLERANCE * 100  # outputs here are at most ~100
    io_spec = run.plan.task.io
    t = io_spec.input_len or 1
    generator = torch.Generator().manual_seed(3)
    x = run.plan.task.inputs(7, generator, torch.device("cpu"))  # another batch size
    within_tolerance(run_file(out, x), torch_outputs(run, x))
    dynamic = topology in DYNAMIC_LENGTH and impl == "fused"
    assert result.input_shape.startswith("(B, T," if dynamic else f"(B, {t},")
    if dynamic:
        longer = torch.cat([x, x, x], dim=1)  # three times the run's length
        within_tolerance(run_file(out, longer), torch_outputs(run, longer))
        assert result.fixed_length is None
    elif t > 1:  # the written-out loop is unrolled by the trace: the run's length only
        assert f"fixed at {t} steps" in str(result.fixed_length)
        with pytest.raises(Exception, match=r"steps|dimension|[Ss]plit|shape"):
            run_file(out, torch.cat([x, x], dim=1))


def test_auto_and_kernels_export_torchs_module_at_any_length(tmp_path):
    # impl=auto runs its hand-written kernels on CPU sequences of 16+ steps; an export
    # traces torch's module instead, so the length stays dynamic.
    for impl in ("auto", "kernels"):
        out = make_run(
            tmp_path / impl, "gru", "sum", cell_options={"impl": impl},
            task_options={**SMALL, "seq_len": 20},
        )  # fmt: skip
        run = seqkit.load_run(out)
        for fmt in ("onnx", "torchscript"):
            result = run.export(fmt)
            assert result.input_shape.startswith("(B, T, 1)") and result.fixed_length is None
            x = torch.rand(4, 33, 1) * 13 + 1
            within_tolerance(run_file(result.path, x), torch_outputs(run, x))


def test_a_character_model_exports_with_token_ids(tmp_path):
    text = tmp_path / "tiny.txt"
    text.write_text("the cat sat on the mat. " * 40)
    out = make_run(
        tmp_path / "chars", "lstm", "text", task_options={"path": str(text), "seq_len": 12}
    )
    run = seqkit.load_run(out)
    vocabulary = run.plan.task.io.input_size
    ids = torch.randint(vocabulary, (3, 30, 1))
    for fmt in ("onnx", "torchscript"):
        result = run.export(fmt)
        assert result.input_shape == "(B, T, 1) int64"
        assert result.output_shape == f"(B, T, {vocabulary}) float32"
        within_tolerance(run_file(result.path, ids), torch_outputs(run, ids))
    card = (out / "MODEL.md").read_text()
    assert "token ids" in card and str(text.resolve()) in card  # the data's identity


def test_a_forecaster_exports_with_its_standardisation(tmp_path):
    csv = tmp_path / "load.csv"
    rows = [f"{1000 + 50 * math.sin(i / 5):.3f},{20 + i % 7}" for i in range(200)]
    csv.write_text("load,temp\n" + "\n".join(rows) + "\n")
    out = make_run(
        tmp_path / "forecast", "gru", "series",
        task_options={"path": str(csv), "input_len": 8, "targets": "load"},
    )  # fmt: skip
    run = seqkit.load_run(out)
    result = run.export("onnx")
    x = torch.tensor([[[1000.0 + 50 * math.sin(i / 5), 20.0 + i % 7] for i in range(8)]])
    got = run_file(result.path, x)
    within_tolerance(got, torch_outputs(run, x))
    assert 900 < float(got) < 1100  # in the data's units: de-standardised inside the file
    assert result.input_shape == "(B, T, 2) float32"


def test_the_model_card_says_what_the_run_recorded(runs, tmp_path):
    run_dir = runs("gru", "fused", "many-to-one")
    result = seqkit.load_run(run_dir).export("onnx", tmp_path / "sum.onnx")
    card = result.card.read_text()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert card.startswith("# gru / many-to-one on sum\n")
    assert "`sum.onnx`: ONNX, opset 17" in card
    assert "- **Data**: synthetic, drawn by the task from seed 0" in card
    assert "- **Input**: `x` (B, T, 1) float32, B any, T any" in card
    assert "- **Output**: `y` (B, 1, 1) float32, in the task's units" in card
    assert f"loss {summary['chance_loss']:.4g}" in card
    assert f"loss {summary['test_loss']:.4g}" in card
    assert f"mae {summary['test_metrics']['test_mae']:.4g}" in card
    assert "`seqkit run --task sum --cell gru --topology many-to-one --hidden-size 8" in card
    assert f"onnxruntime {onnxruntime.__version__}" in card
    assert card.count("max |onnxruntime - torch|") == len(result.checks) == 3


def test_the_command_exports_and_prints_the_difference(runs, tmp_path):
    run_dir = runs("lstm", "fused", "many-to-many")
    out = tmp_path / "x.pt"
    res = CliRunner().invoke(
        cli, ["export", str(run_dir), "--format", "torchscript", "--out", str(out)]
    )
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == f"wrote {out}: x (B, T, 1) float32 -> y (B, T, 1) float32"
    assert "checked with torch.jit.load against torch on probes" in lines[1]
    assert "max |difference|" in lines[1] and lines[-1] == f"model card: {tmp_path / 'MODEL.md'}"
    assert out.is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--format", "tflite"], "Invalid value for '--format'"),
        (["--format", "onnx", "--out", "/nonexistent/dir/m.onnx"], "no directory /nonexistent/dir"),
    ],
)
def test_bad_export_arguments(runs, args, message):
    res = CliRunner().invoke(cli, ["export", str(runs("rnn", "fused", "one-to-one")), *args])
    assert res.exit_code == 2 and message in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_without_the_extra_onnx_names_it(runs, monkeypatch):
    run_dir = runs("rnn", "fused", "one-to-one")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # import fails as if absent
    res = CliRunner().invoke(cli, ["export", str(run_dir), "--format", "onnx"])
    assert res.exit_code == 2
    assert res.output == (
        "Error: --format onnx needs onnx and onnxruntime: pip install 'seqkit[export]' "
        "(or: pip install onnx onnxruntime)\n"
    )
    assert not (run_dir / "model.onnx").exists()


# -- a third party's cell that cannot export ------------------------------------------------
class Base(nn.Module):
    """An Elman RNN behind the Cell contract; subclasses change what the forward returns."""

    num_directions = 1

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, hidden_size
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)

    def forward(self, x: Tensor, state=None):
        out, state = self.rnn(x, state)
        return self.outputs(out), state

    def step(self, x_t: Tensor, state=None):
        out, state = self.forward(x_t.unsqueeze(1), state)
        return out[:, 0], state

    def outputs(self, out: Tensor) -> Tensor:
        return out


class Erfcx(Base):
    """An operation ONNX has no symbol for (the scaled complementary error function)."""

    def outputs(self, out: Tensor) -> Tensor:
        return torch.special.erfcx(out)


class PythonScale(Base):
    """A number computed in Python from the batch: a trace keeps the one it saw."""

    def outputs(self, out: Tensor) -> Tensor:
        return out * float(torch.tensor(out.shape[0]).sqrt())


class Plugin:
    @seqkit.hookimpl
    def register_cells(self, register):
        register("erfcx", Erfcx)
        register("pyscale", PythonScale)
        register("plain", Base)


@pytest.fixture(scope="module")
def plugin_runs(tmp_path_factory):
    registry = seqkit.load_registry(plugins=[Plugin()], strict=True)
    root = tmp_path_factory.mktemp("plugin")
    made = {
        cell: make_run(root / cell, cell, "sum", registry=registry, task_options=SMALL)
        for cell in ("erfcx", "pyscale")
    }
    return registry, made


@pytest.mark.parametrize(
    "cell, fmt, message",
    [
        (
            "erfcx", "onnx",
            "Error: cell 'erfcx' (topology 'many-to-one') cannot be exported to onnx: Exporting "
            "the operator 'aten::special_erfcx' to ONNX opset version 17 is not supported",
        ),
        ("pyscale", "onnx", "Error: cell 'pyscale' (topology 'many-to-one'): the onnx export "),
        (
            "pyscale", "torchscript",
            "Error: cell 'pyscale' (topology 'many-to-one'): the torchscript export differs "
            "from torch by ",
        ),
    ],
)  # fmt: skip
def test_a_cell_that_cannot_export_gets_one_line_and_no_file(
    plugin_runs, monkeypatch, cell, fmt, message
):
    registry, made = plugin_runs
    run_dir = made[cell]
    monkeypatch.setattr(registry_module, "_default", registry)  # the command's registry
    kept = run_dir / ("model.onnx" if fmt == "onnx" else "model.torchscript.pt")
    kept.write_bytes(b"an earlier export")
    res = CliRunner().invoke(cli, ["export", str(run_dir), "--format", fmt])
    assert res.exit_code == 2, res.output
    assert res.output.startswith(message) and res.output.count("\n") == 1, res.output
    assert kept.read_bytes() == b"an earlier export"  # nothing written, nothing lost
    assert not (run_dir / "MODEL.md").exists()
    if cell == "pyscale":  # the failing operation is named: the line that left the trace
        assert "test_export.py" in res.output and "Python" in res.output


def test_seqkit_testing_checks_a_cell_is_exportable():
    registry = seqkit.load_registry(plugins=[Plugin()], strict=True)
    findings = seqkit.testing.check_exportable("plain", "torchscript", registry=registry)
    assert [f.passed for f in findings] == [True, True]
    assert [f.check for f in findings] == [
        "exports_to_torchscript_last_step",
        "exports_to_torchscript_every_step",
    ]
    with pytest.raises(seqkit.testing.ContractError, match="aten::special_erfcx"):
        seqkit.testing.check_exportable(Erfcx, "onnx")
    checks = seqkit.testing.exportable_checks("pyscale", "torchscript", registry=registry)
    failed = [c.run() for c in checks]
    assert all(f.passed is False for f in failed)
    assert "differs from torch" in failed[0].detail


def test_the_files_run_without_seqkit(runs, tmp_path):
    """The docs' ten lines: numpy and onnxruntime only, in a fresh interpreter."""
    run = seqkit.load_run(runs("gru", "fused", "many-to-one"))
    result = run.export("onnx", tmp_path / "sum.onnx")
    code = (
        "import sys, numpy as np, onnxruntime as ort\n"
        "sys.modules['seqkit'] = None\n"
        f"s = ort.InferenceSession({str(result.path)!r})\n"
        "x = np.array([[[2], [4], [6], [8], [10], [11]]], dtype=np.float32)\n"
        "print(float(s.run(None, {'x': x})[0][0, 0, 0]))\n"
    )
    import subprocess

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    x = torch.tensor([[[2.0], [4.0], [6.0], [8.0], [10.0], [11.0]]])
    expected = float(torch_outputs(run, x))
    assert np.isclose(float(proc.stdout), expected, atol=TOLERANCE * max(1, abs(expected)))

"""`seqkit export` and `LoadedRun.export`: a run's whole inference path (standardisation
in, the model, de-standardisation out) as one ONNX or TorchScript file that runs
without seqkit, checked against torch before it is written.

Both formats come from one trace of the model in eval mode (torch's TorchScript-based
ONNX exporter, `dynamo=False`: with torch 2.13 it kept the batch and length axes of
`nn.RNN/LSTM/GRU` dynamic, where the `torch.export`-based one fixed the length of most
of them and took ~30x longer). The bytes to be written are then run (onnxruntime;
`torch.jit.load`) on the run's probe inputs, a batch of another size and, where the
model reads any length, a batch of another length, and compared with torch's outputs:
a difference beyond `TOLERANCE` times the outputs' scale refuses the export and writes
nothing. A graph that does not follow another length (a cell whose time loop the trace
unrolls) is exported again for the run's length only, and says so.
"""

from __future__ import annotations

import copy
import io
import os
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn

from seqkit._core import files, records
from seqkit._core.errors import ConfigError
from seqkit._model.normalize import Standardized
from seqkit._plugins.data_task import DataTask
from seqkit._present.card import model_card
from seqkit._version import __version__

if TYPE_CHECKING:
    from seqkit._run.plan import Plan

FORMATS = {"onnx": files.ONNX, "torchscript": files.TORCHSCRIPT}
"""Each format and the file it writes in the run directory unless `out` is given."""
CARD = files.MODEL_CARD
OPSET = 17
"""The ONNX opset written: onnxruntime 1.13 and later run it."""
TOLERANCE = 1e-4
"""The largest difference allowed between an export's outputs and torch's, float32, as a
fraction of the outputs' scale: `TOLERANCE * max(1, max |torch's output|)`."""
INSTALL = "pip install 'seqkit[export]' (or: pip install onnx onnxruntime)"
SEED = 20_340_000
"""The generator seed of the check batches that are not the run's probes."""
OTHER_BATCH = 5


@dataclass(frozen=True)
class Check:
    """One batch an export was run on: its shape, and the largest difference from torch."""

    batch: str
    shape: tuple[int, ...]
    difference: float
    tolerance: float


@dataclass(frozen=True)
class Exported:
    """What `export` wrote: the file, its model card, and how it was checked."""

    path: Path
    format: str
    card: Path
    input_shape: str
    """e.g. `(B, T, 1) float32`, or `(B, 6, 1)` where the length is fixed."""
    output_shape: str
    checks: tuple[Check, ...]
    fixed_length: str | None
    """Why the length is fixed (None: it is dynamic, or the model reads one step)."""

    @property
    def max_difference(self) -> float:
        return max(check.difference for check in self.checks)


@dataclass(frozen=True)
class Run:
    """What an export needs of a loaded run (`seqkit.LoadedRun` has these)."""

    path: Path
    plan: Plan
    model: nn.Module

    @property
    def config(self) -> Any:
        return self.plan.config


def export(run: Run, format: str, out: str | Path | None = None) -> Exported:
    """Export `run`'s model to `format` ("onnx" or "torchscript") at `out` (default: the
    run directory's `model.onnx` / `model.torchscript.pt`), with `MODEL.md` beside it."""
    if format not in FORMATS:
        raise ConfigError(f"--format must be one of {', '.join(FORMATS)} (got {format!r})")
    if format == "onnx":
        require_onnx()
    path = Path(out) if out is not None else run.path / FORMATS[format]
    if path.is_dir():
        raise ConfigError(f"--out {path}: is a directory; give a file name")
    if not path.parent.is_dir():
        raise ConfigError(f"--out {path}: no directory {path.parent}")
    task, config = run.plan.task, run.config
    if task.io.padded_inputs:
        raise ConfigError(
            f"task '{config.task}' reads sequences of different lengths (NaN padding, "
            "read as lengths at run time): its model cannot be exported yet"
        )
    model = copy.deepcopy(run.model).cpu().float().eval()
    what = f"cell '{config.cell}' (topology '{config.topology}')"
    made = export_model(model, format, check_batches(run, model), what)
    files.write_bytes(path, made.data)
    card = path.parent / CARD
    files.write_text(card, card_text(run, path, format, made))
    return Exported(
        path, format, card, made.input_shape, made.output_shape, made.checks, made.fixed_length
    )


@dataclass(frozen=True)
class Made:
    """An export's bytes, checked, before anything is written."""

    data: bytes
    input_shape: str
    output_shape: str
    checks: tuple[Check, ...]
    fixed_length: str | None


def export_model(
    model: nn.Module, format: str, batches: list[tuple[str, Tensor]], what: str
) -> Made:
    """`model` (eval, CPU, float32) exported to `format` and checked on `batches`: the
    probes, another batch size, and another length (dropped where the model reads one
    length). A ConfigError naming `what` if it cannot be exported or differs from torch."""
    x = batches[0][1]
    dynamic_length = follows_length(model, x, batches[-1][1])
    if not dynamic_length:
        batches = batches[:2]
    fixed = None
    try:
        data, checks = exported_and_checked(model, format, batches, dynamic_length, what)
    except OtherLength as exc:  # the graph did not follow another length: the run's only
        fixed = (
            f"fixed at {x.shape[1]} steps, the run's: the exported graph does not follow "
            f"another length ({exc})"
        )
        dynamic_length = False
        data, checks = exported_and_checked(model, format, batches[:2], False, what)
    if fixed is None and x.shape[1] > 1 and not dynamic_length:
        fixed = f"fixed at {x.shape[1]} steps: the model reads no other length"
    y = no_grad(model, x)
    return Made(
        data,
        shape_text(x, dynamic_length),
        shape_text(y, dynamic_length and y.shape[1] > 1),
        tuple(checks),
        fixed,
    )


def require_onnx() -> None:
    """ConfigError, saying what to install, unless onnx and onnxruntime import."""
    try:
        import onnx  # noqa: F401
        import onnxruntime  # noqa: F401
    except ImportError:
        raise ConfigError(f"--format onnx needs onnx and onnxruntime: {INSTALL}") from None


# -- the batches an export is checked on ------------------------------------------------------


def check_batches(run: Run, model: nn.Module) -> list[tuple[str, Tensor]]:
    """The run's probe inputs `(P, T, D)`, a batch of `OTHER_BATCH` at the same length, and
    the probes read twice over, cut to 1.5 T steps (another length). A data-backed task's
    probes are its data, which a finished run need not have: a seeded batch at the run's
    shapes stands in (ids for token inputs, else drawn around the standardisation's mean)."""
    task = run.plan.task
    generator = torch.Generator().manual_seed(SEED)
    if isinstance(task, DataTask):
        probes = drawn(run, model, 3, generator)
        other = drawn(run, model, OTHER_BATCH, generator)
    else:
        probes = task.probes().cpu()
        other = task.inputs(OTHER_BATCH, generator, torch.device("cpu"))
    t = probes.shape[1]
    longer = torch.cat([probes, probes], dim=1)[:, : t + max(1, t // 2)]
    return [("probes", probes), ("batch", other.to(probes.dtype)), ("length", longer)]


def drawn(run: Run, model: nn.Module, n: int, generator: torch.Generator) -> Tensor:
    """`n` seeded inputs at the run's shapes, `(n, T, D)`."""
    io_spec = run.plan.task.io
    t = io_spec.input_len or 1
    if io_spec.input_tokens:
        return torch.randint(io_spec.input_size, (n, t, 1), generator=generator)
    x = torch.randn(n, t, io_spec.input_size, generator=generator)
    scaled = next((m for m in model.modules() if isinstance(m, Standardized)), None)
    return x if scaled is None else x * scaled.x_std + scaled.x_mean


def follows_length(model: nn.Module, x: Tensor, longer: Tensor) -> bool:
    """Whether the model reads sequences of any length: more than one step, and torch's
    outputs at another length keep their length or follow the input's."""
    if x.shape[1] < 2:
        return False
    try:
        a, b = no_grad(model, x), no_grad(model, longer)
    except Exception:  # a topology of one fixed length (readout=all) refuses another
        return False
    return b.shape[1] == a.shape[1] or (a.shape[1] == x.shape[1] and b.shape[1] == longer.shape[1])


def no_grad(model: nn.Module, x: Tensor) -> Tensor:
    with torch.no_grad():
        out: Tensor = model(x)
    return out


# -- exporting and checking -----------------------------------------------------------------


class OtherLength(Exception):
    """The export failed only on the batch of another length (why, in words)."""


def exported_and_checked(
    model: nn.Module, format: str, batches: list[tuple[str, Tensor]], dynamic: bool, what: str
) -> tuple[bytes, list[Check]]:
    """The file's bytes and one Check per batch. OtherLength when only the batch of
    another length failed (the caller exports for one length); any other failure is a
    ConfigError naming `what` and the failing operation or the difference."""
    x = batches[0][1]
    traced: list[str] = []
    with torch.no_grad(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if format == "onnx":
                data = to_onnx(model, x, dynamic)
            else:
                data = to_torchscript(model if dynamic else FixedLength(model, x.shape[1]), x)
        except Exception as exc:
            raise ConfigError(f"{what} cannot be exported to {format}: {first_line(exc)}") from None
        torch_dir = str(Path(torch.__file__).parent)
        traced = [  # where the model's own code left the trace (torch's modules warn too)
            f"{Path(w.filename).name}:{w.lineno}: {first_line(w.message).split(' might ')[0]}"
            for w in caught
            if issubclass(w.category, torch.jit.TracerWarning)
            and not w.filename.startswith(torch_dir)
        ]
        runner = onnx_runner(data) if format == "onnx" else torchscript_runner(data)
        checks = []
        for name, batch in batches:
            expected = model(batch)
            try:
                got = runner(batch)
                difference = max_difference(got, expected)
            except Exception as exc:
                if name == "length":
                    raise OtherLength(first_line(exc)[:100]) from None
                raise ConfigError(
                    f"{what}: the {format} export fails on a batch of shape "
                    f"{tuple(batch.shape)}: {first_line(exc)}"
                ) from None
            tolerance = TOLERANCE * max(1.0, float(expected.abs().max()))
            check = Check(name, tuple(batch.shape), difference, tolerance)
            if not difference <= tolerance:
                if name == "length":
                    raise OtherLength(f"off by {difference:.3g} at {check.shape[1]} steps")
                raise ConfigError(mismatch(what, format, check, traced))
            checks.append(check)
    return data, checks


def mismatch(what: str, format: str, check: Check, traced: list[str]) -> str:
    cause = (
        f"; the trace fixed a value the model computes in Python ({traced[0]})" if traced else ""
    )
    return (
        f"{what}: the {format} export differs from torch by {check.difference:.3g} on a "
        f"batch of shape {check.shape} (tolerance {check.tolerance:.3g}){cause}"
    )


def to_onnx(model: nn.Module, x: Tensor, dynamic_length: bool) -> bytes:
    """ONNX bytes of `model` traced on `x`: input `x`, output `y`, batch dynamic (and
    length, where the outputs follow it)."""
    axes: dict[str, dict[int, str]] = {"x": {0: "batch"}, "y": {0: "batch"}}
    if dynamic_length:
        axes["x"][1] = "length"
        if model(x).shape[1] == x.shape[1] > 1:
            axes["y"][1] = "length"
    buffer = io.BytesIO()
    with stdout_silenced():  # on failure torch prints the whole graph to stdout
        torch.onnx.export(
            model,
            (x,),
            buffer,  # type: ignore[arg-type]  # a file object works, as torch documents
            dynamo=False,
            opset_version=OPSET,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes=axes,
        )
    return buffer.getvalue()


@contextmanager
def stdout_silenced() -> Iterator[None]:
    """File descriptor 1 to /dev/null while the block runs (torch writes there from C++)."""
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 1)
            yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def onnx_runner(data: bytes) -> Callable[[Tensor], Tensor]:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.log_severity_level = 4  # a failing batch is reported here, not logged too
    session = onnxruntime.InferenceSession(data, options, providers=["CPUExecutionProvider"])
    return lambda x: torch.from_numpy(session.run(None, {"x": x.numpy()})[0])


def to_torchscript(model: nn.Module, x: Tensor) -> bytes:
    traced = torch.jit.trace(model, (x,), check_trace=False)
    buffer = io.BytesIO()
    torch.jit.save(traced, buffer)
    return buffer.getvalue()


def torchscript_runner(data: bytes) -> Callable[[Tensor], Tensor]:
    loaded = torch.jit.load(io.BytesIO(data), map_location="cpu")
    return lambda x: loaded(x)


class FixedLength(nn.Module):
    """`inner`, refusing inputs of another length than `length` (a TorchScript trace keeps
    this check, scripted, where it would bake in a plain Python one)."""

    def __init__(self, inner: nn.Module, length: int) -> None:
        super().__init__()
        self.inner, self.length = inner, length
        self.guard = torch.jit.script(_check_length)

    def forward(self, x: Tensor) -> Tensor:
        return self.inner(self.guard(x, self.length))


def _check_length(x: Tensor, length: int) -> Tensor:
    if x.shape[1] != length:
        raise RuntimeError("this model reads sequences of exactly " + str(length) + " steps")
    return x


def max_difference(got: Tensor, expected: Tensor) -> float:
    """The largest |got - expected|; inf for another shape or a NaN on one side only."""
    if tuple(got.shape) != tuple(expected.shape):
        return float("inf")
    diff = (got.double() - expected.double()).abs()
    both_nan = got.isnan() & expected.isnan()
    return float(diff.masked_fill(both_nan, 0).nan_to_num(nan=float("inf")).max())


def first_line(exc: Any) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


# -- what the card and the command say ------------------------------------------------------


def shape_text(t: Tensor, dynamic_length: bool) -> str:
    """`(B, T, D) dtype`: B always any, T where the length is dynamic."""
    length = "T" if dynamic_length else str(t.shape[1])
    return f"(B, {length}, {t.shape[2]}) {str(t.dtype).removeprefix('torch.')}"


def card_text(run: Run, path: Path, format: str, made: Made) -> str:
    config = files.read_json(run.path / files.CONFIG)
    summary_file = run.path / files.SUMMARY
    summary = records.read_summary(run.path) if summary_file.is_file() else None
    task = run.plan.task
    described = run.plan.registry.get("task", run.config.task).description or task.kind
    ids = " token ids" if task.io.input_tokens else ""
    input_line = f"`x` {made.input_shape}{ids}, B any" + (
        ", T any" if made.input_shape.startswith("(B, T") else ""
    )
    if made.fixed_length:
        input_line += f" (length {made.fixed_length})"
    output_line = f"`y` {made.output_shape}, {output_meaning(task.kind)}"
    runner = "onnxruntime" if format == "onnx" else "torch.jit.load"
    check_lines = [
        f"{c.batch} {c.shape}: max |{runner} - torch| = {c.difference:.3g} "
        f"(allowed {c.tolerance:.3g})"
        for c in made.checks
    ]
    return model_card(
        file_name=path.name,
        format_line=format_line(format),
        config=config,
        summary=summary,
        task_description=described,
        input_line=input_line,
        output_line=output_line,
        checks=check_lines,
        versions=export_versions(format),
    )


def output_meaning(kind: str) -> str:
    return {
        "regression": "in the task's units",
        "classification": "logits over the classes (argmax: the prediction)",
        "binary": "logits (> 0: class 1)",
    }.get(kind, "the model's outputs")


def format_line(format: str) -> str:
    return f"ONNX, opset {OPSET}" if format == "onnx" else "TorchScript (torch.jit.load)"


def export_versions(format: str) -> dict[str, str]:
    found = {"seqkit": __version__, "torch": torch.__version__}
    if format == "onnx":
        import onnxruntime

        found["onnxruntime"] = onnxruntime.__version__
    return found

"""Bad input gives one clear line, exit status 2, and leaves every run directory as it was.

The command-line table runs the real `seqkit` program. Starting Python and importing
torch costs about 2 s, so the cases share one driver process that imports seqkit once
and then forks one child per case. Each child does what `python -m seqkit ARGS` does
(`runpy.run_module("seqkit", run_name="__main__")`, traceback and exit status 1 on an
uncaught exception) in its own working directory, with its own stdout and stderr, so
every case has its own exit status, output and assertions.
`test_driver_matches_python_dash_m` checks the driver against real `python -m seqkit`
subprocesses. The library table checks the same kinds of input through `seqkit.run`,
`seqkit.load_run(...).predict` and resume.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata as md
import json
import math
import os
import pickle
import runpy
import shutil
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import torch

import seqkit
from seqkit._core import files as run_files
from seqkit._core.errors import ConfigError, SeqkitError, UnknownNameError
from seqkit._run.runner import resume


def _as_python_m() -> int:
    """Run `seqkit` as `python -m seqkit` would, and return the exit status."""
    try:
        runpy.run_module("seqkit", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            return exc.code or 0
        print(exc.code, file=sys.stderr)
        return 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        return 1
    return 0


def _limit_memory(headroom: int = 4 << 30) -> None:
    """Cap the address space a little above what is mapped now: a case that tries to
    allocate an absurd model fails at once on any host, never swapping or OOM-killing."""
    try:
        import resource

        status = Path("/proc/self/status").read_text()
        size_kb = int(next(ln for ln in status.splitlines() if ln.startswith("VmSize:")).split()[1])
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size_kb * 1024 + headroom
        if hard != resource.RLIM_INFINITY:
            limit = min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    except (ImportError, OSError, StopIteration, ValueError):
        pass


def _drive(cases_file: str, results_file: str, io_dir: str) -> None:
    """For each case `{"id", "args", "cwd"}`: fork; the child chdirs, points fds 1 and 2
    at files and runs `seqkit ARGS`; the parent records exit status, stdout and stderr."""
    # Import once here what every case imports (seqkit, torch, the built-in plugins).
    importlib.import_module("seqkit._cli.main")
    for ep in md.entry_points(group="seqkit"):
        if ep.dist is not None and ep.dist.name == "seqkit":
            importlib.import_module(ep.module)
    results: dict[str, dict[str, Any]] = {}
    for case in json.loads(Path(cases_file).read_text()):
        out, err = Path(io_dir, f"{case['id']}.out"), Path(io_dir, f"{case['id']}.err")
        sys.stdout.flush()
        sys.stderr.flush()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: `python -m seqkit ARGS` from here on
            code = 1
            try:
                os.chdir(case["cwd"])
                with out.open("wb") as o, err.open("wb") as e:
                    os.dup2(o.fileno(), 1)
                    os.dup2(e.fileno(), 2)
                _limit_memory()
                sys.argv = [str(Path(seqkit.__file__).with_name("__main__.py")), *case["args"]]
                sys.path[0] = os.getcwd()
                code = _as_python_m()
            except BaseException:
                traceback.print_exc()
            finally:
                for stream in (sys.stdout, sys.stderr):
                    with contextlib.suppress(Exception):
                        stream.flush()
                os._exit(code)
        deadline = start + 120
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                rc = os.waitstatus_to_exitcode(status)
                break
            if time.monotonic() > deadline:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                rc = -9
                break
            time.sleep(0.01)
        results[case["id"]] = {
            "rc": rc,
            "stdout": out.read_text(errors="replace"),
            "stderr": err.read_text(errors="replace"),
        }
    Path(results_file).write_text(json.dumps(results))


if __name__ == "__main__":  # the driver; nothing below is needed for it
    _drive(*sys.argv[1:])
    sys.exit(0)


# -- the test module proper -------------------------------------------------------------
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
ENV = {k: v for k, v in os.environ.items() if not k.startswith("SEQKIT_")}
ENV |= {"SEQKIT_LOAD_PLUGINS": "", "OMP_NUM_THREADS": "1"}
"""Built-in plugins only: a third-party plugin installed here must not add warnings."""


# -- fixtures for the cases: a finished run, an unfinished one, files -------------------
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished two-epoch run of gru on sum (6 steps of 1 number)."""
    out = tmp_path_factory.mktemp("template") / "run"
    seqkit.run(
        cell="gru",
        task="sum",
        epochs=2,
        seed=0,
        device="cpu",
        task_options={"num_samples": 200, "val_samples": 50},
        out=out,
    )
    return out


def finished(run: Path, dest: Path) -> Path:
    shutil.copytree(run, dest)
    return dest


def unfinished(run: Path, dest: Path) -> Path:
    """A run stopped after epoch 2 of 4: config, metrics and checkpoint, no model yet."""
    shutil.copytree(run, dest)
    for name in (run_files.MODEL, run_files.SUMMARY, run_files.PLOT):
        (dest / name).unlink()
    config = json.loads((dest / run_files.CONFIG).read_text())
    config["epochs"] = 4
    (dest / run_files.CONFIG).write_text(json.dumps(config))
    return dest


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under `root`: a regular file's bytes, None for anything else (a
    directory; a FIFO, which reading would block on)."""
    return {
        str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None)
        for p in sorted(root.rglob("*"))
    }


Setup = Callable[[Path, Path], Any]
"""`setup(cwd, template)` prepares a case's working directory."""


@dataclass(frozen=True)
class Case:
    id: str
    args: tuple[str, ...]
    expect: str
    """A part of the one line on stderr that names the problem."""
    setup: Setup | None = None


def run(
    *extra: str, cell: str = "gru", task: str = "sum", out: str | None = "out"
) -> tuple[str, ...]:
    """`seqkit run --cell CELL --task TASK EXTRA --out OUT`."""
    return ("run", "--cell", cell, "--task", task, *extra, *(("--out", out) if out else ()))


def files(**contents: str | bytes) -> Setup:
    """A setup that writes these files (`name=text or bytes`) into the case's directory."""

    def setup(cwd: Path, template: Path) -> None:
        for name, content in contents.items():
            path = cwd / name.replace("__", ".")
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)

    return setup


def with_run(make: Callable[[Path, Path], Path], name: str, change: Callable | None = None):
    def setup(cwd: Path, template: Path) -> None:
        dest = make(template, cwd / name)
        if change is not None:
            change(dest)

    return setup


def garbage_checkpoint(run: Path) -> None:
    (run / run_files.CHECKPOINT).write_bytes(b"this is not a checkpoint\n" * 10)


def truncated_checkpoint(run: Path) -> None:
    data = (run / run_files.CHECKPOINT).read_bytes()
    (run / run_files.CHECKPOINT).write_bytes(data[: len(data) // 2])


def empty_checkpoint(run: Path) -> None:
    (run / run_files.CHECKPOINT).write_bytes(b"")


def truncated_model(run: Path) -> None:
    data = (run / run_files.MODEL).read_bytes()
    (run / run_files.MODEL).write_bytes(data[: len(data) // 2])


class Payload:
    """Unpickling this would run `open("pwned", "w")`: a model file that carries code."""

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, ("pwned", "w"))


def model_with_code(run: Path) -> None:
    """An earlier version's run directory (weights in model.pt) whose file carries code."""
    (run / run_files.MODEL).unlink()
    (run / run_files.LEGACY_MODEL).write_bytes(pickle.dumps(Payload()))


def broken_config(run: Path) -> None:
    (run / run_files.CONFIG).write_text('{"task": "sum", "cell": ')


def unwritable(cwd: Path, template: Path) -> None:
    """`locked` cannot hold a new directory. Root ignores permission bits, so for root it
    is a regular file (mkdir under it fails for anyone); otherwise a directory 0o500."""
    if ROOT:
        (cwd / "locked").write_text("a file, not a directory\n")
    else:
        (cwd / "locked").mkdir()
        (cwd / "locked").chmod(0o500)


def cuda_case() -> Case:
    """`--device cuda` where there is none; with CUDA present, a device index that is not."""
    if torch.cuda.is_available():
        return Case("device-cuda-absent", run("--device", "cuda:99"), "--device cuda:99: there are")
    return Case(
        "device-cuda-absent",
        run("--device", "cuda"),
        "--device cuda: no CUDA device here; use cpu or auto",
    )


TOML = "cell = 'gru'\ntask = 'sum'\n"


def npz(**arrays: Any) -> bytes:
    """What `numpy.savez(file, **arrays)` writes."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **{k: np.asarray(v) for k, v in arrays.items()})
    return buffer.getvalue()


def fifo(name: str) -> Setup:
    return lambda cwd, template: os.mkfifo(cwd / name)


def data(task: str, path: str, *options: str) -> tuple[str, ...]:
    """`seqkit run --cell gru --task TASK --task-opt path=PATH [--task-opt ...] --out out`."""
    extra = [arg for option in options for arg in ("--task-opt", option)]
    return run("--task-opt", f"path={path}", *extra, task=task)


DATA_CASES: list[Case] = [
    # your own data (issue 30): one line naming the file, where in it, and what is allowed
    Case("text-no-path", run(task="text"), "task 'text' needs a file: --task-opt path=FILE"),
    Case("text-missing", data("text", "gone.txt"), "path=gone.txt: No such file or directory"),
    Case("text-empty", data("text", "e.txt"), "path=e.txt: the file is empty", files(e__txt="")),
    Case(
        "text-binary",
        data("text", "b.txt"),
        "path=b.txt: holds NUL characters, so it is not text",
        files(b__txt=b"\x7fELF\x02\x01\x00\x00" * 64),
    ),
    Case(
        "text-not-utf8",
        data("text", "l.txt"),
        "path=l.txt: not UTF-8 text (invalid start byte at byte 12, line 3)",
        files(l__txt=b"hello\nworld\n\xff caf\xe9\n" * 40),
    ),
    Case("text-directory", data("text", "/"), "path=/: is a directory"),
    Case("text-device", data("text", "/dev/zero"), "path=/dev/zero: is a device"),
    Case("text-fifo", data("text", "f.txt"), "path=f.txt: is a FIFO", fifo("f.txt")),
    Case(
        "text-shorter-than-a-window",
        data("text", "s.txt", "seq_len=50"),
        "the val split holds 3 chars, fewer than one window of seq_len + 1 = 51",
        files(s__txt="abcdefghij" * 6),
    ),
    Case(
        "series-ragged",
        data("series", "r.csv"),
        "path=r.csv: line 4 has 1 fields, the header 2",
        files(r__csv="a,b\n1,2\n3,4\n5\n"),
    ),
    Case(
        "series-not-a-number",
        data("series", "n.csv"),
        "path=n.csv: line 3, column 'b': 'n/a' is not a number",
        files(n__csv="a,b\n1,2\n3,n/a\n"),
    ),
    Case(
        "series-nan",
        data("series", "n.csv"),
        "path=n.csv: line 2, column 'a': NaN is not a finite number",
        files(n__csv="a,b\nNaN,2\n3,4\n"),
    ),
    Case(
        "series-no-such-column",
        data("series", "c.csv", "targets=load"),
        "no column 'load' for --task-opt targets; the columns are: a, b",
        files(c__csv="a,b\n" + "1,2\n" * 100),
    ),
    Case(
        "series-shorter-than-a-window",
        data("series", "c.csv"),
        "is shorter than one window of input_len 24 + horizon 1 rows",
        files(c__csv="a,b\n" + "1,2\n" * 30),
    ),
    Case(
        "arrays-length-mismatch",
        data("arrays", "a.npz"),
        "path=a.npz: X holds 10 sequences but y 9",
        files(a__npz=npz(X=[[[0.0]] * 4] * 10, y=[0] * 9)),
    ),
    Case(
        "arrays-no-y",
        data("arrays", "a.npz"),
        "path=a.npz: holds X but no y",
        files(a__npz=npz(X=[[[0.0]] * 4] * 10)),
    ),
    Case(
        "arrays-npy",
        data("arrays", "a.npy"),
        "path=a.npy: a .npy is not read; give .npz",
        files(a__npy=b"\x93NUMPY"),
    ),
    Case(
        "arrays-one-class",
        data("arrays", "a.npz"),
        "y holds one class only",
        files(a__npz=npz(X=[[[0.0]] * 4] * 40, y=[0] * 40)),
    ),
    Case(
        "nproc-beyond-the-cores",
        run("--trainer", "ddp", "--nproc", "1024"),
        "--nproc 1024: this machine has",
    ),
    Case(
        "sample-not-text",
        ("sample", "run"),
        "sample needs a run on text",
        with_run(finished, "run"),
    ),
]

CASES: list[Case] = [
    # unknown or misspelt names
    Case("cell-misspelt", run(out=None, cell="grux"), "unknown cell 'grux'. Did you mean 'gru'?"),
    Case("cell-unknown", run(cell="transformer"), "unknown cell 'transformer'. Available cells:"),
    Case("task-misspelt", run(out=None, task="summ"), "unknown task 'summ'. Did you mean 'sum'?"),
    Case(
        "topology-misspelt",
        run("--topology", "many-to-few"),
        "unknown topology 'many-to-few'. Did you mean 'many-to-one'?",
    ),
    Case(
        "trainer-misspelt",
        run("--trainer", "minibath"),
        "unknown trainer 'minibath'. Did you mean 'minibatch'?",
    ),
    Case("device-unknown", run("--device", "tpu"), "unknown device 'tpu'; allowed: auto, cpu"),
    cuda_case(),
    Case(
        "optimizer-misspelt",
        run("--optimizer", "adamm"),
        "unknown optimizer 'adamm'. Did you mean 'adam'?",
    ),
    Case("command-misspelt", ("rn",), "No such command 'rn'. Did you mean 'run'?"),
    Case("no-cell", ("run", "--task", "sum"), "a run needs a cell (--cell NAME)"),
    Case(
        "topology-cannot-serve-task",
        run("--topology", "one-to-one", task="cumsum"),
        "topology 'one-to-one' cannot serve this task: it emits one output step, the task wants 5",
    ),
    # sizes, lengths, epochs, learning rates, batch sizes
    Case("hidden-zero", run("--hidden-size", "0"), "--hidden-size must be an integer from 1 to"),
    Case("hidden-negative", run("--hidden-size", "-5"), "--hidden-size must be an integer from 1"),
    Case(
        "hidden-non-integer",
        run("--hidden-size", "2.5"),
        "Invalid value for '--hidden-size': '2.5' is not a valid integer",
    ),
    Case("hidden-absurd", run("--hidden-size", "10000000"), "(got 10000000)"),
    Case("hidden-beyond-memory", run("--hidden-size", "999999"), "does not fit in memory"),
    Case("epochs-zero", run("--epochs", "0"), "--epochs must be an integer from 1 to"),
    Case("epochs-negative", run("--epochs", "-3"), "--epochs must be an integer from 1 to"),
    Case("epochs-non-integer", run("--epochs", "2.5"), "'2.5' is not a valid integer"),
    Case("epochs-absurd", run("--epochs", "100000000"), "(got 100000000)"),
    Case("lr-negative", run("--lr", "-1"), "--lr must be a number in (0, 10"),
    Case("lr-nan", run("--lr", "nan"), "--lr must be a number in (0, 10.0] (got nan)"),
    Case("lr-absurd", run("--lr", "1e6"), "--lr must be a number in (0, 10"),
    # non-finite values pass no range check (issue 33 item 5)
    Case(
        "dropout-nan",
        run("--num-layers", "2", "--dropout", "nan"),
        "cell 'gru' option 'dropout' must be a finite number (got nan)",
    ),
    Case(
        "cell-option-inf",
        run("--cell-opt", "init_gain=inf"),
        "cell 'gru' option 'init_gain' must be a finite number (got inf)",
    ),
    Case("lr-not-a-number", run("--lr", "fast"), "'fast' is not a valid float"),
    Case("batch-zero", run("--batch-size", "0"), "--batch-size must be an integer from 1 to"),
    Case("batch-negative", run("--batch-size", "-5"), "--batch-size must be an integer from 1"),
    Case("batch-absurd", run("--batch-size", "1000000000"), "(got 1000000000)"),
    Case(
        "lr-schedule-unknown",
        run("--lr-schedule", "linear"),
        "--lr-schedule must be one of cosine, constant (got 'linear')",
    ),
    Case("seed-negative", run("--seed", "-1"), "--seed must be a non-negative integer"),
    # task and cell options
    Case("length-zero", run("--task-opt", "seq_len=0"), "option 'seq_len' must be >= 1 (got 0)"),
    Case(
        "length-absurd",
        run("--task-opt", "seq_len=100000000"),
        "task 'sum' option 'seq_len' must be <=",
    ),
    Case(
        "length-not-a-number",
        run("--task-opt", "seq_len=abc"),
        "task 'sum' option 'seq_len' must be an integer (got 'abc')",
    ),
    Case(
        "length-non-integer",
        run("--task-opt", "seq_len=2.5"),
        "task 'sum' option 'seq_len' must be an integer (got '2.5')",
    ),
    Case(
        "samples-negative",
        run("--task-opt", "num_samples=-3"),
        "task 'sum' option 'num_samples' must be >= 1 (got -3)",
    ),
    Case(
        "task-opt-unknown",
        run("--task-opt", "bogus=1"),
        "task 'sum' has no option 'bogus'; its options are:",
    ),
    Case("task-opt-no-value", run("--task-opt", "seq_len"), "--task-opt takes KEY=VALUE"),
    Case(
        "cell-opt-unknown",
        run("--cell-opt", "nonlinearity=relu"),
        "cell 'gru' has no option 'nonlinearity'",
    ),
    Case(
        "cell-opt-ill-typed",
        run("--cell-opt", "num_layers=two"),
        "cell 'gru' option 'num_layers' must be an integer (got 'two')",
    ),
    Case("layers-zero", run("--num-layers", "0"), "option 'num_layers' must be >= 1 (got 0)"),
    Case("dropout-absurd", run("--dropout", "1.5"), "option 'dropout' must be <= 0.99"),
    # configuration files
    Case(
        "config-missing",
        ("run", "--config", "exp.toml"),
        "--config exp.toml: No such file or directory",
    ),
    Case(
        "config-malformed",
        ("run", "--config", "exp.toml"),
        "--config exp.toml: not valid TOML",
        files(exp__toml="cell = 'gru'\ntask = \n"),
    ),
    Case(
        "config-unknown-key",
        ("run", "--config", "exp.toml"),
        "--config exp.toml: unknown setting 'epochz'; settings are:",
        files(exp__toml=TOML + "epochz = 3\n"),
    ),
    Case(
        "config-ill-typed",
        ("run", "--config", "exp.toml"),
        "--epochs must be an integer from 1 to 10,000,000 (got 'ten')",
        files(exp__toml=TOML + "epochs = 'ten'\n"),
    ),
    Case(
        "config-name-not-a-string",
        ("run", "--config", "exp.toml", "--out", "out"),
        "a cell is given by name, a string (got 3)",
        files(exp__toml="cell = 3\ntask = 'sum'\n"),
    ),
    Case(
        "config-options-not-a-table",
        ("run", "--config", "exp.toml", "--out", "out"),
        "task_options must be a table",
        files(exp__toml=TOML + "task_options = 5\n"),
    ),
    Case(
        "config-flag-not-a-bool",
        ("run", "--config", "exp.toml", "--out", "out"),
        "--normalize must be true or false (got 'yes')",
        files(exp__toml=TOML + "normalize = 'yes'\n"),
    ),
    Case(
        "config-device-not-a-string",
        ("run", "--config", "exp.toml", "--out", "out"),
        "--device must be one of auto, cpu, cuda, cuda:N, mps (got 5)",
        files(exp__toml=TOML + "device = 5\n"),
    ),
    Case(
        "config-not-text",
        ("run", "--config", "exp.toml"),
        "--config exp.toml: not a UTF-8 text file",
        files(exp__toml=b"\xff\xfe\x00\x01 binary"),
    ),
    # only regular files are read, with limits counted in bytes read (issue 33 item 6)
    Case(
        "config-a-device",
        ("run", "--config", "/dev/zero"),
        "--config /dev/zero: is a device, not a regular file; give a settings file",
    ),
    Case(
        "config-a-fifo",
        ("run", "--config", "pipe"),
        "--config pipe: is a FIFO, not a regular file; give a settings file",
        lambda cwd, template: os.mkfifo(cwd / "pipe"),
    ),
    Case(
        "config-a-directory",
        ("run", "--config", "."),
        "--config .: is a directory; give a settings file",
    ),
    # resume
    Case(
        "resume-not-a-run",
        ("run", "--resume", "notes"),
        "--resume notes: not a run directory (no config.json)",
        lambda cwd, t: (cwd / "notes").mkdir() or (cwd / "notes" / "a.txt").write_text("hi\n"),
    ),
    Case(
        "resume-missing-dir",
        ("run", "--resume", "nothere"),
        "--resume nothere: not a run directory (no config.json)",
    ),
    Case(
        "resume-checkpoint-garbage",
        ("run", "--resume", "stopped"),
        "stopped/checkpoint.pt is corrupt or truncated",
        with_run(unfinished, "stopped", garbage_checkpoint),
    ),
    Case(
        "resume-checkpoint-truncated",
        ("run", "--resume", "stopped"),
        "stopped/checkpoint.pt is corrupt or truncated",
        with_run(unfinished, "stopped", truncated_checkpoint),
    ),
    Case(
        "resume-checkpoint-empty",
        ("run", "--resume", "stopped"),
        "stopped/checkpoint.pt is corrupt or truncated (",
        with_run(unfinished, "stopped", empty_checkpoint),
    ),
    Case(
        "resume-config-corrupt",
        ("run", "--resume", "stopped"),
        "--resume stopped: config.json: not valid JSON",
        with_run(unfinished, "stopped", broken_config),
    ),
    Case(
        "resume-finished",
        ("run", "--resume", "done"),
        "--resume done: the run already finished its 2 epochs",
        with_run(finished, "done"),
    ),
    Case(
        "resume-with-settings",
        ("run", "--resume", "stopped", "--epochs", "9"),
        "--resume continues a run with its own settings; drop --epochs",
        with_run(unfinished, "stopped"),
    ),
    # predict
    Case(
        "predict-wrong-length",
        ("predict", "done", "--input", "1,2,3"),
        "input must have 6 step(s) per sequence, as the run was trained (got 3)",
        with_run(finished, "done"),
    ),
    Case(
        "predict-wrong-width",
        ("predict", "done", "--input", json.dumps([[[1, 2]] * 6] * 2)),
        "input must have 1 number(s) per step (got shape (2, 6, 2))",
        with_run(finished, "done"),
    ),
    Case(
        "predict-letters",
        ("predict", "done", "--input", "2,4,six,8,10,11"),
        "--input: '2,4,six,8,10,11' is not a row of numbers",
        with_run(finished, "done"),
    ),
    Case(
        "predict-json-wrong-type",
        ("predict", "done", "--input", '{"x": [1, 2]}'),
        "input must be numbers (got {'x': [1, 2]})",
        with_run(finished, "done"),
    ),
    Case(
        "predict-not-finite",
        ("predict", "done", "--input", "2,4,nan,8,10,11"),
        "input must be finite numbers",
        with_run(finished, "done"),
    ),
    Case(
        "predict-not-a-run",
        ("predict", "notes", "--input", "1,2,3,4,5,6"),
        "notes: not a run directory (no config.json)",
        lambda cwd, t: (cwd / "notes").mkdir(),
    ),
    Case(
        "predict-unfinished-run",
        ("predict", "stopped", "--input", "1,2,3,4,5,6"),
        "stopped holds no trained model (model.safetensors): the run did not finish",
        with_run(unfinished, "stopped"),
    ),
    Case(
        "predict-model-carries-code",
        ("predict", "done", "--input", "1,2,3,4,5,6"),
        "done/model.pt was refused: it is not a plain tensor file",
        with_run(finished, "done", model_with_code),
    ),
    Case(
        "predict-input-file-missing",
        ("predict", "done", "--input-file", "rows.csv"),
        "--input-file rows.csv: No such file or directory",
        with_run(finished, "done"),
    ),
    Case(
        "predict-input-file-a-device",
        ("predict", "done", "--input-file", "/dev/zero"),
        "--input-file /dev/zero: is a device, not a regular file",
        with_run(finished, "done"),
    ),
    # output directories
    Case(
        "out-holds-another-run",
        run("--epochs", "1", out="done"),
        "--out done: the directory holds another run; choose another --out or pass --overwrite",
        with_run(finished, "done"),
    ),
    Case(
        "out-holds-files",
        run("--epochs", "1", out="notes"),
        "--out notes: the directory holds files",
        lambda cwd, t: (cwd / "notes").mkdir() or (cwd / "notes" / "a.txt").write_text("hi\n"),
    ),
    Case(
        "out-is-a-file",
        run("--epochs", "1", out="notes.txt"),
        "--out notes.txt: exists and is not a directory",
        files(notes__txt="hi\n"),
    ),
    Case(
        "out-under-a-file",
        run("--epochs", "1", out="notes.txt/runs/one"),
        "--out notes.txt/runs/one: cannot create it, notes.txt is a file, not a directory",
        files(notes__txt="hi\n"),
    ),
    Case(
        "out-not-writable",
        run("--epochs", "1", out="locked/run"),
        "--out locked/run: cannot create it, locked is a file"
        if ROOT
        else "--out locked/run: no permission to write in locked",
        unwritable,
    ),
    # a comparison counts only what is there (issue 33)
    Case(
        "compare-cell-twice",
        ("compare", "--cells", "rnn,rnn", "--task", "sum", "--out", "c"),
        "--cells names 'rnn' twice; give each cell once",
    ),
    Case(
        "compare-axis-value-twice",
        ("compare", "--cells", "rnn", "--task", "sum", "--lr", "0.01,0.01", "--out", "c"),
        "lr lists 0.01 twice: a repeated value would count as more seeds of one row",
    ),
    Case(
        "compare-option-value-twice",
        ("compare", "--cells", "rnn", "--task", "sum", "--task-opt", "seq_len=4,4"),
        "seq_len lists 4 twice",
    ),
    Case(
        "suite-no-entries",
        ("suite", "long-range", "--cells", "rnn", "--entries", "", "--out", "s"),
        "--entries names no entry; give one or more of suite 'long-range': adding-T=100",
    ),
    Case(
        "suite-cell-twice",
        ("suite", "long-range", "--cells", "gru,gru", "--entries", "recall-L=30"),
        "--cells names 'gru' twice",
    ),
]
CASES += DATA_CASES
CASE_IDS = [case.id for case in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS) >= 30


@dataclass
class Outcome:
    rc: int
    stdout: str
    stderr: str
    cwd: Path
    before: dict[str, bytes | None]
    after: dict[str, bytes | None]


def prepare(case: Case, cwd: Path, template: Path) -> dict[str, bytes | None]:
    cwd.mkdir(parents=True)
    if case.setup is not None:
        case.setup(cwd, template)
    return snapshot(cwd)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory, template: Path) -> dict[str, Outcome]:
    """Every case run once by the driver, each in its own working directory."""
    root = tmp_path_factory.mktemp("bad-inputs")
    io_dir = root / "io"
    io_dir.mkdir()
    before = {case.id: prepare(case, root / case.id, template) for case in CASES}
    cases = [{"id": c.id, "args": list(c.args), "cwd": str(root / c.id)} for c in CASES]
    (root / "cases.json").write_text(json.dumps(cases))
    try:
        proc = subprocess.run(
            [
                sys.executable,
                __file__,
                str(root / "cases.json"),
                str(root / "results.json"),
                str(io_dir),
            ],
            capture_output=True,
            text=True,
            env=ENV,
            cwd=root,
            timeout=900,
        )
        assert proc.returncode == 0, proc.stderr
        results = json.loads((root / "results.json").read_text())
        return {
            c.id: Outcome(
                results[c.id]["rc"],
                results[c.id]["stdout"],
                results[c.id]["stderr"],
                root / c.id,
                before[c.id],
                snapshot(root / c.id),
            )
            for c in CASES
        }
    finally:
        locked = root / "out-not-writable" / "locked"
        if locked.is_dir():
            locked.chmod(0o700)


def check_one_line_error(rc: int, stdout: str, stderr: str, expect: str) -> None:
    assert "Traceback" not in stdout + stderr, stderr
    assert rc == 2, f"exit status {rc}\n{stderr}"
    assert stdout == ""
    line = stderr.removesuffix("\n")
    assert line and "\n" not in line, f"not one line:\n{stderr}"
    assert line.startswith("Error: ")
    assert expect in line


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_bad_input_on_the_command_line(case: Case, outcomes: dict[str, Outcome]) -> None:
    got = outcomes[case.id]
    check_one_line_error(got.rc, got.stdout, got.stderr, case.expect)
    assert not (got.cwd / "runs").exists()
    assert got.after == got.before  # nothing created, nothing changed


def test_driver_matches_python_dash_m(
    tmp_path: Path, template: Path, outcomes: dict[str, Outcome]
) -> None:
    """The forking driver gives what real `python -m seqkit` processes give."""
    for case in CASES:
        if case.id not in ("cell-misspelt", "epochs-non-integer", "out-holds-another-run"):
            continue
        cwd = tmp_path / case.id
        before = prepare(case, cwd, template)
        proc = subprocess.run(
            [sys.executable, "-m", "seqkit", *case.args],
            capture_output=True,
            text=True,
            env=ENV,
            cwd=cwd,
            timeout=300,
        )
        got = outcomes[case.id]
        assert (proc.returncode, proc.stdout, proc.stderr) == (got.rc, got.stdout, got.stderr)
        check_one_line_error(proc.returncode, proc.stdout, proc.stderr, case.expect)
        assert snapshot(cwd) == before


# -- the library ------------------------------------------------------------------------
@dataclass(frozen=True)
class LibraryCase:
    id: str
    call: Callable[[Path, Path], Any]
    """`call(tmp, template)`: the bad request, made in the empty directory `tmp`."""
    error: type[SeqkitError]
    expect: str
    setup: Setup | None = None


def library_run(**settings: Any) -> Callable[[Path, Path], Any]:
    """`seqkit.run(cell="gru", task="sum", device="cpu", out=tmp / "out", **settings)`."""

    def call(tmp: Path, template: Path) -> Any:
        return seqkit.run(
            **{"cell": "gru", "task": "sum", "device": "cpu", **settings}, out=tmp / "out"
        )

    return call


def predict(inputs: Any) -> Callable[[Path, Path], Any]:
    return lambda tmp, template: seqkit.load_run(template).predict(inputs)


LIBRARY_CASES: list[LibraryCase] = [
    LibraryCase(
        "cell-misspelt", library_run(cell="lstn"), UnknownNameError, "Did you mean 'lstm'?"
    ),
    LibraryCase(
        "task-unknown", library_run(task="fibonacci"), UnknownNameError, "unknown task 'fibonacci'"
    ),
    LibraryCase(
        "cell-not-a-string", library_run(cell=3), UnknownNameError, "a cell is given by name"
    ),
    LibraryCase(
        "topology-cannot-serve-task",
        library_run(task="cumsum", topology="one-to-one"),
        ConfigError,
        "topology 'one-to-one' cannot serve this task",
    ),
    LibraryCase("epochs-zero", library_run(epochs=0), ConfigError, "--epochs must be an integer"),
    LibraryCase("epochs-non-integer", library_run(epochs=2.5), ConfigError, "(got 2.5)"),
    LibraryCase("lr-nan", library_run(lr=math.nan), ConfigError, "--lr must be a number in (0, 10"),
    LibraryCase("batch-size-bool", library_run(batch_size=True), ConfigError, "(got True)"),
    LibraryCase("weight-decay-bool", library_run(weight_decay=True), ConfigError, "(got True)"),
    LibraryCase("hidden-size-string", library_run(hidden_size="64"), ConfigError, "(got '64')"),
    LibraryCase(
        "task-option-ill-typed",
        library_run(task_options={"seq_len": "six"}),
        ConfigError,
        "task 'sum' option 'seq_len' must be an integer (got 'six')",
    ),
    LibraryCase(
        "cell-option-unknown",
        library_run(cell_options={"nonlinearity": "relu"}),
        ConfigError,
        "cell 'gru' has no option 'nonlinearity'",
    ),
    LibraryCase(
        "device-absent",
        library_run(device="cuda:99" if torch.cuda.is_available() else "cuda"),
        ConfigError,
        "--device cuda",
    ),
    LibraryCase("setting-unknown", library_run(epochz=3), ConfigError, "unknown setting 'epochz'"),
    LibraryCase(
        "no-task",
        lambda tmp, t: seqkit.run(cell="gru", out=tmp / "out"),
        ConfigError,
        "a run needs a task",
    ),
    LibraryCase(
        "out-holds-another-run",
        lambda tmp, t: seqkit.run(cell="gru", task="sum", epochs=1, out=tmp / "done"),
        ConfigError,
        "the directory holds another run; choose another --out or pass --overwrite",
        with_run(finished, "done"),
    ),
    LibraryCase(
        "out-under-a-file",
        lambda tmp, t: seqkit.run(cell="gru", task="sum", epochs=1, out=tmp / "notes.txt" / "run"),
        ConfigError,
        "notes.txt is a file, not a directory",
        files(notes__txt="hi\n"),
    ),
    LibraryCase(
        "load-not-a-run", lambda tmp, t: seqkit.load_run(tmp), ConfigError, "not a run directory"
    ),
    LibraryCase(
        "load-unfinished",
        lambda tmp, t: seqkit.load_run(tmp / "stopped"),
        ConfigError,
        "holds no trained model (model.safetensors): the run did not finish",
        with_run(unfinished, "stopped"),
    ),
    LibraryCase(
        "load-model-truncated",
        lambda tmp, t: seqkit.load_run(tmp / "done"),
        ConfigError,
        "done/model.safetensors is corrupt or truncated",
        with_run(finished, "done", truncated_model),
    ),
    LibraryCase(
        "predict-wrong-length", predict([1, 2, 3]), ConfigError, "must have 6 step(s) per sequence"
    ),
    LibraryCase(
        "predict-wrong-width",
        predict([[[1, 2]] * 6]),
        ConfigError,
        "must have 1 number(s) per step",
    ),
    LibraryCase("predict-text", predict("2,4,6,8,10,11"), ConfigError, "input must be numbers"),
    LibraryCase(
        "predict-ragged", predict([[1, 2, 3], [1, 2]]), ConfigError, "input must be numbers"
    ),
    LibraryCase(
        "predict-inf", predict([1, 2, math.inf, 4, 5, 6]), ConfigError, "must be finite numbers"
    ),
    LibraryCase(
        "resume-not-a-run",
        lambda tmp, t: resume(tmp),
        ConfigError,
        "not a run directory (no config.json)",
    ),
    LibraryCase(
        "resume-checkpoint-truncated",
        lambda tmp, t: resume(tmp / "stopped"),
        ConfigError,
        "stopped/checkpoint.pt is corrupt or truncated",
        with_run(unfinished, "stopped", truncated_checkpoint),
    ),
]
assert len({case.id for case in LIBRARY_CASES}) == len(LIBRARY_CASES) >= 10


@pytest.mark.parametrize("case", LIBRARY_CASES, ids=[case.id for case in LIBRARY_CASES])
def test_bad_input_in_the_library(tmp_path: Path, template: Path, case: LibraryCase) -> None:
    if case.setup is not None:
        case.setup(tmp_path, template)
    before, template_before = snapshot(tmp_path), snapshot(template)
    with pytest.raises(case.error) as info:
        case.call(tmp_path, template)
    message = str(info.value)
    assert case.expect in message and "\n" not in message, message
    assert snapshot(tmp_path) == before  # no run directory made, none changed
    assert snapshot(template) == template_before

"""A comparison survives: each finished point is kept as it completes, `compare --resume`
goes on after a SIGKILL of the whole comparison, and the executors (worker processes,
Ray) give the same table, keep what finished when a worker dies, and retry or report it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

import seqkit
from seqkit._core import files
from seqkit._study.points import POINTS, RESULT

# Small runs with epochs long enough (~0.1 s) that a kill lands inside a point.
GRID = ["--cells", "rnn,gru", "--task", "sum", "--seeds", "2", "--epochs", "6"]
GRID += ["--task-opt", "num_samples=2000", "--task-opt", "val_samples=200"]
WALL = ("wall_s", "wall_s_mean")


def _compare(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "seqkit", "compare", *args, "--json"]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def _table(out: str) -> list[dict]:
    """The rows of `compare --json`, less wall times (the one thing a resume changes)."""
    rows = json.loads(out.strip().splitlines()[-1])["rows"]
    return [{k: v for k, v in row.items() if k not in WALL} for row in rows]


def _runs(out_dir: Path) -> list[dict]:
    runs = json.loads((out_dir / "results.json").read_text())["runs"]
    return [{k: v for k, v in r.items() if k not in WALL} for r in runs]


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("whole") / "c"
    res = _compare(*GRID, "--jobs", "1", "--out", str(out))
    assert res.returncode == 0, res.stderr
    return out, _table(res.stdout)


def _started_points(out: Path) -> list[Path]:
    return sorted(p for p in (out / POINTS).glob("*") if (p / "metrics.jsonl").exists())


def test_each_point_is_kept_as_it_finishes(uninterrupted):
    out, rows = uninterrupted
    dirs = sorted((out / POINTS).iterdir())
    assert [d.name for d in dirs] == [
        "001-rnn-num_samples=2000_val_samples=200-seed0",
        "002-rnn-num_samples=2000_val_samples=200-seed1",
        "003-gru-num_samples=2000_val_samples=200-seed0",
        "004-gru-num_samples=2000_val_samples=200-seed1",
    ]
    for d in dirs:  # a whole run directory, and the point's result beside it
        assert {"config.json", "metrics.jsonl", "model.safetensors", "summary.json", RESULT} <= {
            f.name for f in d.iterdir()
        }
    first = json.loads((dirs[0] / RESULT).read_text())
    assert first["settings"]["cell"] == "rnn" and first["settings"]["seed"] == 0
    assert len(first["curve"]) == 6 and rows[0]["seeds"] == 2


@pytest.mark.parametrize("moment", [0, 1])
def test_resume_after_sigkill_equals_an_uninterrupted_comparison(tmp_path, uninterrupted, moment):
    """The whole comparison (its process group) is killed once it has started training;
    `--resume` gives the uninterrupted table and runs."""
    whole_dir, whole = uninterrupted
    out = tmp_path / "c"
    command = [sys.executable, "-m", "seqkit", "compare", *GRID, "--jobs", "1", "--out", str(out)]
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    # Killed at a moment given by what the comparison has done, not by a clock (a busy
    # machine slows it, an idle one may finish every point within a fixed sleep): in the
    # first point's training (moment 0), or once the second point has started (moment 1).
    deadline = time.monotonic() + 120
    while (
        len(_started_points(out)) <= moment and proc.poll() is None and time.monotonic() < deadline
    ):
        time.sleep(0.005)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the comparison ended before it was killed"
    assert not (out / "results.json").exists()
    kept = [d for d in (out / POINTS).iterdir() if (d / RESULT).exists()]
    assert len(kept) < 4

    res = _compare("--resume", str(out))
    assert res.returncode == 0, res.stderr
    assert _table(res.stdout) == whole
    assert _runs(out) == _runs(whole_dir)


def test_a_point_stopped_mid_run_continues_from_its_checkpoint(tmp_path, uninterrupted):
    """A kept point whose result is missing and whose checkpoint is mid-run resumes (its
    finished epochs are not trained again) and the table is unchanged."""
    whole_dir, whole = uninterrupted
    out = tmp_path / "c"
    res = _compare(*GRID, "--jobs", "1", "--out", str(out))
    assert res.returncode == 0, res.stderr
    point = sorted((out / POINTS).iterdir())[2]
    (point / RESULT).unlink()
    # stop that point after epoch 3, as a kill would have: run it again up to there
    config = seqkit.RunConfig.from_dict(
        {
            k: v
            for k, v in json.loads((point / "config.json").read_text()).items()
            if k not in ("versions", "tuning", "run_id")
        }
    )
    partial = tmp_path / "partial"
    with pytest.raises(seqkit.SeqkitError, match="3 epochs are complete"):
        seqkit.run(config, out=partial, quiet=True, callbacks=[_StopAfter(3)])
    for name in ("config.json", "checkpoint.pt", "metrics.jsonl"):  # the stopped run's files
        (point / name).write_bytes((partial / name).read_bytes())
    (point / "summary.json").unlink()
    assert len((point / "metrics.jsonl").read_text().splitlines()) == 3

    res = _compare("--resume", str(out))
    assert res.returncode == 0, res.stderr
    assert _table(res.stdout) == whole
    assert _runs(out) == _runs(whole_dir)
    lines = (point / "metrics.jsonl").read_text().splitlines()
    assert len(lines) == 6
    # the first three epochs were not run again: their lines (and timings) are the stopped run's
    assert lines[:3] == (partial / "metrics.jsonl").read_text().splitlines()


class _StopAfter(seqkit.Callback):
    def __init__(self, epochs: int) -> None:
        self.epochs = epochs

    def on_epoch_end(self, state, record) -> None:
        if record["epoch"] >= self.epochs:
            state.interrupt = "stopped by the test"


def _descendants(root: int) -> set[int]:
    """Every process below `root` (children, their children, ...)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _processes(words: str, root: int) -> list[int]:
    """The pids below `root` whose command line holds `words` (never another job's)."""
    found = []
    for pid in sorted(_descendants(root)):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if words in cmdline:
            found.append(pid)
    return found


def _kill_a_worker_mid_point(proc: subprocess.Popen, out: Path, words: str) -> None:
    """Once a point is training (its metrics started, its result not kept), SIGKILL one
    process whose command line holds `words`."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        running = [d for d in _started_points(out) if not (d / RESULT).exists()]
        workers = _processes(words, proc.pid)
        if running and workers:
            os.kill(workers[0], signal.SIGKILL)
            return
        time.sleep(0.02)
    raise AssertionError("no worker was seen running a point")


def test_a_dead_worker_process_is_reported_and_nothing_finished_is_lost(tmp_path, uninterrupted):
    _, whole = uninterrupted
    out = tmp_path / "c"
    command = [sys.executable, "-m", "seqkit", "compare", *GRID, "--jobs", "2", "--out", str(out)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _kill_a_worker_mid_point(proc, out, "multiprocessing.spawn")
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 1, stderr
    errors = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    assert "grid point" in errors[0] and f"seqkit compare --resume {out}" in errors[0]
    kept = {
        d: (d / RESULT).stat().st_mtime_ns
        for d in (out / POINTS).iterdir()
        if (d / RESULT).exists()
    }

    res = _compare("--resume", str(out), "--jobs", "2")
    assert res.returncode == 0, res.stderr
    assert _table(res.stdout) == whole
    # the points finished before the kill were read back, not run again
    assert {d: (d / RESULT).stat().st_mtime_ns for d in kept} == kept


def test_ray_executor_gives_the_process_executors_table(tmp_path, uninterrupted):
    _, whole = uninterrupted
    res = _compare(*GRID, "--executor", "ray", "--jobs", "2", "--out", str(tmp_path / "c"))
    assert res.returncode == 0, res.stderr
    assert _table(res.stdout) == whole
    assert "Started a local Ray" not in res.stderr  # Ray's banner stays off the output


def test_ray_retries_a_point_whose_worker_died(tmp_path, uninterrupted):
    _, whole = uninterrupted
    out = tmp_path / "c"
    command = [sys.executable, "-m", "seqkit", "compare", *GRID, "--executor", "ray"]
    command += ["--jobs", "2", "--out", str(out), "--json"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _kill_a_worker_mid_point(proc, out, "ray::run_job")
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert _table(stdout) == whole


def test_ray_executor_options_are_checked(tmp_path):
    res = _compare(*GRID, "--executor", "ray", "--executor-opt", "retries=-1")
    assert res.returncode == 2 and "retries" in res.stderr and "Traceback" not in res.stderr
    res = _compare(*GRID, "--executor", "slurm")
    assert res.returncode == 2
    assert "unknown executor 'slurm'" in res.stderr and "process, ray" in res.stderr


@pytest.mark.parametrize(
    ("address", "error", "line"),
    [
        (
            "127.0.0.1:1",
            ConnectionError("Could not connect\nretrying"),
            "cannot join '127.0.0.1:1': Could not connect",
        ),
        ("", RuntimeError(""), "cannot start a local Ray: RuntimeError"),
    ],
)
def test_a_ray_that_cannot_start_is_one_line(monkeypatch, address, error, line):
    # A fake `ray`: the real one retries a dead address for minutes before it fails.
    from seqkit_plugins.executing import RayExecutor

    from seqkit import ConfigError

    def init(**settings):
        assert settings.get("address", "") == address
        raise error

    fake = types.SimpleNamespace(is_initialized=lambda: False, init=init)
    monkeypatch.setitem(sys.modules, "ray", fake)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    with pytest.raises(ConfigError) as caught:
        RayExecutor(jobs=2, address=address)
    assert str(caught.value) == f"--executor ray: {line}"


def test_ctrl_c_says_what_is_kept_and_how_to_go_on(tmp_path):
    out = tmp_path / "c"
    command = [sys.executable, "-m", "seqkit", "compare", *GRID, "--jobs", "1", "--out", str(out)]
    # As from a terminal: a shell's background job (`nohup ... &`, as CI may run) ignores
    # SIGINT, and a Python started so never raises KeyboardInterrupt.
    proc = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not _started_points(out) and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the comparison ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr
    (error,) = [line for line in stderr.splitlines() if line.startswith("Error:")]
    assert "Ctrl-C" in error and f"seqkit compare --resume {out}" in error


@pytest.fixture
def two_ray_nodes():
    """A Ray cluster of two nodes on this machine (a head and a worker: two raylets, two
    object stores), one CPU each, as `ray start --head` and `ray start --address` make."""
    from ray.cluster_utils import Cluster

    cluster = Cluster(
        initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False}
    )
    worker = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    yield cluster, worker
    cluster.shutdown()


def test_a_comparison_over_two_ray_nodes_survives_losing_one(
    tmp_path, uninterrupted, two_ray_nodes
):
    """Once a point runs on the worker node (in a Ray worker below that node's raylet) and
    every running point has a checkpoint, the node is killed, raylet and all: Ray runs the
    point again on the head (from its checkpoint), and the table is the process
    executor's."""
    cluster, worker = two_ray_nodes
    _, whole = uninterrupted
    out = tmp_path / "c"
    command = [sys.executable, "-m", "seqkit", "compare", *GRID, "--executor", "ray"]
    command += ["--executor-opt", f"address={cluster.address}", "--out", str(out), "--json"]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    raylet = worker.all_processes["raylet"][0].process.pid
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        running = [d for d in _started_points(out) if not (d / RESULT).exists()]
        checkpointed = running and all((d / "checkpoint.pt").exists() for d in running)
        if checkpointed and _processes("ray::run_job", raylet):  # one runs on the worker node
            break
        time.sleep(0.02)
    assert proc.poll() is None, "the comparison ended before a point ran on the worker node"
    assert _processes("ray::run_job", raylet), "no point ran on the worker node"
    cluster.remove_node(worker, allow_graceful=False)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert _table(stdout) == whole


class _ElsewhereExecutor:
    """Runs each point "on another node": it returns results, and the run directories are
    written somewhere this machine does not see."""

    in_process = True

    def map(self, fn, items):
        for i, job in enumerate(items):
            yield i, {"val_loss": 1.0, "settings": job.config.as_dict()}

    def close(self) -> None:
        pass


def test_a_point_written_on_storage_this_machine_does_not_see_is_one_clear_error(tmp_path):
    from seqkit._study.compare import prepare_grid, run_points

    base = seqkit.RunConfig(task="sum", cell="rnn", epochs=1)
    points, configs = prepare_grid(base, ["rnn"], {}, 2)
    with pytest.raises(seqkit.ConfigError) as caught:
        run_points(points, configs, _ElsewhereExecutor(), 1, out_dir=tmp_path / "c")
    message = str(caught.value)
    # the first point stops the comparison: one point failed, named, with what to do
    assert message.startswith("1 grid point failed (rnn defaults seed 0: ConfigError: it ran on a")
    assert "give --out a path every node reaches" in message
    assert f"not here: {tmp_path / 'c'}" in message
    assert f"continue with seqkit compare --resume {tmp_path / 'c'}" in message
    assert not list((tmp_path / "c").rglob("point.json"))  # nothing claims to be finished


def _gone(pid: int) -> bool:
    """Whether `pid` has ended (a zombie that nobody reaped has ended too)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def test_workers_end_with_the_comparison_that_started_them(tmp_path):
    """SIGKILL of the comparison's process alone (not its group): its worker processes end
    too instead of training on as orphans, and the directory's lock goes with them."""
    out = tmp_path / "c"
    command = [sys.executable, "-m", "seqkit", "compare", *GRID, "--epochs", "400"]
    command += ["--jobs", "2", "--out", str(out)]
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        workers: list[int] = []
        while time.monotonic() < deadline and proc.poll() is None:
            workers = _processes("multiprocessing.spawn", proc.pid)
            if len(workers) == 2 and len(_started_points(out)) == 2:
                break
            time.sleep(0.02)
        assert len(workers) == 2 and proc.poll() is None, "no two workers were seen training"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 60  # a bound for a busy machine; it takes ~0.25 s
        while time.monotonic() < deadline and not all(_gone(pid) for pid in workers):
            time.sleep(0.05)
        assert all(_gone(pid) for pid in workers), "the workers outlived their parent"
        with files.locked(out, "the test"):  # nobody holds the directory any more
            pass
    finally:  # whatever the outcome, nothing of this test trains on
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

"""`seqkit tune` (issue 32): an Optuna study over a run's settings, each trial the mean
validation loss of --seeds runs, pruned on that mean epoch by epoch, kept in its
directory (SQLite; the journal file for --jobs; a real PostgreSQL server shared by two
processes), continued after a SIGKILL, and every bad input one line."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import optuna
import pytest
import torch
from click.testing import CliRunner

import seqkit
from seqkit._cli.main import cli
from seqkit._study.tune import val_losses

SMALL = ["--cell", "gru", "--task", "sum", "--hidden-size", "8", "--epochs", "4"]
SMALL += ["--task-opt", "num_samples=2000", "--task-opt", "val_samples=200"]


def tune_cli(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seqkit", "tune", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def summary(out: Path) -> dict:
    return json.loads((out / "tune.json").read_text())


BAD = {
    "inverted range": (["--space", "lr=1e-2:1e-4"], "the range '1e-2:1e-4' is inverted"),
    "empty range": (["--space", "lr=0.01:0.01"], "is empty; LOW must be below HIGH"),
    "log from zero": (["--space", "lr=0:1:log"], "a :log range needs LOW > 0 (got 0)"),
    "unknown flag": (["--space", "lr=1e-4:1e-2:lg"], "after LOW:HIGH come :log and/or :int"),
    "not a number": (["--space", "lr=small:1"], "'small' is not a number"),
    "int with fractions": (["--space", "hidden_size=1.5:8:int"], "whole-number ends"),
    "unknown setting": (["--space", "speed=1:2"], "--space speed: not a setting to tune"),
    "option the cell lacks": (
        ["--space", "cell.forget_bias=0:2"],
        "cell 'gru' has no option 'forget_bias'; its options are: bidirectional",
    ),
    "a choice the run refuses": (
        ["--space", "optimizer=adam,nosuch"],
        "--space optimizer=adam,nosuch: at 'nosuch': ",
    ),
    "a value out of the setting's range": (["--space", "lr=1e-3:50"], "at 50.0: --lr must be"),
    "no dimension": ([], "give at least one dimension"),
    "a dimension twice": (
        ["--space", "lr=1e-3:1e-2", "--space", "lr=1e-4:1e-3"],
        "'lr' is given twice",
    ),
    "zero trials": (["--space", "lr=1e-3:1e-2", "--trials", "0"], "--trials must be"),
    "jobs on sqlite": (
        ["--space", "lr=1e-3:1e-2", "--jobs", "2", "--storage", "sqlite:///x.db"],
        "SQLite takes one writer at a time",
    ),
    "a server that is not there": (
        ["--space", "lr=1e-3:1e-2", "--storage", "postgresql://me:secret@127.0.0.1:9/none"],
        "--storage postgresql://me:***@127.0.0.1:9/none: cannot be reached",
    ),
    "unknown sampler": (["--space", "lr=1e-3:1e-2", "--sampler", "grid"], "--sampler must be"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_one_line_exit_2_and_nothing_written(tmp_path, monkeypatch, case):
    args, expected = BAD[case]
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["tune", *SMALL, *args, "--out", "study"])
    line = res.output.strip()
    assert res.exit_code == 2, res.output
    assert "\n" not in line and line.startswith("Error: ") and expected in line, line
    assert "secret" not in line
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def study(tmp_path_factory) -> Path:
    """Four trials of two seeds each, without pruning, from the CLI."""
    root = tmp_path_factory.mktemp("study")
    res = tune_cli(
        *SMALL, "--space", "lr=1e-3:1e-1:log", "--trials", "4", "--seeds", "2",
        "--pruner", "none", "--out", "s", cwd=root,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    return root


def test_each_trial_is_the_mean_over_its_seeds_and_best_toml_trains_it_again(study):
    out = study / "s"
    s = summary(out)
    assert [t["state"] for t in s["trials"]] == ["complete"] * 4
    for t in s["trials"]:
        kept = [json.loads((Path(r) / "summary.json").read_text()) for r in t["runs"]]
        assert [k["config"]["seed"] for k in kept] == [0, 1]
        assert [k["config"]["lr"] for k in kept] == [t["params"]["lr"]] * 2
        assert t["val_losses"] == [k["val_loss"] for k in kept]
        assert t["value"] == pytest.approx(sum(t["val_losses"]) / 2, rel=1e-12)
        assert all(k["test_loss"] is not None for k in kept)  # scored once at the end ...
    best = min(s["trials"], key=lambda t: t["value"])
    assert s["best"]["number"] == best["number"]  # ... and never used to choose
    assert max(t["value"] for t in s["trials"]) > 1.5 * best["value"]  # the range matters

    res = subprocess.run(
        [sys.executable, "-m", "seqkit", "run", "--config", str(out / "best.toml"),
         "--out", "again", "--json", "--quiet"],
        cwd=study, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    again = json.loads(res.stdout.strip().splitlines()[-1])
    assert again["val_loss"] == best["val_losses"][0]  # seed 0, bit for bit
    page = (out / "report.html").read_text()
    assert "optimisation history" in page and page.count("<img") >= 2


def test_the_same_command_continues_and_another_space_is_refused(study):
    res = tune_cli(
        *SMALL, "--space", "lr=1e-3:1e-1:log", "--trials", "5", "--seeds", "2",
        "--pruner", "none", "--out", "s", cwd=study,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    trials = summary(study / "s")["trials"]
    assert [t["number"] for t in trials] == [0, 1, 2, 3, 4]  # four kept, one more run
    assert res.stdout.count("trial ") >= 1 and "trial 5/5" in res.stdout

    res = tune_cli(*SMALL, "--space", "lr=1e-4:1e-1:log", "--trials", "5", "--out", "s", cwd=study)
    assert res.returncode == 2
    assert "exists with another space (lr=0.001:0.1:log; this command: lr=0.0001:0.1:log)" in (
        res.stderr
    )


def test_pruning_stops_trials_behind_the_median_at_an_epoch(tmp_path):
    """Runs long enough to be watched: the trials whose mean validation loss falls behind
    the median of the earlier trials at the same epoch are pruned there."""
    result = seqkit.tune(
        cell="gru",
        task="sum",
        hidden_size=8,
        epochs=12,
        task_options={"num_samples": 300, "val_samples": 200},
        space={"lr": "1e-5:1e-1:log"},
        trials=8,
        seeds=1,
        out=tmp_path / "p",
    )
    pruned = [t for t in result.trials if t["state"] == "pruned"]
    complete = [t for t in result.trials if t["state"] == "complete"]
    assert pruned and len(complete) >= 3
    for t in pruned:
        assert max(t["intermediate"]) == t["pruned_at"] < 12  # reported up to its pruning
    assert result.best["value"] <= min(t["value"] for t in complete)
    assert "optimisation history" in result._repr_html_()


def _gone(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(stat[1]) == parent:
                    found.append(int(entry.name))
    return found


def test_a_sigkilled_study_continues_with_the_same_command(tmp_path):
    """The study's process alone is killed while a trial trains: that trial's runs end
    with it, and the same command again keeps the finished trials and continues the
    interrupted trial's runs from their checkpoints, to the numbers of a run that was
    never stopped."""
    args = [*SMALL, "--epochs", "40", "--space", "lr=1e-3:1e-1:log", "--trials", "3"]
    args += ["--pruner", "none", "--out", "k"]
    command = [sys.executable, "-m", "seqkit", "tune", *args]
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 300
        runs: list[int] = []
        second = tmp_path / "k" / "trials" / "0001-seed0"
        while time.monotonic() < deadline and proc.poll() is None:
            runs = _children(proc.pid)
            if (second / "checkpoint.pt").exists() and runs:
                break
            time.sleep(0.02)
        assert proc.poll() is None and runs, "the second trial was not seen training"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 60  # a bound for a busy machine; it takes ~0.25 s
        while time.monotonic() < deadline and not all(_gone(p) for p in runs):
            time.sleep(0.05)
        assert all(_gone(p) for p in runs), "a trial's run outlived the study"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    kept = torch.load(second / "checkpoint.pt", weights_only=True)["epoch"]
    before = (second / "metrics.jsonl").read_text().splitlines()[:kept]

    res = tune_cli(*args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    trials = summary(tmp_path / "k")["trials"]
    states = [t["state"] for t in trials]
    assert states.count("complete") == 3 and states.count("failed") == 1
    killed = next(t for t in trials if t["state"] == "failed")
    assert killed["number"] == 1 and killed["failed"] is None  # not a failure of its own
    rerun = next(t for t in trials if t["rerun_of"] == killed["number"])
    assert rerun["params"] == killed["params"] and rerun["state"] == "complete"
    assert rerun["runs"] == killed["runs"] == [str(second)]  # continued where it stopped:
    assert (second / "metrics.jsonl").read_text().splitlines()[:kept] == before  # not rerun
    fresh = subprocess.run(
        [sys.executable, "-m", "seqkit", "run", "--config", f"{second}.json", "--out", "fresh",
         "--quiet", "--json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert json.loads(fresh.stdout.strip().splitlines()[-1])["val_loss"] == rerun["value"]


@pytest.mark.parametrize(
    "workers",
    [[], ["--jobs", "2"], ["--executor", "process"], ["--jobs", "2", "--executor", "process"]],
    ids=["one", "threads", "executor-one", "executor-two"],
)
def test_ctrl_c_keeps_the_study_and_the_same_command_continues_it(tmp_path, workers):
    """Ctrl-C (SIGINT to the terminal's process group): one line, exit 130; the trials
    it stopped run again first, continued from their runs' checkpoints."""
    args = [*SMALL, "--epochs", "30", "--space", "lr=1e-3:1e-1:log", "--trials", "2"]
    args += ["--pruner", "none", "--out", "c", *workers]
    proc = subprocess.Popen(
        [sys.executable, "-m", "seqkit", "tune", *args], cwd=tmp_path,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    first = tmp_path / "c" / "trials" / "0000-seed0"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if len(val_losses(first)) >= 2:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the study ended before it was stopped"
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1].startswith("Error: stopped by Ctrl-C; the study is kept")
    kept = torch.load(first / "checkpoint.pt", weights_only=True)["epoch"]
    assert 1 <= kept < 30
    before = (first / "metrics.jsonl").read_text().splitlines()[:kept]

    res = tune_cli(*args, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    trials = summary(tmp_path / "c")["trials"]
    stopped = next(t for t in trials if t["number"] == 0)
    assert stopped["state"] == "failed" and stopped["failed"] is None
    rerun = next(t for t in trials if t["rerun_of"] == 0)
    assert rerun["state"] == "complete" and rerun["params"] == stopped["params"]
    assert rerun["runs"] == [str(first)]
    assert (first / "metrics.jsonl").read_text().splitlines()[:kept] == before  # continued
    assert sum(t["state"] == "complete" for t in trials) == 2


def test_two_jobs_share_the_journal_file(tmp_path):
    res = tune_cli(*SMALL, "--space", "lr=1e-3:1e-1:log", "--trials", "4", "--jobs", "2",
                   "--pruner", "none", "--out", "j", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "j" / "journal.log").is_file() and not (tmp_path / "j" / "study.db").exists()
    trials = summary(tmp_path / "j")["trials"]
    assert sorted(t["number"] for t in trials) == [0, 1, 2, 3]
    assert all(t["state"] == "complete" for t in trials)
    assert len({t["params"]["lr"] for t in trials}) == 4


@pytest.mark.parametrize("executor", ["process", "ray"])
def test_workers_on_an_executor_run_the_trials_asked_once(tmp_path, executor):
    """`--executor X --jobs 2`: two workers of the study, each in a process of the
    executor's, share the journal file; together they run --trials trials, not more,
    each in one worker, and the command prints a line for each."""
    res = tune_cli(*SMALL, "--space", "lr=1e-3:1e-1:log", "--trials", "5", "--jobs", "2",
                   "--executor", executor, "--pruner", "none", "--out", "w",
                   cwd=tmp_path)  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "w" / "journal.log").is_file()
    trials = summary(tmp_path / "w")["trials"]
    assert sorted(t["number"] for t in trials) == [0, 1, 2, 3, 4]  # none beyond --trials
    assert all(t["state"] == "complete" for t in trials)
    assert len({t["params"]["lr"] for t in trials}) == 5  # the workers sample apart
    runs = [r for t in trials for r in t["runs"]]
    assert len(set(runs)) == 5 and all(Path(r, "summary.json").is_file() for r in runs)
    lines = [x.split(":")[0] for x in res.stdout.splitlines() if x.startswith("trial ")]
    assert sorted(lines) == [f"trial {i}/5" for i in range(1, 6)]  # in the order they end


def test_a_study_kept_in_sqlite_is_not_left_for_a_new_one(tmp_path):
    """A study begun with one job (SQLite) and continued with --jobs 2 is refused, not
    silently started again in a journal file beside it."""
    first = tune_cli(*SMALL, "--space", "lr=1e-3:1e-1:log", "--trials", "1", "--out", "k",
                     cwd=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    kept = (tmp_path / "k" / "study.db").read_bytes()
    res = tune_cli(*SMALL, "--space", "lr=1e-3:1e-1:log", "--trials", "2", "--jobs", "2",
                   "--out", "k", cwd=tmp_path)  # fmt: skip
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1
    assert "continue this study with --jobs 1 and no --executor" in res.stderr
    assert not (tmp_path / "k" / "journal.log").exists()
    assert (tmp_path / "k" / "study.db").read_bytes() == kept


def test_a_comparison_resumed_on_an_executor_continues_its_sqlite_studies(tmp_path):
    """Tuning begun in the comparison's process (SQLite) and resumed with an executor
    goes on in the same study, one trial at a time, instead of being refused."""
    from seqkit._study.equal_effort import tune_cells

    base = seqkit.RunConfig(cell="gru", task="sum", hidden_size=8, epochs=2,
                            task_options={"num_samples": 500})  # fmt: skip
    tuning = {"space": ["lr=1e-3:1e-1:log"], "trials": 1, "seeds": 1}
    tune_cells(["gru"], {"gru": base}, tuning, tmp_path, None)
    study = tmp_path / "tuning" / "gru"
    assert (study / "study.db").is_file()
    best = tune_cells(["gru"], {"gru": base}, {**tuning, "trials": 2}, tmp_path, None, None,
                      ("process", {}, 2))  # fmt: skip
    assert not (study / "journal.log").exists()
    assert len(summary(study)["trials"]) == 2 and "lr" in best["gru"]


def test_workers_refuse_sqlite(tmp_path):
    res = tune_cli(*SMALL, "--space", "lr=1e-3:1e-1:log", "--executor", "process",
                   "--storage", f"sqlite:///{tmp_path}/s.db", "--out", "w",
                   cwd=tmp_path)  # fmt: skip
    assert res.returncode == 2
    assert res.stderr.startswith("Error: --jobs or --executor with SQLite storage")
    assert len(res.stderr.strip().splitlines()) == 1 and not (tmp_path / "w").exists()


@pytest.fixture(scope="module")
def postgres():
    """A real PostgreSQL server of this test's own (Debian's package, which `.ci/run`
    installs), on a Unix socket in a temporary directory, run as the `postgres` user
    (the server refuses root)."""
    binaries = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    assert binaries, "PostgreSQL is not installed: apt-get install postgresql"
    bin_dir = binaries[-1]
    # not under pytest's temporary directory: its parents are closed to other users
    root = Path(tempfile.mkdtemp(prefix="seqkit-pg-"))
    os.chmod(root, 0o755)
    data, sock = root / "data", root / "sock"
    sock.mkdir()
    shutil.chown(root, "postgres")
    shutil.chown(sock, "postgres")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def pg(*args: str) -> None:
        done = subprocess.run([*as_postgres, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"{args[0]}: {done.stderr}"

    pg(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres")
    options = f"-k {sock} -c listen_addresses='' -p 5433"
    log = root / "server.log"  # not our pipe: the server would hold it open
    pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start")
    try:
        pg(str(bin_dir / "createdb"), "-h", str(sock), "-p", "5433", "-U", "postgres", "studies")
        yield f"postgresql://postgres@/studies?host={sock}&port=5433"
    finally:
        pg(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def test_two_processes_share_one_postgresql_study(tmp_path, postgres):
    """Two `seqkit tune --study shared` at once, each with its own directory for its
    runs: every trial is run by exactly one of them, none lost, none twice."""
    args = [*SMALL, "--space", "lr=1e-3:1e-1:log", "--trials", "6", "--pruner", "none"]
    args += ["--storage", postgres, "--study", "shared"]
    procs = []
    for name in ("a", "b"):
        command = [sys.executable, "-m", "seqkit", "tune", *args, "--out", name]
        procs.append(
            subprocess.Popen(
                command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    study = optuna.load_study(study_name="shared", storage=postgres)
    trials = study.get_trials()
    numbers = [t.number for t in trials]
    assert sorted(numbers) == list(range(len(trials)))  # no number lost or given twice
    assert all(t.state == optuna.trial.TrialState.COMPLETE for t in trials)
    assert 6 <= len(trials) <= 7  # each process stops at 6; both may start the sixth
    owners = {t.number: {Path(r).parts[-3] for r in t.user_attrs["runs"]} for t in trials}
    assert all(len(o) == 1 for o in owners.values())  # each trial ran in one directory
    assert {next(iter(o)) for o in owners.values()} == {"a", "b"}  # both took part
    for t in trials:  # and its run is there, finished, with the trial's settings
        run = json.loads((Path(t.user_attrs["runs"][0]) / "summary.json").read_text())
        assert run["config"]["lr"] == t.params["lr"] and run["val_loss"] == t.value


@pytest.mark.parametrize("executor", [None, "process"])
def test_an_equal_effort_comparison_tunes_each_cell_then_reports_test(tmp_path, executor):
    """Each cell gets its own study with the same space and trials (on validation); its
    best settings are trained with seeds the studies did not use and reported on test.
    With an executor, each study's trials run there too, two at a time."""
    out = tmp_path / "ee"
    report = seqkit.compare(
        ["rnn", "gru"],
        seqkit.RunConfig(
            cell="rnn", task="sum", hidden_size=8, epochs=4, task_options={"num_samples": 2000}
        ),
        tune=["lr"],
        trials=3,
        seeds=2,
        out=out,
        executor=executor,
        jobs=2,
    )
    found = report.as_dict()
    assert found["reported_on"].startswith("each cell tuned with 3 trials of TPE on validation")
    for cell in ("rnn", "gru"):
        study = summary(out / "tuning" / cell)
        assert len(study["trials"]) == 3 and study["space"] == ["lr=0.0001:0.03:log"]
        kept = "journal.log" if executor else "study.db"  # trials at once need the journal
        assert (out / "tuning" / cell / kept).is_file()
        assert found["tuning"]["best"][cell] == study["best"]["params"]
        runs = [r for r in report.runs if r["cell"] == cell]
        assert sorted(r["seed"] for r in runs) == [1, 2]  # the study used seed 0
        assert {r["settings"]["lr"] for r in runs} == {study["best"]["params"]["lr"]}
    assert all("test_loss_mean" in row for row in found["rows"])
    assert "test loss" in (out / "report.html").read_text()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--tune", "speed"], "--tune speed: give its range"),
        (["--tune", "lr", "--lr", "1e-3,1e-2"], "give --tune or axes, not both"),
        (["--tune", "hidden_size", "--match-params", "rnn"], "do not --tune hidden_size"),
        (["--tune", "lr=1:0.1"], "--tune lr: the range '1:0.1' is inverted"),
        (["--tune", "lr", "--trials", "0"], "--trials must be a whole number >= 1"),
    ],
)
def test_bad_equal_effort_comparisons_are_one_line(tmp_path, monkeypatch, args, expected):
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(
        cli, ["compare", "--cells", "rnn,gru", "--task", "sum", *args, "--out", "c"]
    )
    line = res.output.strip()
    assert res.exit_code == 2 and line.startswith("Error: ") and expected in line, res.output
    assert "\n" not in line and list(tmp_path.iterdir()) == []

"""`seqkit tune` / `seqkit.tune`: an Optuna study over a run's settings.

Each trial sets the space's dimensions, then trains one run per seed, each a `seqkit run`
process writing its own run directory under `trials/` (all seeds at once, so that they
advance together). The trial's objective is the mean over its seeds of the validation
loss; the test set is never read during the search. As the seeds' runs write their
epochs, the mean validation loss at each epoch every seed has reached is reported to
the trial, and the study's pruner (median or successive halving) may stop it there:
pruning comes from seqkit's own per-epoch records, so any trainer that writes them,
a third party's included, is pruned with no code of its own.

The study lives in its directory: an SQLite file by default, Optuna's journal file for
`jobs` > 1 (no "database is locked"), or any SQLAlchemy URL (`postgresql://...`) shared
by processes on many machines, each with its own directory for its trials' runs. A
study killed at any moment and started again with the same command goes on: finished
trials are kept, and a trial left running by a process that died is marked failed and
its settings run again.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from seqkit._core import files, records
from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError, SeqkitError
from seqkit._core.lifetime import PARENT_ENV
from seqkit._plugins.interfaces import Executor
from seqkit._plugins.registry import Registry
from seqkit._run.plan import plan
from seqkit._study.executors import make_executor
from seqkit._study.space import Dimension, check_space, configure, parse_space

SAMPLERS = ("tpe", "random")
PRUNERS = ("median", "halving", "none")
STUDY_DB = "study.db"
JOURNAL = "journal.log"
CLAIM = "claim.lock"
TRIALS = "trials"
BEST = "best.toml"
RESULT = "tune.json"
POLL_S = 0.1


class Diverged(SeqkitError):
    """A trial's run ended with a non-finite loss: the trial fails, the study goes on."""


@dataclass
class TuneResult:
    """What a study found: its best trial, every trial, and where it is kept."""

    study: str
    out: Path
    storage: str
    space: list[str]
    seeds: int
    trials: list[dict[str, Any]]
    best: dict[str, Any] | None
    sampler: str
    pruner: str
    epochs_trained: int = 0
    epochs_budget: int = 0
    wall_s: float = 0.0
    best_file: Path | None = None
    importances: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "out": str(self.out),
            "storage": self.storage,
            "space": self.space,
            "seeds": self.seeds,
            "sampler": self.sampler,
            "pruner": self.pruner,
            "best": self.best,
            "trials": self.trials,
            "epochs_trained": self.epochs_trained,
            "epochs_budget": self.epochs_budget,
            "wall_s": self.wall_s,
            "best_file": str(self.best_file) if self.best_file else None,
            "importances": self.importances,
        }

    def _repr_html_(self) -> str:
        from seqkit._present.tuning import tune_fragment

        return tune_fragment(self.summary())


def tune(
    config: RunConfig | None = None,
    *,
    space: Iterable[str] | Mapping[str, str],
    trials: int = 20,
    seeds: int = 1,
    sampler: str = "tpe",
    pruner: str = "median",
    storage: str | None = None,
    study: str | None = None,
    jobs: int = 1,
    executor: str | None = None,
    executor_options: Mapping[str, Any] | None = None,
    out: str | Path | None = None,
    registry: Registry | None = None,
    on_trial: Callable[[dict[str, Any], int], None] | None = None,
    **settings: Any,
) -> TuneResult:
    """Tune a run's settings: `seqkit.tune(cell="gru", task="adding", space={"lr":
    "1e-4:1e-2:log"}, trials=40, seeds=2)`. Settings are RunConfig's fields, as in
    `seqkit.run`. `out` is the study's directory (default `studies/<task>-<cell>`); the
    same call again continues the study kept there. `on_trial(record, total)` is called
    as each trial ends. With `executor` (`"ray"`, `"process"` or a plugin's), `jobs`
    workers of the study run there, each a trial at a time, sharing its storage (the
    journal file, or `storage`'s server for workers on other machines). Every argument is
    checked before anything is written."""
    config = config or RunConfig.from_dict(settings)
    # the run itself is valid before its space is looked at
    epochs = plan(config, registry).config.epochs or 0
    dims = parse_space(space)
    check_counts(trials, seeds, jobs, sampler, pruner)
    check_space(dims, config, registry)
    out_dir = Path(out) if out is not None else Path("studies") / f"{config.task}-{config.cell}"
    try:
        import optuna  # here: a run that does not tune never imports it
    except ImportError:
        raise ConfigError("seqkit tune needs Optuna: pip install 'seqkit[tune]'") from None

    name = study or out_dir.name
    shared = jobs > 1 or executor is not None
    with quiet_optuna(optuna), study_dir(out_dir):
        store, shown = open_storage(storage, out_dir, shared)
        the_study = load_study(optuna, name, store, shown, dims, seeds, config, sampler, pruner)
        requeue_stale(optuna, the_study, local=storage is None)
        start = time.perf_counter()
        if executor is None:
            objective = Objective(config, dims, seeds, out_dir)
            optimize(optuna, the_study, objective, trials, jobs, on_trial)
        else:
            job = StudyWorker(
                config, dims, seeds, out_dir.resolve(), storage, name, trials, sampler, pruner
            )
            workers = make_executor(executor, jobs, executor_options or {}, registry)
            try:
                run_workers(optuna, the_study, workers, job, jobs, on_trial)
            finally:
                workers.close()
        resolved = functools.partial(resolve, config=config, registry=registry)
        result = conclude(optuna, the_study, resolved, dims, seeds, out_dir, shown, epochs)
        result.sampler, result.pruner = sampler, pruner  # as this command ran it
        result.wall_s = time.perf_counter() - start
        files.write_json(out_dir / RESULT, result.summary())
        write_report(out_dir, result)
        return result


def optimize(
    optuna: Any,
    study: Any,
    objective: Objective,
    trials: int,
    jobs: int,
    on_trial: Callable[[dict[str, Any], int], None] | None,
) -> None:
    """Run trials of `study` in this process (`jobs` at once) until it holds `trials`."""

    def enough(study: Any, trial: Any) -> None:
        if on_trial is not None:
            on_trial(trial_record(trial), trials)
        if count_done(optuna, study) >= trials:
            study.stop()

    left = trials - count_done(optuna, study)
    if left > 0:
        study.optimize(
            objective, n_trials=left, n_jobs=jobs, catch=(Diverged, RunFailed), callbacks=[enough]
        )


@dataclass(frozen=True)
class StudyWorker:
    """What a worker of the study needs where an executor runs it (picklable)."""

    config: RunConfig
    dims: list[Dimension]
    seeds: int
    out_dir: Path
    storage: str | None
    name: str
    trials: int
    sampler: str
    pruner: str
    worker: int = 0


def work_on_study(job: StudyWorker) -> int:
    """An executor's call: open the shared study and run trials until it holds
    `job.trials`; the trials this worker ran."""
    import optuna

    with quiet_optuna(optuna):
        store, shown = open_storage(job.storage, job.out_dir, shared=True)
        study = load_study(
            optuna, job.name, store, shown, job.dims, job.seeds, job.config, job.sampler,
            job.pruner, worker=job.worker,
        )  # fmt: skip
        objective = Objective(job.config, job.dims, job.seeds, job.out_dir)
        ran = 0
        while True:
            with Claim(job.out_dir / CLAIM) as claim:
                state = optuna.trial.TrialState
                running = len(study.get_trials(deepcopy=False, states=(state.RUNNING,)))
                if count_done(optuna, study) + running >= job.trials:
                    return ran

                def claimed(trial: Any) -> float:
                    claim.release()  # the trial is in the storage, RUNNING: others count it
                    return objective(trial)

                study.optimize(claimed, n_trials=1, catch=(Diverged, RunFailed))
                ran += 1


class Claim:
    """An exclusive lock on a file (`flock`) from entering until `release()` or the end of
    the block: the workers of a study on one machine take turns to count the trials
    there are and to start one, so that together they run `--trials`, not more."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.file: IO[str] | None = None

    def __enter__(self) -> Claim:
        import fcntl

        self.file = held = open(self.path, "a")  # held until release()
        fcntl.flock(held, fcntl.LOCK_EX)
        return self

    def release(self) -> None:
        if self.file is not None:
            self.file.close()  # closing the file releases the lock
            self.file = None

    def __exit__(self, *exc: object) -> None:
        self.release()


def run_workers(
    optuna: Any,
    study: Any,
    workers: Executor,
    job: StudyWorker,
    jobs: int,
    on_trial: Callable[[dict[str, Any], int], None] | None,
) -> None:
    """`jobs` workers of the study on an executor, a line per trial as each ends (read
    from the storage, here, while they run); the first error a worker raised, raised."""
    shown: set[int] = {t.number for t in study.get_trials(deepcopy=False) if t.state.is_finished()}

    def report() -> None:
        for t in study.get_trials(deepcopy=False):
            if t.state.is_finished() and t.number not in shown:
                shown.add(t.number)
                if on_trial is not None:
                    on_trial(trial_record(t), job.trials)

    calls = [dataclasses.replace(job, worker=i) for i in range(jobs)]
    results: list[tuple[int, Any]] = []
    # a daemon thread: on Ctrl-C this process ends without waiting for it (an executor
    # that runs its calls in this process runs them there)
    mapping = threading.Thread(
        target=lambda: results.extend(workers.map(work_on_study, calls)), daemon=True
    )
    mapping.start()
    while mapping.is_alive():
        report()
        mapping.join(POLL_S * 5)
    report()
    failed = [r for _, r in results if isinstance(r, BaseException)]
    if len(results) < len(calls):  # the thread itself failed
        failed.append(RunFailed("a worker of the study ended without a result"))
    if failed:
        first = failed[0]
        raise (
            first
            if isinstance(first, SeqkitError)
            else RunFailed(f"a worker of the study failed: {type(first).__name__}: {first}")
        )


@contextlib.contextmanager
def study_dir(out_dir: Path) -> Iterator[None]:
    """Hold the study's directory as its one writer; a directory this call made is
    removed again if the study is refused before it wrote anything there."""
    existed = out_dir.exists()
    try:
        with files.locked(out_dir, f"--out {out_dir}"):
            yield
    except ConfigError:
        if not existed and out_dir.is_dir() and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise


@contextlib.contextmanager
def quiet_optuna(optuna: Any) -> Any:
    """Optuna's log at errors only (each trial has seqkit's own line, a failed one too)
    and its experimental-feature warnings (heartbeats) silenced, for the study's length:
    the caller's settings are theirs again after."""
    import warnings

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # a failed trial has its own line
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(before)


def check_counts(trials: int, seeds: int, jobs: int, sampler: str, pruner: str) -> None:
    for name, value in (("--trials", trials), ("--seeds", seeds), ("--jobs", jobs)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name} must be a whole number >= 1 (got {value!r})")
    if sampler not in SAMPLERS:
        raise ConfigError(f"--sampler must be one of {', '.join(SAMPLERS)} (got {sampler!r})")
    if pruner not in PRUNERS:
        raise ConfigError(f"--pruner must be one of {', '.join(PRUNERS)} (got {pruner!r})")


def open_storage(url: str | None, out_dir: Path, shared: bool) -> tuple[Any, str]:
    """The study's storage and how to show it (a URL's password hidden): SQLite in the
    directory, its journal file when several trials run at once (`shared`), or the URL
    given."""
    from optuna.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
    from optuna.storages.journal import JournalFileBackend, JournalStorage

    journal, db = out_dir / JOURNAL, out_dir / STUDY_DB
    if url is None and (journal.is_file() or (shared and not db.is_file())):
        return JournalStorage(JournalFileBackend(str(journal))), str(journal)
    shown = _hide_password(url) if url is not None else str(db)
    if url is None:
        url = f"sqlite:///{(out_dir / STUDY_DB).resolve()}"
    if url.startswith("sqlite") and shared:
        instead = (
            "continue this study with --jobs 1 and no --executor, or start another --out"
            if shown == str(db)  # the study this directory keeps: no other storage has it
            else "leave --storage out to use the study's journal file, or give a server's "
            "URL (postgresql://...)"
        )
        raise ConfigError(
            f"--jobs or --executor with SQLite storage ({shown}): SQLite takes one writer "
            f'at a time ("database is locked"); {instead}'
        )
    from sqlalchemy.exc import IntegrityError

    try:
        for attempt in range(5):
            try:
                storage = RDBStorage(
                    url,
                    heartbeat_interval=10,
                    grace_period=60,
                    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=2),
                )
                break
            except IntegrityError:  # another process made the tables at the same moment
                if attempt == 4:
                    raise
                time.sleep(0.2 * (attempt + 1))
    except ImportError as exc:
        raise ConfigError(f"--storage {shown}: needs a database driver ({exc})") from None
    except Exception as exc:  # sqlalchemy's OperationalError, ArgumentError, ...
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"--storage {shown}: cannot be reached ({first})") from None
    return storage, shown


def _hide_password(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    return f"{scheme}{sep}{userinfo.split(':', 1)[0]}:***@{host}"


def load_study(
    optuna: Any,
    name: str,
    storage: Any,
    shown: str,
    dims: list[Dimension],
    seeds: int,
    config: RunConfig,
    sampler: str,
    pruner: str,
    worker: int = 0,
) -> Any:
    """The study `name` in `storage`, created if new; one that exists must have been
    made with the same space, seeds and run (a ConfigError says what differs). `worker`
    numbers the workers of one study started at once, so that each samples its own."""
    spec = {"space": [d.text() for d in dims], "seeds": seeds, "run": _run_key(config)}
    the_pruner = {
        # epochs count from 1, and a step below n_warmup_steps is never pruned: the first
        # epoch of a trial (the noisiest) never is
        "median": lambda: optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
        "halving": lambda: optuna.pruners.SuccessiveHalvingPruner(),
        "none": lambda: optuna.pruners.NopPruner(),
    }[pruner]()
    study = optuna.create_study(
        study_name=name,
        storage=storage,
        sampler=optuna.samplers.RandomSampler(seed=config.seed),  # replaced below
        pruner=the_pruner,
        direction="minimize",
        load_if_exists=True,
    )
    # seeded by the run's seed and the trials the study holds: a new study proposes the
    # same settings for the same command, and one continued does not repeat its start
    seed = config.seed + len(study.get_trials(deepcopy=False)) + 1_000_003 * worker
    study.sampler = (
        optuna.samplers.TPESampler(seed=seed)
        if sampler == "tpe"
        else optuna.samplers.RandomSampler(seed=seed)
    )
    kept = study.user_attrs.get("seqkit")
    if kept is None:
        study.set_user_attr("seqkit", spec)
    elif kept != spec:
        raise ConfigError(f"study '{name}' in {shown} exists with {_differs(kept, spec)}")
    return study


def _run_key(config: RunConfig) -> dict[str, Any]:
    return {k: v for k, v in config.as_dict().items() if k != "data"}


def _differs(kept: Mapping[str, Any], spec: Mapping[str, Any]) -> str:
    if kept.get("space") != spec["space"]:
        return (
            f"another space ({' '.join(kept.get('space', []))}; this command: "
            f"{' '.join(spec['space'])}); give another --study or --out"
        )
    if kept.get("seeds") != spec["seeds"]:
        return (
            f"--seeds {kept.get('seeds')} (this command: {spec['seeds']}); give another "
            "--study or --out"
        )
    run, now = kept.get("run", {}), spec["run"]
    changed = sorted(k for k in set(run) | set(now) if run.get(k) != now.get(k))
    shown = ", ".join(f"{k}={run.get(k)!r} (now {now.get(k)!r})" for k in changed[:3])
    return f"other run settings: {shown}; give another --study or --out"


def requeue_stale(optuna: Any, study: Any, local: bool) -> None:
    """The trials a stopped study left are run again first, with their settings, from
    their runs' checkpoints (`seqkit run --resume`: the same numbers as if they had not
    stopped): a trial stopped by Ctrl-C (Optuna failed it; it is marked `stopped`) and,
    with the study in its own directory, which this process holds, a trial left RUNNING
    by a process that died. A server's study relies on heartbeats for the latter
    instead (a trial silent for the grace period is failed and retried by Optuna)."""
    state = optuna.trial.TrialState
    trials = study.get_trials(deepcopy=False)
    again = {t.user_attrs.get("rerun_of") for t in trials}
    again |= {t.system_attrs.get("failed_trial") for t in trials}  # Optuna's own retries
    for trial in trials:
        stopped = trial.state == state.FAIL and trial.user_attrs.get("stopped")
        left = local and trial.state == state.RUNNING
        if trial.number in again or not (stopped or left):
            continue
        if left:
            study.tell(trial.number, state=state.FAIL)
        attrs = {"rerun_of": trial.number, "resume_runs": trial.user_attrs.get("runs", [])}
        study.enqueue_trial(trial.params, user_attrs=attrs)


def count_done(optuna: Any, study: Any) -> int:
    """The trials that count against `--trials`: finished, pruned, or failed on their own
    (a diverged run); not those a killed process left behind, which run again."""
    state = optuna.trial.TrialState
    return sum(
        t.state in (state.COMPLETE, state.PRUNED)
        or (t.state == state.FAIL and "failed" in t.user_attrs)
        for t in study.get_trials(deepcopy=False)
    )


STOPPED = (130, 143, -signal.SIGINT, -signal.SIGTERM)
"""Exit statuses of a run stopped from outside (Ctrl-C, SIGTERM)."""


class Stopped(SeqkitError):
    """A trial's run was stopped from outside: the trial runs again when the study is
    continued (not caught: the worker stops with it)."""


class RunFailed(SeqkitError):
    """A trial's run failed for a reason of its own (its process died, say)."""


class Objective:
    """One trial: its runs, one per seed, and the mean validation loss they reach."""

    def __init__(self, config: RunConfig, dims: list[Dimension], seeds: int, out: Path) -> None:
        self.config, self.dims, self.seeds, self.out = config, dims, seeds, out

    def __call__(self, trial: Any) -> float:
        import optuna

        params = {d.name: d.suggest(trial) for d in self.dims}
        config = configure(self.config, params)
        earlier = [Path(r) for r in trial.user_attrs.get("resume_runs") or []]
        dirs = earlier if len(earlier) == self.seeds else [
            self.out.resolve() / TRIALS / f"{trial.number:04d}-seed{s}" for s in range(self.seeds)
        ]  # fmt: skip
        trial.set_user_attr("runs", [str(d) for d in dirs])
        started = time.perf_counter()
        procs = [self.start(config, s, d) for s, d in enumerate(dirs)]
        reported = 0
        try:
            while True:
                running = any(p.poll() is None for p in procs)
                curves = [val_losses(d) for d in dirs]
                reached = min(len(c) for c in curves)
                while reported < reached:
                    mean = sum(c[reported] for c in curves) / len(curves)
                    reported += 1
                    if math.isfinite(mean):
                        trial.report(mean, reported)
                    if trial.should_prune():
                        trial.set_user_attr("pruned_at", reported)
                        trial.set_user_attr("epochs_run", self.stop(procs, dirs))
                        trial.set_user_attr("seconds", time.perf_counter() - started)
                        raise optuna.TrialPruned()
                if not running:
                    break
                time.sleep(POLL_S)
        except KeyboardInterrupt:  # Ctrl-C: the runs keep their checkpoints; run again
            trial.set_user_attr("stopped", True)
            raise
        finally:
            for p in procs:  # a trial ended by an error takes its runs with it
                if p.poll() is None:
                    p.kill()
                    p.wait()
        trial.set_user_attr("epochs_run", sum(len(val_losses(d)) for d in dirs))
        trial.set_user_attr("seconds", time.perf_counter() - started)
        return self.value(trial, procs, dirs)

    def start(self, config: RunConfig, seed: int, run_dir: Path) -> Any:
        """The run of one seed: started, continued from its checkpoint (a trial a killed
        study left), or already finished (a `Finished`)."""
        if (run_dir / files.SUMMARY).is_file():
            return Finished()
        if (run_dir / files.CHECKPOINT).is_file():
            command = [sys.executable, "-m", "seqkit", "run", "--resume", str(run_dir), "--quiet"]
        else:
            run_dir.mkdir(parents=True, exist_ok=True)
            settings = dataclasses.replace(config, seed=config.seed + seed).as_dict()
            settings.pop("data", None)  # the data's identity is taken again by the run
            config_file = run_dir.parent / f"{run_dir.name}.json"
            files.write_json(config_file, settings)
            command = [sys.executable, "-m", "seqkit", "run", "--config", str(config_file)]
            command += ["--out", str(run_dir), "--overwrite", "--quiet"]
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        with open(run_dir.parent / f"{run_dir.name}.log", "w") as log:  # not a pipe: it could fill
            return subprocess.Popen(
                command, stdout=subprocess.DEVNULL, stderr=log, text=True, env=env
            )

    def stop(self, procs: list[subprocess.Popen[str]], dirs: list[Path]) -> int:
        """Stop the runs still training (SIGINT, as Ctrl-C: each stops at its next step);
        the epochs they ran."""
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGINT)
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=600)
        return sum(len(val_losses(d)) for d in dirs)

    def value(self, trial: Any, procs: list[subprocess.Popen[str]], dirs: list[Path]) -> float:
        """The mean validation loss of the trial's runs, or why there is none."""
        losses = []
        for p, d in zip(procs, dirs, strict=True):
            err = (d.parent / f"{d.name}.log").read_text().strip().splitlines()
            line = err[-1] if err else f"exit status {p.returncode}"
            if p.returncode in STOPPED:  # Ctrl-C reached the run: not the trial's fault
                trial.set_user_attr("stopped", True)
                raise Stopped(f"trial {trial.number}: {d.name} was stopped ({line})")
            if p.returncode == 3:
                trial.set_user_attr("failed", f"{d.name}: {line}")
                raise Diverged(f"trial {trial.number}: {line}")
            if p.returncode == 2:  # the run refused its settings: not the trial's fault
                raise ConfigError(
                    f"trial {trial.number} ({d.name}): {line.removeprefix('Error: ')}"
                )
            if p.returncode != 0:
                trial.set_user_attr("failed", f"{d.name}: {line}")
                raise RunFailed(f"trial {trial.number}: {line}")
            losses.append(records.read_summary(d)["val_loss"])
        trial.set_user_attr("val_losses", losses)
        return sum(losses) / len(losses)


class Finished:
    """A seed's run that had finished before its trial was run again."""

    returncode = 0

    def poll(self) -> int:
        return 0

    def wait(self, timeout: float | None = None) -> int:
        return 0


def val_losses(run_dir: Path) -> list[float]:
    """The validation loss of each epoch a run has written so far (a line being written
    is not read yet)."""
    path = run_dir / files.METRICS
    try:
        text = path.read_text()
    except OSError:
        return []
    losses = []
    for line in text.splitlines():
        try:
            losses.append(float(json.loads(line)["val_loss"]))
        except (ValueError, KeyError, TypeError):
            break
    return losses


def trial_record(trial: Any) -> dict[str, Any]:
    state = trial.state.name.lower()
    return {
        "number": trial.number,
        "state": {"fail": "failed"}.get(state, state),
        "params": dict(trial.params),
        "value": trial.value,
        "val_losses": trial.user_attrs.get("val_losses"),
        "pruned_at": trial.user_attrs.get("pruned_at"),
        "epochs_run": trial.user_attrs.get("epochs_run"),
        "seconds": trial.user_attrs.get("seconds"),
        "failed": trial.user_attrs.get("failed"),
        "rerun_of": trial.user_attrs.get("rerun_of"),
        "runs": trial.user_attrs.get("runs", []),
        "intermediate": {int(k): v for k, v in trial.intermediate_values.items()},
    }


def resolve(params: Mapping[str, Any], config: RunConfig, registry: Registry | None) -> RunConfig:
    """The run of a trial with `params`, every setting resolved (task options typed)."""
    return plan(configure(config, params), registry).config


def conclude(
    optuna: Any,
    study: Any,
    resolved: Callable[[Mapping[str, Any]], RunConfig],
    dims: list[Dimension],
    seeds: int,
    out_dir: Path,
    shown: str,
    epochs: int,
) -> TuneResult:
    """The study's trials and its best, with `best.toml` written for `seqkit run --config`."""
    trials = [trial_record(t) for t in study.get_trials(deepcopy=False)]
    finished = [t for t in trials if t["state"] == "complete"]
    best = min(finished, key=lambda t: t["value"]) if finished else None
    counted = [t for t in trials if t["state"] in ("complete", "pruned")]
    result = TuneResult(
        study=study.study_name,
        out=out_dir,
        storage=shown,
        space=[d.text() for d in dims],
        seeds=seeds,
        trials=trials,
        best=best,
        sampler="",
        pruner="",
        epochs_trained=sum(t["epochs_run"] or 0 for t in counted),
        epochs_budget=len(counted) * seeds * epochs,
    )
    if len(finished) > 1 and len(dims) > 1:
        with contextlib.suppress(Exception):  # too few distinct trials: no importances
            result.importances = dict(optuna.importance.get_param_importances(study))
    if best is not None:
        result.best_file = out_dir / BEST
        files.write_text(result.best_file, best_toml(resolved(best["params"]), best))
    return result


def best_toml(config: RunConfig, best: Mapping[str, Any]) -> str:
    """The best trial's run as a settings file that `seqkit run --config` reads."""
    stamp = datetime.now().isoformat(timespec="seconds")
    lines = [
        f"# seqkit tune: trial {best['number'] + 1}, mean validation loss {best['value']:.6g}"
        f" over its seeds ({stamp})",
        "# seqkit run --config best.toml trains it again with the first of them (seed below)",
    ]
    tables = []
    for key, value in config.as_dict().items():
        if value is None or key == "data":
            continue
        if isinstance(value, dict):
            if value:
                tables.append(f"\n[{key}]")
                tables += [f"{k} = {_toml(v)}" for k, v in value.items() if v is not None]
            continue
        lines.append(f"{key} = {_toml(value)}")
    return "\n".join(lines + tables) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return json.dumps(str(value))


def write_report(out_dir: Path, result: TuneResult) -> None:
    from seqkit._present.report import page
    from seqkit._present.tuning import tune_fragment

    body = tune_fragment(result.summary())
    files.write_text(out_dir / files.REPORT, page(f"seqkit tune {result.study}", body))

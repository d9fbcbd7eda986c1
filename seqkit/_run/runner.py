"""`seqkit.run`: plan, generate data, build, train, evaluate probes, keep the run."""

from __future__ import annotations

import contextlib
import json
import platform
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import torch
from torch import nn

from seqkit._core import files, records
from seqkit._core.config import RunConfig
from seqkit._core.errors import ConfigError, Interrupted, NonFiniteError, WriteFailed
from seqkit._plugins.data_task import DataTask
from seqkit._plugins.interfaces import Callback, Data, History
from seqkit._plugins.registry import Registry
from seqkit._plugins.task import Task
from seqkit._present import drawing, report
from seqkit._present.drawing import Drawer
from seqkit._run import rundir
from seqkit._run.autotune import Tuning, tune
from seqkit._run.plan import Plan, plan
from seqkit._run.sources import DataSource
from seqkit._train import denormals, distributed, heap, host
from seqkit._train import tensorboard as tensorboard_log
from seqkit._train.checkpoint import Checkpoint, Checkpointer
from seqkit._train.devices import kept_rng
from seqkit._train.evaluate import evaluate
from seqkit._train.last_finite import LastFinite
from seqkit._train.metrics_log import MetricsLog
from seqkit._train.probe import GradientProbe
from seqkit._train.progress import interactive_progress
from seqkit._train.tensorboard import TensorBoardLog
from seqkit._version import __version__

RECORD_BOOKKEEPING = ("epoch", "step", "epoch_time", "train_time")
"""The keys of an epoch record that are not metrics."""


@dataclass
class RunResult:
    """What a run made: the trained model, its history, final metrics and probe examples."""

    model: nn.Module
    task: Task
    history: History
    config: RunConfig
    metrics: dict[str, float]
    chance_loss: float
    examples: list[dict[str, Any]]
    train_time: float
    device: str
    run_dir: Path | None = None
    versions: dict[str, str] = field(default_factory=dict)
    diagnostics: dict[str, Any] | None = None
    """GradientProbe's records when `probe_every` was set."""
    tuning: Tuning | None = None
    """How threads and tuned cell options were chosen (None for a resumed run)."""
    test: dict[str, float] = field(default_factory=dict)
    """Loss and metrics on the held-out test set (`test_loss`, `test_<metric>`), scored
    once after training; selection and early stopping never see it."""
    run_id: str | None = None
    """The id every file of its run directory carries (None without a directory)."""
    solved: bool | None = None
    """The task's `solved(metrics)`: None where it does not say, or failed."""
    failures: list[str] = field(default_factory=list)
    """A plugin's call that failed while the run was concluded (its `solved()` on the
    metrics of a run that diverged, say): reported, and the run kept all the same."""

    def summary(self) -> dict[str, Any]:
        """The closing summary as plain JSON-able data."""
        return {
            "run_id": self.run_id,
            "task": self.config.task,
            "cell": self.config.cell,
            "topology": self.config.topology,
            "trainer": self.config.trainer,
            "epochs_run": len(self.history.epochs),
            "stopped": self.history.stopped,
            "train_loss": self.metrics.get("train_loss"),
            "val_loss": self.metrics.get("val_loss"),
            "chance_loss": self.chance_loss,
            "chance_rule": self.task.chance_rule,
            "baselines": self.task.baselines() if isinstance(self.task, DataTask) else {},
            "split_rule": getattr(self.task, "split_rule", None) or None,
            "reference_losses": self.task.reference_losses,
            "solved": self.solved,
            "solved_rule": self.task.solved_rule or None,
            "metrics": {
                k: v for k, v in self.metrics.items() if k not in ("train_loss", "val_loss")
            },
            "test_loss": self.test.get("test_loss"),
            "test_metrics": {k: v for k, v in self.test.items() if k != "test_loss"},
            "train_time_s": self.train_time,
            "device": self.device,
            "processes": distributed.world_size(),
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "examples": self.examples,
            "gradients": gradient_summary(self.diagnostics) if self.diagnostics else None,
            "tuning": self.tuning.as_dict() if self.tuning else None,
            "config": self.config.as_dict(),
            "versions": self.versions,
            "run_dir": str(self.run_dir) if self.run_dir else None,
            "failures": self.failures,
        }

    def _repr_html_(self) -> str:
        """Jupyter's view: the summary, the loss plot and the examples (`_present.report`)."""
        summary = self.summary()
        plots = report.run_plots(summary, self.history.epochs, self.diagnostics)
        return report.run_fragment(summary, plots)


def gradient_summary(diagnostics: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of the first and last gradient records."""
    keys = ("epoch", "log10_vanishing_factor", "steps_to_1e6_drop")

    def brief(r: dict[str, Any]) -> dict[str, Any]:
        curve = r["log10_grad"][r["headline"]]
        return {
            **{k: r[k] for k in keys},
            "log10_grad_at_T": curve[-1],
            "log10_grad_at_1": curve[0],
        }

    records = diagnostics["records"]
    return {"init": brief(records[0]), "end": brief(records[-1])}


def make_data(task: Task, seed: int, device: torch.device) -> Data:
    """The run's training and validation sets on `device` (`Task.split`). A task with
    fresh data draws each epoch's training set on from the stream of the first."""
    if task.fresh_data:
        g_train = torch.Generator(device=device).manual_seed(seed)
        train = task.generate(task.num_samples, g_train, device)
    else:
        train = task.split("train", seed, device)
    data = Data(*train, *task.split("val", seed, device))
    if task.fresh_data:
        data.resample = lambda epoch: task.generate(task.num_samples, g_train, device)
        data.generator = g_train
    return data


def heldout_set(task: Task, seed: int, device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """The held-out test set of a run with `seed`, on `device` (`Task.split`)."""
    return task.split("test", seed, device)


@contextmanager
def cpu_threads(threads: int | str | None) -> Iterator[None]:
    """Run with torch's intra-op thread count set to `threads`, restored after."""
    before = torch.get_num_threads()
    if isinstance(threads, int):
        torch.set_num_threads(threads)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def default_run_dir(config: RunConfig) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{config.task}-{config.cell}-{stamp}"


def run(
    config: RunConfig | None = None,
    *,
    out: str | Path | None = None,
    overwrite: bool = False,
    quiet: bool = False,
    callbacks: Sequence[Callback] = (),
    registry: Registry | None = None,
    data: DataSource | None = None,
    **settings: Any,
) -> RunResult:
    """Train `cell` on `task` and return the result; `seqkit.run(cell="gru", task="sum")`.

    `data=seqkit.from_arrays(X, y)` (or `from_text(path)`, `from_csv(path)`) trains on
    your own data instead of a named task.

    Settings are RunConfig's fields (`epochs=`, `lr=`, `task_options={...}`, ...). With
    `out`, the run directory is written there, report.html included (the CLI always
    writes one). Everything is validated before anything is written. A progress bar
    shows in Jupyter (a widget) and on a terminal, unless `quiet`; in Jupyter the result
    displays as HTML.
    """
    if data is not None:
        if config is not None:
            raise ConfigError("give data= with settings, not with a RunConfig (set its task)")
        settings = data.settings(settings)
    config = config or RunConfig.from_dict(settings)
    the_plan = plan(config, registry)
    out_dir = Path(out) if out is not None else None
    if config.tensorboard and out_dir is None:
        raise ConfigError("tensorboard=True writes into the run directory: give out=DIR")
    progress = None if quiet else interactive_progress()
    if out_dir is None or not distributed.is_main():  # rank 0 alone writes
        return execute(the_plan, out_dir, list(callbacks), progress)
    with rundir.claimed(out_dir, overwrite):  # one writer in the directory
        return execute(the_plan, out_dir, list(callbacks), progress)


def execute(
    the_plan: Plan,
    out_dir: Path | None,
    callbacks: list[Callback],
    progress: Callable[[float], Callback] | None = None,
    resume: Checkpoint | None = None,
    drawer: Drawer | None = None,
) -> RunResult:
    """Run a checked plan: data, model, callbacks, training, then what the run keeps.
    `progress(chance_loss)` builds a progress callback, if given; `resume` is a
    checkpoint to continue from (see `resume`); `drawer` draws the run's plots in
    another process (the caller waits for it), else they are drawn here. torch's global
    RNG is the caller's again afterwards. On the CPU, subnormal floats are flushed to 0
    where the run's `flush_denormals` says so (`seqkit._train.denormals`), and where
    seqkit owns the process, memory a training step frees is kept for the next one
    (`seqkit._train.heap`, `seqkit._train.host`)."""
    with kept_rng(the_plan.device):  # the caller's global RNG is theirs again after
        if the_plan.device.type != "cpu":
            return _execute(the_plan, out_dir, callbacks, progress, resume, drawer)
        keep_memory = heap.keep_freed_memory() if host.owns_process() else nullcontext()
        with keep_memory, denormals.flushed(bool(the_plan.config.flush_denormals)):
            return _execute(the_plan, out_dir, callbacks, progress, resume, drawer)


def _execute(
    the_plan: Plan,
    out_dir: Path | None,
    callbacks: list[Callback],
    progress: Callable[[float], Callback] | None,
    resume: Checkpoint | None,
    drawer: Drawer | None,
) -> RunResult:
    """The run, top to bottom: prepare the data and model, wire the callbacks, train,
    score on the test set, conclude (write what the run keeps, or say why it stopped)."""
    if not distributed.is_main():  # under torchrun, rank 0 alone prints and writes
        out_dir, progress = None, None
    the_plan, data, model, tuning = prepare(the_plan, resume)
    chance = the_plan.task.chance_loss(data.train_y)  # the larger set: a steadier estimate
    versions = _versions(the_plan)
    callbacks, probe = wire(the_plan, callbacks, progress, chance)
    run_id, last_finite = None, LastFinite(model)
    if out_dir is not None:
        kept, run_id = start_run_dir(out_dir, the_plan, data, versions, resume, tuning)
        callbacks = [*kept, last_finite, *callbacks]
    try:
        history, train_time = train(the_plan, model, data, callbacks, resume)
    except WriteFailed as exc:
        raise stopped_writing(exc, out_dir) from None
    if history.non_finite:  # keep the weights of the last finite epoch, not the NaN
        last_finite.restore()
    test = score(the_plan, model, history)
    failures: list[str] = []
    task = the_plan.task
    result = RunResult(
        model,
        the_plan.task,
        history,
        the_plan.config,
        {k: v for k, v in history.last.items() if k not in RECORD_BOOKKEEPING},
        chance,
        guarded(lambda: probe_examples(model, task, the_plan.device), "examples", failures) or [],
        train_time,
        str(the_plan.device),
        out_dir,
        versions,
        probe.as_dict() if probe is not None else None,
        tuning,
        test,
        run_id,
    )
    result.solved = guarded(lambda: task.solved(result.metrics), "solved()", failures)
    result.failures = failures
    try:
        return conclude(result, drawer)
    except WriteFailed as exc:
        raise stopped_writing(exc, out_dir) from None


def guarded(call: Callable[[], Any], what: str, failures: list[str]) -> Any:
    """`call()`, or None if the task's code it runs fails: the failure is added to
    `failures` (and so to the summary) and the run is kept all the same."""
    try:
        return call()
    except Exception as exc:  # a plugin's bug must not lose a finished run
        failures.append(f"the task's {what} failed: {type(exc).__name__}: {exc}")
        return None


def stopped_writing(exc: WriteFailed, out_dir: Path | None) -> WriteFailed:
    """A failed write, with how to go on: from the last checkpoint, which --resume reads
    (a run whose training ended writes only its results again)."""
    if out_dir is None or (out_dir / files.SUMMARY).is_file():
        return exc  # the run's results are kept; only its pictures were not drawn
    if not (out_dir / files.CHECKPOINT).is_file():
        return WriteFailed(f"{exc}; free space, then run it again")
    return WriteFailed(f"{exc}; free space, then go on with: seqkit run --resume {out_dir}")


def prepare(
    the_plan: Plan, resume: Checkpoint | None
) -> tuple[Plan, Data, nn.Module, Tuning | None]:
    """The run's data and initial model, with its threads and kernels settled (a resumed
    run runs as it was recorded, from its checkpoint's weights and streams)."""
    data = make_data(the_plan.task, the_plan.config.seed, the_plan.device)
    tuning = None
    if resume is None:
        the_plan, tuning = tune(the_plan, data)
    model = the_plan.initial_model(data.train_x, data.train_y)
    if resume is not None:
        resume.restore_run(model, data)
    return the_plan, data, model, tuning


def wire(
    the_plan: Plan,
    callbacks: list[Callback],
    progress: Callable[[float], Callback] | None,
    chance: float,
) -> tuple[list[Callback], GradientProbe | None]:
    """The user's callbacks, then the progress display and the gradient probe if asked."""
    config = the_plan.config
    if progress is not None:
        callbacks = [*callbacks, progress(chance)]
    probe = None
    if config.probe_every:
        dtype = torch.float64 if config.probe_dtype == "float64" else None
        probe = GradientProbe(config.probe_every, config.probe_batch, dtype)
        callbacks = [*callbacks, probe]
    return callbacks, probe


def train(
    the_plan: Plan,
    model: nn.Module,
    data: Data,
    callbacks: list[Callback],
    resume: Checkpoint | None,
) -> tuple[History, float]:
    """The trainer's fit on the run's threads; the history and the seconds it took."""
    config, fit = the_plan.config, the_plan.trainer.fit
    with cpu_threads(config.threads):
        start = time.perf_counter()
        # `resume` is passed only to continue a run: a trainer that cannot resume need
        # not take it.
        history = (
            fit(model, data, the_plan.task, config, callbacks)
            if resume is None
            else fit(model, data, the_plan.task, config, callbacks, resume=resume)
        )
        return history, time.perf_counter() - start


def score(the_plan: Plan, model: nn.Module, history: History) -> dict[str, float]:
    """The trained model on the held-out test set, once (none for a stopped run)."""
    if history.interrupted or history.non_finite:
        return {}
    task, config = the_plan.task, the_plan.config
    return evaluate(model, task, *heldout_set(task, config.seed, the_plan.device), prefix="test_")


def conclude(result: RunResult, drawer: Drawer | None) -> RunResult:
    """Keep what the run made (its directory's summary, model and plots), or raise why it
    stopped: Interrupted, or NonFiniteError after keeping what ran."""
    history, out_dir = result.history, result.run_dir
    if history.interrupted:
        raise Interrupted(interrupted_message(history, out_dir))
    if out_dir is not None:
        finish_run_dir(out_dir, result, drawer)
    if history.non_finite:
        raise NonFiniteError(
            f"training stopped: {history.stopped}. Try --grad-clip 1.0 or a lower --lr"
            + (f"; what ran is kept in {out_dir}" if out_dir else "")
        )
    return result


def start_run_dir(
    out_dir: Path,
    the_plan: Plan,
    data: Data,
    versions: dict[str, str],
    resume: Checkpoint | None,
    tuning: Tuning | None = None,
) -> tuple[list[Callback], str]:
    """Prepare the run directory (a resumed run keeps the metrics of its complete epochs)
    and write the resolved configuration; the callbacks that write as training goes, and
    the run's id (a resumed run keeps its own)."""
    config = the_plan.config
    out_dir.mkdir(parents=True, exist_ok=True)
    metrics_file = out_dir / files.METRICS
    if resume is None:  # --overwrite: nothing of an earlier run stays, whatever stops this one
        for name in files.RUN_FILES:
            (out_dir / name).unlink(missing_ok=True)
        shutil.rmtree(out_dir / tensorboard_log.SUBDIR, ignore_errors=True)
        run_id = rundir.new_run_id()
    else:  # epochs after the checkpoint will be run again: drop their lines
        kept = metrics_file.read_text().splitlines()[: resume.epoch]
        files.write_text(metrics_file, "".join(line + "\n" for line in kept))
        run_id = resume.run_id or records.recorded_run_id(out_dir) or rundir.new_run_id()
    recorded = {"run_id": run_id, **config.as_dict(), "versions": versions}
    if tuning is not None:
        recorded["tuning"] = tuning.as_dict()
    elif resume is not None:  # keep how the run's threads and kernels were chosen
        with contextlib.suppress(OSError, ValueError):
            earlier = json.loads((out_dir / files.CONFIG).read_text()).get("tuning")
            if earlier is not None:
                recorded["tuning"] = earlier
    files.write_json(out_dir / files.CONFIG, recorded)
    writers: list[Callback] = [
        MetricsLog(metrics_file, run_id),
        Checkpointer(out_dir / files.CHECKPOINT, config.checkpoint_every, data.generator, run_id),
    ]
    if config.tensorboard:
        writers.append(TensorBoardLog(out_dir, config.as_dict()))
    return writers, run_id


def finish_run_dir(out_dir: Path, result: RunResult, drawer: Drawer | None = None) -> None:
    """model.safetensors, gradients.json and, last, summary.json of a finished run; then its
    plots and report.html, drawn from these files (`seqkit._present.report.write_run_report`)
    here, or handed to `drawer` (the caller waits for it)."""
    run_id = result.run_id
    recorded = files.read_json(out_dir / files.CONFIG)
    rundir.save_model(out_dir / files.MODEL, result.model, run_id, recorded)
    if result.diagnostics is not None:
        files.write_json(out_dir / files.GRADIENTS, {"run_id": run_id, **result.diagnostics})
    files.write_json(out_dir / files.SUMMARY, result.summary())  # last: the run is finished
    calls: list[drawing.Call] = [("seqkit._present.report:write_run_report", (out_dir,))]
    if drawer is None:
        drawing.call(calls)
    else:
        drawer.submit(calls)


def interrupted_message(history: History, out_dir: Path | None) -> str:
    procs = distributed.world_size()
    where = (
        f"; resume with: seqkit run --resume {out_dir}" + (f" --nproc {procs}" if procs > 1 else "")
        if out_dir
        else ""
    )
    return (
        f"training {history.stopped} during epoch {len(history.epochs) + 1}"
        f"; {len(history.epochs)} epochs are complete{where}"
    )


@torch.no_grad()
def probe_examples(model: nn.Module, task: Task, device: torch.device) -> list[dict[str, Any]]:
    """The task's fixed probe inputs, the model's predictions and the answers."""
    model.eval()
    x, answer = task.examples()
    pred = task.predict(model(x.to(device))).cpu()
    x, answer = x.cpu(), answer.cpu()
    rows = []
    for i in range(x.shape[0]):
        rows.append(
            {
                "input": _plain(x[i]),
                "output": _plain(pred[i]),
                "answer": _plain(answer[i]),
                "correct": task.is_correct(pred[i], answer[i]),
                "text": task.format_example(x[i], pred[i], answer[i]),
            }
        )
    return rows


def resume(
    run_dir: str | Path,
    *,
    callbacks: Sequence[Callback] = (),
    progress: Callable[[float], Callback] | None = None,
    registry: Registry | None = None,
    drawer: Drawer | None = None,
    data_changed: bool = False,
) -> RunResult:
    """Continue the run in `run_dir` from its checkpoint, with its own settings.

    On the same platform the result equals a run that never stopped, bit for bit. A
    data-backed run whose data file changed is refused unless `data_changed`."""
    run_dir = Path(run_dir)
    where = f"--resume {run_dir}"
    config = rundir.read_run_config(run_dir, where, data_changed)
    the_plan = plan(config, registry, resuming=True)
    checkpoint = Checkpoint.load(run_dir, the_plan.device)
    trained_by, here = checkpoint.processes, distributed.world_size()
    if trained_by != here:
        raise ConfigError(
            f"{where}: the run was trained by {trained_by} process(es), this is "
            f"{here}; resume with --nproc {trained_by}"
            if trained_by > 1
            else f"{where}: the run was trained by one process; resume without --nproc"
        )
    epochs = the_plan.config.epochs or 0
    if checkpoint.epoch >= epochs and (run_dir / files.SUMMARY).is_file():
        raise ConfigError(f"{where}: the run already finished its {epochs} epochs")
    # (trained to the end without its summary: a write failed; the results are made again)
    run_id = records.recorded_run_id(run_dir)
    records.check_same_run(checkpoint.run_id, run_id, run_dir / files.CHECKPOINT)
    records.read_epochs(run_dir, upto=checkpoint.epoch, run_id=run_id)  # whole, and this run's
    if not distributed.is_main():  # rank 0 alone writes, and holds the directory
        return execute(
            the_plan, run_dir, list(callbacks), progress, resume=checkpoint, drawer=drawer
        )
    with files.locked(run_dir, where):
        return execute(
            the_plan, run_dir, list(callbacks), progress, resume=checkpoint, drawer=drawer
        )


def _plain(t: torch.Tensor) -> Any:
    """A number for a one-element tensor, else nested lists without a trailing size-1 axis."""
    if t.numel() == 1:
        return t.item()
    return (t.squeeze(-1) if t.shape[-1] == 1 else t).tolist()


def _versions(the_plan: Plan) -> dict[str, str]:
    versions = {
        "seqkit": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
    }
    for p in the_plan.registry.plugins:
        versions[f"plugin:{p.name}"] = p.version or "unknown"
    return versions


__all__ = ["RunResult", "evaluate", "heldout_set", "make_data", "run"]

"""The run configuration: one dataclass for the CLI, TOML files and the library."""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from seqkit._core.errors import ConfigError
from seqkit._core.files import read_input_text
from seqkit._core.seeds import MAX_SEED_OFFSET

OPTION_TABLES = ("cell_options", "task_options", "topology_options", "trainer_options")
"""The fields that hold a plugin's options, `name = value` each."""
FALLBACK = {
    "hidden_size": 64,
    "epochs": 20,
    "lr": 1e-3,
    "batch_size": 64,
    "optimizer": "adam",
    "normalize": True,
}
"""Hyper-parameters used when neither the user nor the task chooses one."""
SCHEDULES = ("cosine", "constant")
"""Learning-rate schedules: cosine decay to 0 over all steps, or a constant rate."""
PRECISIONS = ("fp32", "bf16", "fp16")
"""Training precisions: fp32, or autocast to bfloat16 / float16 (fp16 with a grad scaler)."""
MAX_SEED = 2**63 - 1 - MAX_SEED_OFFSET
"""The largest --seed: every seed derived from it is still a valid torch seed (int64)."""
MAX_SETTINGS_BYTES = 2**20
"""A settings file larger than this (1 MiB) is refused (its bytes counted as read)."""


@dataclass
class RunConfig:
    """Everything that decides a run. `None` means "the task's default" until resolved."""

    task: str
    cell: str
    topology: str | None = None
    trainer: str | None = None
    hidden_size: int | None = None
    epochs: int | None = None
    lr: float | None = None
    batch_size: int | None = None
    optimizer: str | None = None
    weight_decay: float = 0.0
    lr_schedule: str = "cosine"
    grad_clip: float | None = None
    seed: int = 0
    device: str = "auto"
    normalize: bool | None = None
    """Standardise continuous inputs and a regression target inside the model; None: the
    task's choice (`Task.defaults`), else on. The long-range tasks choose off, as their
    sources train on raw inputs."""
    checkpoint_every: int = 1
    """Write checkpoint.pt every N epochs (and at the end); 0: only at the end."""
    threads: int | str | None = None
    """CPU intra-op threads; None or "auto": a rule, 1 for small models (hidden size <
    256), where more threads buy little and a busy neighbour makes them much slower, else
    torch's (capped at the usable cores); "fastest": 1 or every usable core, whichever a
    long run measures faster (`seqkit._run.autotune`). The count can change the last
    digits of what a run computes (torch splits a large reduction by it), so timing
    chooses it only when asked. A run records the number it used."""
    tbptt: int = 0
    """Truncated backpropagation through time: K > 0 trains on chunks of K steps and
    carries the state across chunks, detached, so memory is bounded in the length."""
    precision: str = "fp32"
    """fp32, or autocast the forward pass to bf16 / fp16 (fp16 with a gradient scaler)."""
    compile: bool = False
    """torch.compile the model for the training steps."""
    flush_denormals: bool | None = None
    """On the CPU, compute subnormal floats as 0 during the run (`seqkit._train.denormals`):
    vanishing gradients made long backward passes several times slower. None: on where
    seqkit owns the process (the `seqkit` command and its workers), off for a library
    call, which leaves the process's floating-point modes as they were
    (`seqkit._train.host`). True in a library call leaves torch's worker threads that the
    run started flushing; False keeps IEEE arithmetic on the run's thread."""
    tensorboard: bool = False
    """Also write TensorBoard event files into the run directory."""
    probe_every: int = 0
    """Gradient diagnostics: 0 off; K records at init, every K epochs and at the end."""
    probe_dtype: str = "float32"
    probe_batch: int = 32
    cell_options: dict[str, Any] = field(default_factory=dict)
    task_options: dict[str, Any] = field(default_factory=dict)
    topology_options: dict[str, Any] = field(default_factory=dict)
    trainer_options: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] | None = None
    """The identity of a data-backed task's data (`DataTask.identity`), recorded by the
    run. A configuration that carries it (a run's config.json given to --config or
    --resume) refuses the same file with other content; None: nothing to compare."""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(
                f"unknown setting '{unknown[0]}'; settings are: {', '.join(sorted(known))}"
            )
        for required in ("task", "cell"):
            if not data.get(required):
                raise ConfigError(f"a run needs a {required} (--{required} NAME)")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path, where: str | None = None) -> RunConfig:
        """The configuration in a TOML file (RunConfig's keys, `-` or `_`) or a run's
        `config.json`. `where` names the file in errors (default: the path)."""
        return cls.from_dict(read_settings(Path(path), where))

    def validate(self) -> None:
        """Check every value that does not need the registry; raise ConfigError naming it."""
        for table in OPTION_TABLES:
            value = getattr(self, table)
            if not isinstance(value, dict):
                raise ConfigError(f"{table} must be a table of option = value (got {value!r})")
        if self.data is not None and not isinstance(self.data, dict):
            raise ConfigError(f"data must be a table (a recorded data identity; got {self.data!r})")
        for flag in ("normalize", "compile", "flush_denormals", "tensorboard"):
            if flag in ("normalize", "flush_denormals") and getattr(self, flag) is None:
                continue  # the task's or the process owner's choice, until resolved
            if not isinstance(getattr(self, flag), bool):
                name = flag.replace("_", "-")
                raise ConfigError(f"--{name} must be true or false (got {getattr(self, flag)!r})")
        _positive_int("hidden-size", self.hidden_size, 1_000_000)
        _positive_int("epochs", self.epochs, 10_000_000)
        _positive_int("batch-size", self.batch_size, 100_000_000)
        _positive_float("lr", self.lr, 10.0)
        _positive_float("grad-clip", self.grad_clip, math.inf)
        decay = self.weight_decay
        if not (
            isinstance(decay, int | float) and not isinstance(decay, bool) and 0 <= decay < math.inf
        ):
            raise ConfigError(f"--weight-decay must be >= 0 (got {self.weight_decay!r})")
        if not isinstance(self.probe_every, int) or self.probe_every < 0:
            raise ConfigError(f"--probe-every must be an integer >= 0 (got {self.probe_every!r})")
        _positive_int("probe-batch", self.probe_batch, 100_000)
        _check_threads(self.threads)
        if not isinstance(self.checkpoint_every, int) or self.checkpoint_every < 0:
            raise ConfigError(
                f"--checkpoint-every must be an integer >= 0 (got {self.checkpoint_every!r})"
            )
        if not isinstance(self.tbptt, int) or isinstance(self.tbptt, bool) or self.tbptt < 0:
            raise ConfigError(f"--tbptt must be an integer >= 0 (got {self.tbptt!r})")
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"--precision must be one of {', '.join(PRECISIONS)} (got {self.precision!r})"
            )
        if self.probe_dtype not in ("float32", "float64"):
            raise ConfigError(
                f"--probe-dtype must be float32 or float64 (got {self.probe_dtype!r})"
            )
        if self.lr_schedule not in SCHEDULES:
            raise ConfigError(
                f"--lr-schedule must be one of {', '.join(SCHEDULES)} (got {self.lr_schedule!r})"
            )
        _check_seed(self.seed)


def _positive_int(flag: str, value: Any, limit: int) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= limit:
        raise ConfigError(f"--{flag} must be an integer from 1 to {limit:,} (got {value!r})")


def _check_seed(value: Any) -> None:
    """--seed: 0 to MAX_SEED, so that seed + MAX_SEED_OFFSET still fits torch's int64."""
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SEED:
        raise ConfigError(
            f"--seed must be a non-negative integer up to {MAX_SEED}, which is 2**63 - 1 less "
            f"the {MAX_SEED_OFFSET} seqkit adds for the validation set's generator (got {value!r})"
        )


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _check_threads(value: Any) -> None:
    """--threads: unset or "auto", "fastest", or 1 to the number of usable cores (more
    only oversubscribe)."""
    if value is None or value in ("auto", "fastest"):
        return
    cores = usable_cores()
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ConfigError(
            f"--threads must be auto, fastest or an integer from 1 to {cores} (got {value!r})"
        )
    if value > cores:
        raise ConfigError(
            f"--threads {value} is more than the {cores} CPU core{'s' if cores > 1 else ''} "
            f"this machine lets seqkit use; use at most --threads {cores}"
        )


def _positive_float(flag: str, value: Any, limit: float) -> None:
    if value is None:
        return
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if not ok or not (0 < value <= limit) or math.isnan(value):
        bound = "a positive number" if limit == math.inf else f"a number in (0, {limit}]"
        raise ConfigError(f"--{flag} must be {bound} (got {value!r})")


def read_settings(
    path: Path, where: str | None = None, extra: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The settings in a TOML or JSON file as a dict of RunConfig's field names (not yet
    validated: a CLI merges flags over them first), plus the tables named in `extra` as
    they are (`tune`'s `space`). Every failure is a ConfigError."""
    where = where or str(path)
    text = read_input_text(path, MAX_SETTINGS_BYTES, where, "settings file")
    try:
        import tomllib  # here: the commands that read no settings file need not load it

        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        kind = "JSON" if path.suffix == ".json" else "TOML"
        raise ConfigError(f"{where}: not valid {kind}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply to be a settings file") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: must hold a table of settings (got {type(data).__name__})")
    for record in ("versions", "tuning", "run_id"):  # recorded in a run's config.json
        data.pop(record, None)
    kept = {key: data.pop(key) for key in extra if key in data}
    settings = {str(key).replace("-", "_"): value for key, value in data.items()}
    known = {f.name for f in fields(RunConfig)}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting '{unknown[0]}'; settings are: {', '.join(sorted(known))}"
        )
    for table in OPTION_TABLES:
        if not isinstance(settings.get(table, {}), dict):
            raise ConfigError(
                f"{where}: {table} must be a table of option = value (got {settings[table]!r})"
            )
    return {**settings, **kept}

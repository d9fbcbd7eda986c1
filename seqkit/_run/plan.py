"""From a configuration to a checked plan: the task, the resolved parts, the device.

`plan(config)` looks every name up once, resolves every option and default once, builds
the trainer once, and tries the parts together on one probe, so that a run that would fail
fails here, before anything is written. The plan then builds the model from its resolved
parts without going back to the registry.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from seqkit._contracts import guards as contracts
from seqkit._core.config import FALLBACK, RunConfig, usable_cores
from seqkit._core.datafiles import changed
from seqkit._core.errors import ConfigError, UnknownNameError
from seqkit._core.options import FASTEST
from seqkit._model import tbptt
from seqkit._model.assemble import assemble, without_fastest
from seqkit._model.normalize import standardized
from seqkit._model.optim import OPTIMIZERS
from seqkit._plugins.data_task import DataTask
from seqkit._plugins.interfaces import ChecksSettings, RunsDistributed
from seqkit._plugins.registry import Registry, Resolved, get_registry
from seqkit._plugins.task import Task
from seqkit._run.resources import check_memory
from seqkit._train import distributed, host
from seqkit._train import tensorboard as tensorboard_log
from seqkit._train.devices import kept_rng, resolve_device, seed_rng
from seqkit._train.gradflow import check_probe_fits

HYPER_PARAMETERS = tuple(FALLBACK)
"""Settings whose default is the task's (`Task.defaults`), else seqkit's FALLBACK."""


@dataclass
class Plan:
    """A checked run: the resolved configuration (every default filled) and its parts."""

    config: RunConfig
    task: Task
    cell: Resolved
    topology: Resolved
    trainer: Any
    """The trainer object, built once from its resolved options."""
    device: torch.device
    registry: Registry
    tunable: dict[str, tuple[Any, ...]] = dataclasses.field(default_factory=dict)
    """What the run leaves to measurement (`seqkit._run.autotune`): threads, tuned cell options."""

    def build_model(self) -> nn.Module:
        """A freshly initialised model (from torch's current RNG state)."""
        return assemble(self.cell, self.topology, self.task.io, self.config.hidden_size or 0)

    def initial_model(self, train_x: torch.Tensor, train_y: torch.Tensor) -> nn.Module:
        """The run's model before training: initialised from the run's seed, standardised
        with the training data's statistics unless `normalize` is off, on its device."""
        seed_rng(self.device, self.config.seed)
        return standardized(self.build_model(), self.task, train_x, train_y, self.config).to(
            self.device
        )

    def fresh_model(self, train_x: torch.Tensor, train_y: torch.Tensor) -> nn.Module:
        """`initial_model` for a caller that does not go on to train it (load, explain, a
        gradient probe at init): torch's global RNG is as it was afterwards. A run keeps
        the seeded stream for its training instead (dropout draws from it)."""
        with kept_rng(self.device):
            return self.initial_model(train_x, train_y)


def plan(
    config: RunConfig,
    registry: Registry | None = None,
    *,
    trained: bool = False,
    resuming: bool = False,
) -> Plan:
    """Resolve names, options and defaults, and check them all before anything runs.

    `trained`: the configuration of a finished run, loaded to use its model. A
    data-backed task then rebuilds from what the run recorded, without its data, and the
    trial checks the parts passed when the run trained are not run again. `resuming`: the
    configuration of a run to continue, whose data must be the very file it read."""
    registry = registry or get_registry()
    config.validate()
    task_part = registry.resolve("task", config.task, config.task_options)
    contracts.check_factory("task", task_part.entry, (), task_part.options)
    task: Task = task_part.build()
    identity = adopt_data(task, config, trained, resuming)
    if not trained:
        check_memory(config, task)  # the data alone, before the checks generate any
        contracts.check_task_cheaply(task_part.entry, task)
    cell, fastest = without_fastest(registry.resolve("cell", config.cell, config.cell_options))
    contracts.check_factory("cell", cell.entry, (1, 1), cell.options)
    topology = registry.resolve(
        "topology", config.topology or default_topology(task, registry), config.topology_options
    )
    contracts.check_factory("topology", topology.entry, (None, task.io), topology.options)
    trainer_part = registry.resolve(
        "trainer", config.trainer or registry.default("trainer"), config.trainer_options
    )
    contracts.check_factory("trainer", trainer_part.entry, (), trainer_part.options)
    device = resolve_device(config.device)
    parts = {"cell": cell, "task": task_part, "topology": topology, "trainer": trainer_part}
    resolved = resolve_config(config, task, parts, device)
    resolved.data = identity
    if not trained:
        check_memory(resolved, task)  # data and one training step, at the resolved sizes
    the_plan = Plan(
        resolved,
        task,
        cell,
        topology,
        trainer_part.build(),
        distributed.local_device(device),
        registry,
        tunable(config, cell, device, fastest),
    )
    check_trainer(the_plan)
    if not trained:
        with kept_rng(the_plan.device):  # the trial model draws from the caller's RNG
            check_together(the_plan)
    return the_plan


def adopt_data(
    task: Task, config: RunConfig, trained: bool = False, resuming: bool = False
) -> dict[str, Any] | None:
    """A data-backed task's identity now (None for a synthetic task), after handing it
    what the configuration recorded; data at a recorded path whose content changed are
    refused (`RunConfig.data`), and so is, when `resuming`, another file than the run
    read (a relative path from another directory). A `trained` run's model needs only
    what it recorded."""
    if not isinstance(task, DataTask):
        return None
    if trained:
        task.recorded = config.data
        return config.data
    now = task.identity()
    was = (config.data or {}).get("path")
    if resuming and was is not None and was != now.get("path"):
        raise ConfigError(
            f"the run read {was}, this would read {now.get('path')} (a relative path, from "
            "another directory?); resume from where the run started, or pass --data-changed"
        )
    difference = changed(config.data, now) if config.data else None
    if difference is not None:
        raise ConfigError(
            f"the data changed: {difference}; the recorded run's numbers would not follow "
            "from it (pass --data-changed to train on it anyway)"
        )
    return now


def default_topology(task: Task, registry: Registry) -> str:
    if not task.default_topology:
        raise ConfigError(
            f"task '{task.name}' names no default topology; choose one with --topology "
            f"({', '.join(registry.names('topology'))})"
        )
    return task.default_topology


def resolve_config(
    config: RunConfig,
    task: Task,
    parts: dict[str, Resolved],
    device: torch.device,
) -> RunConfig:
    """`config` with every name, option and default filled in, as the run records it."""

    def pick(key: str) -> Any:
        value = getattr(config, key)
        return value if value is not None else task.defaults.get(key, FALLBACK[key])

    filled: dict[str, Any] = {key: pick(key) for key in HYPER_PARAMETERS}
    filled |= {f"{kind}_options": part.options for kind, part in parts.items()}
    resolved = dataclasses.replace(
        config,
        topology=parts["topology"].name,
        trainer=parts["trainer"].name,
        device=str(device),
        **filled,
    )
    if config.threads in (None, "auto", FASTEST):
        resolved.threads = default_threads(device, resolved.hidden_size or 0)
    if config.flush_denormals is None:
        resolved.flush_denormals = host.owns_process()
    resolved.validate()
    if resolved.optimizer not in OPTIMIZERS:
        raise UnknownNameError("optimizer", str(resolved.optimizer), OPTIMIZERS)
    # Under torchrun a bare `cuda` is each worker's own GPU; the saved setting stays `cuda`.
    if distributed.world_size() > 1 and device.type == "cuda" and device.index is not None:
        raise ConfigError(
            f"--device {device}: under torchrun every process would use that one GPU; "
            "use --device cuda (each process takes cuda:LOCAL_RANK)"
        )
    return resolved


def check_trainer(the_plan: Plan) -> None:
    """The trainer's own refusals, and torchrun's processes with a trainer that trains alone."""
    trainer, config = the_plan.trainer, the_plan.config
    if isinstance(trainer, ChecksSettings):
        trainer.check(config)
    if distributed.world_size() > 1 and not is_distributed(trainer):
        raise ConfigError(
            f"this is one of {distributed.world_size()} processes (torchrun), but trainer "
            f"'{config.trainer}' trains alone; {use_distributed(the_plan.registry)}"
        )


def is_distributed(trainer: object) -> bool:
    """Whether `trainer` runs as one of torchrun's processes."""
    return isinstance(trainer, RunsDistributed) and bool(trainer.distributed)


def use_distributed(registry: Registry) -> str:
    """Advice naming the installed trainers that run distributed (each built with its
    defaults to ask it; only on this error path)."""
    names = []
    for entry in registry.entries("trainer"):
        try:
            trainer = entry.factory(**{k: o.default for k, o in entry.options.items()})
        except Exception:  # a trainer that cannot be built with defaults is not advice
            continue
        if is_distributed(trainer):
            names.append(entry.name)
    if not names:
        return "no installed trainer runs distributed"
    return "use " + " or ".join(f"--trainer {name}" for name in names)


def check_together(the_plan: Plan) -> None:
    """Fail now, before any I/O, when the parts cannot work together or a plugin breaks
    its contract: a topology that cannot serve the task fails when built; the cells are
    checked on a tiny batch (shapes, step against forward); one that needs a step a cell
    refuses (a bidirectional cell fed its own predictions) fails on a forward pass."""
    config, task = the_plan.config, the_plan.task
    try:
        model = the_plan.build_model()
    except (MemoryError, RuntimeError) as exc:
        if not _out_of_memory(exc):
            raise
        raise ConfigError(
            f"the model does not fit in memory (--hidden-size {config.hidden_size:,}: "
            "torch could not allocate its weights); use a smaller --hidden-size"
        ) from None
    contracts.check_cells_cheaply(the_plan.cell.entry, model)
    contracts.check_model_on_task(the_plan.topology.entry, the_plan.cell.name, task, model)
    if task.io.padded_inputs and (config.tbptt or config.probe_every):
        flag = "--tbptt" if config.tbptt else "--probe-every"
        raise ConfigError(
            f"{flag} is not offered yet for sequences of different lengths (task "
            f"'{config.task}'): it would cut through, or probe, the padding"
        )
    if config.probe_every:
        check_probe_fits(model, task.probes()[:1])
    if config.tbptt:
        tbptt.check(model, config.topology or "")
    if config.tensorboard:
        tensorboard_log.require()
    if config.precision != "fp32":
        check_precision(model, the_plan)


def _out_of_memory(exc: BaseException) -> bool:
    """MemoryError, CUDA's OutOfMemoryError, or the CPU allocator's RuntimeError."""
    return isinstance(exc, MemoryError | torch.OutOfMemoryError) or (
        "can't allocate memory" in str(exc)
    )


def check_precision(model: nn.Module, the_plan: Plan) -> None:
    """A forward and backward pass of one probe under the run's autocast, so that a kernel
    without a low-precision path here fails now with a ConfigError, not mid-run. The
    cell's plugin may add advice (`hints={"precision": ...}` when it registers)."""
    config, device = the_plan.config, the_plan.device
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[config.precision]
    model = model.to(device).train()
    try:
        with torch.autocast(device.type, dtype=dtype):
            out = model(the_plan.task.probes()[:1].to(device))
        out.float().sum().backward()
    except RuntimeError as exc:
        reason = str(exc).splitlines()[0].split(". ")[0]
        hint = the_plan.cell.entry.hints.get("precision")
        raise ConfigError(
            f"--precision {config.precision} does not work for cell '{config.cell}' on "
            f"{device.type} here (torch: {reason}); use --precision fp32"
            + (f" ({hint})" if hint else "")
        ) from None


SMALL_MODEL_HIDDEN = 256


def default_threads(device: torch.device, hidden_size: int) -> int:
    """One CPU thread for small models: their matmuls are too small for a second thread
    to pay, and with a busy neighbour two threads made steps many times slower. Larger
    models keep torch's default, capped at the usable cores (torch's default follows
    OMP_NUM_THREADS, which may ask for more). (On accelerators this only affects
    host-side work.)"""
    if device.type == "cpu" and hidden_size < SMALL_MODEL_HIDDEN:
        return 1
    return min(torch.get_num_threads(), usable_cores())


def tunable(
    user: Any, cell: Resolved, device: torch.device, fastest: tuple[str, ...] = ()
) -> dict[str, tuple[Any, ...]]:
    """What a run leaves to measurement, CPU runs only, and only where the user asked for
    the fastest: `threads="fastest"` (one thread or every usable core) and each cell
    option set to "fastest" (`fastest`). Each changes what a run computes in the last
    digits (torch splits a large reduction by the thread count; the kernels round
    otherwise than torch's module), so a choice made by timing, which depends on the
    machine, its load and its cache, is made only when asked."""
    if device.type != "cpu":
        return {}
    axes: dict[str, tuple[Any, ...]] = {}
    if user.threads == FASTEST:
        axes["threads"] = tuple(sorted({1, usable_cores()}))
    for name in fastest:
        axes[name] = tuple(cell.entry.options[name].tune)
    return axes

"""From a configuration to the parts of a run: task, model, trainer, device."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from seqkit import _distributed as distributed
from seqkit import _tbptt as tbptt
from seqkit import _tensorboard as tensorboard_log
from seqkit._config import FALLBACK, RunConfig
from seqkit._devices import resolve_device
from seqkit._diagnostics.gradflow import find_cell
from seqkit._errors import ConfigError, UnknownNameError
from seqkit._interfaces import IOSpec, Task, check_cell
from seqkit._optim import OPTIMIZERS
from seqkit._options import resolve_options
from seqkit._registry import Registry, get_registry


@dataclass
class Plan:
    """A validated run: the resolved configuration (every default filled) and its parts."""

    config: RunConfig
    task: Task
    device: torch.device
    registry: Registry

    def build_model(self) -> nn.Module:
        c = self.config
        return build_model(
            c.cell,
            c.topology or "",
            io=self.task.io,
            hidden_size=c.hidden_size or 0,
            cell_options=c.cell_options,
            topology_options=c.topology_options,
            registry=self.registry,
        )

    def build_trainer(self) -> Any:
        entry = self.registry.get("trainer", self.config.trainer or "")
        return entry.factory(**self.config.trainer_options)


def plan(config: RunConfig, registry: Registry | None = None) -> Plan:
    """Resolve names, options and defaults, and check them all before anything runs."""
    registry = registry or get_registry()
    config.validate()
    task_entry = registry.get("task", config.task)
    task_opts = resolve_options(f"task '{config.task}'", task_entry.options, config.task_options)
    task: Task = task_entry.factory(**task_opts)
    cell_entry = registry.get("cell", config.cell)
    cell_opts = resolve_options(f"cell '{config.cell}'", cell_entry.options, config.cell_options)
    topology = config.topology or task.default_topology
    topo_entry = registry.get("topology", topology)
    topo_opts = resolve_options(
        f"topology '{topology}'", topo_entry.options, config.topology_options
    )
    trainer = config.trainer or registry.default("trainer")
    trainer_entry = registry.get("trainer", trainer)
    trainer_opts = resolve_options(
        f"trainer '{trainer}'", trainer_entry.options, config.trainer_options
    )
    device = resolve_device(config.device)

    def pick(key: str) -> Any:
        value = getattr(config, key)
        return value if value is not None else task.defaults.get(key, FALLBACK[key])

    resolved = dataclasses.replace(
        config,
        topology=topology,
        trainer=trainer,
        device=str(device),
        hidden_size=pick("hidden_size"),
        epochs=pick("epochs"),
        lr=pick("lr"),
        batch_size=pick("batch_size"),
        optimizer=pick("optimizer"),
        cell_options=cell_opts,
        task_options=task_opts,
        topology_options=topo_opts,
        trainer_options=trainer_opts,
    )
    resolved.threads = config.threads or default_threads(device, resolved.hidden_size or 0)
    resolved.validate()
    if resolved.optimizer not in OPTIMIZERS:
        raise UnknownNameError("optimizer", str(resolved.optimizer), OPTIMIZERS)
    # Under torchrun a bare `cuda` is each worker's own GPU; the saved setting stays `cuda`.
    if distributed.world_size() > 1 and device.type == "cuda" and device.index is not None:
        raise ConfigError(
            f"--device {device}: under torchrun every process would use that one GPU; "
            "use --device cuda (each process takes cuda:LOCAL_RANK)"
        )
    result = Plan(resolved, task, distributed.local_device(device), registry)
    trainer_obj = result.build_trainer()
    if callable(getattr(trainer_obj, "check", None)):
        trainer_obj.check(resolved)
    if distributed.world_size() > 1 and not getattr(trainer_obj, "distributed", False):
        raise ConfigError(
            f"this is one of {distributed.world_size()} processes (torchrun), but trainer "
            f"'{trainer}' trains alone; use --trainer ddp"
        )
    # Fail here, before any I/O, when the parts cannot work together: a topology that
    # cannot serve the task fails when built, one that needs a step a cell refuses
    # (a bidirectional cell fed its own predictions) on a forward pass of the probes.
    try:
        model = result.build_model()
        with torch.no_grad():
            model.eval()(task.probes()[:1])
    except (MemoryError, RuntimeError) as exc:
        if not _out_of_memory(exc):
            raise
        raise ConfigError(
            f"the model does not fit in memory (--hidden-size {resolved.hidden_size:,}: "
            "torch could not allocate its weights); use a smaller --hidden-size"
        ) from None
    if resolved.probe_every:
        find_cell(model)
    if resolved.tbptt:
        tbptt.check(model, topology)
    if resolved.tensorboard:
        tensorboard_log.require()
    if resolved.precision != "fp32":
        check_precision(model, task, result.device, resolved)
    return result


def _out_of_memory(exc: BaseException) -> bool:
    """MemoryError, CUDA's OutOfMemoryError, or the CPU allocator's RuntimeError."""
    return isinstance(exc, MemoryError | torch.OutOfMemoryError) or (
        "can't allocate memory" in str(exc)
    )


def check_precision(model: nn.Module, task: Task, device: torch.device, config: RunConfig) -> None:
    """A forward and backward pass of one probe under the run's autocast, so that a kernel
    without a low-precision path here fails now with a ConfigError, not mid-run."""
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}[config.precision]
    model = model.to(device).train()
    try:
        with torch.autocast(device.type, dtype=dtype):
            out = model(task.probes()[:1].to(device))
        out.float().sum().backward()
    except RuntimeError as exc:
        reason = str(exc).splitlines()[0].split(". ")[0]
        raise ConfigError(
            f"--precision {config.precision} does not work for cell '{config.cell}' on "
            f"{device.type} here (torch: {reason}); use --precision fp32"
            + (" or --cell-opt impl=scratch" if device.type == "cpu" else "")
        ) from None


SMALL_MODEL_HIDDEN = 256


def default_threads(device: torch.device, hidden_size: int) -> int:
    """One CPU thread for small models: their matmuls are too small for a second thread
    to pay, and with a busy neighbour two threads made steps many times slower. Larger
    models keep torch's default. (On accelerators this only affects host-side work.)"""
    if device.type == "cpu" and hidden_size < SMALL_MODEL_HIDDEN:
        return 1
    return torch.get_num_threads()


def build_model(
    cell: str,
    topology: str,
    input_size: int | None = None,
    hidden_size: int = 64,
    output_size: int | None = None,
    *,
    input_len: int | None = None,
    output_len: int | None = None,
    io: IOSpec | None = None,
    cell_options: dict[str, Any] | None = None,
    topology_options: dict[str, Any] | None = None,
    registry: Registry | None = None,
) -> nn.Module:
    """A model mapping `(B, T_in, input_size)` to `(B, T_out, output_size)`.

    Lengths left `None` are not checked; topologies that unroll (one-to-many, seq2seq)
    need `output_len`.
    """
    registry = registry or get_registry()
    if io is None:
        if input_size is None or output_size is None:
            raise ConfigError("build_model needs input_size and output_size (or io=IOSpec)")
        io = IOSpec(input_size, output_size, input_len, output_len)
    cell_entry = registry.get("cell", cell)
    cell_opts = resolve_options(f"cell '{cell}'", cell_entry.options, cell_options or {})
    topo_entry = registry.get("topology", topology)
    topo_opts = resolve_options(
        f"topology '{topology}'", topo_entry.options, topology_options or {}
    )
    if not isinstance(hidden_size, int) or hidden_size < 1:
        raise ConfigError(f"hidden_size must be a positive integer (got {hidden_size!r})")

    def make_cell(in_size: int) -> nn.Module:
        module = cell_entry.factory(in_size, hidden_size, **cell_opts)
        check_cell(module, cell)
        return module

    return topo_entry.factory(make_cell, io, **topo_opts)

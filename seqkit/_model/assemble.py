"""From resolved parts to a module: the topology around its cells, each cell checked
against the Cell contract as it is built (`seqkit.build_model`)."""

from __future__ import annotations

from typing import Any

from torch import nn

from seqkit._core.errors import ConfigError
from seqkit._core.options import FASTEST
from seqkit._model.padding import PaddedInputs
from seqkit._model.tokens import OneHotInputs
from seqkit._plugins.interfaces import check_cell
from seqkit._plugins.registry import Registry, Resolved, get_registry
from seqkit._plugins.task import IOSpec


def assemble(cell: Resolved, topology: Resolved, io: IOSpec, hidden_size: int) -> nn.Module:
    """The topology's module around cells of `hidden_size`, each checked against the Cell
    contract as it is built; for token inputs, behind a one-hot encoder."""
    if not isinstance(hidden_size, int) or isinstance(hidden_size, bool) or hidden_size < 1:
        raise ConfigError(f"hidden_size must be a positive integer (got {hidden_size!r})")

    def make_cell(input_size: int) -> nn.Module:
        module = cell.build(input_size, hidden_size)
        check_cell(module, cell.name)
        return module

    model: nn.Module = topology.build(make_cell, io)
    if io.padded_inputs:
        model = PaddedInputs(model, cell.name, topology.name)
    return OneHotInputs(model, io.input_size) if io.input_tokens else model


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
    return assemble(
        without_fastest(registry.resolve("cell", cell, cell_options or {}))[0],
        registry.resolve("topology", topology, topology_options or {}),
        io,
        hidden_size,
    )


def without_fastest(cell: Resolved) -> tuple[Resolved, tuple[str, ...]]:
    """The cell with every option set to "fastest" back at its default (the plugin's fixed
    rule, which runs unless timing picks another value), and the names of those options."""
    options = cell.entry.options
    asked = tuple(
        name for name, value in cell.options.items() if value == FASTEST and options[name].tune
    )
    settled = {**cell.options, **{name: options[name].default for name in asked}}
    return Resolved(cell.entry, settled), asked

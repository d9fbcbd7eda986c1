"""The Topology contract's checks: every registered cell through the topology, on the
shapes it serves, and chunked (TBPTT) runs against one pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._contracts.cells import close_enough, shape_text
from seqkit._contracts.findings import Broken, Skipped
from seqkit._core.errors import SeqkitError
from seqkit._model.assemble import assemble
from seqkit._plugins.interfaces import ChunkedTopology
from seqkit._plugins.registry import Entry, Resolved
from seqkit._plugins.task import IOSpec

# -- topology checks: every registered cell through it ---------------------------------------
IO_CASES = [
    IOSpec(2, 3, 1, 1),
    IOSpec(2, 3, 1, 4),
    IOSpec(2, 3, 5, 1),
    IOSpec(2, 3, 5, 5),
    IOSpec(2, 3, 5, 4),
]
"""Shapes a topology is tried on: it serves those it does not refuse with ConfigError."""


@dataclass
class TopologySubject:
    entry: Entry
    options: dict[str, Any]
    cells: list[Entry]


def topology_maps_the_shapes_it_serves(s: TopologySubject) -> None:
    served = 0
    for io in IO_CASES:
        for cell in s.cells:
            model = _topology_model(s, cell, io)
            if model is None:
                continue
            served += 1
            x = torch.randn(2, io.input_len or 1, io.input_size)
            out = model.eval()(x)
            want = (2, io.output_len, io.output_size)
            if not isinstance(out, Tensor) or tuple(out.shape) != want:
                got = shape_text(out) if isinstance(out, Tensor) else type(out).__name__
                raise Broken(
                    f"with cell '{cell.name}' it maps {shape_text(x)} to {got}, expected "
                    f"(B, T_out, K) = ({', '.join(map(str, want))}) for {io}"
                )
    if not served:
        raise Broken("it served none of the shapes tried (each refused with ConfigError)")


def _topology_model(s: TopologySubject, cell: Entry, io: IOSpec) -> nn.Module | None:
    cell_part = Resolved(cell, {k: o.default for k, o in cell.options.items()})
    try:
        return assemble(cell_part, Resolved(s.entry, s.options), io, 4)
    except SeqkitError:  # cannot serve this io, or this cell (a bidirectional one unrolled)
        return None


def topology_chunks_equal_one_pass(s: TopologySubject) -> None:
    served = False
    for io in IO_CASES:
        for cell in s.cells:
            model = _topology_model(s, cell, io)
            if not isinstance(model, ChunkedTopology) or model.chunk_targets is None:
                continue
            if io.input_len == 1:  # one step cannot be split into chunks
                continue
            served = True
            m: Any = model.eval()
            x = torch.randn(2, 5, io.input_size)
            with torch.no_grad():
                full = m(x)
                a, state = m.forward_chunk(x[:, :2], None)
                b, _ = m.forward_chunk(x[:, 2:], state)
            pieces = torch.cat([a, b], dim=1) if m.chunk_targets == "aligned" else b
            close_enough(
                pieces, full, f"with cell '{cell.name}', forward_chunk over two chunks vs forward"
            )
    if not served:
        raise Skipped("it does not offer ChunkedTopology (truncated BPTT)")


TOPOLOGY_CHECKS: dict[str, Callable[[Any], None]] = {
    "maps_the_shapes_it_serves": topology_maps_the_shapes_it_serves,
    "chunks_equal_one_pass": topology_chunks_equal_one_pass,
}

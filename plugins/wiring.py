"""The built-in topologies' implementation: how a cell is wired between `(B, T_in, D)`
and `(B, T_out, K)`. `seqkit_plugins.topologies` registers them (lazily: this module and
torch are imported when a model is first built)."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn

from seqkit import Cell, ConfigError, IOSpec, MakeCell


def _require(ok: bool, topology: str, why: str) -> None:
    if not ok:
        raise ConfigError(f"topology '{topology}' cannot serve this task: {why}")


def final_summary(cell: Cell, out: Tensor, lengths: Tensor | None = None) -> Tensor:
    """The state after reading the whole sequence, `(B, H_out)`: at its last step, or at
    each sequence's last real step (`lengths (B,)`).

    For a bidirectional cell the backward direction has read everything at t = 0, so its
    half is taken there and the forward half at the last step.
    """
    if lengths is None:
        last = out[:, -1]
    else:
        index = (lengths.to(out.device) - 1).view(-1, 1, 1).expand(-1, 1, out.shape[2])
        last = out.gather(1, index).squeeze(1)
    if cell.num_directions == 1:
        return last
    h = cell.hidden_size
    return torch.cat([last[:, :h], out[:, 0, h:]], dim=-1)


class ManyToOne(nn.Module):
    """Read the sequence, predict once: `(B, T, D)` -> `(B, 1, K)`.

    `readout="last"` reads the state after the last step (a bidirectional cell's backward
    half at t = 0); `readout="all"` reads every step's outputs at once, a linear layer on
    `(B, T * H_out)` (MNIST-1D's GRU, Greydanus 2020), for inputs of one fixed length."""

    def __init__(
        self, make_cell: MakeCell, io: IOSpec, name: str = "many-to-one", readout: str = "last"
    ) -> None:
        super().__init__()
        _require(
            io.output_len in (None, 1),
            name,
            f"it emits one output step, the task wants {io.output_len}",
        )
        if name == "one-to-one":
            _require(
                io.input_len in (None, 1),
                name,
                f"it reads one step, the task's inputs have {io.input_len}",
            )
        if readout == "all":
            _require(
                io.input_len is not None and not io.padded_inputs,
                name,
                "readout=all reads every step, so the task's sequences must have one fixed length",
            )
            self.chunk_targets = None  # type: ignore[assignment]  # no truncated BPTT
        self.readout, self.steps = readout, io.input_len or 1
        self.cell = make_cell(io.input_size)
        width = self.cell.output_size * (self.steps if readout == "all" else 1)
        self.head = nn.Linear(width, io.output_size)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        out, _ = self.cell(x) if lengths is None else self.cell(x, lengths=lengths)
        if self.readout == "all":
            return self.head(out.reshape(out.shape[0], -1)).unsqueeze(1)
        return self.head(final_summary(self.cell, out, lengths)).unsqueeze(1)

    chunk_targets = "last"

    def forward_chunk(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """For truncated BPTT: read `(B, K, D)` from `state`; the prediction after it."""
        out, state = self.cell(x, state)
        return self.head(out[:, -1]).unsqueeze(1), state


class ManyToMany(nn.Module):
    """One output per input step (aligned): `(B, T, D)` -> `(B, T, K)`."""

    def __init__(self, make_cell: MakeCell, io: IOSpec) -> None:
        super().__init__()
        _require(
            None in (io.input_len, io.output_len) or io.output_len == io.input_len,
            "many-to-many",
            f"outputs align with inputs, but the task maps {io.input_len} steps to "
            f"{io.output_len} (use seq2seq)",
        )
        self.cell = make_cell(io.input_size)
        self.head = nn.Linear(self.cell.output_size, io.output_size)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Outputs at padded steps (past a sequence's `lengths`) are not meaningful: the
        task does not score them."""
        out, _ = self.cell(x) if lengths is None else self.cell(x, lengths=lengths)
        return self.head(out)

    chunk_targets = "aligned"

    def forward_chunk(self, x: Tensor, state: Any = None) -> tuple[Tensor, Any]:
        """For truncated BPTT: `(B, K, D)` from `state` -> `(B, K, K_out)`, new state."""
        out, state = self.cell(x, state)
        return self.head(out), state


class OneToMany(nn.Module):
    """One input, `T_out` outputs, the recurrence really unrolled for `T_out` steps.

    Step 1 reads the input; later steps read zeros (`feed=zeros`, one fused call) or the
    previous prediction (`feed=prediction`, needs K = D). `(B, 1, D)` -> `(B, T_out, K)`.
    """

    def __init__(self, make_cell: MakeCell, io: IOSpec, feed: str = "zeros") -> None:
        super().__init__()
        _require(
            io.input_len in (None, 1),
            "one-to-many",
            f"it reads one step, the task's inputs have {io.input_len}",
        )
        _require(io.output_len is not None, "one-to-many", "it needs output_len (T_out)")
        if feed == "prediction":
            _require(
                io.output_size == io.input_size,
                "one-to-many",
                "feed=prediction feeds outputs back as inputs, so K must equal D "
                f"(K={io.output_size}, D={io.input_size}); use feed=zeros",
            )
        self.feed, self.steps = feed, int(io.output_len or 1)
        self.cell = make_cell(io.input_size)
        self.head = nn.Linear(self.cell.output_size, io.output_size)

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """`lengths` is accepted and has nothing to say: the input is one step."""
        if self.feed == "zeros":
            pad = x.new_zeros(x.shape[0], self.steps - 1, x.shape[2])
            out, _ = self.cell(torch.cat([x, pad], dim=1))
            return self.head(out)
        y, state, ys = x[:, 0], None, []
        for _ in range(self.steps):
            h, state = self.cell.step(y, state)
            y = self.head(h)
            ys.append(y)
        return torch.stack(ys, dim=1)


class Seq2Seq(nn.Module):
    """Encoder-decoder: read `(B, T_in, D)`, hand the state over, emit `(B, T_out, K)`.

    The decoder starts from a zero input and reads its previous prediction at each
    later step (`feed=prediction`) or zeros (`feed=zeros`); T_out need not equal T_in.
    """

    def __init__(self, make_cell: MakeCell, io: IOSpec, feed: str = "prediction") -> None:
        super().__init__()
        _require(io.output_len is not None, "seq2seq", "it needs output_len (T_out)")
        self.encoder = make_cell(io.input_size)
        self.decoder = make_cell(io.output_size)
        _require(
            self.decoder.num_directions == 1,
            "seq2seq",
            "its decoder runs step by step, so the cell must be unidirectional",
        )
        self.head = nn.Linear(self.decoder.output_size, io.output_size)
        self.feed, self.steps, self.k = feed, int(io.output_len or 1), io.output_size

    def forward(self, x: Tensor, lengths: Tensor | None = None) -> Tensor:
        """The decoder starts from the encoder's state at each sequence's last real step."""
        _, state = self.encoder(x) if lengths is None else self.encoder(x, lengths=lengths)
        y = x.new_zeros(x.shape[0], self.k)
        ys = []
        for _ in range(self.steps):
            h, state = self.decoder.step(y, state)
            out = self.head(h)
            ys.append(out)
            y = out if self.feed == "prediction" else torch.zeros_like(out)
        return torch.stack(ys, dim=1)


def one_to_one(make_cell: MakeCell, io: IOSpec) -> nn.Module:
    """One step in, one out: `(B, 1, D)` -> `(B, 1, K)`."""
    return ManyToOne(make_cell, io, name="one-to-one")

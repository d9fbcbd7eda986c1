"""Built-in cells: `rnn`, `lstm`, `gru`, registered with their options.

The implementations live in `seqkit_plugins.recurrent` and are imported (with torch)
when a cell is first built, so listing and help stay instant. Each has two ways to run,
chosen by the cell option `impl`: `fused` runs torch's `nn.RNN/LSTM/GRU`; `scratch` runs
the equations written out in `seqkit_plugins.scratch`; for the RNN and GRU, `kernels`
runs the CPU time loops of `seqkit_plugins.sequence_kernels` on torch's module's weights.
`auto` (the default) follows the fixed rule in `seqkit_plugins.recurrent`; `fastest` lets
seqkit time `fused` against `kernels` on a run long enough to pay for it (`tune=`).
"""

from __future__ import annotations

from typing import Any

from seqkit import Option, hookimpl, lazy

SEQKIT_API = 1
"""The seqkit plugin API this plugin is written for."""

COMMON = {
    "num_layers": Option(1, "stacked recurrent layers", min=1, max=64, flag=True),
    "dropout": Option(
        0.0, "dropout between stacked layers (needs num_layers > 1)", min=0.0, max=0.99, flag=True
    ),
    "bidirectional": Option(
        False, "also run the sequence backwards; outputs [fwd | bwd]", flag=True
    ),
    "init": Option(
        "default",
        "recurrent matrix: default (torch's uniform), orthogonal, "
        "identity (with relu: IRNN, Le et al. 2015)",
        choices=("default", "orthogonal", "identity"),
    ),
    "init_gain": Option(
        1.0, "scale of an orthogonal or identity W_hh (1.5 explodes)", min=0.0, max=100.0
    ),
}

LOOPED_IMPL = Option(
    "auto",
    "fused: torch's module; kernels: seqkit's CPU time loops; scratch: equations written "
    "out; auto: kernels for small sizes on the CPU, else fused (a fixed rule); fastest: "
    "the faster of fused and kernels, timed on a long run (they round differently)",
    choices=("auto", "fused", "kernels", "scratch"),
    tune=("fused", "kernels"),
)
"""The RNN and GRU: torch's module or seqkit's kernels, by a fixed rule (`auto`) or, when
asked (`fastest`), whichever a long run measures faster."""
LSTM_IMPL = Option(
    "auto",
    "fused: torch's module; scratch: equations written out; auto: fused",
    choices=("auto", "fused", "scratch"),
)
"""The LSTM: torch's CPU LSTM is one fused oneDNN kernel, which seqkit's do not beat."""


HINTS = {"precision": "on the CPU, --cell-opt impl=scratch runs the equations in plain ops"}
"""Advice seqkit adds when a run-time check fails for these cells."""


@hookimpl
def register_cells(register: Any) -> None:
    nonlinearity = Option("tanh", "activation", choices=("tanh", "relu"))
    register(
        "rnn",
        lazy("seqkit_plugins.recurrent:rnn"),
        description="Elman RNN, tanh (or relu)",
        options={**COMMON, "impl": LOOPED_IMPL, "nonlinearity": nonlinearity},
        hints=HINTS,
    )
    forget = Option(
        1.0,
        "initial forget-gate bias (Gers 2000; Jozefowicz 2015); 0: torch's",
        min=-100.0,
        max=100.0,
    )
    register(
        "lstm",
        lazy("seqkit_plugins.recurrent:lstm"),
        description="Long short-term memory",
        options={**COMMON, "impl": LSTM_IMPL, "forget_bias": forget},
        hints=HINTS,
    )
    register(
        "gru",
        lazy("seqkit_plugins.recurrent:gru"),
        description="Gated recurrent unit",
        options={**COMMON, "impl": LOOPED_IMPL},
        hints=HINTS,
    )

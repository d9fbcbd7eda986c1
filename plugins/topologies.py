"""Built-in topologies: how a cell is wired between `(B, T_in, D)` and `(B, T_out, K)`.

Registered here with their options; the modules themselves are in
`seqkit_plugins.wiring`, imported with torch when a model is first built.
"""

from __future__ import annotations

from typing import Any

from seqkit import Option, hookimpl, lazy

SEQKIT_API = 1
"""The seqkit plugin API this plugin is written for."""

FEED = ("zeros", "prediction")


@hookimpl
def register_topologies(register: Any) -> None:
    register(
        "one-to-one", lazy("seqkit_plugins.wiring:one_to_one"), description="(B, 1, D) -> (B, 1, K)"
    )
    register(
        "one-to-many",
        lazy("seqkit_plugins.wiring:OneToMany"),
        description="(B, 1, D) -> (B, T_out, K), unrolled",
        options={"feed": Option("zeros", "input after step 1", choices=FEED)},
    )
    register(
        "many-to-one",
        lazy("seqkit_plugins.wiring:ManyToOne"),
        description="(B, T, D) -> (B, 1, K), from the last state",
        options={
            "readout": Option(
                "last",
                "last: the state after the last step; all: every step's outputs, one linear "
                "layer (fixed-length inputs)",
                choices=("last", "all"),
            )
        },
    )
    register(
        "many-to-many",
        lazy("seqkit_plugins.wiring:ManyToMany"),
        description="(B, T, D) -> (B, T, K), aligned",
    )
    register(
        "seq2seq",
        lazy("seqkit_plugins.wiring:Seq2Seq"),
        description="(B, T_in, D) -> (B, T_out, K), encoder-decoder",
        options={"feed": Option("prediction", "decoder input after step 1", choices=FEED)},
    )

"""seqkit-mingru: an example third-party seqkit plugin.

It registers, through seqkit's public API only:

- cell `mingru`: minGRU from Feng et al. 2024, "Were RNNs All We Needed?"
  (arXiv:2410.01201), optionally stacked (`num_layers`);
- task `maxval`: many-to-one regression, a sequence of integers -> its maximum.

seqkit finds this module through the entry point `mingru = "seqkit_mingru"` in the
`seqkit` group (see pyproject.toml) and calls the two hooks below. This module imports
no torch, so `seqkit list` stays instant: the cell and the task live in `cell.py` and
`task.py`, which `seqkit.lazy` imports when they are first built.
"""

from __future__ import annotations

from typing import Any

from seqkit import Option, hookimpl, lazy, sample_options

__version__ = "0.1.0"
SEQKIT_API = 1
"""The seqkit plugin API this plugin is written for (`seqkit plugins` shows it)."""

MINGRU_OPTIONS = {"num_layers": Option(1, "stacked minGRU layers", min=1, max=64)}
MAXVAL_OPTIONS: dict[str, Option] = {
    **sample_options(5000, 500),
    "seq_len": Option(8, "numbers per sequence", min=1, max=1_000_000),
    "low": Option(0, "smallest number", min=-1_000_000, max=1_000_000),
    "high": Option(20, "largest number", min=-1_000_000, max=1_000_000),
}


@hookimpl
def register_cells(register: Any) -> None:
    register(
        "mingru",
        lazy("seqkit_mingru.cell:mingru"),
        description="minGRU (Feng et al. 2024): gates from x_t only",
        options=MINGRU_OPTIONS,
    )


@hookimpl
def register_tasks(register: Any) -> None:
    register(
        "maxval",
        lazy("seqkit_mingru.task:MaxVal"),
        description="many-to-one: integers -> their maximum",
        options=MAXVAL_OPTIONS,
    )

"""Built-in executors for `seqkit compare` and `seqkit suite`: `process` (this machine's
cores, the default) and `ray` (a Ray cluster, or a local Ray; `pip install
'seqkit[ray]'`). The implementations, in `seqkit_plugins.executing`, are imported when an
executor is first built, and Ray only then."""

from __future__ import annotations

from typing import Any

from seqkit import Option, hookimpl, lazy

SEQKIT_API = 1
"""The seqkit plugin API this plugin is written for."""


@hookimpl
def register_executors(register: Any) -> None:
    register(
        "process",
        lazy("seqkit_plugins.executing:ProcessExecutor"),
        description="runs at once in worker processes on this machine (--jobs of them)",
        default=True,
    )
    register(
        "ray",
        lazy("seqkit_plugins.executing:RayExecutor"),
        description="runs as Ray tasks, one CPU each, on RAY_ADDRESS's cluster or a local Ray",
        options={
            "address": Option(
                "", "the cluster to join (default: RAY_ADDRESS, else start a local Ray)"
            ),
            "retries": Option(2, "times a run is retried when its worker dies", min=0, max=100),
        },
    )

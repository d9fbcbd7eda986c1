"""`seqkit explain`: every stage from the input batch to the loss, with its shapes.

It traces a real forward pass with module hooks, so what it prints is true for any
cell, topology and task, a third party's included. A cell that offers `Equations`
shows its per-step equations.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn

from seqkit._core.config import RunConfig
from seqkit._core.fmt import shape, stage_io
from seqkit._plugins.interfaces import Equations
from seqkit._plugins.registry import Registry
from seqkit._present.report import explanation_fragment
from seqkit._run.plan import plan


@dataclass
class Stage:
    """One module call: where it sits, what it is, what went in and came out."""

    path: str
    module: str
    depth: int
    inputs: Any = None
    outputs: Any = None
    leaf: bool = True
    children: list[str] = field(default_factory=list)


def shape_of(value: Any) -> Any:
    """Shapes of tensors, nested as the value is: `(h, c)` -> `[[1, 64, 50], [1, 64, 50]]`."""
    if isinstance(value, Tensor):
        return list(value.shape)
    if isinstance(value, tuple | list):
        return [shape_of(v) for v in value]
    return None


class Explanation(dict[str, Any]):
    """`explain`'s report: a plain dict (JSON as it is) that Jupyter shows as tables."""

    def _repr_html_(self) -> str:

        return explanation_fragment(self)


def explain(config: RunConfig, registry: Registry | None = None) -> dict[str, Any]:
    """Trace one forward pass of the run's model on one batch of the run's size: a dict
    (stages with their input and output shapes, parameters, equations) that displays as
    HTML in Jupyter."""
    the_plan = plan(config, registry)
    c, task, device = the_plan.config, the_plan.task, the_plan.device
    batch = int(c.batch_size or 1)
    g = torch.Generator(device=device).manual_seed(c.seed)
    x, y = task.generate(batch, g, device)
    model = the_plan.fresh_model(x, y).eval()

    stages: list[Stage] = []
    stack: list[Stage] = []
    handles = []
    for path, module in model.named_modules():

        def pre(mod: nn.Module, args: Any, path: str = path) -> None:
            stage = Stage(path or "model", type(mod).__name__, len(stack), shape_of(args))
            if stack:
                stack[-1].leaf = False
                stack[-1].children.append(stage.path)
            stages.append(stage)
            stack.append(stage)

        def post(mod: nn.Module, args: Any, out: Any) -> None:
            stack.pop().outputs = shape_of(out)

        handles += [module.register_forward_pre_hook(pre), module.register_forward_hook(post)]
    try:
        with torch.no_grad():
            out = model(x)
            loss = task.loss(out, y)
    finally:
        for h in handles:
            h.remove()

    equations = {
        path: module.equations(batch)
        for path, module in model.named_modules()
        if isinstance(module, Equations)
    }
    params: list[dict[str, Any]] = [
        {"name": n, "shape": list(p.shape), "count": p.numel()} for n, p in model.named_parameters()
    ]
    return Explanation(
        {
            "task": c.task,
            "cell": c.cell,
            "topology": c.topology,
            "batch_size": batch,
            "input": list(x.shape),
            "target": list(y.shape),
            "output": list(out.shape),
            "target_dtype": str(y.dtype).removeprefix("torch."),
            "loss": {
                "name": task.loss_name,
                "value": float(loss),
            },
            "stages": [s.__dict__ for s in stages],
            "parameters": params,
            "total_parameters": sum(p["count"] for p in params),
            "equations": equations,
        }
    )


def render(report: dict[str, Any]) -> str:
    """The report as text: the flow in one line, each module call, parameters, equations."""
    r = report
    leaves = [s for s in r["stages"] if s["leaf"]]
    flow = " -> ".join(
        [f"X {shape(r['input'])}"]
        + [f"{s['module']} {stage_io(s)}" for s in leaves]
        + [f"output {shape(r['output'])}", f"{r['loss']['name']} vs Y {shape(r['target'])}"]
    )
    lines = [
        f"{r['cell']} / {r['topology']} on {r['task']}, one batch of {r['batch_size']}",
        "",
        flow,
        "",
        "stages (each module call, in order):",
    ]
    for s in r["stages"]:
        lines.append(f"  {'  ' * s['depth']}{s['path']}: {s['module']}  {stage_io(s)}")
    lines.append(
        f"  loss: {r['loss']['name']}(output {shape(r['output'])}, "
        f"Y {shape(r['target'])} {r['target_dtype']}) -> () = {r['loss']['value']:.4g}"
    )
    lines += ["", "parameters:"]
    width = max((len(p["name"]) for p in r["parameters"]), default=4)
    for p in r["parameters"]:
        lines.append(f"  {p['name']:<{width}}  {shape(p['shape']):<12} {p['count']:>9,}")
    lines.append(f"  {'total':<{width}}  {'':<12} {r['total_parameters']:>9,}")
    for path, eqs in r["equations"].items():
        lines += ["", f"equations of {path} (one time step):"] + [f"  {e}" for e in eqs]
    return "\n".join(lines)

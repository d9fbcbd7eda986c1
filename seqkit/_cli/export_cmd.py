"""`seqkit export`: a trained run's model as an ONNX or TorchScript file, checked."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("export")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "format_",
    type=click.Choice(["onnx", "torchscript"]),
    required=True,
    help="onnx (needs pip install 'seqkit[export]') or torchscript.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="The file to write [default: RUN_DIR/model.onnx or RUN_DIR/model.torchscript.pt].",
)
def export_cmd(run_dir: Path, format_: str, out: Path | None) -> None:
    """Export RUN_DIR's model (standardisation in, outputs in the task's units) as one
    ONNX or TorchScript file that runs without seqkit, with a model card MODEL.md
    beside it.

    The file is first run on the run's probe inputs, a batch of another size and one of
    another length, and compared with torch: a difference beyond 1e-4 times the outputs'
    scale is an error, and nothing is written."""
    from seqkit._run.export import TOLERANCE, require_onnx
    from seqkit._run.load import load_run

    if format_ == "onnx":
        require_onnx()  # before loading the run: the missing extra is the one thing to say
    result = load_run(run_dir).export(format_, out)
    runner = "onnxruntime" if format_ == "onnx" else "torch.jit.load"
    click.echo(f"wrote {result.path}: x {result.input_shape} -> y {result.output_shape}")
    if result.fixed_length:
        click.echo(f"  length {result.fixed_length}")
    checked = ", ".join(f"{c.batch} {tuple(c.shape)}" for c in result.checks)
    click.echo(
        f"  checked with {runner} against torch on {checked}: max |difference| "
        f"{result.max_difference:.3g} (allowed: {TOLERANCE:g} x max(1, |torch's outputs|))"
    )
    click.echo(f"model card: {result.card}")

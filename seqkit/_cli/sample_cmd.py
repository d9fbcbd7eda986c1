"""`seqkit sample`: text drawn from a trained text run's model."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("sample")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--prime", default="", help="Text the model reads first [default: none].")
@click.option("--length", type=int, default=200, show_default=True, help="Tokens to draw.")
@click.option(
    "--temperature",
    type=float,
    default=1.0,
    show_default=True,
    help="Below 1: safer, above 1: wilder; 0 takes the likeliest token.",
)
@click.option("--top-k", type=int, help="Draw among the K likeliest tokens only.")
@click.option("--seed", type=int, default=0, show_default=True)
def sample_cmd(
    run_dir: Path, prime: str, length: int, temperature: float, top_k: int | None, seed: int
) -> None:
    """Draw text from RUN_DIR's model (a run on the text task), after --prime."""
    from seqkit._run.load import load_run

    text = load_run(run_dir).sample(prime, length, temperature, top_k, seed)
    click.echo(prime + text)

"""`seqkit predict`: a trained run's predictions for new inputs."""

from __future__ import annotations

import json
from pathlib import Path

import click

from seqkit._core.errors import ConfigError

MAX_INPUT_BYTES = 64 * 1024 * 1024
"""The largest --input-file predict reads (its rows become one tensor in memory)."""


@click.command("predict")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--input", "text", help='One sequence ("2,4,6,8,10,11") or JSON.')
@click.option(
    "--input-file",
    type=click.Path(path_type=Path),
    help="Many rows: CSV (one sequence per line) or JSON; for a series run, a CSV with "
    "the columns it trained on (the last input_len rows are read).",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per input.")
def predict_cmd(run_dir: Path, text: str | None, input_file: Path | None, as_json: bool) -> None:
    """Load RUN_DIR's model and print its predictions in the task's own format."""
    from seqkit._run.load import load_run, read_inputs

    if (text is None) == (input_file is None):
        raise ConfigError("give exactly one of --input and --input-file")
    run = load_run(run_dir)
    if input_file is not None:
        inputs = run.inputs_from_file(input_file, MAX_INPUT_BYTES)
    else:
        inputs = read_inputs(str(text), "--input")
        if isinstance(inputs, list) and len(inputs) == 1:
            inputs = inputs[0]  # one row on the command line is one sequence
    rows = run.predict(inputs)
    for row in rows:
        click.echo(
            json.dumps({k: v for k, v in row.items() if k != "text"}) if as_json else row["text"]
        )

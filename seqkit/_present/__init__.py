"""Layer 2: renders plain data (the HTML report, plots, text tables).

Imports `seqkit._core` only; matplotlib through its object API, loaded when drawn."""

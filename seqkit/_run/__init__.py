"""Layer 7: one run end to end: plan, resources, autotuning, the runner, the run directory
and loading a finished run."""

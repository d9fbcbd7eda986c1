"""Layer 1, the ground: errors, settings, options, files, formatting, statistics.

The standard library only; nothing here imports torch or any other seqkit layer."""

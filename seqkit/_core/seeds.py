"""Every random stream of a run, as an offset added to the run's seed: one table, so that
no two streams meet and the largest offset bounds the seeds a user may give.

The training data draws from the seed itself. Each offset is prime and the gaps between
them exceed any number of seeds a comparison runs, so the streams of seed s never meet
those of another seed s' in the same comparison."""

from __future__ import annotations

SHUFFLE_SEED_OFFSET = 1
"""The trainer's shuffling of the training set."""
TEST_SEED_OFFSET = 500_009
"""The held-out test set, scored once at the end."""
EVAL_SEED_OFFSET = 700_001
"""Length generalisation: the i-th other setting's test data draws from + i."""
VAL_SEED_OFFSET = 1_000_003
"""The validation set."""
MAX_SEED_OFFSET = VAL_SEED_OFFSET
"""The largest offset seqkit adds (`RunConfig.seed` is at most 2**63 - 1 minus this)."""

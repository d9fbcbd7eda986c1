"""Layer 8: many runs and analyses built on one run: grids, comparisons, suites,
length generalisation, `explain` and `gradients`."""

"""Layer 4: from resolved parts to a module: assembly, state helpers, standardisation,
truncated backpropagation through time, optimisers and schedules."""

"""Layer 5: one fit: the training loop, evaluation, checkpoints, callbacks, devices,
distributed training, process knobs and the gradient probe."""

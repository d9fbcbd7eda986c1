"""The built-in suite: `long-range`, the classic memory tasks at the lengths and budgets
the literature uses, for any list of cells (`seqkit suite long-range --cells ...`)."""

from __future__ import annotations

from typing import Any

from seqkit import Suite, SuiteEntry, hookimpl

SEQKIT_API = 1
"""The seqkit plugin API this plugin is written for."""

# Steps = epochs x 100 (5,000 fresh sequences per epoch in batches of 50). Each budget is
# at least the steps the cited source needed for the cells that learn the task at all.
ADAM = {"optimizer": "adam", "grad_clip": 1.0, "batch_size": 50}
LONG_RANGE = Suite(
    entries=[
        SuiteEntry(
            "adding T=100",
            "adding",
            {"seq_len": 100},
            {**ADAM, "hidden_size": 128, "lr": 2e-3, "epochs": 50},
            "Li et al. 2018 (IndRNN), 128 units, Adam 2e-3: LSTM leaves the 1/6 baseline "
            "in ~2k steps at T=100; 5,000 steps here",
        ),
        SuiteEntry(
            "adding T=200",
            "adding",
            {"seq_len": 200},
            {**ADAM, "hidden_size": 128, "lr": 2e-3, "epochs": 80},
            "Arjovsky et al. 2016 and Li et al. 2018 (T=100 ~2k steps, T=400 ~8k, "
            "T=500 ~5.5k): 8,000 steps here",
        ),
        SuiteEntry(
            "copy T=100",
            "copy",
            {"seq_len": 100},
            {**ADAM, "hidden_size": 128, "lr": 1e-3, "epochs": 50},
            "Arjovsky et al. 2016, copy memory T=100 (LSTM ~0.145, not solved; baseline "
            "10 ln 8 / (T + 20)); 5,000 steps here",
        ),
        SuiteEntry(
            "recall L=30",
            "recall",
            {"seq_len": 30},
            {**ADAM, "hidden_size": 64, "lr": 3e-3, "epochs": 20},
            "seqkit's plain-PyTorch reference (shared/reference/recall_reference.py): "
            "H=64, Adam 3e-3, 2,000 steps; GRU and RNN solve it in 200-400",
        ),
        SuiteEntry(
            "recall L=100",
            "recall",
            {"seq_len": 100},
            {**ADAM, "hidden_size": 64, "lr": 3e-3, "epochs": 40},
            "the recall horizon beyond L=30: twice the L=30 budget, 4,000 steps",
        ),
        SuiteEntry(
            "parity T=20",
            "parity",
            {"seq_len": 20},
            {**ADAM, "hidden_size": 64, "lr": 3e-3, "epochs": 30},
            "xLSTM's parity (train on lengths 3-40); 3,000 steps at T=20; also scored at "
            "2x and 5x the training length",
            evaluate_on={"seq_len": [40, 100]},
        ),
        SuiteEntry(
            "order T=100",
            "order",
            {"seq_len": 100},
            {**ADAM, "hidden_size": 64, "lr": 3e-3, "epochs": 50},
            "Hochreiter & Schmidhuber 1997 task 6a, Pascanu et al. 2013: 5,000 steps",
        ),
    ],
    about="The classic long-range memory tasks at the lengths and step budgets of the "
    "papers they come from (each entry names its source). Fresh training data every "
    "epoch, Adam with global-norm clipping at 1, batches of 50; a task's own solved rule.",
)


def long_range() -> Suite:
    return LONG_RANGE


@hookimpl
def register_suites(register: Any) -> None:
    register(
        "long-range",
        long_range,
        description="adding T=100/200, copy T=100, recall L=30/100, parity, order",
    )

"""The plugin's own tests: seqkit's contract checks, one pytest case per check.

Run them where seqkit and this plugin are installed: `python -m pytest tests`.
"""

import pytest

import seqkit


@pytest.mark.parametrize("check", seqkit.testing.cell_checks("mingru", num_layers=2), ids=str)
def test_mingru_keeps_the_cell_contract(check):
    check()


@pytest.mark.parametrize("check", seqkit.testing.task_checks("maxval"), ids=str)
def test_maxval_keeps_the_task_contract(check):
    check()


@pytest.mark.parametrize("check", seqkit.testing.topology_checks("many-to-one"), ids=str)
def test_the_topologies_take_mingru(check):
    check()  # every registered cell, mingru included, through the topology

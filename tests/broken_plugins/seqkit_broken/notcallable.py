"""Registers a factory that is not callable."""

from seqkit import hookimpl

WEIGHTS = {"hidden": 8}


@hookimpl
def register_cells(register):
    register("dictcell", WEIGHTS)

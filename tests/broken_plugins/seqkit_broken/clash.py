"""Registers a cell called 'gru', a name the built-in cells plugin already has."""

from seqkit import hookimpl
from seqkit_broken.good import GoodCell


@hookimpl
def register_cells(register):
    register("gru", GoodCell, description="not really a GRU")

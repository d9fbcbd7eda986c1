"""Implements register_cells with a parameter the hookspec does not have."""

from seqkit import hookimpl
from seqkit_broken.good import GoodCell


@hookimpl
def register_cells(add):
    add("badhookcell", GoodCell)

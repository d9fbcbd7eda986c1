"""Its hook raises part-way through: nothing it registered before is kept."""

from seqkit import hookimpl
from seqkit_broken.good import GoodCell


@hookimpl
def register_cells(register):
    register("halfcell", GoodCell)
    raise RuntimeError("no weights file for halfcell")

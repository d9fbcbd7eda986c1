"""Registers a cell class that is not a torch.nn.Module."""

from seqkit import hookimpl


class PlainCell:
    """A recurrence written without torch.nn: it cannot be trained or saved."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        self.input_size = self.output_size = input_size
        self.hidden_size = hidden_size


@hookimpl
def register_cells(register):
    register("plaincell", PlainCell)

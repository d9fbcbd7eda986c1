"""Loads and registers cleanly, but its cell has no `step`: the Cell contract is broken,
which seqkit can only find when it builds the cell."""

from torch import Tensor, nn

from seqkit import hookimpl


class NoStep(nn.Module):
    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.output_size, self.num_directions = hidden_size, 1
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)

    def forward(self, x: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.rnn(x, state)


@hookimpl
def register_cells(register):
    register("nostep", NoStep, description="a cell without step()")

"""The registry: discovery through entry points, tagging, clashes, broken plugins."""

from __future__ import annotations

import types

import pytest
import torch
from torch import nn

import seqkit
from seqkit import hookimpl
from seqkit._core.errors import NameClashError, PluginError, UnknownNameError
from seqkit._plugins.registry import ENV_DISABLE, PluginWarning, load_registry


class EchoCell(nn.Module):
    """A minimal third-party-style cell: a linear recurrence h_t = tanh(A x_t + B h_{t-1})."""

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        self.output_size, self.num_directions = hidden_size, 1
        self.a = nn.Linear(input_size, hidden_size)
        self.b = nn.Linear(hidden_size, hidden_size, bias=False)

    def step(self, x_t, state=None):
        h = state if state is not None else x_t.new_zeros(x_t.shape[0], self.hidden_size)
        h = torch.tanh(self.a(x_t) + self.b(h))
        return h, h

    def forward(self, x, state=None):
        outs = []
        for x_t in x.unbind(1):
            h, state = self.step(x_t, state)
            outs.append(h)
        return torch.stack(outs, 1), state


class EchoPlugin:
    name = "echo"
    __version__ = "9.9"

    @hookimpl
    def register_cells(self, register):
        register("echo", EchoCell, description="test cell")


def test_builtins_load_through_entry_points(registry):
    builtins = {p.name: p for p in registry.plugins if p.builtin}
    assert set(builtins) >= {"cells", "topologies", "tasks", "trainers"}
    assert all(
        p.distribution == "seqkit" and p.version == seqkit.__version__ for p in builtins.values()
    )
    assert builtins["cells"].registers["cells"] == ["rnn", "lstm", "gru"]
    entry = registry.get("cell", "gru")
    assert (entry.plugin, entry.version) == ("cells", seqkit.__version__)


def test_empty_registry_then_plugin_object_is_listed_and_runs(registry):
    empty = load_registry(entry_points=False)
    assert empty.names("cell") == [] and empty.plugins == []
    reg = load_registry(entry_points=True, plugins=[EchoPlugin()])
    entry = reg.get("cell", "echo")
    assert (entry.plugin, entry.version, entry.description) == ("echo", "9.9", "test cell")
    assert "echo" in [e.name for e in seqkit.list_cells(reg)]
    result = seqkit.run(cell="echo", task="toy", epochs=10, device="cpu", registry=reg)
    assert result.metrics["val_accuracy"] > 0.95


def test_same_name_from_two_plugins_is_an_error_naming_both():
    other = types.SimpleNamespace(
        register_cells=hookimpl(lambda register: register("echo", EchoCell)), name="copycat"
    )
    reg = load_registry(entry_points=False, plugins=[EchoPlugin(), other])
    with pytest.raises(NameClashError, match=r"'echo' and 'copycat'"):
        reg.get("cell", "echo")
    assert [e.plugin for e in reg.entries("cell")] == ["echo", "copycat"]


def test_unknown_name_suggests_the_nearest(registry):
    with pytest.raises(UnknownNameError) as info:
        registry.get("cell", "lstn")
    message = str(info.value)
    assert "Did you mean 'lstm'?" in message and "gru, lstm, rnn" in message


def test_misspelt_hook_is_rejected_not_ignored():
    bad = types.SimpleNamespace(register_cell=hookimpl(lambda register: None), name="typo")
    with pytest.warns(PluginWarning, match="unknown hook 'register_cell'"):
        reg = load_registry(entry_points=False, plugins=[bad])
    assert reg.plugins[0].status == "error"
    with pytest.raises(PluginError, match="register_cell"):
        load_registry(entry_points=False, plugins=[bad], strict=True)


def test_a_plugin_that_raises_is_contained():
    def boom(register):
        raise RuntimeError("kaput")

    broken = types.SimpleNamespace(register_cells=hookimpl(boom), name="broken")
    with pytest.warns(PluginWarning, match="plugin 'broken' failed.*kaput"):
        reg = load_registry(plugins=[broken])
    assert {p.name: p.status for p in reg.plugins}["broken"] == "error"
    assert reg.names("cell") == ["gru", "lstm", "rnn"]


def test_register_rejects_non_callable_factory():
    bad = types.SimpleNamespace(
        register_cells=hookimpl(lambda register: register("x", 42)), name="bad"
    )
    with pytest.warns(PluginWarning, match="not callable"):
        reg = load_registry(entry_points=False, plugins=[bad])
    assert reg.names("cell") == []


def test_env_var_leaves_out_a_builtin_family(monkeypatch):
    monkeypatch.setenv(ENV_DISABLE, "tasks")
    reg = load_registry()
    assert reg.names("task") == [] and reg.names("cell") == ["gru", "lstm", "rnn"]


def test_default_trainer_is_marked_by_its_plugin(registry):
    assert registry.default("trainer") == "minibatch"


def test_a_hook_that_fails_part_way_registers_nothing():
    def half(register):
        register("first", EchoCell)
        raise RuntimeError("second failed")

    plugin = types.SimpleNamespace(register_cells=hookimpl(half), name="half")
    with pytest.warns(PluginWarning, match="second failed"):
        reg = load_registry(entry_points=False, plugins=[plugin])
    assert reg.names("cell") == [] and reg.plugins[0].registers == {}


def test_a_cell_that_breaks_the_contract_is_a_clear_error():
    broken = types.SimpleNamespace(
        register_cells=hookimpl(lambda register: register("broken", lambda i, h: None)),
        name="broken",
    )
    reg = load_registry(plugins=[broken])
    with pytest.raises(PluginError, match="cell 'broken' does not satisfy the Cell contract"):
        seqkit.run(cell="broken", task="sum", registry=reg)


def test_default_trainer_errors_say_what_to_do(monkeypatch):
    monkeypatch.setenv(ENV_DISABLE, "trainers")
    with pytest.raises(seqkit.ConfigError, match="no trainers are registered"):
        seqkit.plan(seqkit.RunConfig(task="sum", cell="gru"), load_registry())
    twice = types.SimpleNamespace(
        register_trainers=hookimpl(lambda register: register("mine", lambda: None, default=True)),
        name="mine",
    )
    monkeypatch.delenv(ENV_DISABLE)
    with pytest.raises(seqkit.ConfigError, match=r"several trainers.*\(mine, minibatch\)"):
        seqkit.plan(seqkit.RunConfig(task="sum", cell="gru"), load_registry(plugins=[twice]))


def test_unknown_topology_message_spells_the_plural(registry):
    with pytest.raises(UnknownNameError, match="Available topologies:"):
        registry.get("topology", "many-to-few")

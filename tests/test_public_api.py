"""The public API's edge: `seqkit/__init__.py` is the whole of it, the built-in plugins and
the examples use nothing else, the core names no built-in, and every option of every
registered thing can be discovered."""

from __future__ import annotations

import ast
import itertools
import json
import re
import sys
import types
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import seqkit
from seqkit._cli.main import cli
from seqkit._plugins import registry as registry_module

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
import early_stopping  # noqa: E402  (examples/early_stopping.py)


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text())
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
    return found


@pytest.mark.parametrize("folder", ["plugins", "examples"])
def test_plugins_and_examples_import_only_the_public_api(folder):
    private = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for line, module in imported_modules(path):
            if (module.startswith("seqkit.") and module != "seqkit.testing") or (
                folder == "examples" and module.split(".")[0] == "seqkit_plugins"
            ):
                private.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert private == []


def test_the_ast_check_would_catch_a_private_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from seqkit._train.loop import LoopTrainer\nimport seqkit._run.runner\n")
    assert [m for _, m in imported_modules(bad)] == ["seqkit._train.loop", "seqkit._run.runner"]


def test_every_module_but_the_api_is_marked_internal():
    package = ROOT / "seqkit"
    public = {"__init__.py", "__main__.py", "testing.py"}  # testing: for plugin authors
    named = [p.relative_to(package) for p in package.iterdir() if p.name not in public]
    unmarked = [
        str(p)
        for p in named
        if (p.suffix == ".py" or (package / p).is_dir())
        and not p.name.startswith("_")
        and p.name != "__pycache__"
    ]
    assert unmarked == []


def test_all_lists_each_public_name_once_and_each_resolves():
    names = seqkit.__all__
    assert len(names) == len(set(names))
    assert all(hasattr(seqkit, n) for n in names)
    public = {n for n in dir(seqkit) if not n.startswith("_")} - {"annotations", "Any"}
    modules = {n for n in public if isinstance(getattr(seqkit, n), types.ModuleType)}
    assert modules == {"testing"}  # the one public module: contract checks for plugin authors
    assert public == set(names) - {"__version__"}


def test_every_public_name_has_its_entry_in_the_api_reference():
    """docs/api.md renders each public name from its docstring (`::: seqkit.Name`), and
    renders nothing else: a private name there would publish it."""
    import seqkit.testing

    entries = set(
        re.findall(r"^::: (seqkit\.[\w.]+)$", (ROOT / "docs" / "api.md").read_text(), re.M)
    )
    public = {f"seqkit.{n}" for n in seqkit.__all__ if n != "__version__"}
    testing = {f"seqkit.testing.{n}" for n in seqkit.testing.__all__}
    shared = {f"seqkit.testing.{n}" for n in ("ContractError", "Finding")}  # also in seqkit
    assert sorted(public - entries) == []
    assert sorted(testing - shared - entries) == []
    assert sorted(entries - public - testing) == []


def test_the_korean_api_reference_has_the_same_entries():
    def entries(page: str) -> list[str]:
        return re.findall(r"^::: (seqkit\.[\w.]+)$", (ROOT / "docs" / page).read_text(), re.M)

    assert entries("api.ko.md") == entries("api.md")


def builtin_names() -> set[str]:
    registry = seqkit.load_registry(strict=True)
    return {
        e.name
        for kind in registry_module.KINDS
        for e in registry.entries(kind)
        if next(p for p in registry.plugins if p.name == e.plugin).builtin
    }


def string_values(path: Path) -> list[tuple[int, str]]:
    """Every string constant in `path` that is not a docstring."""
    tree = ast.parse(path.read_text())
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                docstrings.add(id(body[0].value))
        body = getattr(node, "body", None)
        if isinstance(body, list):  # attribute docstrings: a bare string after an assignment
            for a, b in itertools.pairwise(body):
                if isinstance(a, ast.Assign | ast.AnnAssign) and isinstance(b, ast.Expr):
                    docstrings.add(id(b.value))
    return [
        (n.lineno, n.value)
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    ]


ORDINARY_WORDS = {"text"}
"""Built-in names that are also words the core uses in their own sense (an example
line's `"text"` key): seeing them says nothing of the core choosing a built-in."""


def test_the_core_names_no_built_in():
    names = builtin_names() - ORDINARY_WORDS
    assert {"gru", "sum", "many-to-one", "minibatch", "ddp"} <= names  # the check has teeth
    named = [
        f"{path.relative_to(ROOT)}:{line} {value!r}"
        for path in sorted((ROOT / "seqkit").rglob("*.py"))
        for line, value in string_values(path)
        if value in names
    ]
    assert named == []


def test_string_values_sees_values_and_skips_docstrings(tmp_path):
    source = tmp_path / "m.py"
    source.write_text('"""gru"""\nX = 1\n"""sum"""\ndef f():\n    """lstm"""\n    return "gru"\n')
    assert [v for _, v in string_values(source)] == ["gru"]


# -- the training loop is the core's: a third-party trainer from the public API --------
@pytest.fixture
def with_early_stopping() -> seqkit.Registry:
    return seqkit.load_registry(plugins=[early_stopping], strict=True)


def test_a_third_party_trainer_built_on_the_core_loop_trains_and_stops_early(
    with_early_stopping,
):
    result = seqkit.run(
        cell="gru",
        task="square",
        trainer="early-stopping",
        trainer_options={"patience": 2},
        epochs=400,
        seed=0,
        device="cpu",
        registry=with_early_stopping,
    )
    epochs = result.history.epochs
    assert len(epochs) < 400 and "no better val_loss for 2 epochs" in result.history.stopped
    best = min(r["val_loss"] for r in epochs)
    assert best < 0.01 * result.chance_loss  # it learned before it stopped
    assert result.config.trainer_options == {"patience": 2, "min_delta": 0.0}


def test_a_third_party_trainer_refuses_settings_through_its_check(with_early_stopping):
    with pytest.raises(seqkit.ConfigError, match="patience \\(3\\) must be below --epochs \\(2\\)"):
        seqkit.plan(
            seqkit.RunConfig(task="sum", cell="gru", trainer="early-stopping", epochs=2),
            with_early_stopping,
        )


def test_the_built_in_trainers_are_the_public_loop(registry):
    for name in ("minibatch", "fullbatch", "ddp"):
        trainer = registry.get("trainer", name).factory()
        assert isinstance(trainer, seqkit.LoopTrainer)
        assert isinstance(trainer, seqkit.Trainer)
    ddp = registry.get("trainer", "ddp").factory()
    assert isinstance(ddp, seqkit.RunsDistributed) and ddp.distributed
    assert not registry.get("trainer", "minibatch").factory().distributed


# -- typed extension points --------------------------------------------------------------
def test_built_in_cells_offer_the_optional_protocols(registry):
    for name in ("rnn", "lstm", "gru"):
        cell = registry.get("cell", name).factory(3, 4)
        assert isinstance(cell, seqkit.Cell)
        assert isinstance(cell, seqkit.NamedStateParts)
        assert isinstance(cell, seqkit.RecurrentMatrices)
        assert isinstance(cell, seqkit.Equations)
        assert isinstance(cell, seqkit.ForgetGates)


def test_a_plain_module_offers_none_of_them():
    plain = torch.nn.Linear(2, 2)
    for protocol in (
        seqkit.Cell,
        seqkit.NamedStateParts,
        seqkit.RecurrentMatrices,
        seqkit.ForgetGates,
        seqkit.Equations,
        seqkit.ChunkedTopology,
    ):
        assert not isinstance(plain, protocol)


def test_chunked_topologies_are_found_by_protocol():
    io = seqkit.IOSpec(1, 1, 6, 1)
    many_to_one = seqkit.build_model("gru", "many-to-one", io=io, hidden_size=4)
    seq2seq = seqkit.build_model("gru", "seq2seq", io=io, hidden_size=4)
    assert isinstance(many_to_one, seqkit.ChunkedTopology)
    assert many_to_one.chunk_targets == "last"
    assert not isinstance(seq2seq, seqkit.ChunkedTopology)


def test_train_state_carries_the_resolved_run_config():
    seen = []

    class Look(seqkit.Callback):
        def on_fit_start(self, state):
            seen.append(state.config)

    seqkit.run(cell="gru", task="square", epochs=1, device="cpu", callbacks=[Look()])
    assert isinstance(seen[0], seqkit.RunConfig)
    assert seen[0].topology == "one-to-one" and seen[0].hidden_size == 40  # the task's


# -- the core names no built-in: tasks and plugins say --------------------------------
def test_a_task_without_a_default_topology_must_be_given_one():
    class Bare(seqkit.Task):
        name = "bare"

        @property
        def io(self):
            return seqkit.IOSpec(1, 1, 3, 1)

        def inputs(self, n, generator, device):
            return torch.rand(n, 3, 1, generator=generator, device=device)

        def targets(self, x):
            return x.sum(1, keepdim=True)

    class Plugin:
        @seqkit.hookimpl
        def register_tasks(self, register):
            register("bare", Bare)

    registry = seqkit.load_registry(plugins=[Plugin()], strict=True)
    with pytest.raises(seqkit.ConfigError, match="task 'bare' names no default topology"):
        seqkit.plan(seqkit.RunConfig(task="bare", cell="gru"), registry)
    the_plan = seqkit.plan(
        seqkit.RunConfig(task="bare", cell="gru", topology="many-to-one"), registry
    )
    assert the_plan.config.topology == "many-to-one"
    assert the_plan.task.main_metric == "mae"  # the regression kind's headline


def test_tasks_declare_their_headline_metric(registry):
    assert seqkit.get_task("copy", registry).main_metric == "recalled"
    assert seqkit.get_task("recall", registry).main_metric == "accuracy"
    assert seqkit.get_task("sum", registry).main_metric == "mae"


# -- every option is discoverable; cell flags come from the registry ------------------
def test_list_verbose_shows_every_option_with_help_type_default_and_limits():
    out = CliRunner().invoke(cli, ["list", "cells", "-v"]).output
    assert re.search(r"forget_bias\s+float = 1\.0\s+\[-100, 100\]\s+initial forget-gate", out)
    assert re.search(r"impl\s+str = 'auto'\s+\{auto, fused, scratch\}", out)  # the LSTM's
    looped = r"impl\s+str = 'auto'\s+\{auto, fused, kernels, scratch, fastest\}"
    assert re.search(looped + r".*\(fastest: a long run times fused, kernels\)", out)
    assert re.search(r"num_layers\s+int = 1\s+\[1, 64\]\s+stacked.*\(also --num-layers\)", out)


def test_list_json_describes_every_option_of_every_kind(registry):
    table = json.loads(CliRunner().invoke(cli, ["list", "--json"]).output)
    assert set(table) == {"cells", "topologies", "tasks", "trainers", "executors", "suites"}
    kinds = [("cells", "cell"), ("tasks", "task"), ("trainers", "trainer")]
    for plural, kind in [*kinds, ("executors", "executor")]:
        for row in table[plural]:
            declared = registry.get(kind, row["name"]).options
            assert set(row["options"]) == set(declared)
            for name, info in row["options"].items():
                assert set(info) == {
                    *("help", "type", "default", "choices", "min", "max", "flag", "tune")
                }
                assert info["default"] == declared[name].default
    gru = next(r for r in table["cells"] if r["name"] == "gru")["options"]
    assert gru["num_layers"]["flag"] is True and gru["impl"]["flag"] is False
    assert gru["impl"]["tune"] == ["fused", "kernels"] and gru["num_layers"]["tune"] == []
    seq_len = next(r for r in table["tasks"] if r["name"] == "adding")["options"]["seq_len"]
    assert seq_len["type"] == "int" and seq_len["min"] >= 1 and seq_len["help"]


def test_describe_shows_one_name_and_refuses_unknown_ones():
    runner = CliRunner()
    out = runner.invoke(cli, ["describe", "feed", "--json"])
    assert out.exit_code == 2 and "unknown name 'feed'" in out.output
    info = json.loads(runner.invoke(cli, ["describe", "one-to-many", "--json"]).output)
    assert info["kind"] == "topology"
    assert info["options"]["feed"]["choices"] == ["zeros", "prediction"]
    text = runner.invoke(cli, ["describe", "lstm"]).output
    assert "options (--cell-opt NAME=VALUE)" in text and "forget_bias" in text


def test_describe_shows_the_settings_a_task_chooses():
    runner = CliRunner()
    adding = json.loads(runner.invoke(cli, ["describe", "adding", "--json"]).output)
    assert adding["defaults"]["normalize"] is False and adding["defaults"]["hidden_size"] == 128
    text = runner.invoke(cli, ["describe", "sum"]).output
    assert "normalize=True" in text and "hidden_size=50" in text and "optimizer=adam" in text


class FlagCell(torch.nn.Module):
    """A third-party cell whose `width_scale` option asks for a flag of its own."""

    def __init__(self, input_size, hidden_size, width_scale: int = 1, num_layers: int = 1):
        super().__init__()
        self.rnn = torch.nn.GRU(input_size, hidden_size, batch_first=True)
        self.input_size, self.hidden_size, self.output_size = input_size, hidden_size, hidden_size
        self.num_directions, self.width_scale = 1, width_scale

    def forward(self, x, state=None):
        return self.rnn(x, state)

    def step(self, x_t, state=None):
        out, state = self.rnn(x_t.unsqueeze(1), state)
        return out[:, 0], state


class FlagPlugin:
    @seqkit.hookimpl
    def register_cells(self, register):
        register(
            "flagcell",
            FlagCell,
            options={
                "width_scale": seqkit.Option(1, "a third party's flag", min=1, flag=True),
                "num_layers": seqkit.Option(1, "layers", min=1, max=1, flag=True),
            },
        )


def test_cell_flags_are_derived_from_the_options_plugins_mark(monkeypatch, tmp_path):
    registry = seqkit.load_registry(plugins=[FlagPlugin()], strict=True)
    monkeypatch.setattr(registry_module, "_default", registry)
    runner = CliRunner()
    help_text = runner.invoke(cli, ["run", "--help"]).output
    assert "--width-scale INTEGER" in help_text and "A third party's flag" in help_text
    assert "--num-layers" in help_text and "--bidirectional / --no-bidirectional" in help_text
    out = runner.invoke(
        cli,
        [
            "explain",
            "--cell",
            "flagcell",
            "--task",
            "sum",
            "--width-scale",
            "3",
            "--format",
            "json",
        ],
    )
    assert out.exit_code == 0, out.output
    bad = runner.invoke(cli, ["explain", "--cell", "flagcell", "--task", "sum", "--dropout", "0.5"])
    assert bad.exit_code == 2
    assert "cell 'flagcell' has no option 'dropout'; its options are: num_layers, width_scale" in (
        bad.output
    )


def test_a_flag_is_the_same_as_its_cell_option():
    runner = CliRunner()
    args = ["explain", "--cell", "gru", "--task", "sum", "--format", "json"]
    by_flag = json.loads(runner.invoke(cli, [*args, "--num-layers", "2"]).output)
    by_opt = json.loads(runner.invoke(cli, [*args, "--cell-opt", "num_layers=2"]).output)
    assert by_flag == by_opt and by_flag["total_parameters"] > 8001


def test_error_hints_come_from_the_plugin_involved(registry):
    assert "impl=scratch" in registry.get("cell", "lstm").hints["precision"]

    class Plugin:
        @seqkit.hookimpl
        def register_cells(self, register):
            register("badhint", FlagCell, hints={"precision": 3})

    with pytest.raises(seqkit.PluginError, match="hints must map a check's name to a string"):
        seqkit.load_registry(plugins=[Plugin()], entry_points=False, strict=True)


# -- a thin CLI: the library does the work ---------------------------------------------
def test_gradients_is_a_library_function(tmp_path):
    report = seqkit.gradients(
        ["rnn", "lstm"],
        task="adding",
        task_options={"seq_len": 30, "num_samples": 64, "val_samples": 32},
        init_only=True,
        device="cpu",
        out=tmp_path / "g",
    )
    assert set(report.cells) == {"rnn", "lstm"}
    assert len(report.cells["rnn"]["init"]["log10_grad"]) == 30
    # the LSTM's forget bias keeps the gradient at t=1 far above the RNN's
    vanish = {c: report.cells[c]["init"]["log10_vanishing_factor"] for c in report.cells}
    assert vanish["lstm"] > vanish["rnn"] + 3
    assert (tmp_path / "g" / "gradient_flow.png").is_file()
    saved = json.loads((tmp_path / "g" / "gradients.json").read_text())
    assert saved["cells"] == json.loads(json.dumps(report.as_dict()["cells"]))


def test_gradients_checks_every_cell_before_anything_is_written(tmp_path):
    with pytest.raises(seqkit.ConfigError, match="exactly one cell"):
        seqkit.gradients(["gru"], task="sum", topology="seq2seq", device="cpu", out=tmp_path / "g")
    assert not (tmp_path / "g").exists()


def test_the_probe_refuses_a_topology_that_drives_the_cell_by_step_alone(tmp_path):
    with pytest.raises(seqkit.ConfigError, match="runs the cell over the sequence once"):
        seqkit.gradients(
            ["gru"],
            task="multiples",
            topology_options={"feed": "prediction"},
            init_only=True,
            device="cpu",
            out=tmp_path / "g",
        )
    assert not (tmp_path / "g").exists()


def test_a_trainer_that_cannot_resume_need_not_take_resume():
    class Plain:
        def fit(self, model, data, task, config, callbacks):
            return seqkit.LoopTrainer().fit(model, data, task, config, callbacks)

    class Plugin:
        @seqkit.hookimpl
        def register_trainers(self, register):
            register("plain", Plain)

    registry = seqkit.load_registry(plugins=[Plugin()], strict=True)
    result = seqkit.run(cell="gru", task="square", trainer="plain", device="cpu", registry=registry)
    assert result.metrics["val_loss"] < 0.05 * result.chance_loss


def test_resume_is_public(tmp_path):
    import signal

    class StopAfterOne(seqkit.Callback):
        def on_epoch_end(self, state, record):
            state.interrupt = f"was interrupted by {signal.Signals.SIGINT.name}"

    with pytest.raises(seqkit.SeqkitError, match="resume with: seqkit run --resume"):
        seqkit.run(cell="gru", task="square", epochs=3, device="cpu", out=tmp_path / "r",
                   callbacks=[StopAfterOne()])  # fmt: skip
    done = seqkit.resume(tmp_path / "r")
    assert len(done.history.epochs) == 3
    assert done.metrics["val_loss"] < 0.05 * done.chance_loss


def test_run_config_reads_toml_and_a_runs_config_json(tmp_path):
    toml = tmp_path / "exp.toml"
    toml.write_text(
        'task = "sum"\ncell = "gru"\nhidden-size = 12\ndevice = "cpu"\n'
        "[task_options]\nseq_len = 4\nnum_samples = 500\n"
    )
    config = seqkit.RunConfig.from_file(toml)
    assert (config.task, config.hidden_size) == ("sum", 12)
    assert config.task_options == {"seq_len": 4, "num_samples": 500}
    result = seqkit.run(config, out=tmp_path / "run")
    again = seqkit.RunConfig.from_file(tmp_path / "run" / "config.json")
    assert again == result.config
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(seqkit.ConfigError, match=r"deep\.json: "):
        seqkit.RunConfig.from_file(deep)


def test_registry_resolve_fills_defaults_and_names_bad_options(registry):
    part = registry.resolve("topology", "one-to-many", {"feed": "prediction"})
    assert part.options == {"feed": "prediction"} and part.name == "one-to-many"
    assert registry.resolve("topology", "one-to-many", {}).options == {"feed": "zeros"}
    with pytest.raises(seqkit.ConfigError, match="topology 'one-to-many' has no option 'fed'"):
        registry.resolve("topology", "one-to-many", {"fed": "zeros"})


def test_the_plan_builds_models_without_the_registry(registry, monkeypatch):
    the_plan = seqkit.plan(seqkit.RunConfig(task="sum", cell="lstm", device="cpu"), registry)
    assert the_plan.cell.options["forget_bias"] == 1.0 and the_plan.topology.name == "many-to-one"

    def no_lookups(*args, **kwargs):
        raise AssertionError("the plan went back to the registry")

    monkeypatch.setattr(the_plan.registry, "get", no_lookups)
    monkeypatch.setattr(the_plan.registry, "resolve", no_lookups)
    model = the_plan.build_model()
    assert model(torch.zeros(2, 6, 1)).shape == (2, 1, 1)


def test_the_plugin_guide_shows_the_trainer_example_as_it_runs():
    guide = (ROOT / "docs" / "plugins.md").read_text()
    marker = "<!-- example: examples/early_stopping.py -->\n```python\n"
    assert marker in guide
    shown = guide.split(marker, 1)[1].split("\n```", 1)[0] + "\n"
    assert shown == (ROOT / "examples" / "early_stopping.py").read_text()

"""Kinds are found by configuration (LONGHAUL_KINDS), never by editing longhaul; a module that holds no kind, or
a name MCP would refuse, fails loudly with the module's name."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import BaseModel

from longhaul import kinds
from longhaul.kinds import Done, KindModuleError, TaskKind, task_kind


@pytest.fixture
def kind_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.syspath_prepend(str(tmp_path))
    before = set(kinds._REGISTRY), set(kinds._LOADED)
    yield tmp_path
    for name in set(kinds._REGISTRY) - before[0]:
        kinds.unregister(name)
    kinds._LOADED.intersection_update(before[1])
    for module in [m for m in sys.modules if m.startswith("lh_test_")]:
        del sys.modules[module]


def write(directory: Path, module: str, body: str) -> None:
    (directory / f"{module}.py").write_text(textwrap.dedent(body))


GREETING = """
    from pydantic import BaseModel

    from longhaul.kinds import Done, task_kind


    class GreetParams(BaseModel):
        name: str = "world"


    @task_kind(poll_interval_seconds=2)
    def greet(params: GreetParams, cursor, ctx):
        \"\"\"Greet someone, slowly.\"\"\"
        return Done({"greeting": f"hello {params.name}"})
"""


def test_a_module_named_in_longhaul_kinds_adds_its_kinds(kind_dir, monkeypatch):
    write(kind_dir, "lh_test_greetings", GREETING)
    monkeypatch.setenv("LONGHAUL_KINDS", " lh_test_greetings , ")
    assert kinds.configured_modules()[-1] == "lh_test_greetings"

    greet = kinds.get_kind("greet")

    assert (greet.title, greet.description, greet.poll_interval_seconds) == ("Greet", "Greet someone, slowly.", 2)
    assert greet.params_model.__name__ == "GreetParams"
    assert greet.step(greet.parse_params({"name": "ann"}), None, None) == Done({"greeting": "hello ann"})
    assert "greet" in {k.name for k in kinds.all_kinds()}


def test_a_module_that_defines_no_kind_fails_naming_it(kind_dir, monkeypatch):
    write(kind_dir, "lh_test_forgot", "def step(params, cursor, ctx):\n    return None\n")
    monkeypatch.setenv("LONGHAUL_KINDS", "lh_test_forgot")
    with pytest.raises(KindModuleError, match="'lh_test_forgot' defines no task kind"):
        kinds.all_kinds()


def test_a_module_that_cannot_be_imported_fails_naming_it(kind_dir, monkeypatch):
    monkeypatch.setenv("LONGHAUL_KINDS", "lh_test_missing")
    with pytest.raises(KindModuleError, match=r"'lh_test_missing'.*cannot be imported"):
        kinds.get_kind("model_training")


def test_every_builtin_kind_module_registers_a_kind():
    for module in kinds.BUILTIN_MODULES:
        assert kinds.load_module(module), module


class P(BaseModel):
    pass


def _step(params: P, cursor, ctx):
    return Done(None)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("has space", "not a valid MCP tool name"),
        ("x" * 129, "not a valid MCP tool name"),
        ("", "not a valid MCP tool name"),
        ("get_task_status", "taken by one of longhaul's own tools"),
        ("model_training", "already registered"),
    ],
)
def test_kind_names_follow_mcp_tool_name_rules_and_stay_unique(name, reason):
    with pytest.raises(ValueError, match=reason):
        kinds.register(TaskKind(name=name, title="t", description="d", params_model=P, step=_step))


def test_the_decorator_needs_a_params_model_and_a_description():
    with pytest.raises(TypeError, match="pydantic model"):

        @task_kind()
        def untyped(params, cursor, ctx):
            """Does things."""

    with pytest.raises(TypeError, match="docstring"):

        @task_kind()
        def silent(params: P, cursor, ctx):
            return Done(None)


def test_the_endpoints_own_tool_names_are_reserved():
    from longhaul.endpoint.server import mcp

    own = {tool.name for tool in mcp._tool_manager.list_tools()} - {k.name for k in kinds.all_kinds()}
    assert own <= kinds.RESERVED_NAMES


def test_built_in_kinds_reach_aws_only_through_the_step_context():
    code = (
        "import sys; import longhaul.kinds; longhaul.kinds.all_kinds(); "
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore')}))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"


def test_a_docstring_becomes_a_one_line_per_paragraph_description():
    from longhaul.kinds.model_training import model_training

    assert "\n" not in model_training.description and model_training.description.startswith("Train a machine")

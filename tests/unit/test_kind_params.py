"""A kind's params as a stdlib dataclass: param() declares what the endpoint publishes and checks, a start stores the
validated values as JSON, and a step rebuilds the params from them (``TaskKind.load_params``). Pydantic models still
work as params."""

from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Literal

import pytest
from pydantic import BaseModel, Field, ValidationError

from longhaul.adapters.dynamodb import DynamoTaskStore
from longhaul.endpoint.server import start_tool
from longhaul.errors import InvalidTaskParams
from longhaul.kinds import Done, TaskKind, param, task_kind
from longhaul.kinds.validation import validated_params
from longhaul.settings import Settings
from longhaul.tasks import TaskService
from longhaul_dev.template import PROJECT_ROOT


def _even(value: int) -> int:
    if value % 2:
        raise ValueError("must be even")
    return value


@dataclass(frozen=True)
class Batch:
    source: str = param(min_length=3, description="Where the items come from")
    size: int = param(10, ge=2, le=100, check=_even)
    rate: float = param(1.0, gt=0)
    mode: Literal["fast", "careful"] = "fast"
    limit: int | None = None
    tags: list[str] = dataclasses.field(default_factory=list)
    options: dict[str, Any] = dataclasses.field(default_factory=dict)
    ratio: float | None = None
    weight: int | float = 1


@task_kind(name="lh_batch")
def batch(params: Batch, cursor: Any, ctx: Any) -> Done:
    """Process a batch of items."""
    return Done({"size": params.size})


class Colour(Enum):
    RED = "red"
    BLUE = "blue"


@dataclass(frozen=True)
class Window:
    start: datetime
    hours: int = param(1, ge=1)


@dataclass(frozen=True)
class Schedule:
    when: datetime
    colour: Colour = Colour.RED
    window: Window | None = None
    # Nested dataclasses in a list and as a default: their param() constraints hold as the top level's do.
    breaks: list[Window] = dataclasses.field(default_factory=list)
    first: Window = Window(start=datetime(2026, 1, 1, tzinfo=UTC), hours=2)


@task_kind(name="lh_schedule")
def schedule(params: Schedule, cursor: Any, ctx: Any) -> Done:
    """Run something at a time."""
    return Done(None)


class Legacy(BaseModel):
    count: int = Field(default=1, ge=1, description="How many")
    when: datetime | None = None


@task_kind(name="lh_legacy")
def legacy(params: Legacy, cursor: Any, ctx: Any) -> Done:
    """A kind whose params are a pydantic model."""
    return Done(params.count)


class RecordingWorkflow:
    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []

    def execution_arn(self, name: str) -> str:
        return f"arn:aws:states:us-east-1:123456789012:execution:wf:{name}"

    def start(self, name: str, payload: dict[str, Any]) -> str:
        self.payloads.append(payload)
        return self.execution_arn(name)


@pytest.fixture
def started(tasks_table, register_kind):
    """Starts a task through TaskService (strict validation, JSON storage); returns the params a step would get."""
    for kind in (batch, schedule, legacy):
        register_kind(kind)
    workflow = RecordingWorkflow()
    service = TaskService(DynamoTaskStore(tasks_table), workflow, blobs=None, settings=Settings())  # type: ignore[arg-type]

    def start(kind: TaskKind, arguments: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        record = service.start("alice", kind.name, arguments)
        stored = workflow.payloads[-1]["params"]
        assert record.params == stored
        return stored, kind.load_params(stored)

    return start


def test_json_native_params_come_back_as_the_dataclass_with_defaults_filled_in(started):
    stored, params = started(batch, {"source": "s3://in", "size": 4, "rate": 2, "tags": ["a"], "limit": 7})
    assert stored == {
        "source": "s3://in",
        "size": 4,
        "rate": 2.0,
        "mode": "fast",
        "limit": 7,
        "tags": ["a"],
        "options": {},
        "ratio": None,
        "weight": 1,
    }
    assert params == Batch(source="s3://in", size=4, rate=2.0, tags=["a"], limit=7)
    # A float field stored as a whole number (a JSON round trip may write 2.0 as 2) is a float again.
    loaded = batch.load_params({**stored, "rate": 2, "ratio": 1, "weight": 3})
    assert (type(loaded.rate), type(loaded.ratio), type(loaded.weight)) == (float, float, int)  # int | float: as sent
    assert batch.load_params({**stored, "options": {"n": 2}}).options == {"n": 2}  # values of Any stay as stored
    assert batch.step(params, None, None) == Done({"size": 4})


def test_other_field_types_come_back_as_their_real_types(started):
    _, params = started(
        schedule,
        {"when": "2026-11-27T20:00:00Z", "colour": "blue", "window": {"start": "2026-11-28T00:00:00Z", "hours": 3}},
    )
    assert params == Schedule(
        when=datetime(2026, 11, 27, 20, tzinfo=UTC),
        colour=Colour.BLUE,
        window=Window(start=datetime(2026, 11, 28, tzinfo=UTC), hours=3),
    )
    assert isinstance(params, Schedule) and isinstance(params.window, Window)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"window": {"start": "2026-11-28T00:00:00Z", "hours": 0}}, "window.hours: Input should be greater than"),
        ({"breaks": [{"start": "2026-11-28T00:00:00Z", "hours": -1}]}, "breaks.0.hours: Input should be greater"),
        ({"first": {"start": "2026-11-28T00:00:00Z", "hours": 1, "minutes": 5}}, "first.minutes: Extra inputs"),
    ],
)
def test_a_nested_dataclass_keeps_its_param_constraints(started, arguments, message):
    with pytest.raises(InvalidTaskParams, match=f"^Invalid parameters: {message}"):
        started(schedule, {"when": "2026-11-27T20:00:00Z", **arguments})
    with pytest.raises(ValidationError, match=message.replace(":", "\n ")):
        schedule.parse_params({"when": "2026-11-27T20:00:00Z", **arguments})


def test_a_nested_dataclass_is_published_with_its_constraints_and_its_default_is_stored_as_given(started):
    properties = start_tool(schedule).parameters["properties"]
    for window in (properties["window"], properties["breaks"]["items"], properties["first"]):
        assert window["properties"]["hours"] == {"default": 1, "minimum": 1, "type": "integer"}
        assert window["additionalProperties"] is False and window["required"] == ["start"]
    assert properties["first"]["default"] == {"start": "2026-01-01T00:00:00Z", "hours": 2}

    stored, params = started(schedule, {"when": "2026-11-27T20:00:00Z", "breaks": [{"start": "2026-11-28T01:00:00Z"}]})
    assert stored["first"] == {"start": "2026-01-01T00:00:00Z", "hours": 2}
    assert stored["breaks"] == [{"start": "2026-11-28T01:00:00Z", "hours": 1}]
    assert params.first == Window(start=datetime(2026, 1, 1, tzinfo=UTC), hours=2)
    assert params.breaks == [Window(start=datetime(2026, 11, 28, 1, tzinfo=UTC), hours=1)]
    defaults = schedule.parse_params({"when": "2026-11-27T20:00:00Z"})
    assert defaults == Schedule(when=datetime(2026, 11, 27, 20, tzinfo=UTC))


@dataclass(frozen=True)
class Step:
    name: str = param(min_length=1)
    then: list[Step] = dataclasses.field(default_factory=list)  # a tree: the dataclass holds itself


@dataclass(frozen=True)
class Team:
    size: int = param(1, ge=1)
    lead: Person | None = None


@dataclass(frozen=True)
class Person:  # refers back to Team: two dataclasses that hold each other
    name: str = param(min_length=1)
    team: Team | None = None


@task_kind(name="lh_plan")
def plan(params: Step, cursor: Any, ctx: Any) -> Done:
    """Run a plan of steps."""
    return Done(None)


def test_a_dataclass_that_holds_itself_is_checked_at_every_level():
    deep = {"name": "a", "then": [{"name": "b", "then": [{"name": "c"}]}]}
    assert plan.parse_params(deep) == Step("a", [Step("b", [Step("c")])])
    with pytest.raises(ValidationError, match=r"then\.0\.then\.0\.name\n  String should have at least 1 character"):
        plan.parse_params({"name": "a", "then": [{"name": "b", "then": [{"name": ""}]}]})
    with pytest.raises(ValidationError, match=r"then\.0\.then\.0\.extra\n  Extra inputs are not permitted"):
        plan.parse_params({"name": "a", "then": [{"name": "b", "then": [{"name": "c", "extra": 1}]}]})
    with pytest.raises(ValidationError, match=r"lead\.team\.size\n  Input should be greater than or equal to 1"):
        validated_params(Team, {"lead": {"name": "kim", "team": {"size": 0}}})
    assert validated_params(Team, {"lead": {"name": "kim", "team": {}}}).model_dump() == {
        "size": 1,
        "lead": {"name": "kim", "team": {"size": 1, "lead": None}},
    }
    step = start_tool(plan).parameters["$defs"]["Step"]
    assert step["properties"]["name"] == {"minLength": 1, "type": "string"}
    assert step["properties"]["then"]["items"] == {"$ref": "#/$defs/Step"}


def test_pydantic_model_params_still_start_and_load(started):
    stored, params = started(legacy, {"count": 3, "when": "2026-11-27T20:00:00Z"})
    assert stored == {"count": 3, "when": "2026-11-27T20:00:00Z"}
    assert params == Legacy(count=3, when=datetime(2026, 11, 27, 20, tzinfo=UTC))
    with pytest.raises(ValidationError, match="count"):
        legacy.parse_params({"count": 0})


@pytest.mark.parametrize("kind", [batch, legacy])
def test_stored_names_the_params_no_longer_have_fail_the_step_readably(kind):
    stored = {"source": "s3://in", "retired": 1} if kind is batch else {"count": 2, "retired": 1}
    with pytest.raises(InvalidTaskParams, match=r"no longer fit .*retired.*start the task again"):
        kind.load_params(stored)


def test_a_required_field_added_since_the_start_fails_the_step_readably():
    with pytest.raises(InvalidTaskParams, match=r"no longer fit Batch \(missing: source\)"):
        batch.load_params({"size": 4})


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"source": "s3://in", "size": 3}, "size: Value error, must be even"),
        ({"source": "s3://in", "size": 200}, "size: Input should be less than or equal to 100"),
        ({"source": "s3://in", "size": "4"}, "size: Input should be a valid integer"),  # nothing is coerced
        ({"source": "s3://in", "mode": "slow"}, "mode: Input should be 'fast' or 'careful'"),
        ({"source": "ab"}, "source: String should have at least 3 characters"),
        ({"source": "s3://in", "sizes": 4}, "sizes: Extra inputs are not permitted"),
        ({}, "source: Field required"),
    ],
)
def test_a_bad_start_names_the_field(started, arguments, message):
    with pytest.raises(InvalidTaskParams, match=f"^Invalid parameters: {message}$"):
        started(batch, arguments)


async def test_the_start_tool_publishes_param_metadata_and_refuses_bad_arguments_naming_them():
    from mcp.server.mcpserver.exceptions import ToolError

    tool = start_tool(batch)
    properties = tool.parameters["properties"]
    assert properties["source"] == {"description": "Where the items come from", "minLength": 3, "type": "string"}
    assert properties["size"] == {"default": 10, "maximum": 100, "minimum": 2, "type": "integer"}
    assert properties["mode"] == {"default": "fast", "enum": ["fast", "careful"], "type": "string"}
    assert properties["limit"] == {"type": ["integer", "null"]}
    assert tool.parameters["required"] == ["source"] and tool.parameters["additionalProperties"] is False
    # Refused before anything reaches the task service.
    caller = SimpleNamespace(
        request_context=SimpleNamespace(request=SimpleNamespace(scope={"state": {"principal": "a"}}))
    )
    with pytest.raises(
        ToolError, match=r"^Invalid arguments: bogus: unknown argument; size: Value error, must be even$"
    ):
        await tool.fn({"source": "s3://in", "size": 5, "bogus": 1}, caller)


def test_param_refuses_what_pydantic_field_would_not_constrain():
    with pytest.raises(TypeError, match=r"unknown constraints \['minimum'\]"):
        param(1, minimum=0)


class Plain:
    size: int = 1


def test_the_decorator_takes_a_dataclass_or_a_pydantic_model_and_nothing_else():
    with pytest.raises(TypeError, match="a dataclass"):

        @task_kind()
        def plain(params: Plain, cursor: Any, ctx: Any) -> Done:
            """Does things."""
            return Done(None)

    assert batch.params_model is Batch and legacy.params_model is Legacy


def documented_example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """docs/kinds.md's "Writing one" example, as a module of its own."""
    text = (PROJECT_ROOT / "docs" / "kinds.md").read_text()
    code = text.split("## Writing one", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    (tmp_path / "lh_doc_render.py").write_text(code)
    monkeypatch.syspath_prepend(str(tmp_path))
    return importlib.import_module("lh_doc_render")


def test_the_documented_example_validates_publishes_and_runs(tmp_path, monkeypatch):
    example = documented_example(tmp_path, monkeypatch)
    render = example.render
    with pytest.raises(ValidationError, match="must be a scene name from the catalogue"):
        render.parse_params({"scene": "opening shot"})
    schema = start_tool(render).parameters
    assert schema["properties"]["scene"] == {"description": "Scene to render", "type": "string"}
    assert schema["properties"]["frames"] == {"default": 24, "maximum": 10000, "minimum": 1, "type": "integer"}

    params = render.load_params(
        validated_params(render.params_model, {"scene": "opening_shot", "frames": 3}).model_dump(mode="json")
    )
    ctx = SimpleNamespace(remaining_seconds=lambda: 600.0, progress=lambda fraction, message="": None)
    assert params == example.RenderParams(scene="opening_shot", frames=3)
    assert render.step(params, None, ctx) == Done({"scene": "opening_shot", "frames": 3})

"""The fixture tools the MCP conformance suite's tasks scenarios call (``longhaul dev --conformance``).

Each task-supporting fixture is a real longhaul kind: its tool starts a record and a Step Functions execution, and
its steps run in RunStep, wait in the workflow, and ask for input through NeedInput like any kind. Only ``greet``
is an ordinary synchronous tool. Dev-only: the shipped package registers none of these.
"""

from __future__ import annotations

import time
from typing import Any

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp_types.jsonrpc import MISSING_REQUIRED_CLIENT_CAPABILITY
from pydantic import BaseModel, Field

from longhaul import kinds
from longhaul.kinds import Done, Sleep, TaskKind
from longhaul.kinds.base import Elicit, NeedInput


def _text(text: str, is_error: bool = False) -> dict[str, Any]:
    """A kind result that already is a CallToolResult: the tasks extension passes it through as it is."""
    return {"content": [{"type": "text", "text": text}], "isError": is_error}


class SlowComputeParams(BaseModel):
    seconds: float = Field(default=1, ge=0, le=3600, description="How long the computation takes")
    label: str = Field(default="", max_length=200)


def slow_compute(params: SlowComputeParams, cursor: Any, ctx: Any) -> Any:
    if cursor is None and params.seconds >= 1:
        return Sleep(int(params.seconds), "slept")  # the workflow waits; a cancel meanwhile ends it cancelled
    if cursor is None:
        time.sleep(params.seconds)
    return Done(_text(f"Computed {params.label or 'result'} after {params.seconds:g}s"))


class NoParams(BaseModel):
    pass


def failing_job(params: NoParams, cursor: Any, ctx: Any) -> Any:
    time.sleep(0.5)
    return Done(_text("The job failed: simulated tool error", is_error=True))


def protocol_error_job(params: NoParams, cursor: Any, ctx: Any) -> Any:
    raise RuntimeError("Simulated internal failure")


CONFIRM = {"type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]}


class ConfirmDeleteParams(BaseModel):
    filename: str = Field(default="file.txt", max_length=500)


def confirm_delete(params: ConfirmDeleteParams, cursor: Any, ctx: Any) -> Any:
    if cursor is None:
        return NeedInput({"confirm_delete": Elicit(f"Delete {params.filename}?", CONFIRM)}, cursor="asked")
    answer = ctx.input_responses["confirm_delete"]
    deleted = answer["action"] == "accept" and answer.get("content", {}).get("confirm") is True
    return Done(_text(f"Deleted {params.filename}" if deleted else f"Kept {params.filename}"))


def multi_input(params: NoParams, cursor: Any, ctx: Any) -> Any:
    if cursor is None:
        name = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}
        return NeedInput(
            {"ask_name": Elicit("Your name?", name), "ask_confirm": Elicit("Proceed?", CONFIRM)}, cursor="asked"
        )
    answers = ctx.input_responses
    return Done(_text(f"Hello {answers['ask_name'].get('content', {}).get('name')}, all inputs received"))


class NameParams(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="Who to greet (asked for when left out)")


def test_tool_with_task(params: NameParams, cursor: Any, ctx: Any) -> Any:
    return Done(_text(f"Hello, {params.name}!"))


NAME = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


FIXTURE_KINDS: list[TaskKind[Any]] = [
    TaskKind(
        "slow_compute", "Slow compute", "Sleeps `seconds`, then returns a result.", SlowComputeParams, slow_compute, 1
    ),
    TaskKind("failing_job", "Failing job", "Ends with a tool error.", NoParams, failing_job, 1, "required"),
    TaskKind("protocol_error_job", "Protocol error job", "Fails inside.", NoParams, protocol_error_job, 1),
    TaskKind("confirm_delete", "Confirm delete", "Asks to confirm.", ConfirmDeleteParams, confirm_delete, 1),
    TaskKind("multi_input", "Multi input", "Asks two questions at once.", NoParams, multi_input, 1),
    TaskKind(
        "test_tool_with_task",
        "Task-only tool",
        "Asks for a name before it starts, then greets as a task.",
        NameParams,
        test_tool_with_task,
        1,
        "required",
        ask_before_start={"user_name": Elicit("What is your name?", NAME)},
    ),
]


def greet(name: str = "World") -> str:
    """Say hello (synchronous: never a task)."""
    return f"Hello, {name}!"


async def test_missing_capability(ctx: Context) -> str:
    """Needs the client's sampling capability: a client that did not declare it gets -32021 (SEP-2575)."""
    capabilities = ctx.request_context.session.client_capabilities
    if capabilities is None or capabilities.sampling is None:
        raise MCPError(
            code=MISSING_REQUIRED_CLIENT_CAPABILITY,
            message="This tool needs the sampling capability",
            data={"requiredCapabilities": {"sampling": {}}},
        )
    return "The client declared sampling"


def install() -> None:
    """Register the fixture kinds (for the workers) and their tools plus ``greet`` (on the MCP server)."""
    from longhaul.endpoint.server import mcp, start_tool

    for kind in FIXTURE_KINDS:
        kinds.register(kind)
        # MCPServer takes prebuilt tools only at construction; these arrive after the built-ins.
        mcp._tool_manager._tools[kind.name] = start_tool(kind)
    for tool in (greet, test_missing_capability):
        if tool.__name__ not in mcp._tool_manager._tools:
            mcp.add_tool(tool)

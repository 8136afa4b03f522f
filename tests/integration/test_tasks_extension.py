"""The 2026-07-28 tasks extension driven by the official MCP Python SDK client over real HTTP (`longhaul dev`).

Given `longhaul dev --conformance`, when a client declares io.modelcontextprotocol/tasks with a ClientExtension that
claims resultType "task", then task-kind tool calls become durable tasks it follows with tasks/get, answers with
tasks/update and stops with tasks/cancel; the same task is visible through the fallback tools.
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar, Literal

import anyio
import httpx
import pytest
from mcp import Client
from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ElicitResult, Request, RequestParams, Result
from pydantic import ConfigDict, Field

from tests.integration.shared_dev import conformance_server
from tests.integration.test_dev_server import DevServer

TASKS = "io.modelcontextprotocol/tasks"


class CreateTaskResult(Result):
    model_config = ConfigDict(extra="allow")
    result_type: Literal["task"] = "task"
    task_id: str
    status: str
    created_at: str
    last_updated_at: str
    ttl_ms: int | None = None
    poll_interval_ms: int | None = None


class DetailedTask(Result):
    model_config = ConfigDict(extra="allow")
    task_id: str
    status: str
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    input_requests_: dict[str, Any] | None = Field(default=None, alias="inputRequests")


class TaskIdParams(RequestParams):
    task_id: str


class UpdateParams(TaskIdParams):
    input_responses: dict[str, Any]


class GetTask(Request[TaskIdParams, Literal["tasks/get"]]):
    name_param = "taskId"  # the SDK mirrors it into the Mcp-Name header, as SEP-2663 asks
    method: Literal["tasks/get"] = "tasks/get"


class UpdateTask(Request[UpdateParams, Literal["tasks/update"]]):
    name_param = "taskId"
    method: Literal["tasks/update"] = "tasks/update"


class CancelTask(Request[TaskIdParams, Literal["tasks/cancel"]]):
    name_param = "taskId"
    method: Literal["tasks/cancel"] = "tasks/cancel"


async def get_task(session: Any, task_id: str) -> DetailedTask:
    return await session.send_request(GetTask(params=TaskIdParams(task_id=task_id)), DetailedTask)


class Tasks(ClientExtension):
    """A tasks-extension client: claims CreateTaskResult, answers input requests from a script, polls to the end."""

    identifier = TASKS
    answers: ClassVar[dict[str, dict[str, Any]]] = {}

    def __init__(self) -> None:
        self.created: list[CreateTaskResult] = []
        self.seen_statuses: list[str] = []

    def claims(self) -> list[ResultClaim[Any]]:
        return [ResultClaim(result_type="task", model=CreateTaskResult, resolve=self.resolve)]

    async def resolve(self, created: CreateTaskResult, ctx: ClaimContext) -> CallToolResult:
        self.created.append(created)
        while True:
            task = await get_task(ctx.session, created.task_id)
            self.seen_statuses.append(task.status)
            if task.status == "input_required":
                responses = {key: self.answers[key] for key in (task.input_requests_ or {}) if key in self.answers}
                params = UpdateParams(task_id=created.task_id, input_responses=responses)
                await ctx.session.send_request(UpdateTask(params=params), Result)
            if task.status in ("completed", "failed", "cancelled"):
                assert task.result is not None, task
                return CallToolResult.model_validate(task.result)
            await anyio.sleep(0.2)


@pytest.fixture(scope="module")
def dev() -> DevServer:
    return conformance_server()


def client(dev: DevServer, *extensions: ClientExtension, elicitation_callback: Any = None) -> Client:
    transport = streamable_http_client(dev.url, http_client=create_mcp_http_client())
    return Client(transport, mode="2026-07-28", extensions=list(extensions), elicitation_callback=elicitation_callback)


def test_a_task_tool_becomes_a_durable_task_the_client_polls_to_its_result(dev):
    tasks = Tasks()

    async def main() -> CallToolResult:
        async with client(dev, tasks) as c:
            return await c.call_tool("slow_compute", {"seconds": 1, "label": "sdk"})

    result = anyio.run(main)

    assert result.content[0].text == "Computed sdk after 1s"
    created = tasks.created[0]
    assert created.status == "working" and created.ttl_ms and created.poll_interval_ms == 1000
    assert "working" in tasks.seen_statuses


def test_an_input_required_round_trip_through_tasks_update(dev):
    tasks = Tasks()
    Tasks.answers = {"confirm_delete": {"action": "accept", "content": {"confirm": True}}}

    async def main() -> CallToolResult:
        async with client(dev, tasks) as c:
            return await c.call_tool("confirm_delete", {"filename": "report.csv"})

    result = anyio.run(main)

    assert result.content[0].text == "Deleted report.csv"
    assert "input_required" in tasks.seen_statuses


def test_a_question_asked_before_the_task_starts_fills_in_its_arguments(dev):
    asked: list[str] = []

    async def answer(context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action="accept", content={"name": "Ada"})

    tasks = Tasks()

    async def main() -> CallToolResult:
        async with client(dev, tasks, elicitation_callback=answer) as c:
            return await c.call_tool("test_tool_with_task", {})

    result = anyio.run(main)

    assert asked == ["What is your name?"]
    assert result.content[0].text == "Hello, Ada!"
    assert len(tasks.created) == 1  # asked first (multi round-trip), then created the task


def test_get_update_and_cancel_by_hand_and_the_same_task_through_the_fallback_tools(dev):
    async def main() -> tuple[Any, ...]:
        async with client(dev, Tasks()) as c:
            created = await c.session.call_tool("multi_input", {}, allow_claimed=True)
            assert isinstance(created, CreateTaskResult)
            task_id = created.task_id
            deadline = time.monotonic() + 20
            while (task := await get_task(c.session, task_id)).status != "input_required":
                assert time.monotonic() < deadline
                await anyio.sleep(0.1)
            keys = sorted(task.input_requests_ or {})
            first = UpdateParams(task_id=task_id, input_responses={"ask_name": {"action": "accept", "content": {}}})
            with pytest.raises(MCPError) as refused:  # "name" is required by the request's schema
                await c.session.send_request(UpdateTask(params=first), Result)
            first.input_responses["ask_name"]["content"] = {"name": "Ada"}
            await c.session.send_request(UpdateTask(params=first), Result)
            partial = await get_task(c.session, task_id)
            status = await c.call_tool("get_task_status", {"task_id": task_id})
            await c.session.send_request(CancelTask(params=TaskIdParams(task_id=task_id)), Result)
            # Cancelling the now-cancelled task again is an empty ack too (idempotent), not an error.
            again = await c.session.send_request(CancelTask(params=TaskIdParams(task_id=task_id)), Result)
            final = await get_task(c.session, task_id)
            with pytest.raises(MCPError) as unknown:
                await get_task(c.session, "0" * 32)
            return keys, refused.value, partial, status, again, final, unknown.value

    keys, refused, partial, status, again, final, unknown = anyio.run(main)

    assert keys == ["ask_confirm", "ask_name"]
    assert refused.code == -32602 and "ask_name" in refused.message
    assert partial.status == "input_required" and list(partial.input_requests_ or {}) == ["ask_confirm"]
    assert status.structured_content["status"] == "input_required"
    assert status.structured_content["input_requests"].keys() == {"ask_confirm"}
    assert isinstance(again, Result)
    assert final.status == "cancelled"
    assert unknown.code == -32602


def raw(dev: DevServer, method: str, params: dict[str, Any], declare: bool = True, **headers: str) -> dict[str, Any]:
    caps = {"extensions": {TASKS: {}}} if declare else {}
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": caps}
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": method,
        "params": {**params, "_meta": {**meta, **params.get("_meta", {})}},
    }
    sent = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": method, "Accept": "application/json, text/event-stream"}
    if method == "tools/call":
        sent["Mcp-Name"] = params["name"]
    response = httpx.post(dev.url, json=body, headers={**sent, **headers}, timeout=30)
    return json.loads(response.text)


def test_the_vendor_idempotency_key_returns_the_same_task_and_required_tools_need_the_extension(dev):
    meta = {"io.longhaul/idempotency-key": f"retry-{time.time_ns()}"}
    first = raw(dev, "tools/call", {"name": "slow_compute", "arguments": {"seconds": 30}, "_meta": meta})["result"]
    second = raw(dev, "tools/call", {"name": "slow_compute", "arguments": {"seconds": 30}, "_meta": meta})["result"]
    without = raw(dev, "tools/call", {"name": "failing_job", "arguments": {}}, declare=False)
    optional = raw(dev, "tools/call", {"name": "slow_compute", "arguments": {"seconds": 0}}, declare=False)
    gated = raw(dev, "tasks/get", {"taskId": first["taskId"]}, declare=False, **{"Mcp-Name": first["taskId"]})
    mismatch = raw(dev, "tasks/get", {"taskId": first["taskId"]}, **{"Mcp-Name": "someone-else"})
    listed = raw(dev, "tasks/list", {})
    raw(dev, "tasks/cancel", {"taskId": first["taskId"]}, **{"Mcp-Name": first["taskId"]})

    assert first["resultType"] == "task" and second["taskId"] == first["taskId"]
    assert without["error"]["code"] == -32021
    assert without["error"]["data"]["requiredCapabilities"]["extensions"] == {TASKS: {}}
    assert optional["result"]["structuredContent"]["task_id"]  # the fallback handle, as before
    assert gated["error"]["code"] == -32021
    assert mismatch["error"]["code"] == -32020
    assert listed["error"]["code"] == -32601

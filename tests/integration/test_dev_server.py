"""`longhaul dev` as a user runs it, driven by the official MCP Python SDK client over real HTTP."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import boto3
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from longhaul_dev import dev_process


@dataclass
class DevServer:
    url: str
    aws_endpoint: str
    memory_id: str
    process: subprocess.Popen
    lines: list[str]

    def client(self, token: str | None = None, mode: str = "auto") -> Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        transport = streamable_http_client(self.url, http_client=create_mcp_http_client(headers=headers))
        return Client(transport, mode=mode)

    def aws(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def start_dev_server(*extra: str, env: dict[str, str] | None = None, log: Path | None = None) -> DevServer:
    """``env``: settings for the server on top of this process's environment (e.g. WAIT_POLL_SECONDS); ``log``: its
    output goes to this file (shared_dev: other test processes follow it) instead of a pipe."""
    try:
        process, lines = dev_process.start(*extra, env=env, log=log)
    except dev_process.DevServerDidNotStart as error:
        pytest.fail(str(error))
    text = "".join(lines)
    url = re.search(r"MCP endpoint on (\S+)", text)[1]
    aws = re.search(r"local AWS \(moto\): (\S+)", text)[1]
    memory = re.search(r"memory: (\S+)", text)[1]
    return DevServer(url, aws, memory, process, lines)


def stop(server: DevServer) -> None:
    server.process.send_signal(2)  # Ctrl-C
    server.process.wait(timeout=60)


@pytest.fixture(scope="module")
def dev() -> Iterator[DevServer]:
    """A server of this module's own: the shared ones (shared_dev) are --quiet, and these tests read the transition
    log and see Ctrl-C stop the server cleanly."""
    server = start_dev_server("--auth", "dev-token")
    yield server
    stop(server)
    assert server.process.returncode == 0, "".join(server.lines)
    assert "longhaul dev: stopped" in "".join(server.lines)


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    return result.structured_content


async def wait_until_done(client: Client, task_id: str, timeout: float = 60) -> tuple[dict[str, Any], list[float]]:
    seen: list[float] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await call(client, "get_task_status", {"task_id": task_id})
        seen.append(status["progress"])
        if status["status"] != "working":
            return status, seen
        await anyio.sleep(0.1)
    pytest.fail(f"task {task_id} still working after {timeout} s")


async def test_a_task_runs_to_completion_and_its_result_reaches_memory(dev):
    async with dev.client("alice") as client:
        tools = {tool.name for tool in (await client.list_tools()).tools}
        assert {"model_training", "get_task_status", "get_task_result", "cancel_task", "list_tasks"} <= tools
        assert "athena_query" in tools  # the local stack sets up Athena (a sample database and its workgroup)

        # A checkpoint per epoch: in a longer step progress is written every PROGRESS_MIN_INTERVAL_SECONDS (5 s).
        arguments = {"epochs": 3, "epoch_seconds": 0.4, "checkpoint_seconds": 0, "session_id": "alice-session-1"}
        handle = await call(client, "model_training", arguments)
        status, seen = await wait_until_done(client, handle["task_id"])
        result = await call(client, "get_task_result", {"task_id": handle["task_id"]})

    assert status["status"] == "completed"
    assert seen == sorted(seen) and any(0 < p < 1 for p in seen), seen
    assert result["ready"] and result["result"]["epochs"] == 3
    # The record is completed by the last step; the workflow's next state delivers the result to memory.
    deadline = time.monotonic() + 10
    while True:
        events = dev.aws("bedrock-agentcore").list_events(
            memoryId=dev.memory_id, actorId="alice", sessionId="alice-session-1", includePayloads=True
        )["events"]
        if events or time.monotonic() > deadline:
            break
        await anyio.sleep(0.1)
    assert len(events) == 1
    assert handle["task_id"] in str(events[0]["payload"])
    transition = f"task {handle['task_id'][:8]} model_training (alice): completed"
    deadline = time.monotonic() + 5  # the transition log looks at the table within 0.5 s of a write
    while transition not in "".join(dev.lines) and time.monotonic() < deadline:
        await anyio.sleep(0.1)
    assert transition in "".join(dev.lines)


async def test_cancel_task_ends_a_running_task_cancelled(dev):
    async with dev.client("alice") as client:
        handle = await call(client, "model_training", {"epochs": 100, "epoch_seconds": 0.2})
        cancelled = await call(client, "cancel_task", {"task_id": handle["task_id"]})
        await anyio.sleep(1.0)
        later = await call(client, "get_task_status", {"task_id": handle["task_id"]})
        again = await client.call_tool("cancel_task", {"task_id": handle["task_id"]})
    assert cancelled["status"] == later["status"] == "cancelled"
    assert again.is_error and "already cancelled" in again.content[0].text


async def test_callers_see_only_their_own_tasks(dev):
    async with dev.client("carol") as carol, dev.client("dave") as dave:
        mine = await call(carol, "model_training", {"epochs": 1, "epoch_seconds": 0})
        carols = await call(carol, "list_tasks", {})
        daves = await call(dave, "list_tasks", {})
        peek = await dave.call_tool("get_task_status", {"task_id": mine["task_id"]})
        steal = await dave.call_tool("cancel_task", {"task_id": mine["task_id"]})
    assert [t["task_id"] for t in carols["tasks"]] == [mine["task_id"]]
    assert daves["tasks"] == []
    assert peek.is_error and steal.is_error and "not found" in peek.content[0].text


async def test_an_idempotent_restart_returns_the_same_task(dev):
    arguments = {"epochs": 1, "epoch_seconds": 0, "idempotency_key": "report-2026-11-26"}
    async with dev.client("erin") as client:
        first = await call(client, "model_training", arguments)
        second = await call(client, "model_training", arguments)
    assert first["task_id"] == second["task_id"]


@pytest.mark.parametrize("mode", ["legacy", "2026-07-28"])
async def test_both_protocol_versions_start_and_follow_a_task(dev, mode):
    async with dev.client("frank", mode=mode) as client:
        handle = await call(client, "model_training", {"epochs": 1, "epoch_seconds": 0})
        status, _ = await wait_until_done(client, handle["task_id"])
        waited = await call(client, "wait_for_task", {"task_id": handle["task_id"], "timeout_s": 1})
    assert status["status"] == waited["status"] == "completed"


async def test_no_token_is_refused_with_401_in_token_mode(dev):
    import httpx

    response = httpx.post(
        dev.url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"Accept": "application/json, text/event-stream"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == -32001


async def test_with_stream_wait_for_task_sends_progress_notifications():
    from tests.integration.shared_dev import stream_server  # it imports this module

    server = stream_server()  # wait_for_task reads the record every 0.5 s there
    received: list[tuple[float, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        received.append((progress, message))

    async with server.client("stream-progress") as client:
        arguments = {"epochs": 4, "epoch_seconds": 1, "checkpoint_seconds": 0}
        handle = await call(client, "model_training", arguments)
        result = await client.call_tool(
            "wait_for_task", {"task_id": handle["task_id"], "timeout_s": 30}, progress_callback=on_progress
        )
    assert result.structured_content["status"] == "completed"
    fractions = [p for p, _ in received]
    assert len(received) >= 3 and fractions == sorted(fractions), received
    assert any(message and "epoch" in message for _, message in received)

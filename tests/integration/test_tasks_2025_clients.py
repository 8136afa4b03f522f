"""2025-11-25 clients run longhaul kinds as native MCP tasks against `longhaul dev`, each with its own SDK:
the TypeScript SDK 1.x (node_modules), and the Python SDK 1.x with Strands Agents on mcp 1.x (.venv-mcp1, made by
`make test`: both pin an MCP SDK line other than the one longhaul serves with). The client scripts live in
tests/integration/clients/ and print a JSON report that these tests check."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from longhaul_dev.template import PROJECT_ROOT
from tests.integration.shared_dev import dev_token_server, stream_server
from tests.integration.test_dev_server import DevServer

CLIENTS = Path(__file__).parent / "clients"
MCP1_PYTHON = Path(os.environ.get("LONGHAUL_MCP1_PYTHON", PROJECT_ROOT / ".venv-mcp1" / "bin" / "python"))
RELATED_TASK = "io.modelcontextprotocol/related-task"


@pytest.fixture(scope="module")
def reports() -> Iterator[dict[str, dict[str, Any]]]:
    """One dev server; both client scripts run against it at once (as different callers), then report."""
    if not MCP1_PYTHON.exists():
        pytest.fail(f"{MCP1_PYTHON} is missing: `make test` creates it (mcp 1.x clients in their own venv)")
    node = shutil.which("node")
    if node is None or not (PROJECT_ROOT / "node_modules" / "@modelcontextprotocol" / "sdk").exists():
        pytest.fail("node and node_modules/@modelcontextprotocol/sdk are needed: `make test` installs them (npm ci)")
    server = dev_token_server()  # shared: the callers below are names no other module uses
    runs = {
        "ts": subprocess.Popen(
            [node, str(CLIENTS / "ts_sdk_tasks.mjs"), server.url, "ts-user"], cwd=PROJECT_ROOT, **_pipes()
        ),
        "mcp1": subprocess.Popen(
            [str(MCP1_PYTHON), str(CLIENTS / "mcp1_tasks.py"), server.url, "py-user"], cwd=PROJECT_ROOT, **_pipes()
        ),
    }
    out: dict[str, dict[str, Any]] = {}
    for name, run in runs.items():
        stdout, stderr = run.communicate(timeout=180)
        assert run.returncode == 0, f"{name} client failed:\n{stderr}\n{stdout}"
        out[name] = json.loads(stdout.strip().splitlines()[-1])
    yield out


def _pipes() -> dict[str, Any]:
    return {"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, "text": True}


def test_typescript_sdk_streams_a_kind_to_its_result_as_a_native_task(reports):
    ts = reports["ts"]
    assert ts["protocolVersion"] == "2025-11-25"
    assert ts["capabilities"]["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
    assert ts["execution"]["model_training"] == "optional" and ts["execution"]["get_task_status"] is None
    assert ts["isToolTask"] is True

    types = [m["type"] for m in ts["stream"]]
    assert types[0] == "taskCreated" and types[-1] == "result" and "taskStatus" in types, ts["stream"]
    assert "error" not in types  # 1.32.2 used to fail here, after the task had started
    task_id = ts["stream"][0]["task"]["taskId"]
    assert [m["status"] for m in ts["stream"] if m["type"] == "taskStatus"][-1] == "completed"
    result = ts["stream"][-1]["result"]
    assert result["structuredContent"]["epochs"] == 2 and "final_loss" in result["structuredContent"]
    assert result["_meta"][RELATED_TASK] == {"taskId": task_id}
    assert ts["getTask"]["taskId"] == task_id and ts["getTask"]["status"] == "completed"


def test_typescript_sdk_cancels_and_lists_its_tasks(reports):
    ts = reports["ts"]
    assert ts["cancelled"]["status"] == "cancelled" and ts["afterCancel"]["status"] == "cancelled"
    assert ts["cancelAgain"]["code"] == -32602
    listed = [t["taskId"] for t in ts["listTasks"]["tasks"]]
    assert listed == [ts["cancelled"]["taskId"], ts["stream"][0]["task"]["taskId"]]  # its own two, newest first


def test_python_sdk_1x_runs_polls_fetches_lists_and_cancels_a_native_task(reports):
    py = reports["mcp1"]["python_sdk"]
    assert py["protocolVersion"] == "2025-11-25" and py["tasksCapability"]["requests"]["tools"]["call"] == {}
    task = py["created"]["task"]
    assert task["status"] == "working" and py["created"]["_meta"]["io.modelcontextprotocol/model-immediate-response"]
    assert py["polled"][-1] == "completed"
    assert py["result"]["isError"] is False and py["result"]["structuredContent"]["epochs"] == 2
    assert py["result"]["_meta"][RELATED_TASK] == {"taskId": task["taskId"]}
    assert py["getTask"]["status"] == "completed"
    # One record: the fallback tool sees the same task, finished.
    assert py["fallbackStatus"]["task_id"] == task["taskId"] and py["fallbackStatus"]["status"] == "completed"
    assert py["cancelled"]["status"] == "cancelled"
    assert py["listed"][1] == task["taskId"] and py["listed"][0] == py["cancelled"]["taskId"]
    assert reports["ts"]["stream"][0]["task"]["taskId"] not in py["listed"]  # another caller's task stays hidden


def test_strands_on_mcp_1x_with_tasks_config_runs_a_kind_natively(reports):
    strands = reports["mcp1"]["strands"]
    assert strands["usedTasks"] is True
    result = strands["result"]
    assert result["status"] == "success"
    assert result["structuredContent"]["epochs"] == 2  # the kind's result, not a task handle
    assert RELATED_TASK in result["metadata"]  # it came back through tasks/result


def _rpc(server: DevServer, method: str, params: dict[str, Any]) -> dict[str, Any]:
    headers = {
        "accept": "application/json, text/event-stream",
        "mcp-protocol-version": "2025-11-25",
        "authorization": "Bearer stream-user",
    }
    message = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    with httpx.stream("POST", server.url, json=message, headers=headers, timeout=60) as response:
        assert response.status_code == 200
        events = [json.loads(line[5:]) for line in response.iter_lines() if line.startswith("data:") and line[5:]]
    return {"events": events, "response": events[-1]}


def test_tasks_result_under_stream_blocks_to_the_end_and_pushes_the_status_change():
    server = stream_server()  # shared; tasks/result reads the record every 0.5 s there
    arguments = {"epochs": 4, "epoch_seconds": 1.0}
    created = _rpc(server, "tools/call", {"name": "model_training", "arguments": arguments, "task": {}})
    task_id = created["response"]["result"]["task"]["taskId"]
    started = time.monotonic()
    answer = _rpc(server, "tasks/result", {"taskId": task_id})
    assert time.monotonic() - started > 2  # it waited for the work (4 epochs of 1 s), past several polls
    result = answer["response"]["result"]
    assert result["structuredContent"]["epochs"] == 4 and result["_meta"][RELATED_TASK] == {"taskId": task_id}
    notes = [e["params"] for e in answer["events"] if e.get("method") == "notifications/tasks/status"]
    assert notes and notes[-1]["taskId"] == task_id and notes[-1]["status"] == "completed"

"""McpEndpointFunction driven by API Gateway events (HTTP API v2 with JWT claims, REST v1 with IAM identity)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import boto3
import pytest

from longhaul import runtime
from longhaul.adapters.dynamodb import DynamoTaskStore
from longhaul.models import TaskRecord, TaskStatus
from longhaul_dev.moto_lambda import LocalLambdaContext, load_handler
from longhaul_dev.template import PROJECT_ROOT
from tests.conftest import EVENTS, load_event

ENDPOINT_EVENTS = sorted(p.name for p in (EVENTS / "mcp_endpoint").glob("*.json"))
SUB = "8c4a1f2e-0b7d-4c55-9a8e-1f2e3d4c5b6a"
ALICE_ARN = "arn:aws:iam::123456789012:user/alice"
SAMPLE_TASK = "5f0c3a9e2b7d4e1f8a6c0d2e4b6a8c01"


@pytest.fixture
def handler():
    return load_handler(PROJECT_ROOT / "functions" / "mcp_endpoint", "app.lambda_handler")


@pytest.fixture
def endpoint(stack, handler, monkeypatch):
    """Call the Lambda handler with an event; returns (status code, parsed body)."""

    def call(event: dict[str, Any], auth_mode: str = "jwt") -> tuple[int, Any]:
        monkeypatch.setenv("AUTH_MODE", auth_mode)
        runtime.reset()
        response = handler(event, LocalLambdaContext(function_name="McpEndpointFunction", timeout_seconds=30))
        body = response.get("body") or ""
        return response["statusCode"], (json.loads(body) if body.strip() else None)

    return call


def v2(body: Any, sub: str | None = SUB, **headers: str) -> dict[str, Any]:
    event = load_event("mcp_endpoint/http_api_tools_list.json")
    event["body"] = body if isinstance(body, str) else json.dumps(body)
    event["headers"].update(headers)
    if sub is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = sub
    return event


def call_tool(name: str, arguments: dict[str, Any], request_id: int = 7) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


def table_items(stack) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=stack.table_name)["Items"]


def seed(stack, task_id: str, owner: str) -> None:
    DynamoTaskStore(stack.table_name).create(
        TaskRecord(
            task_id=task_id,
            owner=owner,
            kind="model_training",
            created_at="2026-11-26T06:00:00.000Z",
            updated_at="2026-11-26T06:00:00.000Z",
            expires_at=1_900_000_000,
        )
    )


@pytest.mark.parametrize("name", ENDPOINT_EVENTS)
def test_every_sample_event_gets_a_json_rpc_result(stack, endpoint, name):
    rest = name.startswith("rest_api")
    seed(stack, SAMPLE_TASK, ALICE_ARN if rest else SUB)
    status, body = endpoint(load_event(f"mcp_endpoint/{name}"), auth_mode="iam" if rest else "jwt")

    assert status == 200, body
    assert "error" not in body, body
    result = body["result"]
    if "initialize" in name:
        assert result["serverInfo"]["name"] == "longhaul"
    elif "discover" in name:
        assert "2026-07-28" in result["supportedVersions"]
        assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "longhaul"
    elif "tools_list" in name:
        names = {tool["name"] for tool in result["tools"]}
        assert {"model_training", "csv_profile", "get_task_status", "get_task_result", "cancel_task"} <= names
        assert {"list_tasks", "wait_for_task"} <= names
    elif "start" in name:
        handle = result["structuredContent"]
        assert handle["status"] == "working" and len(handle["task_id"]) == 32
        record = runtime.task_service().get(ALICE_ARN if rest else SUB, handle["task_id"])
        assert record.session_id == "agent-session-1"
    else:
        assert result["structuredContent"]["task_id"] == SAMPLE_TASK


def test_two_hundred_warm_invocations_in_one_process_all_succeed(stack, endpoint):
    event = load_event("mcp_endpoint/http_api_tools_list.json")
    statuses = [endpoint(copy.deepcopy(event))[0] for _ in range(200)]
    assert statuses == [200] * 200


def test_tool_schema_is_the_kinds_params_flat_with_start_options(stack, endpoint):
    _, body = endpoint(load_event("mcp_endpoint/http_api_tools_list.json"))
    tool = next(t for t in body["result"]["tools"] if t["name"] == "model_training")
    props = tool["inputSchema"]["properties"]
    assert {"epochs", "epoch_seconds", "session_id", "idempotency_key"} <= set(props)
    assert props["epochs"]["minimum"] == 1
    assert "immediately" in tool["description"]
    # On 2025-11-25 the tool may also run as a native task, whose result is the kind's: no handle schema there
    # (docs/tasks.md); no tool publishes one at all (tests/integration/test_tools_list.py).
    assert "outputSchema" not in tool and tool["execution"] == {"taskSupport": "optional"}


def test_an_idempotent_restart_returns_the_same_task_and_starts_no_second_execution(stack, endpoint):
    args = {"epochs": 50, "epoch_seconds": 0.2, "checkpoint_seconds": 0, "idempotency_key": "nightly-42"}
    _, first = endpoint(v2(call_tool("model_training", args)))
    _, second = endpoint(v2(call_tool("model_training", args)))
    task_id = first["result"]["structuredContent"]["task_id"]
    assert second["result"]["structuredContent"]["task_id"] == task_id
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    assert [e["name"] for e in executions] == [runtime.task_service().get(SUB, task_id).execution_name]
    _, other = endpoint(v2(call_tool("model_training", {**args, "epochs": 5})))
    assert other["result"]["isError"] is True and "idempotency_key" in other["result"]["content"][0]["text"]
    runtime.task_service().cancel(SUB, task_id)


def test_another_owners_task_answers_exactly_like_an_unknown_one(stack, endpoint):
    _, started = endpoint(
        v2(call_tool("model_training", {"epochs": 50, "epoch_seconds": 0.2, "checkpoint_seconds": 0}), sub="alice")
    )
    task_id = started["result"]["structuredContent"]["task_id"]

    def as_bob(tool: str, tid: str) -> dict[str, Any]:
        _, body = endpoint(v2(call_tool(tool, {"task_id": tid}), sub="bob"))
        return body["result"]

    for tool in ("get_task_status", "get_task_result", "cancel_task", "wait_for_task"):
        theirs, unknown = as_bob(tool, task_id), as_bob(tool, "0" * 32)
        assert theirs["isError"] is True
        assert theirs["content"][0]["text"].replace(task_id, "ID") == unknown["content"][0]["text"].replace(
            "0" * 32, "ID"
        )
    _, bobs = endpoint(v2(call_tool("list_tasks", {}), sub="bob"))
    assert bobs["result"]["structuredContent"]["tasks"] == []
    _, alices = endpoint(v2(call_tool("list_tasks", {}), sub="alice"))
    assert [t["task_id"] for t in alices["result"]["structuredContent"]["tasks"]] == [task_id]
    assert runtime.task_service().get("alice", task_id).status == TaskStatus.WORKING  # bob's cancel did nothing
    runtime.task_service().cancel("alice", task_id)


BAD_INPUTS = {
    "malformed JSON": (lambda: v2('{"jsonrpc": "2.0", "id": 1, "method": '), 400, -32700),
    "wrong content type": (lambda: v2(call_tool("model_training", {}), **{"content-type": "text/plain"}), 415, -32600),
    "unknown tool": (lambda: v2(call_tool("no_such_tool", {})), 200, "isError"),
    "invalid arguments": (lambda: v2(call_tool("model_training", {"epochs": 0})), 200, "isError"),
    "unknown task id": (lambda: v2(call_tool("get_task_status", {"task_id": "f" * 32})), 200, "isError"),
    "bad session id": (lambda: v2(call_tool("model_training", {"session_id": "has spaces"})), 200, "isError"),
    "oversized body": (lambda: v2(call_tool("model_training", {"model_name": "x" * (2 * 1024 * 1024)})), 413, -32600),
    "GET (would open an SSE stream)": (
        lambda: {
            **v2(""),
            "requestContext": {
                **v2("")["requestContext"],
                "http": {**v2("")["requestContext"]["http"], "method": "GET"},
            },
            "routeKey": "GET /mcp",
        },
        405,
        -32600,
    ),
    "no caller identity": (lambda: v2(call_tool("model_training", {}), sub=None), 401, -32001),
}


@pytest.mark.parametrize("case", BAD_INPUTS)
def test_bad_input_gets_a_clear_error_and_writes_nothing(stack, endpoint, case):
    make_event, expected_status, expected = BAD_INPUTS[case]
    status, body = endpoint(make_event())

    assert status == expected_status, body
    if expected == "isError":
        assert body["result"]["isError"] is True
        text = body["result"]["content"][0]["text"]
        assert text and "Traceback" not in text
    elif expected is not None:
        assert body["error"]["code"] == expected and body["error"]["message"]
    assert table_items(stack) == []


def test_the_endpoint_imports_no_worker_memory_or_tracing_code():
    unwanted = ("longhaul.worker", "longhaul.adapters", "moto", "bedrock_agentcore", "aws_xray_sdk")
    prefixes = ("longhaul", *unwanted)
    code = (
        "import sys; sys.path.insert(0, 'functions/mcp_endpoint'); import app; "
        f"print(','.join(sorted(m for m in sys.modules if m.startswith({prefixes!r}))))"
    )
    run = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    loaded = run.stdout.strip().split(",")
    assert "longhaul.endpoint.server" in loaded
    assert not [m for m in loaded if m.startswith(unwanted)]


def test_an_identity_too_long_to_index_is_refused_before_anything_is_written(stack, endpoint):
    status, body = endpoint(v2(call_tool("model_training", {"epochs": 1}), sub="x" * 2000))
    assert status == 401 and body["error"]["code"] == -32001 and "identity" in body["error"]["message"]
    assert table_items(stack) == []
    status, _ = endpoint(v2(call_tool("list_tasks", {}), sub="é" * 500))  # 1,000 bytes: still fine
    assert status == 200

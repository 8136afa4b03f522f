"""The 2025-11-25 tasks utility on the wire, through McpEndpointFunction (API Gateway HTTP API v2 events): one
record and one execution, seen as a native task and through the fallback tools."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from longhaul import runtime
from longhaul.adapters.dynamodb import DynamoTaskStore
from longhaul.adapters.s3 import S3Blobs
from longhaul.endpoint import tasks_2025
from longhaul.endpoint.tasks_2025 import IDEMPOTENCY_META, IMMEDIATE_RESPONSE, RELATED_TASK, RESULT_NOT_READY
from longhaul.models import ResultRef, TaskRecord, TaskStatus
from longhaul_dev.moto_lambda import LocalLambdaContext, load_handler
from longhaul_dev.template import PROJECT_ROOT
from tests.conftest import load_event

ALICE = "alice-sub"
BOB = "bob-sub"
TASK_FIELDS = {"taskId", "status", "createdAt", "lastUpdatedAt", "ttl", "pollInterval"}


@pytest.fixture
def rpc(stack, monkeypatch):
    """Send one JSON-RPC request as ``caller`` on a protocol version; returns the response body."""
    handler = load_handler(PROJECT_ROOT / "functions" / "mcp_endpoint", "app.lambda_handler")
    monkeypatch.setenv("AUTH_MODE", "jwt")
    monkeypatch.setenv("MAX_WAIT_SECONDS", "1")
    monkeypatch.setenv("WAIT_POLL_SECONDS", "0.1")
    runtime.reset()

    def send(method: str, params: dict[str, Any] | None = None, caller: str = ALICE, version: str = "2025-11-25"):
        event = load_event("mcp_endpoint/http_api_tools_list.json")
        event["headers"]["mcp-protocol-version"] = version
        event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = caller
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": 1, "method": method}
        if version == "2026-07-28":  # stateless: every request carries its envelope
            event["headers"]["mcp-method"] = method
            envelope = {
                "io.modelcontextprotocol/protocolVersion": version,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
            }
            params = {**(params or {}), "_meta": envelope}
        if params is not None:
            message["params"] = params
        event["body"] = json.dumps(message)
        response = handler(event, LocalLambdaContext(function_name="McpEndpointFunction", timeout_seconds=30))
        assert response["statusCode"] == 200, response
        return json.loads(response["body"])

    return send


def training(epochs: int = 2, epoch_seconds: float = 0.2, **extra: Any) -> dict[str, Any]:
    """A model_training call; ``checkpoint_seconds`` (if given) goes with the arguments, the rest with the call."""
    arguments: dict[str, Any] = {"epochs": epochs, "epoch_seconds": epoch_seconds}
    if "checkpoint_seconds" in extra:
        arguments["checkpoint_seconds"] = extra.pop("checkpoint_seconds")
    return {"name": "model_training", "arguments": arguments, **extra}


def start_task(rpc, caller: str = ALICE, **extra: Any) -> dict[str, Any]:
    body = rpc("tools/call", {**training(), "task": {"ttl": 60000}, **extra}, caller=caller)
    assert "result" in body, body
    return body["result"]


def wait_terminal(rpc, task_id: str, caller: str = ALICE, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        task = rpc("tasks/get", {"taskId": task_id}, caller=caller)["result"]
        if task["status"] in ("completed", "failed", "cancelled"):
            return task
        time.sleep(0.1)
    pytest.fail(f"task {task_id} did not finish in {timeout} s")


def test_initialize_advertises_tasks_only_when_2025_11_25_is_negotiated(rpc):
    init = {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
    caps = rpc("initialize", init, version="2025-03-26")["result"]["capabilities"]
    assert caps["tasks"] == {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}

    older = rpc("initialize", {**init, "protocolVersion": "2025-06-18"}, version="2025-03-26")["result"]
    assert older["protocolVersion"] == "2025-06-18" and "tasks" not in older["capabilities"]


def test_task_kind_tools_are_optional_and_the_status_tools_forbidden(rpc):
    tools = {t["name"]: t for t in rpc("tools/list")["result"]["tools"]}
    for name in ("model_training", "csv_profile"):
        assert tools[name]["execution"] == {"taskSupport": "optional"}
        assert "outputSchema" not in tools[name]  # called as a task, its result is the kind's, not a handle
    for name in ("get_task_status", "get_task_result", "cancel_task", "list_tasks", "wait_for_task"):
        assert "execution" not in tools[name]

    modern = {t["name"]: t for t in rpc("tools/list", version="2026-07-28")["result"]["tools"]}
    assert "execution" not in modern["model_training"]


def test_a_task_call_answers_the_nested_create_task_result_and_runs_to_its_result(rpc, stack):
    created = start_task(rpc)
    task = created["task"]
    assert set(task) >= TASK_FIELDS and task["status"] == "working"
    assert 29 * 86400_000 < task["ttl"] <= 30 * 86400_000  # the record's real lifetime, not the 60 s asked for
    assert created["_meta"][IMMEDIATE_RESPONSE]
    assert "structuredContent" not in created and "content" not in created

    # Durable before the answer: the record is there, and one execution named after the task runs.
    assert rpc("tasks/get", {"taskId": task["taskId"]})["result"]["taskId"] == task["taskId"]
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn)
    assert [e["name"].rsplit("-", 1)[0] for e in executions["executions"]] == [task["taskId"]]

    done = wait_terminal(rpc, task["taskId"])
    assert done["status"] == "completed" and done["lastUpdatedAt"] >= task["lastUpdatedAt"]
    result = rpc("tasks/result", {"taskId": task["taskId"]})["result"]
    assert result["_meta"][RELATED_TASK] == {"taskId": task["taskId"]}
    assert not result.get("isError")
    assert result["structuredContent"]["epochs"] == 2
    assert json.loads(result["content"][0]["text"]) == result["structuredContent"]

    # The same task through the fallback tools.
    status = rpc("tools/call", {"name": "get_task_status", "arguments": {"task_id": task["taskId"]}})
    assert status["result"]["structuredContent"]["status"] == "completed"


def test_tasks_result_on_a_working_task_answers_a_documented_error_after_the_wait_budget(rpc):
    task_id = rpc("tools/call", {**training(epochs=30, epoch_seconds=1, checkpoint_seconds=0), "task": {}})["result"][
        "task"
    ]["taskId"]
    started = time.monotonic()
    body = rpc("tasks/result", {"taskId": task_id})
    assert time.monotonic() - started >= 1  # it waited (MAX_WAIT_SECONDS=1) before giving up
    error = body["error"]
    assert error["code"] == RESULT_NOT_READY and "poll tasks/get" in error["message"]
    assert error["data"]["taskId"] == task_id and error["data"]["status"] == "working"
    assert error["data"]["_meta"][RELATED_TASK] == {"taskId": task_id}
    rpc("tasks/cancel", {"taskId": task_id})


def test_cancel_is_cancelled_before_the_reply_and_minus_32602_once_terminal(rpc):
    task_id = rpc("tools/call", {**training(epochs=30, epoch_seconds=1, checkpoint_seconds=0), "task": {}})["result"][
        "task"
    ]["taskId"]
    cancelled = rpc("tasks/cancel", {"taskId": task_id})["result"]
    assert cancelled["status"] == "cancelled" and cancelled["taskId"] == task_id
    assert rpc("tasks/get", {"taskId": task_id})["result"]["status"] == "cancelled"

    again = rpc("tasks/cancel", {"taskId": task_id})["error"]
    assert again["code"] == -32602 and "terminal status 'cancelled'" in again["message"]
    result = rpc("tasks/result", {"taskId": task_id})["result"]
    assert result["isError"] is True and result["_meta"][RELATED_TASK] == {"taskId": task_id}


def test_unknown_and_foreign_task_ids_answer_identically(rpc):
    task_id = start_task(rpc, caller=ALICE)["task"]["taskId"]
    for method in ("tasks/get", "tasks/result", "tasks/cancel"):
        foreign = rpc(method, {"taskId": task_id}, caller=BOB)["error"]
        unknown = rpc(method, {"taskId": "0" * 32}, caller=BOB)["error"]
        assert foreign == unknown and foreign["code"] == -32602, method
    assert task_id not in {t["taskId"] for t in rpc("tasks/list", caller=BOB)["result"]["tasks"]}
    assert rpc("tasks/get", {"taskId": task_id}, caller=ALICE)["result"]["status"] in ("working", "completed")
    assert rpc("tasks/get", {})["error"]["code"] == -32602


def test_list_shows_the_callers_tasks_newest_first_and_rejects_foreign_cursors(rpc):
    mine = [start_task(rpc)["task"]["taskId"] for _ in range(3)]
    start_task(rpc, caller=BOB)
    listed = rpc("tasks/list", {})["result"]
    assert [t["taskId"] for t in listed["tasks"]] == mine[::-1]
    assert all(set(t) >= TASK_FIELDS for t in listed["tasks"])
    assert "nextCursor" not in listed
    assert rpc("tasks/list", {"cursor": "not-a-cursor"})["error"]["code"] == -32602


def test_task_on_a_forbidden_tool_is_minus_32601_and_bad_arguments_start_nothing(rpc, stack):
    forbidden = rpc("tools/call", {"name": "list_tasks", "arguments": {}, "task": {}})["error"]
    assert forbidden["code"] == -32601 and "without task" in forbidden["message"]

    bad = rpc("tools/call", {"name": "model_training", "arguments": {"epochs": "many"}, "task": {}})["error"]
    assert bad["code"] == -32602 and "epochs" in bad["message"]
    assert boto3.client("dynamodb").scan(TableName=stack.table_name)["Items"] == []


def test_a_retried_task_call_with_an_idempotency_key_answers_the_same_task(rpc, stack):
    meta = {"_meta": {IDEMPOTENCY_META: "retry-1"}}
    first = start_task(rpc, **meta)["task"]
    second = start_task(rpc, **meta)["task"]
    assert second["taskId"] == first["taskId"]
    by_argument = rpc(
        "tools/call",
        {
            "name": "model_training",
            "arguments": {"epochs": 2, "epoch_seconds": 0.2, "idempotency_key": "k"},
            "task": {},
        },
    )["result"]["task"]
    again = rpc(
        "tools/call",
        {
            "name": "model_training",
            "arguments": {"epochs": 2, "epoch_seconds": 0.2, "idempotency_key": "k"},
            "task": {},
        },
    )["result"]["task"]
    assert again["taskId"] == by_argument["taskId"] != first["taskId"]
    assert len(boto3.client("dynamodb").scan(TableName=stack.table_name)["Items"]) == 2


def test_task_methods_are_not_served_on_other_versions(rpc):
    assert rpc("tasks/list", {}, version="2025-06-18")["error"]["code"] == -32601
    plain = rpc("tools/call", {**training(), "task": {}}, version="2025-06-18")["result"]
    assert "task" not in plain and plain["structuredContent"]["status"] == "working"  # task ignored, as the spec says


def seed(stack, owner: str = ALICE, **fields: Any) -> str:
    """A record as the workflow leaves it (failed, waiting for input, with a result in S3)."""
    task_id = uuid.uuid4().hex
    record = TaskRecord(
        task_id=task_id,
        owner=owner,
        kind="model_training",
        created_at="2026-11-26T06:00:00.000Z",
        updated_at="2026-11-26T06:05:00.000Z",
        expires_at=1_795_672_800 + 3650 * 86_400,  # ten years after createdAt
        **fields,
    )
    DynamoTaskStore(stack.table_name).create(record)
    return task_id


def test_a_failed_task_says_why_in_get_and_result(rpc, stack):
    task_id = seed(stack, status=TaskStatus.FAILED, error_type="ValueError", error_message="learning rate is NaN")
    task = rpc("tasks/get", {"taskId": task_id})["result"]
    assert task["status"] == "failed" and task["statusMessage"] == "learning rate is NaN"
    assert task["createdAt"] == "2026-11-26T06:00:00.000Z" and task["lastUpdatedAt"] == "2026-11-26T06:05:00.000Z"
    assert task["ttl"] == 3650 * 86_400_000  # the record's lifetime from createdAt, in ms
    result = rpc("tasks/result", {"taskId": task_id})["result"]
    assert result["isError"] is True and "ValueError: learning rate is NaN" in result["content"][0]["text"]
    assert result["_meta"][RELATED_TASK] == {"taskId": task_id}


def test_a_result_too_large_for_a_response_comes_back_as_a_download_url(rpc, stack):
    ref = S3Blobs(stack.bucket_name).put_result("big", b'{"rows": "' + b"x" * 64 + b'"}')
    big = ResultRef(bucket=ref.bucket, key=ref.key, size_bytes=5 * 1024 * 1024)  # as if over the 4 MiB inline limit
    task_id = seed(stack, status=TaskStatus.COMPLETED, result_ref=big)
    result = rpc("tasks/result", {"taskId": task_id})["result"]
    url = result["structuredContent"]["result_url"]
    assert url.startswith("http") and url in result["content"][0]["text"] and not result.get("isError")


def test_a_task_waiting_for_input_shows_input_required_and_its_result_waits(rpc, stack):
    task_id = seed(stack, status=TaskStatus.INPUT_REQUIRED, message="approve the expensive phase")
    task = rpc("tasks/get", {"taskId": task_id})["result"]
    assert task["status"] == "input_required" and task["statusMessage"] == "approve the expensive phase"
    assert rpc("tasks/result", {"taskId": task_id})["error"]["code"] == RESULT_NOT_READY


def test_list_pages_with_a_cursor(rpc, stack, monkeypatch):
    monkeypatch.setattr(tasks_2025, "LIST_PAGE_SIZE", 2)
    ids = [seed(stack) for _ in range(3)]
    first = rpc("tasks/list", {})["result"]
    second = rpc("tasks/list", {"cursor": first["nextCursor"]})["result"]
    assert len(first["tasks"]) == 2 and "nextCursor" not in second
    assert sorted(t["taskId"] for t in first["tasks"] + second["tasks"]) == sorted(ids)
    assert rpc("tasks/list", {"cursor": first["nextCursor"]}, caller=BOB)["error"]["code"] == -32602


def test_a_start_the_workflow_refuses_is_an_internal_error_worth_retrying(rpc, stack):
    # The fault where AWS raises it: StartExecution answers AccessDenied (not retried by boto3).
    workflow = runtime.task_service().workflow
    with Stubber(workflow.client) as stub:
        stub.add_client_error("start_execution", service_error_code="AccessDeniedException", http_status_code=400)
        error = rpc("tools/call", {**training(), "task": {}})["error"]
    assert error["code"] == -32603 and "could not be started" in error["message"], error
    assert "Traceback" not in error["message"]

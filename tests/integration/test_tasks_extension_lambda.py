"""The tasks extension through the real Lambda handler and API Gateway HTTP API events (JWT callers).

Given the local stack, when alice's task is asked about natively, then another owner, an unknown id and an expired
task all answer the same -32602; large results come back as a link; respond_to_task serves clients without it.
"""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import pytest

from longhaul import runtime
from longhaul.models import TaskStatus
from longhaul_dev.moto_lambda import LocalLambdaContext, load_handler
from longhaul_dev.stack import wait_for_execution
from longhaul_dev.template import PROJECT_ROOT
from tests.integration.test_input_required import NoParams, ask_twice, wait_for_status
from tests.integration.test_mcp_endpoint import v2

TASKS = "io.modelcontextprotocol/tasks"


@pytest.fixture
def endpoint(stack, monkeypatch):
    """The McpEndpointFunction handler called with an API Gateway event; returns (status code, parsed body)."""
    handler = load_handler(PROJECT_ROOT / "functions" / "mcp_endpoint", "app.lambda_handler")

    def call(event: dict[str, Any]) -> tuple[int, Any]:
        monkeypatch.setenv("AUTH_MODE", "jwt")
        runtime.reset()
        response = handler(event, LocalLambdaContext(function_name="McpEndpointFunction", timeout_seconds=30))
        return response["statusCode"], json.loads(response.get("body") or "null")

    return call


def modern(method: str, params: dict[str, Any], declare: bool = True, request_id: int = 3) -> dict[str, Any]:
    caps = {"extensions": {TASKS: {}}} if declare else {}
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": caps}
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": {**params, "_meta": meta}}


def send(endpoint, body: dict[str, Any], sub: str) -> dict[str, Any]:
    name = body["params"].get("name") or body["params"].get("taskId")
    headers = {"mcp-protocol-version": "2026-07-28", "mcp-method": body["method"]}
    if name:
        headers["mcp-name"] = name
    _, response = endpoint(v2(body, sub=sub, **headers))
    return response


def test_unknown_expired_and_other_owners_tasks_answer_the_same(stack, endpoint):
    created = send(
        endpoint,
        modern(
            "tools/call",
            {"name": "model_training", "arguments": {"epochs": 40, "epoch_seconds": 0.2, "checkpoint_seconds": 0}},
        ),
        "alice",
    )
    task_id = created["result"]["taskId"]
    assert created["result"]["resultType"] == "task"

    answers = {
        "foreign": send(endpoint, modern("tasks/get", {"taskId": task_id}), "bob"),
        "unknown": send(endpoint, modern("tasks/get", {"taskId": "0" * 32}), "alice"),
        "foreign cancel": send(endpoint, modern("tasks/cancel", {"taskId": task_id}), "bob"),
    }
    boto3.client("dynamodb").update_item(
        TableName=stack.table_name,
        Key={"task_id": {"S": task_id}},
        UpdateExpression="SET expires_at = :past",
        ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
    )
    answers["expired"] = send(endpoint, modern("tasks/get", {"taskId": task_id}), "alice")

    errors = {case: body["error"] for case, body in answers.items()}
    assert {e["code"] for e in errors.values()} == {-32602}
    assert len({e["message"] for e in errors.values()}) == 1
    assert runtime.task_service().get("alice", task_id).status == TaskStatus.WORKING  # bob's cancel did nothing
    runtime.task_service().cancel("alice", task_id)


def test_a_result_too_large_for_one_response_is_a_resource_link(stack, endpoint, register_kind, monkeypatch):
    from longhaul import tasks
    from longhaul.kinds import Done, TaskKind

    register_kind(TaskKind("big", "big", "big", NoParams, lambda p, c, x: Done({"blob": "y" * 150_000})))
    monkeypatch.setattr(tasks, "UNMEASURED_INLINE_BYTES", 100_000)
    record = runtime.task_service().start("alice", "big", {})  # a kind registered after the server built its tools
    task_id = record.task_id
    wait_for_execution(record.execution_arn)

    task = send(endpoint, modern("tasks/get", {"taskId": task_id}), "alice")["result"]

    assert task["status"] == "completed"
    text, link = task["result"]["content"]
    assert link["type"] == "resource_link" and link["uri"].startswith("http")
    assert "too large" in text["text"]


def test_respond_to_task_answers_a_waiting_task_for_clients_without_the_extension(stack, endpoint, register_kind):
    from longhaul.kinds import TaskKind

    register_kind(TaskKind("ask_twice", "ask", "asks", NoParams, ask_twice))
    task_id = runtime.task_service().start("alice", "ask_twice", {}).task_id
    wait_for_status("alice", task_id, TaskStatus.INPUT_REQUIRED)
    status = send(
        endpoint, modern("tools/call", {"name": "get_task_status", "arguments": {"task_id": task_id}}), "alice"
    )
    assert set(status["result"]["structuredContent"]["input_requests"]) == {"approve-1", "name-1"}

    def respond(responses: dict[str, Any]) -> dict[str, Any]:
        arguments = {"task_id": task_id, "responses": responses}
        return send(endpoint, modern("tools/call", {"name": "respond_to_task", "arguments": arguments}), "alice")

    bad = respond({"name-1": {"action": "accept", "content": {}}})
    partial = respond({"approve-1": {"action": "accept", "content": {"approve": False}}})
    done = respond({"name-1": {"action": "accept", "content": {"name": "Grace"}}})

    assert bad["result"]["isError"] is True and "name-1" in bad["result"]["content"][0]["text"]
    assert partial["result"]["structuredContent"]["pending_input_requests"].keys() == {"name-1"}
    assert done["result"]["structuredContent"]["status"] in ("working", "completed")
    wait_for_execution(runtime.task_service().get("alice", task_id).execution_arn)
    assert runtime.task_service().result("alice", task_id)[1] == {"approved": False, "name": "Grace"}


@pytest.mark.parametrize("method", ["prompts/get", "resources/read"])
def test_prompts_and_resources_that_do_not_exist_are_the_clients_mistake(stack, endpoint, method):
    params = {"name": "nope"} if method == "prompts/get" else {"uri": "file:///nope"}
    body = modern(method, params, declare=False)
    headers = {"mcp-protocol-version": "2026-07-28", "mcp-method": method, "mcp-name": next(iter(params.values()))}
    _, response = endpoint(v2(body, sub="alice", **headers))
    assert response["error"]["code"] == -32602

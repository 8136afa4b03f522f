"""What a client sees at the edges: strict start arguments, answers that fit one Lambda response, and input
uploads scoped to the caller. Driven by the official MCP SDK client through the real Lambda handler (each
HTTP request becomes an API Gateway HTTP API v2 event, the caller a verified JWT ``sub``)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import boto3
import httpx
import pytest
import requests
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from longhaul import runtime
from longhaul.adapters.dynamodb import DynamoTaskStore
from longhaul.adapters.s3 import S3Blobs
from longhaul.endpoint.views import LAMBDA_RESPONSE_LIMIT_BYTES, TaskResultView, response_bytes, tool_result
from longhaul.errors import InvalidTaskParams
from longhaul.inputs import input_prefix
from longhaul.models import TaskRecord, TaskStatus
from longhaul_dev.dev_server import lambda_front
from longhaul_dev.moto_lambda import LocalLambdaContext, load_handler
from longhaul_dev.template import PROJECT_ROOT
from tests.conftest import load_event

KIB, MIB = 1024, 1024 * 1024


@pytest.fixture
def handler(stack, monkeypatch) -> Iterator[Any]:
    monkeypatch.setenv("AUTH_MODE", "jwt")
    runtime.reset()
    yield load_handler(PROJECT_ROOT / "functions" / "mcp_endpoint", "app.lambda_handler")


@asynccontextmanager
async def sdk_client(handler: Any, owner: str) -> AsyncIterator[Client]:
    """The SDK client over HTTP into the Lambda handler; the bearer token names the caller (dev-token style)."""
    http = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=lambda_front(handler, "dev-token")),
        headers={"Authorization": f"Bearer {owner}"},
        timeout=60,
    )
    async with http, Client(streamable_http_client("http://longhaul.test/mcp", http_client=http)) as client:
        yield client


def writes_to_table(stack) -> list[dict[str, Any]]:
    return boto3.client("dynamodb").scan(TableName=stack.table_name)["Items"]


# --- strict start arguments ------------------------------------------------------------------------------------


async def test_every_start_tool_publishes_a_closed_input_schema(handler):
    async with sdk_client(handler, "alice") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    for name in ("model_training", "csv_profile"):
        assert tools[name].input_schema["additionalProperties"] is False
        assert {"session_id", "idempotency_key"} <= set(tools[name].input_schema["properties"])


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"epoch": 500}, "epoch"),  # a typo: silently starting a default 5-epoch task is the bug
        ({"epochs": True}, "epochs"),  # true is not 1
        ({"epochs": "3"}, "epochs"),  # "3" is not 3
        ({"epochs": 3.0}, "epochs"),  # an int field takes JSON integers only
        ({"epochs": 3, "session_id": 7}, "session_id"),
        ({"epochs": 3, "idempotency_key": ["k"]}, "idempotency_key"),
    ],
)
async def test_unknown_or_mistyped_start_arguments_are_refused_naming_the_field(handler, stack, arguments, field):
    async with sdk_client(handler, "alice") as client:
        result = await client.call_tool("model_training", arguments)

    assert result.is_error
    text = result.content[0].text
    assert f"{field}:" in text and "Traceback" not in text and "pydantic" not in text
    assert writes_to_table(stack) == []
    assert boto3.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn)["executions"] == []


async def test_a_well_typed_start_keeps_the_callers_values(handler, stack):
    async with sdk_client(handler, "alice") as client:
        result = await client.call_tool("model_training", {"epochs": 3, "learning_rate": 1, "epoch_seconds": 0.5})
    assert not result.is_error, result.content
    record = runtime.task_service().get("alice", result.structured_content["task_id"])
    assert record.params["epochs"] == 3 and record.params["learning_rate"] == 1.0
    runtime.task_service().cancel("alice", record.task_id)


def test_task_service_start_is_as_strict_as_the_tool(stack):
    service = runtime.task_service()
    with pytest.raises(InvalidTaskParams, match="epoch"):
        service.start("alice", "model_training", {"epoch": 500})
    with pytest.raises(InvalidTaskParams, match="epochs"):
        service.start("alice", "model_training", {"epochs": True})
    with pytest.raises(InvalidTaskParams, match="JSON"):
        service.start("alice", "model_training", {"epochs": float("nan")})
    assert writes_to_table(stack) == []


# --- every response fits -------------------------------------------------------------------------------------


def completed_with_result(stack, owner: str, task_id: str, value: Any) -> int:
    """A completed task whose result lives in S3, as the worker leaves it; returns its stored size."""
    body = json.dumps(value, separators=(",", ":")).encode()
    ref = S3Blobs(stack.bucket_name).put_result(task_id, body)
    DynamoTaskStore(stack.table_name).create(
        TaskRecord(
            task_id=task_id,
            owner=owner,
            kind="model_training",
            status=TaskStatus.COMPLETED,
            progress=1.0,
            created_at="2026-11-26T06:00:00.000Z",
            updated_at="2026-11-26T07:00:00.000Z",
            expires_at=1_900_000_000,
            result_ref=ref,
        )
    )
    return len(body)


def get_result_via_lambda(handler, owner: str, task_id: str) -> tuple[int, dict[str, Any]]:
    """Call get_task_result through the handler; returns the size of the Lambda response and the tool result."""
    event = load_event("mcp_endpoint/http_api_get_task_status.json")
    event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = owner
    call = {"name": "get_task_result", "arguments": {"task_id": task_id}}
    event["body"] = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": call})
    response = handler(event, LocalLambdaContext(function_name="McpEndpointFunction", timeout_seconds=30))
    assert response["statusCode"] == 200
    # What Lambda sends back is this dict as JSON: its size is what the 6 MB limit applies to.
    size = max(len(json.dumps(response).encode()), len(json.dumps(response, ensure_ascii=False).encode()))
    return size, json.loads(response["body"])["result"]


def rows(total_bytes: int) -> list[dict[str, Any]]:
    """Row-shaped data: many small dicts, mostly quotes and short keys, which JSON-escaping more than doubles."""
    row = {"id": 0, "name": "x", "ok": True, "v": 1.5}
    count = total_bytes // len(json.dumps(row, separators=(",", ":")))
    return [{"id": i, "name": "x", "ok": True, "v": 1.5} for i in range(count)]


@pytest.mark.parametrize(
    ("label", "value", "inline"),
    [
        ("100 KiB", {"blob": "z" * (100 * KIB)}, True),
        ("1.5 MiB of plain text", {"blob": "z" * (3 * MIB // 2)}, True),
        ("3 MiB row-shaped", rows(3 * MIB), False),
        ("5 MiB", {"blob": "z" * (5 * MIB)}, False),
    ],
)
def test_get_task_result_answers_within_the_lambda_response_limit(stack, handler, label, value, inline):
    task_id = f"{len(label):02d}" + "a" * 30
    stored = completed_with_result(stack, "alice", task_id, value)
    size, result = get_result_via_lambda(handler, "alice", task_id)

    assert size < LAMBDA_RESPONSE_LIMIT_BYTES, f"{label}: {size} bytes"
    view = result["structuredContent"]
    assert view["result_size_bytes"] == stored
    assert json.loads(result["content"][0]["text"]) == view  # the text block is the same answer
    if inline:
        assert view["result"] == value and view["result_url"] is None
    else:
        assert view["result"] is None and view["result_url"].startswith("https://")
        assert requests.get(view["result_url"], timeout=30).json() == value  # moto serves the presigned GET
        # The old rule (inline below 4 MiB of stored bytes) would have broken this response:
        naive = TaskResultView(task_id=task_id, status=TaskStatus.COMPLETED, ready=True, result=value)
        if stored < 4 * MIB:
            assert response_bytes(tool_result(naive)) > LAMBDA_RESPONSE_LIMIT_BYTES


def test_the_measured_size_is_not_below_what_lambda_really_sends(stack, handler):
    value = rows(MIB)
    completed_with_result(stack, "alice", "b" * 32, value)
    size, _ = get_result_via_lambda(handler, "alice", "b" * 32)
    view = TaskResultView(task_id="b" * 32, status=TaskStatus.COMPLETED, ready=True, result=value, result_size_bytes=0)
    assert size <= response_bytes(tool_result(view)) + 2 * KIB  # headers are the only part not measured


def test_download_and_upload_urls_are_sigv4_in_us_east_1(stack):
    blobs = runtime.task_service().blobs
    assert blobs.client.meta.region_name == "us-east-1"
    completed_with_result(stack, "alice", "c" * 32, {"x": 1})
    record = runtime.task_service().get("alice", "c" * 32)
    for url in (blobs.download_url(record.result_ref, 900), blobs.upload_url("inputs/k/f.csv", "text/csv", 900)):
        query = parse_qs(urlparse(url).query)
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Expires"] == ["900"]
        assert "/us-east-1/s3/aws4_request" in query["X-Amz-Credential"][0]
        assert "AWSAccessKeyId" not in query and "Signature" not in query


# --- inputs under the caller's own prefix ------------------------------------------------------------------------


async def test_an_upload_url_puts_the_file_under_the_callers_prefix_only(handler, stack):
    async with sdk_client(handler, "alice@example.com") as client:
        result = await client.call_tool(
            "create_upload_url", {"filename": "../../payroll 2026.csv", "content_type": "text/csv"}
        )
    assert not result.is_error, result.content
    upload = result.structured_content
    key = upload["input_key"]
    assert key.startswith(input_prefix("alice@example.com")) and key.endswith("payroll_2026.csv")
    assert ".." not in key and upload["expires_in_seconds"] == 900 and upload["method"] == "PUT"
    url = urlparse(upload["upload_url"])
    assert unquote(url.path).endswith(key)
    assert parse_qs(url.query)["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]

    put = requests.put(upload["upload_url"], data=b"name,salary\nann,91000\n", headers=upload["headers"], timeout=30)
    assert put.status_code == 200, put.text
    body = boto3.client("s3").get_object(Bucket=stack.bucket_name, Key=key)["Body"].read()
    assert body == b"name,salary\nann,91000\n"
    assert writes_to_table(stack) == []


async def test_a_filename_with_nothing_usable_is_refused_clearly(handler):
    async with sdk_client(handler, "alice") as client:
        result = await client.call_tool("create_upload_url", {"filename": "../.."})
    assert result.is_error and "filename" in result.content[0].text

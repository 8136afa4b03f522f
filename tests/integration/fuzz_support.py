"""Shared by the endpoint fuzz and the tenant-isolation property tests: a table-and-endpoint stack in moto (no
workflow runs: Step Functions only records executions), the real Lambda handler, and a count of the DynamoDB
writes that succeeded, taken at the boto3 call (a botocore event hook on the session every client comes from)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from longhaul import runtime
from longhaul_dev.moto_lambda import LocalLambdaContext, load_handler
from longhaul_dev.stack import LocalStack, create_local_stack
from longhaul_dev.template import PROJECT_ROOT
from tests.conftest import load_event

WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"}
# What an answer must never show a client: stack traces, file paths, the package's or the AWS SDK's internals.
LEAKS = re.compile(r'Traceback|File "|site-packages|\.py\b|longhaul\.|longhaul_dev|botocore|boto3|moto')
# The SDK's whole answer for an exception no code meant to raise (the details stay in the log): a bug to fix.
CRASH = re.compile(r'"Error executing tool [^":]*"')


class Endpoint:
    def __init__(self, stack: LocalStack, handler: Any, writes: list[str]):
        self.stack = stack
        self.handler = handler
        self.writes = writes  # successful DynamoDB write calls, in order
        self.requests = 0

    def __repr__(self) -> str:
        return f"Endpoint(requests={self.requests}, writes={len(self.writes)})"

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.requests += 1
        return self.handler(event, LocalLambdaContext(function_name="McpEndpointFunction", timeout_seconds=30))

    def call(self, owner: str | None, method: str, params: Any, **headers: str) -> tuple[int, Any]:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        response = self.invoke(event(json.dumps(body), owner, **headers))
        text = response.get("body") or ""
        return response["statusCode"], json.loads(text) if text.strip() else None

    def tool(self, owner: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        status, body = self.call(owner, "tools/call", {"name": name, "arguments": arguments})
        assert status == 200, body
        return body["result"]


def event(body: str, owner: str | None, **headers: str) -> dict[str, Any]:
    """An API Gateway HTTP API v2 event as the JWT authorizer passes it on, with ``owner`` as the verified sub."""
    base = load_event("mcp_endpoint/http_api_tools_list.json")
    base["body"] = body
    base["headers"].update(headers)
    if owner is None:
        del base["requestContext"]["authorizer"]
    else:
        base["requestContext"]["authorizer"]["jwt"]["claims"]["sub"] = owner
    return base


def problems(response: dict[str, Any], request_body: str = "") -> list[str]:
    """What is wrong with an answer, whatever the request: a 5xx, a leaked internal, an unexpected crash. A word the
    request itself holds is an echo, not a leak (a file named "moto.py" is in its own upload URL)."""
    text = (response.get("body") or "") + json.dumps(response.get("headers") or {})
    found = sorted({word for word in LEAKS.findall(text) if word not in request_body})
    if response["statusCode"] >= 500:
        found.append(f"HTTP {response['statusCode']}")
    if CRASH.search(text):
        found.append("crash")
    return found


def rejected(response: dict[str, Any]) -> bool:
    """Not a successful call: an HTTP error, a JSON-RPC error, or a tool error."""
    if response["statusCode"] >= 300:
        return True
    try:
        body = json.loads(response.get("body") or "null")
    except ValueError:
        return True
    if not isinstance(body, dict):
        return True
    return "error" in body or bool((body.get("result") or {}).get("isError"))


@pytest.fixture(scope="module")
def endpoint() -> Iterator[Endpoint]:
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        stack = create_local_stack()
        for name, value in stack.environment.items():
            patch.setenv(name, value)
        patch.setenv("AUTH_MODE", "jwt")
        patch.setenv("MAX_WAIT_SECONDS", "0")  # wait_for_task answers at once: the fuzz must not sit in waits
        writes: list[str] = []

        def count_write(http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
            if model.name in WRITE_OPERATIONS and "Error" not in parsed:
                writes.append(model.name)

        session = boto3._get_default_session()
        session.events.register("after-call.dynamodb", count_write)
        runtime.reset()  # clients are built again, from the session that now counts
        try:
            handler = load_handler(PROJECT_ROOT / "functions" / "mcp_endpoint", "app.lambda_handler")
            yield Endpoint(stack, handler, writes)
        finally:
            session.events.unregister("after-call.dynamodb", count_write)
            runtime.reset()

"""A deployed stack, end to end: the official MCP client against the API Gateway URL.

    AWS_SAM_STACK_NAME=longhaul LONGHAUL_TOKEN=<jwt> .venv/bin/pytest tests/e2e

The MCP URL is the stack's McpUrl output (or LONGHAUL_MCP_URL, e.g. a `longhaul dev` server); LONGHAUL_TOKEN is a
JWT from the stack's issuer (omit it for AuthMode=none). Without a stack or URL these tests are skipped: they
need AWS.
"""

from __future__ import annotations

import os
import time
import uuid

import anyio
import boto3
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

pytestmark = pytest.mark.e2e


def mcp_url() -> str:
    if url := os.environ.get("LONGHAUL_MCP_URL"):
        return url
    stack = os.environ.get("AWS_SAM_STACK_NAME")
    if not stack:
        pytest.skip("no deployed stack: set AWS_SAM_STACK_NAME (and LONGHAUL_TOKEN) to run the e2e tests")
    outputs = boto3.client("cloudformation").describe_stacks(StackName=stack)["Stacks"][0]["Outputs"]
    return next(o["OutputValue"] for o in outputs if o["OutputKey"] == "McpUrl")


def client() -> Client:
    token = os.environ.get("LONGHAUL_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return Client(streamable_http_client(mcp_url(), http_client=create_mcp_http_client(headers=headers)))


async def test_a_task_started_over_mcp_completes_and_its_result_is_readable():
    async with client() as session:
        started = await session.call_tool(
            "model_training",
            {"epochs": 2, "epoch_seconds": 1, "idempotency_key": f"e2e-{uuid.uuid4().hex}"},
        )
        assert not started.is_error, started.content
        task_id = started.structured_content["task_id"]
        deadline = time.monotonic() + 300
        while True:
            status = (await session.call_tool("get_task_status", {"task_id": task_id})).structured_content
            if status["status"] != "working" or time.monotonic() > deadline:
                break
            await anyio.sleep(2)
        result = (await session.call_tool("get_task_result", {"task_id": task_id})).structured_content
    assert status["status"] == "completed", status
    assert result["ready"] and result["result"]["epochs"] == 2


async def test_an_unknown_task_is_reported_as_not_found():
    async with client() as session:
        answer = await session.call_tool("get_task_status", {"task_id": uuid.uuid4().hex})
    assert answer.is_error and "not found" in answer.content[0].text


async def test_a_client_without_a_token_learns_where_to_sign_in():
    url = mcp_url()
    if not os.environ.get("LONGHAUL_TOKEN"):
        pytest.skip("the stack runs without authentication (no LONGHAUL_TOKEN)")
    async with create_mcp_http_client() as http:
        denied = await http.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        challenge = denied.headers["www-authenticate"]
        metadata_url = challenge.split('resource_metadata="', 1)[1].split('"', 1)[0]
        metadata = (await http.get(metadata_url)).json()
        not_allowed = await http.get(url)
    assert denied.status_code == 401
    assert metadata["resource"] == url and metadata["authorization_servers"]
    assert not_allowed.status_code == 405  # API Gateway routes every method to the function (ANY /mcp)

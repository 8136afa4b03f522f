"""tools/list as a client receives it: within its size budget (it lands in every agent's context, every session),
and still carrying what clients use. Driven by the official MCP SDK client over HTTP against `longhaul dev`."""

from __future__ import annotations

import asyncio
import json

import pytest

from benchmarks.tools_list import LIMIT_BYTES, MODES, listed
from longhaul import kinds
from tests.integration.shared_dev import dev_token_server

READ_ONLY_TOOLS = {"get_task_status", "get_task_result", "list_tasks", "wait_for_task"}


@pytest.fixture(scope="module")
def bodies() -> dict[str, bytes]:
    """The tools/list response body per protocol generation, as received (template.yaml's kinds included)."""
    server = dev_token_server()
    return {version: asyncio.run(listed(server.url, "tools-list-reader", mode)) for version, mode in MODES.items()}


@pytest.fixture(scope="module")
def listings(bodies) -> dict[str, list[dict]]:
    return {version: json.loads(body)["result"]["tools"] for version, body in bodies.items()}


@pytest.mark.parametrize("version", MODES)
def test_tools_list_fits_6_kb_with_every_tool_listed(bodies, listings, version):
    assert len(bodies[version]) <= LIMIT_BYTES, f"tools/list is {len(bodies[version])} B for a {version} client"
    names = {tool["name"] for tool in listings[version]}
    assert names >= READ_ONLY_TOOLS | {"cancel_task", "create_upload_url", "respond_to_task"}
    assert names >= {kind.name for kind in kinds.all_kinds()}


@pytest.mark.parametrize("version", MODES)
def test_the_listing_keeps_what_steers_models_and_clients(listings, version):
    tools = {tool["name"]: tool for tool in listings[version]}
    for kind in kinds.all_kinds():
        start = tools[kind.name]
        # A model learns from the start tool itself that the answer is a task id to follow, not the result.
        assert "task_id" in start["description"] and "get_task_status" in start["description"]
        assert start["title"] == kind.title and start["annotations"] == {"destructiveHint": False}
        assert start["inputSchema"]["additionalProperties"] is False
        assert '"title"' not in json.dumps(start["inputSchema"])  # pydantic's per-property titles are not sent
    # Clients auto-approve read-only tools; cancel_task keeps the default destructiveHint (true) by saying nothing.
    assert {name for name, tool in tools.items() if tool.get("annotations", {}).get("readOnlyHint")} == READ_ONLY_TOOLS
    assert "destructiveHint" not in tools["cancel_task"]["annotations"]
    assert "minute" in tools["wait_for_task"]["description"]  # waiting costs: only for short tasks
    assert "poll_interval_seconds" in tools["get_task_status"]["description"]
    assert all("\n " not in tool["description"] for tool in tools.values())  # no docstring indentation
    # No output schemas: structured results come without one (tests/integration/test_client_surface.py and the
    # client tests read structuredContent from every tool).
    assert [name for name, tool in tools.items() if "outputSchema" in tool] == []


async def test_structured_results_come_without_an_output_schema_and_their_text_is_the_same_json():
    server = dev_token_server()
    async with server.client("tools-list-caller") as client:
        started = await client.call_tool("model_training", {"epochs": 1, "epoch_seconds": 0})
        status = await client.call_tool("get_task_status", {"task_id": started.structured_content["task_id"]})
    for result in (started, status):
        assert not result.is_error and result.structured_content["task_id"]
        assert json.loads(result.content[0].text) == result.structured_content
        assert ": " not in result.content[0].text[:40]  # compact JSON, not the SDK's indented copy

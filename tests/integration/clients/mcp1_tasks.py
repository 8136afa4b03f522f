"""Clients on the mcp 1.x line (2025-11-25 experimental tasks) against a longhaul endpoint, run in .venv-mcp1.

Prints one JSON report; tests/integration/test_tasks_2025_clients.py runs it and asserts on the report.
usage: python mcp1_tasks.py URL TOKEN
"""

import asyncio
import json
import sys
import warnings
from datetime import timedelta

from mcp import ClientSession
from mcp.client.streamable_http import streamablehttp_client
from mcp.types import CallToolResult
from strands.tools.mcp import MCPClient, TasksConfig

# mcp 1.x marks the tasks API deprecated (tasks return in 2.x as an extension); these clients still use it.
warnings.filterwarnings("ignore", category=DeprecationWarning)
URL, TOKEN = sys.argv[1], sys.argv[2]
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
TRAINING = {"epochs": 2, "epoch_seconds": 0.3}


async def python_sdk() -> dict:
    report: dict = {}
    async with streamablehttp_client(URL, headers=HEADERS) as (read, write, _), ClientSession(read, write) as session:
        init = await session.initialize()
        report["protocolVersion"] = init.protocolVersion
        report["tasksCapability"] = init.capabilities.tasks.model_dump(mode="json") if init.capabilities.tasks else None
        created = await session.experimental.call_tool_as_task("model_training", TRAINING, ttl=60000)
        task_id = created.task.taskId
        report["created"] = created.model_dump(mode="json", by_alias=True)
        report["polled"] = [status.status async for status in session.experimental.poll_task(task_id)]
        result = await session.experimental.get_task_result(task_id, CallToolResult)
        report["result"] = result.model_dump(mode="json", by_alias=True)
        report["getTask"] = (await session.experimental.get_task(task_id)).model_dump(mode="json", by_alias=True)
        status = await session.call_tool("get_task_status", {"task_id": task_id})
        report["fallbackStatus"] = status.structuredContent

        long = await session.experimental.call_tool_as_task("model_training", {"epochs": 50, "epoch_seconds": 1})
        cancelled = await session.experimental.cancel_task(long.task.taskId)
        report["cancelled"] = cancelled.model_dump(mode="json", by_alias=True)
        listed = await session.experimental.list_tasks()
        report["listed"] = [t.taskId for t in listed.tasks]
    return report


def strands() -> dict:
    # A caller of its own: it runs while python_sdk() does, and that one lists exactly its own two tasks.
    headers = {"Authorization": f"Bearer {TOKEN}-strands"}
    client = MCPClient(
        lambda: streamablehttp_client(URL, headers=headers),
        tasks_config=TasksConfig(poll_timeout=timedelta(seconds=60), poll_interval=timedelta(seconds=0.2)),
    )
    with client:
        tools = client.list_tools_sync()
        result = client.call_tool_sync("tool-use-1", "model_training", TRAINING)
        return {
            "tools": sorted(t.tool_name for t in tools),
            "usedTasks": client._should_use_task("model_training"),  # the decision Strands made for this call
            "result": result,
        }


async def both() -> dict:
    """The two clients side by side: each spends most of its time waiting for its task."""
    strands_report = asyncio.create_task(asyncio.to_thread(strands))  # Strands runs its own event loop thread
    return {"python_sdk": await python_sdk(), "strands": await strands_report}


report = asyncio.run(both())
print(json.dumps(report, default=str))

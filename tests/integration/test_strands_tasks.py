"""Strands Agents' MCPClient with tasks_config (mcp 2.1, its own venv) runs longhaul kinds as native tasks.

Strands 1.62 speaks the 2026-07-28 tasks extension (SEP-2663) on mcp 2.x: it declares the extension, receives the
CreateTaskResult, polls tasks/get and sends tasks/cancel when its caller cancels.
"""

from __future__ import annotations

import json
import os

import httpx
import pytest

from longhaul_dev.template import PROJECT_ROOT
from tests.integration import strands_runner
from tests.integration.shared_dev import conformance_server
from tests.integration.test_dev_server import DevServer
from tests.integration.test_strands_recall import STRANDS_PYTHON

SCRIPT = """
import json, sys, threading
from datetime import timedelta
from mcp.client.streamable_http import streamable_http_client
from strands.tools.mcp import MCPClient

config = {"poll_timeout": timedelta(seconds=60), "poll_interval": timedelta(milliseconds=200)}
client = MCPClient(lambda: streamable_http_client(sys.argv[1]), tasks_config=config)
with client:
    done = client.call_tool_sync("use-1", "slow_compute", {"seconds": 1, "label": "strands"})
    stop = threading.Event()
    threading.Timer(2.0, stop.set).start()
    cancelled = client.call_tool_sync("use-2", "slow_compute", {"seconds": 120, "label": "x"}, cancel_signal=stop)
print(json.dumps({"completed": done, "cancelled": cancelled}, default=str))
"""


@pytest.fixture(scope="module")
def dev() -> DevServer:
    return conformance_server()


def my_tasks(dev: DevServer) -> list[dict]:
    meta = {"io.modelcontextprotocol/protocolVersion": "2026-07-28", "io.modelcontextprotocol/clientCapabilities": {}}
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "list_tasks", "arguments": {"limit": 10}, "_meta": meta},
    }
    headers = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "list_tasks"}
    response = httpx.post(dev.url, json=body, headers={**headers, "Accept": "application/json"}, timeout=30)
    return response.json()["result"]["structuredContent"]["tasks"]


def test_strands_completes_one_task_natively_and_cancels_another(dev):
    if not STRANDS_PYTHON.exists():
        pytest.fail(f"{STRANDS_PYTHON} is missing: `make test` creates it (Strands Agents in its own venv)")
    run = strands_runner.run(argv=["-c", dev.url], code=SCRIPT, cwd=PROJECT_ROOT, env=dict(os.environ), timeout=180)
    assert run.returncode == 0, run.stdout + run.stderr
    outcome = json.loads(run.stdout.strip().splitlines()[-1])

    # The native task's own result, not the fallback tool's task handle.
    assert outcome["completed"]["status"] == "success"
    assert outcome["completed"]["content"][0]["text"] == "Computed strands after 1s"
    assert outcome["cancelled"]["status"] == "error"
    newest, oldest = my_tasks(dev)[:2]
    assert (newest["kind"], newest["status"]) == ("slow_compute", "cancelled")  # Strands sent tasks/cancel
    assert (oldest["kind"], oldest["status"]) == ("slow_compute", "completed")

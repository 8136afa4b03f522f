"""How large tools/list is as a client receives it, and what each part of it costs (issue 12: <= 6 KB).

    .venv/bin/python benchmarks/tools_list.py

Starts ``longhaul dev`` (the local stack on moto, the real Lambda handler behind HTTP), lists the tools with the
official MCP Python SDK client over HTTP, once per protocol generation (2026-07-28 discover, 2025-11-25
initialize), and counts the bytes of the tools/list response body as it arrived. The listing lands in every agent's
context, every session: its parts are measured in the same run (descriptions, input schemas, annotations), and so
is what publishing the tools' output schemas would add. Sizes, not timings: one run is exact.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.figures import Figure  # noqa: E402

KB = 1024
LIMIT_BYTES = 6 * KB
MODES = {"2026-07-28": "auto", "2025-11-25": "legacy"}
# The same listing measured the same way on main before issue 12's changes (e50627e, 9 tools).
BEFORE_BYTES = {"2026-07-28": 20_360, "2025-11-25": 18_364}


class _Recording(httpx2.AsyncHTTPTransport):
    """An HTTP transport that keeps the body of each tools/list response exactly as it arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[bytes] = []

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        method = request.headers.get("mcp-method") or _method(request.content)
        if method != "tools/list":
            return response
        body = await response.aread()
        self.bodies.append(body)
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-encoding"]
        return httpx2.Response(response.status_code, headers=headers, content=body, request=request)


def _method(content: bytes) -> str | None:
    try:
        message = json.loads(content or b"null")
    except ValueError:
        return None
    return message.get("method") if isinstance(message, dict) else None


async def listed(url: str, token: str, mode: str = "auto") -> bytes:
    """The tools/list response body the official SDK client received from ``url`` (``mode`` as ``Client`` takes
    it: "auto" speaks 2026-07-28, "legacy" the 2025-11-25 initialize handshake)."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    recording = _Recording()
    http = httpx2.AsyncClient(
        transport=recording, headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30.0)
    )
    async with http, Client(streamable_http_client(url, http_client=http), mode=mode) as client:
        await client.list_tools()
    if len(recording.bodies) != 1:
        raise RuntimeError(f"expected one tools/list response, saw {len(recording.bodies)}")
    return recording.bodies[0]


def _member_bytes(key: str, value: Any) -> int:
    """Bytes of ``"key":value,`` in the compact JSON the endpoint writes."""
    return len(json.dumps({key: value}, ensure_ascii=False, separators=(",", ":"))) - 2 + 1


def parts(body: bytes) -> dict[str, int]:
    """Bytes each part of a tools/list body takes (argument descriptions are also inside the input schemas)."""
    tools = json.loads(body)["result"]["tools"]
    totals = dict.fromkeys(
        ("tool descriptions", "argument descriptions", "input schemas", "annotations", "output schemas"), 0
    )
    for tool in tools:
        totals["tool descriptions"] += _member_bytes("description", tool.get("description", ""))
        totals["input schemas"] += _member_bytes("inputSchema", tool["inputSchema"])
        for prop in tool["inputSchema"].get("properties", {}).values():
            if "description" in prop:
                totals["argument descriptions"] += _member_bytes("description", prop["description"])
        if "annotations" in tool:
            totals["annotations"] += _member_bytes("annotations", tool["annotations"])
        if "outputSchema" in tool:
            totals["output schemas"] += _member_bytes("outputSchema", tool["outputSchema"])
    return totals


def output_schemas_would_add(tool_names: list[str]) -> tuple[int, int]:
    """Bytes the tools' output schemas would add to the listing: as the SDK writes them from the answer models, and
    compacted like the input schemas. Nothing publishes them now; their answers carry structuredContent anyway."""
    from longhaul.endpoint.listing import compact_schema
    from longhaul.endpoint.views import TaskHandle, TaskList, TaskResultView, TaskStatusView, UploadUrlView
    from longhaul.kinds import RESERVED_NAMES

    answers = {
        "get_task_status": TaskStatusView,
        "cancel_task": TaskStatusView,
        "wait_for_task": TaskStatusView,
        "list_tasks": TaskList,
        "get_task_result": TaskResultView,
        "create_upload_url": UploadUrlView,
    }
    as_written = compacted = 0
    for name in tool_names:
        model = answers.get(name, TaskHandle if name not in RESERVED_NAMES else None)
        schema = (
            model.model_json_schema(mode="serialization")
            if model
            else {"additionalProperties": True, "title": f"{name}DictOutput", "type": "object"}
        )
        as_written += _member_bytes("outputSchema", schema)
        compacted += _member_bytes("outputSchema", compact_schema(schema))
    return as_written, compacted


@contextmanager
def dev_server() -> Iterator[str]:
    """``longhaul dev --auth dev-token`` on a free port (each bearer token is its caller); yields the MCP URL."""
    from longhaul_dev import dev_process
    from longhaul_dev.template import configured_kinds

    kinds = os.environ.get("LONGHAUL_KINDS", configured_kinds())
    process, lines = dev_process.start("--auth", "dev-token", env={"LONGHAUL_KINDS": kinds}, timeout=120)
    try:
        match = re.search(r"MCP endpoint on (\S+)", "".join(lines))
        if match is None:
            raise RuntimeError("longhaul dev printed no endpoint:\n" + "".join(lines))
        yield match[1]
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(quick: bool) -> list[Figure]:
    """tools/list bytes against the 6 KB target for both protocol generations, and what its parts cost. ``quick``
    changes nothing: one listing per generation is exact."""
    with dev_server() as url:
        bodies = {version: asyncio.run(listed(url, "bench", mode)) for version, mode in MODES.items()}
    figures = []
    for version, body in bodies.items():
        count = len(json.loads(body)["result"]["tools"])
        figures.append(
            Figure(
                area="size",
                name=f"tools/list, {version} client ({count} tools)",
                value=len(body) / KB,
                unit="KB",
                target="<= 6 KB",
                met=len(body) <= LIMIT_BYTES,
                anchor=f"{BEFORE_BYTES[version] / KB:.1f} KB before issue 12 (9 tools, output schemas 55% of it)",
                note=f"{len(body):,} B: the response body the MCP Python SDK client received over HTTP from "
                "`longhaul dev`; 1 KB = 1024 B",
            )
        )
    modern = bodies["2026-07-28"]
    for part, size in parts(modern).items():
        figures.append(
            Figure(
                area="size",
                name=f"tools/list part: {part}",
                value=size / KB,
                unit="KB",
                anchor=f"of {len(modern) / KB:.1f} KB (2026-07-28)",
                note="bytes of that member in the listing, as sent",
            )
        )
    names = [tool["name"] for tool in json.loads(modern)["result"]["tools"]]
    as_written, compacted = output_schemas_would_add(names)
    figures.append(
        Figure(
            area="size",
            name="output schemas, if published (not published: results still carry structuredContent)",
            value=compacted / KB,
            unit="KB",
            anchor=f"{as_written / KB:.1f} KB as the SDK writes them from the answer models",
            note="the answer models' JSON schemas, compacted like the input schemas",
        )
    )
    return figures


def main() -> None:
    for figure in measure(quick=False):
        verdict = "" if figure.met is None else (" met" if figure.met else " NOT MET")
        target = f" (target {figure.target}{verdict})" if figure.target else ""
        print(f"{figure.name}: {figure.formatted_value()}{target}; {figure.anchor}")


if __name__ == "__main__":
    main()

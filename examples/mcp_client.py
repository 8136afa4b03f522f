"""Run a longhaul task from the official MCP Python SDK client: start, poll, fetch the result.

    python examples/mcp_client.py http://127.0.0.1:8765/mcp [--token TOKEN] [--epochs 3]

Against a deployed stack, pass the McpUrl output and a JWT from your identity provider as --token.
"""

from __future__ import annotations

import argparse
import asyncio
import json

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def main(url: str, token: str | None, epochs: int, session_id: str) -> None:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
    async with Client(transport) as client:
        tools = await client.list_tools()
        print("tools:", ", ".join(tool.name for tool in tools.tools))

        started = await client.call_tool(
            "model_training", {"epochs": epochs, "epoch_seconds": 1.0, "session_id": session_id}
        )
        task_id = started.structured_content["task_id"]
        print("started:", task_id)

        while True:
            status = (await client.call_tool("get_task_status", {"task_id": task_id})).structured_content
            print(f"  {status['status']:<10} {status['progress']:>4.0%}  {status['message']}")
            if status["status"] != "working":
                break
            await asyncio.sleep(1)

        result = (await client.call_tool("get_task_result", {"task_id": task_id})).structured_content
        print("result:", json.dumps(result["result"] or result, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument(
        "--token", help="bearer token (a JWT for a deployed stack; a name with `longhaul dev --auth dev-token`)"
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--session-id", default="example-session", help="agent session to deliver the result to")
    args = parser.parse_args()
    asyncio.run(main(args.url, args.token, args.epochs, args.session_id))

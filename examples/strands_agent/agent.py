"""A Strands agent whose tools are longhaul's and whose session lives in AgentCore Memory.

    python agent.py --session-id trip-42 "Train a model for 3 epochs"          # session 1: starts a task, exits
    python agent.py --session-id trip-42 "What did the training produce?"    # session 2, later: recalls it

Each run is a new process: the agent's history is restored from AgentCore Memory by
``AgentCoreMemorySessionManager``. longhaul writes a finished task's outcome into the same memory session (the
``session_id`` the agent passed when it started the task), so session 2 finds the result even though no client
was connected when the task ended. ``--scripted`` replaces the LLM with a fixed script (no model access needed).

Environment: LONGHAUL_URL (default http://127.0.0.1:8765/mcp), LONGHAUL_TOKEN (a JWT for a deployed stack),
LONGHAUL_MEMORY_ID (the stack's MemoryId output; `longhaul dev` prints it), LONGHAUL_ACTOR_ID (the caller longhaul
sees: your JWT's `sub`; `local-developer` for `longhaul dev`), AWS_REGION, and for `longhaul dev`
AWS_ENDPOINT_URL=<its "local AWS (moto)" address> with any AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""

from __future__ import annotations

import argparse
import json
import os

from bedrock_agentcore.memory.integrations.strands.config import AgentCoreMemoryConfig
from bedrock_agentcore.memory.integrations.strands.session_manager import AgentCoreMemorySessionManager
from strands import Agent
from strands.tools.mcp import MCPClient

SYSTEM_PROMPT = (
    "You run long jobs through longhaul's tools. Starting one returns a task_id at once; always pass "
    "session_id={session_id} so the outcome is delivered to this conversation's memory. Do not wait for tasks: "
    "report the task id and end your turn."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prompt")
    parser.add_argument("--session-id", required=True, help="the agent session (same id = same conversation)")
    parser.add_argument("--scripted", action="store_true", help="no LLM: a fixed script drives the tools")
    parser.add_argument("--epoch-seconds", type=float, default=1.0, help="(scripted) seconds per training epoch")
    args = parser.parse_args()

    url = os.environ.get("LONGHAUL_URL", "http://127.0.0.1:8765/mcp")
    token = os.environ.get("LONGHAUL_TOKEN")
    longhaul = MCPClient(url=url, headers={"Authorization": f"Bearer {token}"} if token else None)

    memory = AgentCoreMemorySessionManager(
        AgentCoreMemoryConfig(
            memory_id=os.environ["LONGHAUL_MEMORY_ID"],
            session_id=args.session_id,
            actor_id=os.environ.get("LONGHAUL_ACTOR_ID", "local-developer"),
        ),
        region_name=os.environ.get("AWS_REGION", "us-east-1"),
    )
    model = None  # Strands' default: Amazon Bedrock
    if args.scripted:
        from scripted_model import ScriptedModel

        model = ScriptedModel(args.session_id, epoch_seconds=args.epoch_seconds)

    with longhaul, memory:
        agent = Agent(
            model=model,
            tools=longhaul.list_tools_sync(),
            system_prompt=SYSTEM_PROMPT.format(session_id=args.session_id),
            session_manager=memory,
            callback_handler=None,
        )
        print(f"[session {args.session_id}: {len(agent.messages)} messages restored from memory]")
        print(f"user> {args.prompt}")
        before = len(agent.messages)
        answer = agent(args.prompt)
        for message in agent.messages[before + 1 : -1]:  # this turn's tool calls and their results
            for block in message["content"]:
                if "toolUse" in block:
                    print(f"  tool call> {block['toolUse']['name']} {json.dumps(block['toolUse']['input'])}")
                if "toolResult" in block:
                    print(f"  tool result> {_short(block['toolResult'])}")
        print(f"agent> {str(answer).strip()}")


def _short(result: dict) -> str:
    """A tool result's task id and status (MCP tools return their structured output as JSON text)."""
    for block in result.get("content", []):
        value = block.get("json")
        if value is None and "text" in block:
            try:
                value = json.loads(block["text"])
            except ValueError:
                return block["text"][:120]
        if isinstance(value, dict):
            return json.dumps({k: value[k] for k in ("task_id", "status") if k in value})
    return str(result.get("status", ""))


if __name__ == "__main__":
    main()

"""A Strands agent whose tools are longhaul's and whose session lives in AgentCore Memory.

    python agent.py --session-id trip-42 "Train a model for 3 epochs"          # session 1: starts a task, exits
    python agent.py --session-id trip-42 "What did the training produce?"    # session 2, later: recalls it
    python agent.py --session-id trip-42 --wait "Train a model for 2 epochs"   # waits: a native MCP task

Two ways to run a task. By default the agent starts it through longhaul's start tool, which answers a task id at
once: the session may end, and the outcome reaches the session's memory whenever the task ends. With ``--wait``,
Strands' ``MCPClient(..., tasks_config=...)`` runs the call as a native MCP task (the 2026-07-28 tasks extension:
CreateTaskResult, then tasks/get until it ends) and the tool result is the task's own result. Strands cancels a
native task whose call ends without a result (its ``poll_timeout``, or the process exiting), so work that should
outlive the session is started the first way.

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
from datetime import timedelta

from bedrock_agentcore.memory.integrations.strands.config import AgentCoreMemoryConfig
from bedrock_agentcore.memory.integrations.strands.session_manager import AgentCoreMemorySessionManager
from strands import Agent
from strands.tools.mcp import MCPClient

SYSTEM_PROMPT = (
    "You run long jobs through longhaul's tools. Starting one returns a task_id at once; always pass "
    "session_id={session_id} so the outcome is delivered to this conversation's memory. Do not wait for tasks: "
    "report the task id and end your turn."
)

WAIT_PROMPT = (
    "You run jobs through longhaul's tools; each call waits for the job's result. Pass session_id={session_id} so "
    "the outcome is also delivered to this conversation's memory. Report the result."
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("prompt")
    parser.add_argument("--session-id", required=True, help="the agent session (same id = same conversation)")
    parser.add_argument("--scripted", action="store_true", help="no LLM: a fixed script drives the tools")
    parser.add_argument("--epoch-seconds", type=float, default=1.0, help="(scripted) seconds per training epoch")
    parser.add_argument("--wait", action="store_true", help="run tools as native MCP tasks and wait for their result")
    parser.add_argument("--wait-timeout", type=float, default=600, help="(--wait) seconds before Strands gives up")
    args = parser.parse_args()

    url = os.environ.get("LONGHAUL_URL", "http://127.0.0.1:8765/mcp")
    token = os.environ.get("LONGHAUL_TOKEN")
    headers = {"Authorization": f"Bearer {token}"} if token else None
    if args.wait:
        # Native tasks: Strands declares io.modelcontextprotocol/tasks, gets a CreateTaskResult and polls tasks/get.
        tasks_config = {"poll_timeout": timedelta(seconds=args.wait_timeout), "poll_interval": timedelta(seconds=1)}
        longhaul = MCPClient(url=url, headers=headers, tasks_config=tasks_config)
    else:
        longhaul = MCPClient(url=url, headers=headers)

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
            system_prompt=(WAIT_PROMPT if args.wait else SYSTEM_PROMPT).format(session_id=args.session_id),
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
    """A tool result's task id and status, or the start of a native task's result (MCP tools return their structured
    output as JSON text)."""
    for block in result.get("content", []):
        value = block.get("json")
        if value is None and "text" in block:
            try:
                value = json.loads(block["text"])
            except ValueError:
                return block["text"][:120]
        if isinstance(value, dict) and "task_id" in value:
            return json.dumps({k: value[k] for k in ("task_id", "status") if k in value})
        if isinstance(value, dict):  # a native task's own result
            return json.dumps(value)[:120]
    return str(result.get("status", ""))


if __name__ == "__main__":
    main()

"""An agent recalls a finished task in a later session: Strands restores longhaul's memory event as messages.

Strands Agents' AgentCoreMemorySessionManager rebuilds an agent's history from AgentCore Memory events with
AgentCoreMemoryConverter.events_to_messages. Strands pins an older MCP SDK than longhaul serves with, so the
converter runs in its own interpreter (.venv-strands, made by `make test`) on the events moto stored.
"""

from __future__ import annotations

import json
import os

import boto3
import pytest

from longhaul import runtime
from longhaul.models import TaskStatus
from longhaul_dev.stack import wait_for_execution
from longhaul_dev.template import PROJECT_ROOT
from tests.integration import strands_runner
from tests.integration.strands_runner import STRANDS_PYTHON

RESTORE = """
import json, sys
from bedrock_agentcore.memory.integrations.strands.bedrock_converter import AgentCoreMemoryConverter
messages = AgentCoreMemoryConverter.events_to_messages(json.load(sys.stdin))
print(json.dumps([m.to_dict()["message"] for m in messages]))
"""


def test_strands_restores_the_result_as_a_user_and_assistant_turn(stack):
    if not STRANDS_PYTHON.exists():
        pytest.fail(f"{STRANDS_PYTHON} is missing: `make test` creates it (Strands Agents in its own venv)")
    service = runtime.task_service()
    record = service.start("alice", "model_training", {"epochs": 2, "epoch_seconds": 0}, session_id="agent-7")
    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"
    assert service.get("alice", record.task_id).status == TaskStatus.COMPLETED
    events = boto3.client("bedrock-agentcore").list_events(
        memoryId=stack.memory_id, actorId="alice", sessionId="agent-7", includePayloads=True
    )["events"]

    restored = strands_runner.run(
        argv=["-c"], code=RESTORE, cwd=PROJECT_ROOT, env=dict(os.environ), input=json.dumps(events, default=str)
    )
    assert restored.returncode == 0, restored.stderr
    messages = json.loads(restored.stdout)

    assert [m["role"] for m in messages] == ["user", "assistant"]  # alternates, as the Converse API requires
    answer = messages[1]["content"][0]["text"]
    assert record.task_id in answer and "final_loss" in answer

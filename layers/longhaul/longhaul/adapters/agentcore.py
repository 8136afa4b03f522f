"""ResultMemory on Amazon Bedrock AgentCore Memory: a finished task's result, recallable by the agent's session.

The event is written with the ``bedrock-agentcore`` boto3 client rather than ``MemoryClient.create_event``,
because only the former passes a ``clientToken``: a retried WriteResult must not write a second event.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from typing import Any

from longhaul.adapters._aws import AwsAdapter

_ACTOR_UNSAFE = re.compile(r"[^a-zA-Z0-9_/:-]")


def actor_id_for(owner: str) -> str:
    """AgentCore actor ids forbid ``@`` and ``.``: replace what is not allowed, and add a hash of the original
    whenever something was replaced, so ``a.b`` and ``a_b`` stay different actors."""
    safe = _ACTOR_UNSAFE.sub("_", owner).strip(":")
    if safe != owner or not safe[:1].isalnum():
        safe = f"u-{safe}-{hashlib.sha256(owner.encode()).hexdigest()[:10]}"
    return safe[:255]


def client_token_for(task_id: str) -> str:
    """Deterministic per task, so retries of WriteResult are deduplicated by AgentCore."""
    return f"longhaul-result-{task_id}"


def session_message(role: str, text: str, at: datetime) -> str:
    """A Strands ``SessionMessage`` as JSON: what ``AgentCoreMemorySessionManager`` restores. Plain text there
    would not parse as a message and silently drops the restored history."""
    stamp = at.isoformat()
    return json.dumps(
        {
            "message": {"role": role, "content": [{"text": text}]},
            "message_id": 0,
            "redact_message": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
    )


class AgentCoreResultMemory(AwsAdapter):
    service = "bedrock-agentcore"

    def __init__(self, memory_id: str, client: Any = None):
        super().__init__(client)
        self.memory_id = memory_id

    def write(self, *, task_id: str, actor_id: str, session_id: str, question: str, answer: str, at: datetime) -> str:
        """Write one event with a user turn and an assistant turn (a restored history must alternate roles).

        Returns the event id.
        """
        response = self.client.create_event(
            memoryId=self.memory_id,
            actorId=actor_id,
            sessionId=session_id,
            eventTimestamp=at,
            payload=[
                {"conversational": {"role": "USER", "content": {"text": session_message("user", question, at)}}},
                {
                    "conversational": {
                        "role": "ASSISTANT",
                        "content": {"text": session_message("assistant", answer, at)},
                    }
                },
            ],
            clientToken=client_token_for(task_id),
        )
        return str(response["event"]["eventId"])

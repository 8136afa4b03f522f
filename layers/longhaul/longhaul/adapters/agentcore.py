"""ResultMemory on Amazon Bedrock AgentCore Memory: a finished task's result, recallable by the agent's session.

The event is written with the ``bedrock-agentcore`` boto3 client rather than ``MemoryClient.create_event``,
because only the former passes a ``clientToken``: a retried WriteResult must not write a second event.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import Any

from longhaul.adapters._aws import AwsAdapter
from longhaul.memory import session_message

# AgentCore's actorId pattern, kept to its simplest form (no ':' segments) and a length that leaves room.
_ACTOR_PLAIN = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_/-]{0,199}")
_HASHED_PREFIX = "lh_"


def actor_id_for(owner: str) -> str:
    """The AgentCore actor id of an owner: injective and valid for any owner string.

    An owner that already fits AgentCore's pattern (a Cognito or OIDC ``sub`` does) is its own actor id, so agents
    can name it; any other owner - or one that starts with the reserved ``lh_`` - becomes ``lh_`` and the SHA-256 of
    the owner. The two forms never meet, so two owners never share an actor.
    """
    if _ACTOR_PLAIN.fullmatch(owner) and not owner.startswith(_HASHED_PREFIX):
        return owner
    return _HASHED_PREFIX + hashlib.sha256(owner.encode()).hexdigest()


def client_token_for(execution_name: str) -> str:
    """Deterministic per task incarnation (its execution name), so a retried delivery is deduplicated by AgentCore,
    while a task id reused after its record expired gets a new event."""
    return f"longhaul-{execution_name}"


class AgentCoreResultMemory(AwsAdapter):
    service = "bedrock-agentcore"

    def __init__(self, memory_id: str, client: Any = None):
        super().__init__(client)
        self.memory_id = memory_id

    def write(self, *, token: str, actor_id: str, session_id: str, question: str, answer: str, at: datetime) -> str:
        """Write one event with a user turn and an assistant turn (a restored history must alternate roles).

        The same arguments always make the same request, byte for byte, so a retry under the same ``token`` is
        one AgentCore accepts as the same event. Returns the event id.
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
            clientToken=client_token_for(token),
        )
        return str(response["event"]["eventId"])

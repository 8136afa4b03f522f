"""ResultMemory on AgentCore: the exact request sent (botocore Stubber), and what the agent will recall."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from longhaul.adapters.agentcore import AgentCoreResultMemory, actor_id_for, client_token_for
from longhaul.models import ResultRef, TaskRecord, WriteResultRequest
from longhaul.worker import MAX_MEMORY_RESULT_CHARS, memory_text

AT = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)


def test_create_event_sends_the_deterministic_client_token_and_strands_messages():
    client = boto3.client("bedrock-agentcore", region_name="us-east-1")
    memory = AgentCoreResultMemory("longhaulMemory-abc123", client=client)
    expected_user = json.dumps(
        {
            "message": {"role": "user", "content": [{"text": "what happened?"}]},
            "message_id": 0,
            "redact_message": None,
            "created_at": AT.isoformat(),
            "updated_at": AT.isoformat(),
        }
    )
    with Stubber(client) as stub:
        stub.add_response(
            "create_event",
            {
                "event": {
                    "memoryId": "longhaulMemory-abc123",
                    "actorId": "alice",
                    "sessionId": "s1",
                    "eventId": "evt-1",
                    "eventTimestamp": AT,
                    "payload": [],
                }
            },
            expected_params={
                "memoryId": "longhaulMemory-abc123",
                "actorId": "alice",
                "sessionId": "s1",
                "eventTimestamp": AT,
                "clientToken": "longhaul-result-task-1",
                "payload": [
                    {"conversational": {"role": "USER", "content": {"text": expected_user}}},
                    {
                        "conversational": {
                            "role": "ASSISTANT",
                            "content": {
                                "text": json.dumps(
                                    json.loads(expected_user)
                                    | {"message": {"role": "assistant", "content": [{"text": "42"}]}}
                                )
                            },
                        }
                    },
                ],
            },
        )
        event_id = memory.write(
            task_id="task-1", actor_id="alice", session_id="s1", question="what happened?", answer="42", at=AT
        )
        stub.assert_no_pending_responses()
    assert event_id == "evt-1"


def test_the_client_token_is_the_same_for_every_retry_of_a_task():
    assert client_token_for("abc") == client_token_for("abc") != client_token_for("abd")
    assert 33 <= len(client_token_for("0" * 32)) <= 256


@pytest.mark.parametrize(
    ("owner", "same_as_owner"),
    [("0b8f1c2e-sub", True), ("arn:aws:iam::123456789012:role/agent", True), ("ann@example.com", False)],
)
def test_actor_ids_satisfy_agentcore_and_stay_distinct(owner, same_as_owner):
    actor = actor_id_for(owner)
    assert "@" not in actor and "." not in actor
    assert (actor == owner) is same_as_owner
    assert actor_id_for("a.b") != actor_id_for("a_b")


def _record() -> TaskRecord:
    return TaskRecord(
        task_id="t1", owner="o", kind="csv_profile", created_at="x", updated_at="x", expires_at=0, session_id="s"
    )


def test_a_result_that_fits_is_recalled_in_full():
    text = memory_text(_record(), WriteResultRequest(task_id="t1", kind="csv_profile", result={"rows": 12}))
    assert '"rows": 12' in text and "t1" in text


def test_a_large_result_is_recalled_as_a_summary_and_a_pointer():
    big = {"rows": 5, "blob": "x" * (MAX_MEMORY_RESULT_CHARS + 1)}
    text = memory_text(_record(), WriteResultRequest(task_id="t1", kind="csv_profile", result=big))
    assert len(text) < 5000 and "get_task_result" in text and '"rows": 5' in text
    ref = ResultRef(bucket="b", key="results/t1.json", size_bytes=300_000)
    text = memory_text(_record(), WriteResultRequest(task_id="t1", kind="csv_profile", result_ref=ref))
    assert "300000 bytes" in text and "get_task_result" in text

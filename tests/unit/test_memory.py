"""ResultMemory on AgentCore: the exact request sent (botocore Stubber), and what the agent will recall."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import Stubber

from longhaul import memory
from longhaul.adapters.agentcore import AgentCoreResultMemory, actor_id_for, client_token_for
from longhaul.models import ResultRef, TaskRecord, TaskStatus

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
                "clientToken": "longhaul-task-1-abc",
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
            token="task-1-abc", actor_id="alice", session_id="s1", question="what happened?", answer="42", at=AT
        )
        stub.assert_no_pending_responses()
    assert event_id == "evt-1"


def test_the_client_token_is_the_same_for_every_retry_of_one_task_incarnation():
    assert client_token_for("t1-abc") == client_token_for("t1-abc") != client_token_for("t1-abd")


AWKWARD_OWNERS = [
    "0b8f1c2e-sub",
    "a.b",
    "a_b",
    "u-a_b-2e7336dc8e",
    "lh_" + "0" * 64,
    "ann@example.com",
    "arn:aws:iam::123456789012:role/agent",
    "x" * 300,
    "x" * 301,
    "ünïcode",
    "trailing\n",
    "",
]


@pytest.mark.parametrize("owner", AWKWARD_OWNERS)
def test_actor_ids_are_valid_for_agentcore_for_any_owner(owner):
    actor = actor_id_for(owner)
    assert 1 <= len(actor) <= 255
    assert re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9-_/]*(?::[a-zA-Z0-9-_/]+)*[a-zA-Z0-9-_/]*", actor)


def test_actor_ids_are_injective_and_plain_owners_keep_their_name():
    actors = [actor_id_for(owner) for owner in AWKWARD_OWNERS]
    assert len(set(actors)) == len(AWKWARD_OWNERS)
    assert actor_id_for("0b8f1c2e-sub") == "0b8f1c2e-sub"


def _record(**changes) -> TaskRecord:
    base = TaskRecord(
        task_id="t1",
        owner="o",
        kind="csv_profile",
        status=TaskStatus.COMPLETED,
        created_at="2026-11-26T06:00:00.000Z",
        updated_at="2026-11-26T06:05:00.000Z",
        ended_at="2026-11-26T06:05:00.000Z",
        expires_at=0,
        session_id="s",
        result={"rows": 12},
    )
    return base.model_copy(update=changes)


def _encoded_length(text: str) -> int:
    return len(memory.session_message("assistant", text, AT))


def test_a_result_that_fits_is_recalled_in_full():
    text = memory.answer(_record())
    assert '"rows": 12' in text and "t1" in text and "completed" in text


@pytest.mark.parametrize(
    "result",
    [
        {"rows": 5, "blob": "x" * 120_000},
        {"rows": 5, "quotes": '"\\' * 30_000},  # doubles when encoded, then again inside the SessionMessage
        ["ü" * 20_000],  # each becomes \\u00fc: six characters
    ],
)
def test_any_result_fits_agentcores_limit_after_encoding(result):
    text = memory.answer(_record(result=result))
    assert _encoded_length(text) <= memory.MAX_MESSAGE_CHARS
    assert "get_task_result" in text


def test_a_stored_result_is_recalled_as_its_size_and_a_pointer():
    ref = ResultRef(bucket="b", key="results/t1.json", size_bytes=300_000)
    text = memory.answer(_record(result=None, result_ref=ref))
    assert "300000 bytes" in text and "get_task_result" in text


def test_failed_and_cancelled_tasks_are_recalled_with_why():
    failed = memory.answer(_record(status=TaskStatus.FAILED, result=None, error_type="ValueError", error_message="bad"))
    assert "failed" in failed and "ValueError: bad" in failed
    long_error = memory.answer(_record(status=TaskStatus.FAILED, result=None, error_message='"' * 200_000))
    assert _encoded_length(long_error) <= memory.MAX_MESSAGE_CHARS
    cancelled = memory.answer(
        _record(status=TaskStatus.CANCELLED, result=None, error_message="Cancelled by the caller")
    )
    assert "was cancelled" in cancelled


def test_the_messages_come_from_the_record_only_and_repeat_byte_for_byte():
    record = _record()
    assert memory.event_time(record) == datetime(2026, 11, 26, 6, 5, tzinfo=UTC)
    assert memory.answer(record) == memory.answer(record.model_copy())
    with pytest.raises(ValueError):
        memory.answer(_record(status=TaskStatus.WORKING))

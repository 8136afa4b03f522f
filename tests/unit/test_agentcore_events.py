"""The local stack's ListEvents answers as AWS does (newest first, metadata and branch filters, pages)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from longhaul_dev import agentcore_events, strict_aws
from longhaul_dev.stack import FAKE_CREDENTIALS

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, str]]:
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        strict_aws.install()  # as in every local stack: AgentCore's own validation first
        agentcore_events.install()
        try:
            control = boto3.client("bedrock-agentcore-control", region_name="us-east-1")
            memory_id = control.create_memory(name="events", eventExpiryDuration=7)["memory"]["id"]
            yield boto3.client("bedrock-agentcore", region_name="us-east-1"), memory_id
        finally:
            agentcore_events.uninstall()


def put(client: Any, memory_id: str, text: str, minutes: int, state: str | None = None, branch: str | None = None):
    extra: dict[str, Any] = {}
    if state:
        extra["metadata"] = {"stateType": {"stringValue": state}}
    if branch:
        extra["branch"] = {"name": branch, "rootEventId": "1#a1"}  # the shape AgentCore requires
    client.create_event(
        memoryId=memory_id,
        actorId="alice",
        sessionId="s1",
        eventTimestamp=START + timedelta(minutes=minutes),
        payload=[{"blob": json.dumps(text)}],
        **extra,
    )


def texts(response: dict) -> list[str]:
    return [json.loads(e["payload"][0]["blob"]) for e in response["events"]]


def test_newest_first_whatever_the_write_order(memory):
    client, memory_id = memory
    put(client, memory_id, "second", 2)
    put(client, memory_id, "first", 1)
    put(client, memory_id, "third", 3)
    listed = client.list_events(memoryId=memory_id, actorId="alice", sessionId="s1", includePayloads=True)
    assert texts(listed) == ["third", "second", "first"]


def test_metadata_and_branch_filters(memory):
    client, memory_id = memory
    put(client, memory_id, "session", 1, state="SESSION")
    put(client, memory_id, "agent", 2, state="AGENT")
    put(client, memory_id, "message", 3)
    put(client, memory_id, "other branch", 4, branch="what-if")

    def listed(**filter: Any) -> list[str]:
        response = client.list_events(
            memoryId=memory_id, actorId="alice", sessionId="s1", includePayloads=True, filter=filter
        )
        return texts(response)

    equals = {"left": {"metadataKey": "stateType"}, "operator": "EQUALS_TO"}
    assert listed(eventMetadata=[{**equals, "right": {"metadataValue": {"stringValue": "AGENT"}}}]) == ["agent"]
    exists = [{"left": {"metadataKey": "stateType"}, "operator": "EXISTS"}]
    assert listed(eventMetadata=exists) == ["agent", "session"]
    absent = [{"left": {"metadataKey": "stateType"}, "operator": "NOT_EXISTS"}]
    assert listed(eventMetadata=absent) == ["other branch", "message"]
    assert listed(branch={"name": "what-if"}) == ["other branch"]


def test_pages_follow_next_token(memory):
    client, memory_id = memory
    for minute in range(5):
        put(client, memory_id, f"event {minute}", minute)
    seen: list[str] = []
    token: dict[str, str] = {}
    while True:
        page = client.list_events(
            memoryId=memory_id, actorId="alice", sessionId="s1", includePayloads=True, maxResults=2, **token
        )
        seen += texts(page)
        if "nextToken" not in page:
            break
        token = {"nextToken": page["nextToken"]}
    assert seen == [f"event {m}" for m in range(4, -1, -1)]


def test_uninstall_restores_moto(memory):
    client, memory_id = memory
    put(client, memory_id, "older", 1)
    put(client, memory_id, "newer", 2)
    agentcore_events.uninstall()
    listed = client.list_events(memoryId=memory_id, actorId="alice", sessionId="s1", includePayloads=True)
    assert texts(listed) == ["older", "newer"]  # moto alone: oldest first, which is why the patch exists

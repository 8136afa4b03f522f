"""The composition root's warm-up helpers (used before a SnapStart snapshot and by `make build`'s layer check):
they build clients and run requests without anything leaving the process, and leave nothing behind."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EndpointConnectionError
from botocore.httpsession import URLLib3Session

from longhaul import runtime


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every HTTP request botocore sends, refused as an unreachable AWS would refuse it."""
    requests: list[str] = []

    def refuse(session: Any, request: Any) -> Any:
        requests.append(f"{request.method} {request.url}")
        raise EndpointConnectionError(endpoint_url=request.url)

    monkeypatch.setattr(URLLib3Session, "send", refuse)
    return requests


def dynamodb() -> Any:
    return boto3.client(
        "dynamodb", region_name="us-east-1", config=Config(retries={"mode": "standard", "max_attempts": 1})
    )


def test_inside_the_block_the_operation_is_answered_in_process_and_after_it_goes_to_aws(sent):
    client = dynamodb()

    with runtime.answered_in_process(client, "GetItem"):
        answer = client.get_item(TableName="tasks", Key={"task_id": {"S": "t1"}})
    assert "Item" not in answer and sent == []

    with pytest.raises(EndpointConnectionError):
        client.get_item(TableName="tasks", Key={"task_id": {"S": "t1"}})
    assert sent, "after the block the request goes to AWS"


def test_only_the_named_operation_is_answered(sent):
    client = dynamodb()
    with runtime.answered_in_process(client, "GetItem"), pytest.raises(EndpointConnectionError):
        client.delete_item(TableName="tasks", Key={"task_id": {"S": "t1"}})
    assert sent and "dynamodb" in sent[0]


def test_every_client_a_function_uses_is_built_without_a_request(sent, monkeypatch):
    for name, value in {
        "TASKS_TABLE_NAME": "tasks",
        "RESULTS_BUCKET_NAME": "results",
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:tasks",
        "MEMORY_ID": "memory-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ATHENA_WORKGROUP", raising=False)  # a deployment without Athena queries
    runtime.reset()
    try:
        assert runtime.build_clients(runtime.task_service()) == ["dynamodb", "s3", "stepfunctions"]
        assert runtime.build_clients(runtime.step_runner()) == ["dynamodb", "s3"]
        assert runtime.build_clients(runtime.sweeper()) == ["bedrock-agentcore", "dynamodb", "stepfunctions"]
        assert sent == []
    finally:
        runtime.reset()

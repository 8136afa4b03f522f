"""`longhaul dev`'s moto server is as strict as the in-process stack: the same patches apply to its requests."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from tests.integration.shared_dev import dev_token_server
from tests.integration.test_dev_server import DevServer


@pytest.fixture(scope="module")
def dev() -> DevServer:
    return dev_token_server()  # shared: its own memory session and table names below


def create_event(dev: DevServer, actor: str = "alice", text: str = "done", token: str = "t-1") -> dict:
    return dict(
        dev.aws("bedrock-agentcore").create_event(
            memoryId=dev.memory_id,
            actorId=actor,
            sessionId="strict-session",
            eventTimestamp=datetime(2026, 11, 27, tzinfo=UTC),
            payload=[{"conversational": {"role": "ASSISTANT", "content": {"text": text}}}],
            clientToken=token,
        )["event"]
    )


def test_agentcore_on_the_dev_server_honours_client_tokens_and_limits(dev):
    first = create_event(dev)
    assert create_event(dev)["eventId"] == first["eventId"]
    with pytest.raises(ClientError) as mismatch:
        create_event(dev, text="other")
    with pytest.raises(ClientError) as too_long:
        create_event(dev, text="x" * 100_001, token="t-2")
    with pytest.raises(ClientError) as bad_actor:
        create_event(dev, actor="alice@example.com", token="t-3")
    assert mismatch.value.response["reason"] == "IdempotentParameterMismatchException"
    assert (
        too_long.value.response["Error"]["Code"] == bad_actor.value.response["Error"]["Code"] == "ValidationException"
    )
    events = dev.aws("bedrock-agentcore").list_events(
        memoryId=dev.memory_id, actorId="alice", sessionId="strict-session"
    )
    assert [e["eventId"] for e in events["events"]] == [first["eventId"]]


def test_concurrent_conditional_writes_on_the_dev_server_have_one_winner(dev):
    dynamodb = dev.aws("dynamodb")
    dynamodb.create_table(
        TableName="race",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    threads = 12
    clients = [dev.aws("dynamodb") for _ in range(threads)]
    for round_ in range(5):
        key = {"pk": {"S": f"task-{round_}"}}
        dynamodb.put_item(TableName="race", Item={**key, "status": {"S": "working"}})
        start = threading.Barrier(threads)
        winners: list[int] = []
        unexpected: list[ClientError] = []

        def attempt(
            i: int,
            key: dict = key,
            start: threading.Barrier = start,
            winners: list = winners,
            unexpected: list = unexpected,
        ) -> None:
            start.wait()
            try:
                clients[i].update_item(
                    TableName="race",
                    Key=key,
                    UpdateExpression="SET #s = :done, winner = :i",
                    ConditionExpression="#s = :working",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues={
                        ":done": {"S": "completed"},
                        ":working": {"S": "working"},
                        ":i": {"N": str(i)},
                    },
                )
                winners.append(i)
            except ClientError as error:
                if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    unexpected.append(error)

        workers = [threading.Thread(target=attempt, args=(i,)) for i in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert not unexpected, unexpected
        assert len(winners) == 1, winners
        item = dynamodb.get_item(TableName="race", Key=key, ConsistentRead=True)["Item"]
        assert item["winner"] == {"N": str(winners[0])}

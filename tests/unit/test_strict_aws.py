"""The local stack's AWS strictness patches moto's private response classes: these tests pin what AWS does that
moto alone does not (AgentCore clientToken and constraints, atomic DynamoDB conditional writes)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from longhaul_dev import strict_aws

AT = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        strict_aws.install()
        strict_aws.install()  # idempotent
        yield
        # The local stack installs it again whenever it is created; leave the process as the stack leaves it.


@pytest.fixture
def memory(aws: None) -> Iterator[tuple[Any, str]]:
    memory_id = boto3.client("bedrock-agentcore-control").create_memory(name="strict", eventExpiryDuration=30)[
        "memory"
    ]["id"]
    yield boto3.client("bedrock-agentcore"), memory_id


def turn(text: str) -> list[dict[str, Any]]:
    return [{"conversational": {"role": "ASSISTANT", "content": {"text": text}}}]


def create(memory: tuple[Any, str], **overrides: Any) -> dict[str, Any]:
    client, memory_id = memory
    request = {
        "memoryId": memory_id,
        "actorId": "alice",
        "sessionId": "session-1",
        "eventTimestamp": AT,
        "payload": turn("done"),
        "clientToken": "longhaul-result-1",
    }
    request.update(overrides)
    return dict(client.create_event(**request)["event"])


def events(memory: tuple[Any, str], actor: str = "alice", session: str = "session-1") -> list[dict[str, Any]]:
    client, memory_id = memory
    return list(client.list_events(memoryId=memory_id, actorId=actor, sessionId=session)["events"])


def rejected(call: Callable[[], Any]) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value


# ---------------------------------------------------------------- AgentCore clientToken


def test_the_same_token_and_request_returns_the_first_event_and_writes_nothing_more(memory):
    first = create(memory)
    again = create(memory)
    assert again["eventId"] == first["eventId"]
    assert [e["eventId"] for e in events(memory)] == [first["eventId"]]


def test_the_same_token_with_different_parameters_is_refused_as_aws_idempotency_does(memory):
    first = create(memory)
    for change in ({"payload": turn("other")}, {"eventTimestamp": datetime(2026, 11, 28, tzinfo=UTC)}):
        error = rejected(lambda change=change: create(memory, **change))
        assert error.response["Error"]["Code"] == "ValidationException"
        assert error.response["reason"] == "IdempotentParameterMismatchException"
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert [e["eventId"] for e in events(memory)] == [first["eventId"]]


def test_different_tokens_write_different_events(memory):
    create(memory, clientToken="a")
    create(memory, clientToken="b")
    assert len(events(memory)) == 2


# ---------------------------------------------------------------- AgentCore constraints from the service model


def test_message_text_is_limited_to_100000_characters(memory):
    create(memory, clientToken="fits", payload=turn("x" * 100_000))
    error = rejected(lambda: create(memory, clientToken="over", payload=turn("x" * 100_001)))
    assert error.response["Error"]["Code"] == "ValidationException"
    assert error.response["reason"] == "FieldValidationFailed"
    assert "payload.1.member.conversational.content.text" in error.response["Error"]["Message"]
    assert "less than or equal to 100000" in error.response["Error"]["Message"]
    assert len(events(memory)) == 1


def test_characters_outside_the_basic_plane_count_twice_as_in_java_services(memory):
    create(memory, clientToken="fits", payload=turn("\N{GRINNING FACE}" * 50_000))
    error = rejected(lambda: create(memory, clientToken="over", payload=turn("\N{GRINNING FACE}" * 50_001)))
    assert error.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize("actor", ["alice@example.com", "a.b", "a::b", "a:", ":a", "-a", "x" * 256, "tenant a", "ä"])
def test_actor_ids_follow_the_models_pattern_and_length(memory, actor):
    error = rejected(lambda: create(memory, actorId=actor))
    assert error.response["Error"]["Code"] == "ValidationException"
    assert "'actorId'" in error.response["Error"]["Message"]


@pytest.mark.parametrize("actor", ["alice", "u-a_b/c:d", "tenant:42", "x" * 255, "0"])
def test_valid_actor_ids_pass(memory, actor):
    assert create(memory, actorId=actor)["actorId"] == actor


@pytest.mark.parametrize("session", ["s:1", "s.1", "s/1", "_s", "x" * 101])
def test_session_ids_follow_the_models_pattern_and_length(memory, session):
    error = rejected(lambda: create(memory, sessionId=session))
    assert error.response["Error"]["Code"] == "ValidationException"
    assert "'sessionId'" in error.response["Error"]["Message"]


def test_every_violation_is_named_in_one_error(memory):
    error = rejected(lambda: create(memory, actorId="a@b", sessionId="s.1", payload=turn("x" * 100_001)))
    message = error.response["Error"]["Message"]
    assert message.startswith("3 validation errors detected")
    assert "'actorId'" in message and "'sessionId'" in message and "content.text" in message


def test_reads_are_validated_too(memory):
    client, memory_id = memory
    error = rejected(lambda: client.list_events(memoryId=memory_id, actorId="a.b", sessionId="s"))
    assert error.response["Error"]["Code"] == "ValidationException"


def test_an_unknown_or_deleted_memory_answers_not_found(memory):
    _, memory_id = memory
    boto3.client("bedrock-agentcore-control").delete_memory(memoryId=memory_id)
    error = rejected(lambda: create(memory))
    assert error.response["Error"]["Code"] == "ResourceNotFoundException"
    assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_uninstall_restores_moto(memory):
    strict_aws.uninstall()
    try:
        create(memory, actorId="a@b")  # moto alone accepts what AWS refuses
        assert not strict_aws.installed()
    finally:
        strict_aws.install()


# ---------------------------------------------------------------- DynamoDB: conditional writes are atomic

THREADS = 12
ROUNDS = 6


def _table() -> Any:
    client = boto3.client("dynamodb")
    client.create_table(
        TableName="race",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return client


def _key(round_: int) -> dict[str, Any]:
    return {"pk": {"S": f"task-{round_}"}}


# Each: (setup for a round, the conditional write thread i attempts). Exactly one may succeed per round.
RACES: dict[str, tuple[Callable[[Any, int], None], Callable[[Any, int, int], None]]] = {
    "update_item": (
        lambda c, r: c.put_item(TableName="race", Item={**_key(r), "status": {"S": "working"}}),
        lambda c, r, i: c.update_item(
            TableName="race",
            Key=_key(r),
            UpdateExpression="SET #s = :done, winner = :i",
            ConditionExpression="#s = :working",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":done": {"S": "completed"}, ":working": {"S": "working"}, ":i": {"N": str(i)}},
        ),
    ),
    "put_item": (
        lambda c, r: None,
        lambda c, r, i: c.put_item(
            TableName="race",
            Item={**_key(r), "winner": {"N": str(i)}},
            ConditionExpression="attribute_not_exists(pk)",
        ),
    ),
    "delete_item": (
        lambda c, r: c.put_item(TableName="race", Item={**_key(r), "status": {"S": "working"}}),
        lambda c, r, i: c.delete_item(TableName="race", Key=_key(r), ConditionExpression="attribute_exists(pk)"),
    ),
    "transact_write_items": (
        lambda c, r: c.put_item(TableName="race", Item={**_key(r), "status": {"S": "working"}}),
        lambda c, r, i: c.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": "race",
                        "Key": _key(r),
                        "UpdateExpression": "SET #s = :done, winner = :i",
                        "ConditionExpression": "#s = :working",
                        "ExpressionAttributeNames": {"#s": "status"},
                        "ExpressionAttributeValues": {
                            ":done": {"S": "cancelled"},
                            ":working": {"S": "working"},
                            ":i": {"N": str(i)},
                        },
                    }
                }
            ]
        ),
    ),
}


def _round(attempt: Callable[[Any, int, int], None], clients: list[Any], round_: int) -> list[int]:
    """All threads attempt their write at once; returns the threads whose write succeeded."""
    start = threading.Barrier(len(clients))
    winners: list[int] = []
    unexpected: list[BaseException] = []

    def run(i: int) -> None:
        start.wait()
        try:
            attempt(clients[i], round_, i)
            winners.append(i)
        except ClientError as error:
            if error.response["Error"]["Code"] not in (
                "ConditionalCheckFailedException",
                "TransactionCanceledException",
            ):
                unexpected.append(error)

    workers = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not unexpected, unexpected
    return winners


def race(operation: str, threads: int = THREADS, rounds: int = ROUNDS) -> list[list[int]]:
    """Race ``threads`` conditional writes per round; returns, per round, the threads whose write succeeded."""
    setup, attempt = RACES[operation]
    table = _table()
    clients = [boto3.client("dynamodb") for _ in range(threads)]  # one client per thread, as Lambdas would have
    outcomes: list[list[int]] = []
    switch = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads often, so an unguarded check-then-write interleaves
    try:
        for round_ in range(rounds):
            setup(table, round_)
            outcomes.append(_round(attempt, clients, round_))
    finally:
        sys.setswitchinterval(switch)
    return outcomes


@pytest.mark.parametrize("operation", list(RACES))
def test_exactly_one_of_many_concurrent_conditional_writes_wins(aws, operation):
    outcomes = race(operation)
    assert [len(winners) for winners in outcomes] == [1] * ROUNDS, outcomes
    if operation != "delete_item":
        table = boto3.client("dynamodb")
        for round_, winners in enumerate(outcomes):
            item = table.get_item(TableName="race", Key=_key(round_), ConsistentRead=True)["Item"]
            assert item["winner"] == {"N": str(winners[0])}  # the item holds the winner's write, no one else's


def test_locks_are_per_table_and_accept_arns():
    assert strict_aws.table_lock("tasks") is strict_aws.table_lock("arn:aws:dynamodb:us-east-1:1:table/tasks")
    assert strict_aws.table_lock("tasks") is not strict_aws.table_lock("other")

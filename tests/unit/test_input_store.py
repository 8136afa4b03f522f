"""Storing answers to input requests on the template's own table: optimistic, so concurrent answers never lose one."""

from __future__ import annotations

import pytest

from longhaul.adapters.dynamodb import DynamoTaskStore
from longhaul.models import TaskRecord, TaskStatus

REQUESTS = {
    "a": {"method": "elicitation/create", "params": {"message": "A?"}},
    "b": {"method": "elicitation/create", "params": {"message": "B?"}},
}


@pytest.fixture
def store(tasks_table) -> DynamoTaskStore:
    return DynamoTaskStore(tasks_table)


def waiting(store: DynamoTaskStore) -> TaskRecord:
    record = TaskRecord(
        task_id="t1",
        owner="alice",
        kind="model_training",
        status=TaskStatus.INPUT_REQUIRED,
        created_at="2026-11-26T06:00:00.000Z",
        updated_at="2026-11-26T06:00:00.000Z",
        expires_at=1_900_000_000,
        input_requests=REQUESTS,
        input_token="token-1",
    )
    store.create(record)
    return store.get_unscoped("t1")


def test_the_input_fields_round_trip(store):
    record = waiting(store)
    assert record.input_requests == REQUESTS and record.input_token == "token-1" and record.input_responses is None


def test_a_partial_answer_keeps_waiting_and_the_last_one_makes_it_working(store):
    record = waiting(store)
    accept = {"action": "accept", "content": {}}

    assert store.store_responses(record, {"b": REQUESTS["b"]}, {"a": accept}, "1 more")
    partial = store.get_unscoped("t1")
    assert store.store_responses(partial, {}, {"a": accept, "b": accept}, "resuming")

    final = store.get_unscoped("t1")
    assert partial.status == TaskStatus.INPUT_REQUIRED and partial.input_requests == {"b": REQUESTS["b"]}
    assert final.status == TaskStatus.WORKING and final.input_responses == {"a": accept, "b": accept}
    assert final.input_requests is None and final.input_token == "token-1"  # kept until the resume went through
    store.clear_input_token("t1", "token-1")
    assert store.get_unscoped("t1").input_token is None
    items = store.client.query(
        TableName=store.table_name,
        IndexName="by_owner_status",
        KeyConditionExpression="owner_status = :k",
        ExpressionAttributeValues={":k": {"S": "alice#working"}},
    )["Items"]
    assert [i["task_id"]["S"] for i in items] == ["t1"]  # listed as working again


def test_an_answer_based_on_a_stale_read_is_refused(store):
    record = waiting(store)
    accept = {"action": "accept", "content": {}}
    assert store.store_responses(record, {"b": REQUESTS["b"]}, {"a": accept}, "1 more")

    # A second answerer read the record before the first wrote: its view is stale, nothing is written.
    assert not store.store_responses(record, {"a": REQUESTS["a"]}, {"b": accept}, "1 more")
    assert store.get_unscoped("t1").input_responses == {"a": accept}


def test_a_cancelled_task_takes_no_answers(store):
    record = waiting(store)
    store.mark_cancelled("t1", owner="alice")
    assert not store.store_responses(record, {}, {"a": {"action": "decline"}}, "resuming")
    assert store.get_unscoped("t1").status == TaskStatus.CANCELLED

"""TaskStore on DynamoDB (moto, the table from template.yaml): the conditions that keep a record honest, the
derived item mapping, and the index keys that make listings, the per-owner cap and the sweeper cheap."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from longhaul.adapters.dynamodb import (
    ACTIVE_VALUES,
    IS_ACTIVE,
    DynamoTaskStore,
    from_item,
    to_item,
)
from longhaul.errors import (
    InvalidCursor,
    ProgressWentBackwards,
    TaskAlreadyExists,
    TaskAlreadyTerminal,
    TaskNotFound,
)
from longhaul.models import ACTIVE_STATUSES, MemoryDelivery, ResultRef, TaskRecord, TaskStatus
from longhaul_dev.template import checked_definition, load_template


def make_record(task_id: str, owner: str = "alice", created_at: str = "2026-11-26T06:00:00.000Z") -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        owner=owner,
        kind="model_training",
        params={"epochs": 3},
        created_at=created_at,
        updated_at=created_at,
        expires_at=1_900_000_000,
        session_id="session-1",
        execution_arn=f"arn:aws:states:us-east-1:123456789012:execution:wf:{task_id}-0001",
    )


@pytest.fixture
def store(tasks_table) -> DynamoTaskStore:
    return DynamoTaskStore(tasks_table)


def _raw(store: DynamoTaskStore, task_id: str) -> dict[str, Any]:
    return dict(store.client.get_item(TableName=store.table_name, Key={"task_id": {"S": task_id}})["Item"])


# --- the mapping -----------------------------------------------------------------------------------


def every_field_set() -> TaskRecord:
    """A record with every field holding a value that is not its default, awkward JSON included."""
    values: dict[str, Any] = {
        "task_id": "t-all",
        "owner": "ann@example.com",
        "kind": "csv_profile",
        "params": {"nested": {"list": [1, 2.5, None, True, "x"]}, "big": 10**40, "tiny": 1e-300},
        "status": TaskStatus.FAILED,
        "progress": 0.4567,
        "message": 'quote " and backslash \\ and ünïcode',
        "step_count": 7,
        "created_at": "2026-11-26T06:00:00.000Z",
        "updated_at": "2026-11-26T06:01:00.000Z",
        "started_at": "2026-11-26T06:00:01.000Z",
        "ended_at": "2026-11-26T06:02:00.000Z",
        "expires_at": 1_900_000_000,
        "session_id": "session-1",
        "idempotency_key": "key-1",
        "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:wf:t-all-abc",
        "result": [{"float": 0.1}, "text", 3],
        "result_ref": ResultRef(bucket="b", key="results/t-all.json", size_bytes=123456),
        "error_type": "ValueError",
        "error_message": "it broke",
        "memory_event_id": "event-1",
        "memory_delivery": MemoryDelivery.FAILED,
        "memory_error": "ValidationException: too long",
        "external_job": "5d1b7e2c-athena-query-id",
        "input_requests": {"approve": {"method": "elicitation/create", "params": {"message": "Go on?"}}},
        "input_responses": {"budget": {"action": "accept", "content": {"usd": 12.5}}},
        "input_token": "token-1",
    }
    assert set(values) == set(TaskRecord.model_fields), "a new TaskRecord field needs a value here"
    record = TaskRecord(**values)
    defaults = TaskRecord(task_id="t", owner="o", kind="k", created_at="c", updated_at="u", expires_at=0)
    unchanged = [
        n for n in TaskRecord.model_fields if n not in {"task_id"} and getattr(record, n) == getattr(defaults, n)
    ]
    assert not unchanged, f"fields left at their default: {unchanged}"
    return record


def test_every_field_round_trips_through_the_item():
    record = every_field_set()
    assert from_item(to_item(record)) == record


def test_every_field_round_trips_through_dynamodb(store):
    record = every_field_set()
    store.create(record)
    assert store.get_unscoped("t-all") == record


def test_the_item_carries_the_index_keys_its_status_implies():
    working = to_item(make_record("t1", owner="a#b"))
    assert working["owner_status"] == {"S": "a#b#working"} and working["active"] == {"S": "1"}
    failed = to_item(make_record("t1").model_copy(update={"status": TaskStatus.FAILED}))
    assert failed["owner_status"] == {"S": "alice#failed"} and "active" not in failed


def test_the_workflows_conditions_are_the_stores_active_condition():
    """MarkFailed guards on the same statuses as every store write, written once in the store."""
    states = json.loads(checked_definition(load_template(), "TaskWorkflow"))["States"]
    assert {f":{s.value}" for s in ACTIVE_STATUSES} == set(ACTIVE_VALUES)
    for name in ("MarkFailed",):
        parameters = states[name]["Parameters"]
        assert parameters["ConditionExpression"] == f"attribute_exists(task_id) AND {IS_ACTIVE}"
        for placeholder, value in ACTIVE_VALUES.items():
            assert parameters["ExpressionAttributeValues"][placeholder] == value
    mark_failed = states["MarkFailed"]["Parameters"]
    assert "owner_status = :owner_status" in mark_failed["UpdateExpression"]
    assert mark_failed["UpdateExpression"].endswith("REMOVE active")


# --- reads -----------------------------------------------------------------------------------------


def test_create_refuses_an_existing_task_id(store):
    store.create(make_record("t1"))
    with pytest.raises(TaskAlreadyExists):
        store.create(make_record("t1", owner="mallory"))
    assert store.get_unscoped("t1").owner == "alice"


def test_another_owners_task_reads_exactly_like_a_missing_one(store):
    store.create(make_record("t1"))
    with pytest.raises(TaskNotFound) as other:
        store.get("t1", owner="bob")
    with pytest.raises(TaskNotFound) as missing:
        store.get("t-missing", owner="bob")
    assert str(other.value).replace("t1", "X") == str(missing.value).replace("t-missing", "X")


def test_an_owner_read_cannot_be_made_without_saying_whose():
    with pytest.raises(TypeError):
        DynamoTaskStore("table").get("t1")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        DynamoTaskStore("table").get("t1", "alice")  # type: ignore[misc]


# --- writes ----------------------------------------------------------------------------------------


def test_progress_moves_forward_and_never_back(store):
    store.create(make_record("t1"))
    store.report_progress("t1", 0.5, "half")
    store.report_progress("t1", 0.5, "half again")  # a retried step may repeat a value
    with pytest.raises(ProgressWentBackwards):
        store.report_progress("t1", 0.25, "back")
    record = store.get_unscoped("t1")
    assert (record.progress, record.message) == (0.5, "half again")


def test_step_count_only_moves_forward(store):
    store.create(make_record("t1"))
    store.record_step("t1", 3)
    store.record_step("t1", 2)  # a late retry of an earlier step
    store.record_step("t1", 3)
    assert store.get_unscoped("t1").step_count == 3


@pytest.mark.parametrize("terminal", ["failed", "cancelled"])
def test_terminal_states_never_change(store, terminal):
    store.create(make_record("t1"))
    if terminal == "failed":
        assert store.mark_failed("t1", owner="alice", error_type="SomeError", error_message="why") is True
    else:
        assert store.mark_cancelled("t1", owner="alice", message="why") is True
    assert store.mark_failed("t1", owner="alice", error_type="Other", error_message="later") is False
    assert store.mark_cancelled("t1", owner="alice") is False
    with pytest.raises(TaskAlreadyTerminal):
        store.report_progress("t1", 0.9, "late progress")
    with pytest.raises(TaskAlreadyTerminal):
        store.complete("t1", owner="alice", step_count=9, result={"late": True})
    with pytest.raises(TaskAlreadyTerminal):
        store.record_step("t1", 9)
    record = store.get_unscoped("t1")
    assert record.status == TaskStatus(terminal) and record.error_message == "why" and record.result is None
    item = _raw(store, "t1")
    assert item["owner_status"] == {"S": f"alice#{terminal}"} and "active" not in item


def test_complete_is_idempotent_and_keeps_the_first_result(store):
    store.create(make_record("t1"))
    assert store.complete("t1", owner="alice", step_count=2, result={"answer": 42}) is True
    assert store.complete("t1", owner="alice", step_count=3, result={"answer": 43}) is False
    record = store.get_unscoped("t1")
    assert (record.status, record.progress, record.result, record.step_count) == (
        TaskStatus.COMPLETED,
        1.0,
        {"answer": 42},
        2,
    )
    assert store.mark_cancelled("t1", owner="alice") is False
    assert store.get_unscoped("t1").status == TaskStatus.COMPLETED


def test_complete_with_a_pointer_stores_the_pointer(store):
    store.create(make_record("t1"))
    ref = ResultRef(bucket="b", key="results/t1.json", size_bytes=123456)
    store.complete("t1", owner="alice", step_count=1, result_ref=ref)
    assert store.get_unscoped("t1").result_ref == ref


def test_memory_delivery_is_recorded_without_touching_the_outcome_and_delivered_is_final(store):
    store.create(make_record("t1"))
    store.complete("t1", owner="alice", step_count=1, result={"answer": 42})
    store.set_memory_delivery("t1", MemoryDelivery.DELIVERED, event_id="event-1")
    store.set_memory_delivery("t1", MemoryDelivery.FAILED, error="late failure")
    record = store.get_unscoped("t1")
    assert (record.status, record.result) == (TaskStatus.COMPLETED, {"answer": 42})
    assert (record.memory_delivery, record.memory_event_id, record.memory_error) == (
        MemoryDelivery.DELIVERED,
        "event-1",
        None,
    )


def test_updates_to_a_missing_task_raise_not_found(store):
    with pytest.raises(TaskNotFound):
        store.report_progress("nope", 0.1, "")
    with pytest.raises(TaskNotFound):
        store.mark_failed("nope", owner="alice", error_type="E", error_message="m")


# --- listings and counts ---------------------------------------------------------------------------


def test_list_is_owner_scoped_newest_first_and_paginated(store):
    for i in range(5):
        store.create(make_record(f"a{i}", created_at=f"2026-11-26T06:00:0{i}.000Z"))
    store.create(make_record("b0", owner="bob"))
    store.mark_failed("a1", owner="alice", error_type="E", error_message="m")

    first, cursor = store.list_for_owner("alice", limit=2)
    second, cursor2 = store.list_for_owner("alice", limit=2, cursor=cursor)
    third, cursor3 = store.list_for_owner("alice", limit=2, cursor=cursor2)
    assert [r.task_id for r in first + second + third] == ["a4", "a3", "a2", "a1", "a0"]
    assert cursor3 is None or store.list_for_owner("alice", limit=2, cursor=cursor3)[0] == []

    failed, _ = store.list_for_owner("alice", status=TaskStatus.FAILED, limit=10)
    assert [r.task_id for r in failed] == ["a1"]
    working, _ = store.list_for_owner("alice", status=TaskStatus.WORKING, limit=10)
    assert [r.task_id for r in working] == ["a4", "a3", "a2", "a0"]
    assert [r.task_id for r in store.list_for_owner("bob")[0]] == ["b0"]


def test_a_filtered_listing_costs_one_query_whatever_the_owners_history(tasks_table):
    """2,000 finished tasks and one working: list_tasks(status=working, limit=1) is one Query and one BatchGet."""
    calls: list[str] = []
    client = boto3.client("dynamodb", region_name="us-east-1")
    client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))
    store = DynamoTaskStore(tasks_table, client=client)
    items = []
    for i in range(2000):
        record = make_record(f"d{i:04d}", created_at=f"2026-11-25T{i // 3600:02d}:{i // 60 % 60:02d}:{i % 60:02d}.000Z")
        items.append(to_item(record.model_copy(update={"status": TaskStatus.COMPLETED})))
    for start in range(0, len(items), 25):
        client.batch_write_item(
            RequestItems={tasks_table: [{"PutRequest": {"Item": i}} for i in items[start : start + 25]]}
        )
    store.create(make_record("live", created_at="2026-11-20T00:00:00.000Z"))
    calls.clear()
    found, _ = store.list_for_owner("alice", status=TaskStatus.WORKING, limit=1)
    assert [r.task_id for r in found] == ["live"]
    assert calls == ["Query", "BatchGetItem"]


def test_a_cursor_from_another_owner_or_listing_is_refused(store):
    for i in range(3):
        store.create(make_record(f"a{i}", created_at=f"2026-11-26T06:00:0{i}.000Z"))
    _, cursor = store.list_for_owner("alice", limit=1)
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        store.list_for_owner("bob", cursor=cursor)
    with pytest.raises(InvalidCursor):
        store.list_for_owner("alice", status=TaskStatus.WORKING, cursor=cursor)
    with pytest.raises(InvalidCursor):
        store.list_for_owner("alice", cursor="not-a-cursor")


def test_count_active_counts_working_and_waiting_tasks_up_to_the_bound(store):
    for i in range(4):
        store.create(make_record(f"a{i}"))
    store.mark_cancelled("a0", owner="alice")
    store.create(make_record("b0", owner="bob"))
    assert store.count_active("alice", up_to=10) == 3
    assert store.count_active("alice", up_to=2) == 2
    assert store.count_active("carol", up_to=10) == 0


def test_list_active_holds_only_active_tasks_created_before_the_cutoff(store):
    store.create(make_record("old", created_at="2026-11-26T05:00:00.000Z"))
    store.create(make_record("done", created_at="2026-11-26T05:00:01.000Z"))
    store.complete("done", owner="alice", step_count=1, result=1)
    store.create(make_record("new", created_at="2026-11-26T07:00:00.000Z"))
    assert store.list_active(created_before="2026-11-26T06:00:00.000Z") == ["old"]

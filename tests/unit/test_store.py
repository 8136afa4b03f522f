"""TaskStore on DynamoDB (moto, table from template.yaml): the conditions that keep a record honest."""

from __future__ import annotations

import pytest

from longhaul.adapters.dynamodb import DynamoTaskStore, InvalidCursor
from longhaul.errors import ProgressWentBackwards, TaskAlreadyExists, TaskAlreadyTerminal, TaskNotFound
from longhaul.models import ResultRef, TaskRecord, TaskStatus


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
    )


@pytest.fixture
def store(stack) -> DynamoTaskStore:
    return DynamoTaskStore(stack.table_name)


def test_create_then_get_round_trips_the_record(store):
    record = make_record("t1")
    store.create(record)
    assert store.get("t1", "alice") == record


def test_create_refuses_an_existing_task_id(store):
    store.create(make_record("t1"))
    with pytest.raises(TaskAlreadyExists):
        store.create(make_record("t1", owner="mallory"))
    assert store.get("t1").owner == "alice"


def test_another_owners_task_reads_exactly_like_a_missing_one(store):
    store.create(make_record("t1"))
    with pytest.raises(TaskNotFound) as other:
        store.get("t1", "bob")
    with pytest.raises(TaskNotFound) as missing:
        store.get("t-missing", "bob")
    assert str(other.value).replace("t1", "X") == str(missing.value).replace("t-missing", "X")


def test_progress_moves_forward_and_never_back(store):
    store.create(make_record("t1"))
    store.report_progress("t1", 0.5, "half")
    store.report_progress("t1", 0.5, "half again")  # a retried step may repeat a value
    with pytest.raises(ProgressWentBackwards):
        store.report_progress("t1", 0.25, "back")
    record = store.get("t1")
    assert (record.progress, record.message) == (0.5, "half again")


@pytest.mark.parametrize("terminal", [TaskStatus.FAILED, TaskStatus.CANCELLED])
def test_terminal_states_never_change(store, terminal):
    store.create(make_record("t1"))
    assert store.finish("t1", terminal, "SomeError", "why") is True
    assert store.finish("t1", TaskStatus.FAILED, "Other", "later") is False
    with pytest.raises(TaskAlreadyTerminal):
        store.report_progress("t1", 0.9, "late progress")
    with pytest.raises(TaskAlreadyTerminal):
        store.complete("t1", result={"late": True})
    record = store.get("t1")
    assert (record.status, record.error_type, record.error_message) == (terminal, "SomeError", "why")
    assert record.result is None


def test_complete_is_idempotent_and_keeps_the_first_result(store):
    store.create(make_record("t1"))
    assert store.complete("t1", result={"answer": 42}) is True
    assert store.complete("t1", result={"answer": 43}) is False
    record = store.get("t1")
    assert (record.status, record.progress, record.result) == (TaskStatus.COMPLETED, 1.0, {"answer": 42})
    assert store.finish("t1", TaskStatus.CANCELLED, None, None) is False
    assert store.get("t1").status == TaskStatus.COMPLETED


def test_complete_with_a_pointer_stores_the_pointer(store):
    store.create(make_record("t1"))
    ref = ResultRef(bucket="b", key="results/t1.json", size_bytes=123456)
    store.complete("t1", result_ref=ref)
    assert store.get("t1").result_ref == ref


def test_memory_event_is_recorded_once(store):
    store.create(make_record("t1"))
    store.set_memory_event("t1", "event-1")
    store.set_memory_event("t1", "event-2")
    assert store.get("t1").memory_event_id == "event-1"


def test_updates_to_a_missing_task_raise_not_found(store):
    with pytest.raises(TaskNotFound):
        store.report_progress("nope", 0.1, "")
    with pytest.raises(TaskNotFound):
        store.finish("nope", TaskStatus.FAILED, "E", "m")


def test_list_is_owner_scoped_newest_first_and_paginated(store):
    for i in range(5):
        store.create(make_record(f"a{i}", created_at=f"2026-11-26T06:00:0{i}.000Z"))
    store.create(make_record("b0", owner="bob"))
    store.finish("a1", TaskStatus.FAILED, "E", "m")

    first, cursor = store.list_for_owner("alice", limit=2)
    second, cursor2 = store.list_for_owner("alice", limit=2, cursor=cursor)
    third, cursor3 = store.list_for_owner("alice", limit=2, cursor=cursor2)
    assert [r.task_id for r in first + second + third] == ["a4", "a3", "a2", "a1", "a0"]
    assert cursor3 is None or store.list_for_owner("alice", limit=2, cursor=cursor3)[0] == []

    failed, _ = store.list_for_owner("alice", status=TaskStatus.FAILED, limit=10)
    assert [r.task_id for r in failed] == ["a1"]
    assert [r.task_id for r in store.list_for_owner("bob")[0]] == ["b0"]


def test_a_cursor_from_another_owner_is_refused(store):
    for i in range(3):
        store.create(make_record(f"a{i}", created_at=f"2026-11-26T06:00:0{i}.000Z"))
    _, cursor = store.list_for_owner("alice", limit=1)
    assert cursor is not None
    with pytest.raises(InvalidCursor):
        store.list_for_owner("bob", cursor=cursor)
    with pytest.raises(InvalidCursor):
        store.list_for_owner("alice", cursor="not-a-cursor")

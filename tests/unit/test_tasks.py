"""TaskService.start: durable creation before the id is returned, idempotency, and honest failure."""

from __future__ import annotations

from typing import Any

import pytest

from longhaul.adapters.dynamodb import DynamoTaskStore
from longhaul.errors import InvalidTaskParams, TaskStartFailed, TooManyActiveTasks
from longhaul.models import TaskStatus
from longhaul.settings import Settings
from longhaul.tasks import IdempotencyConflict, TaskService


class FlakyWorkflow:
    """A Workflow whose StartExecution fails on demand; records what was started."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.fail = False

    def execution_arn(self, name: str) -> str:
        return f"arn:aws:states:us-east-1:123456789012:execution:wf:{name}"

    def start(self, name: str, payload: dict[str, Any]) -> str:
        if self.fail:
            raise ConnectionError("Step Functions is unreachable")
        self.started.append(name)
        return self.execution_arn(name)

    def stop(self, arn: str, cause: str) -> None:
        pass


@pytest.fixture
def service(tasks_table) -> tuple[TaskService, FlakyWorkflow, DynamoTaskStore]:
    store, workflow = DynamoTaskStore(tasks_table), FlakyWorkflow()
    return TaskService(store, workflow, blobs=None, settings=Settings()), workflow, store  # type: ignore[arg-type]


def test_the_record_exists_before_the_execution_starts(service):
    tasks, workflow, store = service
    seen_at_start: list[TaskStatus] = []
    original = workflow.start

    def start(name: str, payload: dict[str, Any]) -> str:
        seen_at_start.append(store.get(payload["task_id"], owner="alice").status)
        return original(name, payload)

    workflow.start = start  # type: ignore[method-assign]
    record = tasks.start("alice", "model_training", {"epochs": 2})
    assert seen_at_start == [TaskStatus.WORKING]
    assert store.get(record.task_id, owner="alice").params["epochs"] == 2


def test_a_failed_start_leaves_a_failed_record_not_a_working_one(service):
    tasks, workflow, store = service
    workflow.fail = True
    with pytest.raises(TaskStartFailed):
        tasks.start("alice", "model_training", {}, idempotency_key="k1")
    records, _ = store.list_for_owner("alice")
    assert [(r.status, r.error_type) for r in records] == [(TaskStatus.FAILED, "StartFailed")]


def test_a_failed_repeat_start_does_not_touch_the_running_task(service):
    tasks, workflow, store = service
    first = tasks.start("alice", "model_training", {}, idempotency_key="k1")
    workflow.fail = True
    with pytest.raises(TaskStartFailed):
        tasks.start("alice", "model_training", {}, idempotency_key="k1")
    assert store.get(first.task_id, owner="alice").status == TaskStatus.WORKING


def test_the_same_idempotency_key_gives_the_same_task_per_caller(service):
    tasks, _, _ = service
    a1 = tasks.start("alice", "model_training", {"epochs": 2}, idempotency_key="nightly")
    a2 = tasks.start("alice", "model_training", {"epochs": 2}, idempotency_key="nightly")
    b1 = tasks.start("bob", "model_training", {"epochs": 2}, idempotency_key="nightly")
    assert a1.task_id == a2.task_id != b1.task_id
    with pytest.raises(IdempotencyConflict):
        tasks.start("alice", "model_training", {"epochs": 3}, idempotency_key="nightly")


@pytest.mark.parametrize(
    ("params", "session_id", "message"),
    [
        ({"epochs": 0}, None, "epochs"),
        ({}, "not valid!", "session_id"),
        ({"model_name": "x" * 40_000}, None, "model_name"),
    ],
)
def test_invalid_starts_write_nothing(service, params, session_id, message):
    tasks, workflow, store = service
    with pytest.raises(InvalidTaskParams, match=message):
        tasks.start("alice", "model_training", params, session_id=session_id)
    assert store.list_for_owner("alice")[0] == [] and workflow.started == []


def test_a_repeated_start_reuses_the_execution_name_and_a_new_record_gets_a_new_one(service):
    """Step Functions keeps an execution name 90 days: a task id that comes back after its record expired (an
    idempotency key reused after the TTL) must start real work under a new name, not collide with the old one."""
    tasks, workflow, store = service
    first = tasks.start("alice", "model_training", {}, idempotency_key="k1")
    tasks.start("alice", "model_training", {}, idempotency_key="k1")
    assert workflow.started == [first.execution_name, first.execution_name]
    assert first.execution_name.startswith(first.task_id + "-")

    store.client.delete_item(TableName=store.table_name, Key={"task_id": {"S": first.task_id}})  # TTL expiry
    again = tasks.start("alice", "model_training", {}, idempotency_key="k1")
    assert again.task_id == first.task_id and again.execution_name != first.execution_name
    assert workflow.started[-1] == again.execution_name


def test_the_per_owner_cap_refuses_new_work_but_not_a_repeat_and_writes_nothing(tasks_table):
    store, workflow = DynamoTaskStore(tasks_table), FlakyWorkflow()
    tasks = TaskService(store, workflow, blobs=None, settings=Settings(max_active_tasks_per_owner=2))  # type: ignore[arg-type]
    first = tasks.start("alice", "model_training", {}, idempotency_key="k1")
    tasks.start("alice", "model_training", {})
    with pytest.raises(TooManyActiveTasks, match="2 active tasks"):
        tasks.start("alice", "model_training", {})
    assert tasks.start("alice", "model_training", {}, idempotency_key="k1").task_id == first.task_id
    assert len(store.list_for_owner("alice")[0]) == 2
    tasks.start("bob", "model_training", {})  # the cap is per owner
    tasks.cancel("alice", first.task_id)
    tasks.start("alice", "model_training", {})

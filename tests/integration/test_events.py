"""Every sample event in events/ (the ones `sam local invoke -e` takes) runs through its real handler."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from longhaul import runtime
from longhaul.adapters.dynamodb import DynamoTaskStore
from longhaul.models import TaskRecord, TaskStatus
from tests.conftest import EVENTS, load_event

FUNCTIONS = {"run_step": "RunStepFunction", "write_result": "WriteResultFunction", "reconcile": "ReconcileFunction"}
EVENT_FILES = sorted(p.relative_to(EVENTS).as_posix() for d in FUNCTIONS for p in (EVENTS / d).glob("*.json"))


OWNER = "local-developer"  # the owner the sample RunStep events carry


def seed_task(stack, task_id: str, *, completed: bool = False) -> None:
    record = TaskRecord(
        task_id=task_id,
        owner=OWNER,
        kind="model_training",
        created_at="2026-11-26T06:00:00.000Z",
        updated_at="2026-11-26T06:00:00.000Z",
        expires_at=1_900_000_000,
        session_id="event-session",
    )
    if completed:
        record = record.model_copy(
            update={"status": TaskStatus.COMPLETED, "ended_at": "2026-11-26T06:10:00.000Z", "result": {"loss": 0.1}}
        )
    DynamoTaskStore(stack.table_name).create(record)


def invoke(stack, relative: str) -> tuple[dict, dict]:
    event = load_event(relative)
    function = stack.functions[FUNCTIONS[relative.split("/")[0]]]
    response = boto3.client("lambda").invoke(FunctionName=function, Payload=json.dumps(event))
    return event, {"error": response.get("FunctionError"), "payload": json.loads(response["Payload"].read())}


def test_every_event_file_is_covered():
    assert len(EVENT_FILES) >= 6
    assert {Path(f).parts[0] for f in EVENT_FILES} == set(FUNCTIONS)


@pytest.mark.parametrize("relative", EVENT_FILES)
def test_event_file_runs_through_its_handler(stack, relative):
    task_id = load_event(relative).get("task_id") or load_event(relative)["detail"]["name"]
    seed_task(stack, task_id, completed=relative.startswith("write_result/"))

    event, answer = invoke(stack, relative)

    assert answer["error"] is None, answer["payload"]
    record = runtime.task_service().get(OWNER, task_id)
    if relative.startswith("run_step/"):
        last = event["cursor"] is not None
        assert answer["payload"]["outcome"] == ("done" if last else "continue")
        assert answer["payload"]["step_count"] == event["step_count"] + 1 == record.step_count
        assert record.progress == pytest.approx(1.0 if last else 1 / 3, abs=1e-3)
        assert record.status == (TaskStatus.COMPLETED if last else TaskStatus.WORKING)
        assert (record.result is not None) is last  # the step that finishes stores the result itself
    elif relative.startswith("write_result/"):
        assert answer["payload"] == {"task_id": task_id, "status": "completed", "memory_delivery": "delivered"}
        assert record.status == TaskStatus.COMPLETED and record.result == {"loss": 0.1}
        assert record.memory_event_id is not None
    else:
        expected = TaskStatus.CANCELLED if event["detail"]["status"] == "ABORTED" else TaskStatus.FAILED
        assert answer["payload"] == {"task_id": task_id, "changed": True, "status": expected.value}
        assert record.status == expected
        if expected == TaskStatus.FAILED:
            assert record.error_type == event["detail"]["error"]


def test_reconcile_of_an_unknown_execution_changes_nothing(stack):
    _, answer = invoke(stack, "reconcile/execution_failed.json")
    assert answer["error"] is None
    assert answer["payload"]["changed"] is False

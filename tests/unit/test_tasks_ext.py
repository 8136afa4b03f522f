"""The tasks extension's wire shapes, built from task records (no network)."""

from __future__ import annotations

import json

from longhaul.endpoint.tasks_ext import detailed_task, task_fields
from longhaul.models import TaskRecord, TaskStatus

CREATED = "2026-11-26T06:00:00.000Z"
CREATED_EPOCH = 1_795_672_800  # 2026-11-26T06:00:00Z


def record(status: TaskStatus, **fields) -> TaskRecord:
    return TaskRecord(
        task_id="t1",
        owner="alice",
        kind="model_training",
        status=status,
        message="epoch 3/5",
        created_at=CREATED,
        updated_at="2026-11-26T06:05:00.000Z",
        expires_at=CREATED_EPOCH + 7 * 24 * 3600,
        **fields,
    )


def test_a_task_carries_integer_milliseconds_and_the_records_lifetime():
    fields = task_fields(record(TaskStatus.WORKING))
    assert fields == {
        "taskId": "t1",
        "status": "working",
        "createdAt": CREATED,
        "lastUpdatedAt": "2026-11-26T06:05:00.000Z",
        "ttlMs": 7 * 24 * 3600 * 1000,
        "pollIntervalMs": 5000,
        "statusMessage": "epoch 3/5",
    }


def test_a_completed_task_inlines_its_result_as_a_call_tool_result():
    task = detailed_task(record(TaskStatus.COMPLETED), {"loss": 0.1})
    assert task["result"] == {
        "content": [{"type": "text", "text": json.dumps({"loss": 0.1})}],
        "isError": False,
        "structuredContent": {"loss": 0.1},
    }
    assert "error" not in task and "inputRequests" not in task


def test_a_result_that_already_is_a_call_tool_result_passes_through_with_its_is_error():
    tool_error = {"content": [{"type": "text", "text": "bad input"}], "isError": True}
    assert detailed_task(record(TaskStatus.COMPLETED), tool_error)["result"] == tool_error


def test_a_failed_task_carries_a_json_rpc_error_and_says_why():
    task = detailed_task(record(TaskStatus.FAILED, error_type="ValueError", error_message="no such file"))
    assert task["error"] == {"code": -32603, "message": "no such file", "data": {"type": "ValueError"}}
    assert task["statusMessage"] == "no such file" and "result" not in task


def test_an_input_required_task_lists_its_pending_requests():
    requests = {"q1": {"method": "elicitation/create", "params": {"mode": "form", "message": "?"}}}
    task = detailed_task(record(TaskStatus.INPUT_REQUIRED, input_requests=requests))
    assert task["inputRequests"] == requests and "result" not in task

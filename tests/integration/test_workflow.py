"""The real ASL executed by moto, with the real handlers run in-process for every Lambda task.

Given a local stack built from template.yaml, when a task starts, then its record tells the truth at every step.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import boto3
import pytest
from pydantic import BaseModel

from longhaul import runtime
from longhaul.errors import TransientStepError
from longhaul.kinds import Done, Sleep, TaskKind
from longhaul.models import TaskStatus
from longhaul_dev import moto_lambda
from longhaul_dev.stack import wait_for_execution
from tests.conftest import load_event


class NoParams(BaseModel):
    pass


def kind(name: str, step) -> TaskKind:
    return TaskKind(name=name, title=name, description=name, params_model=NoParams, step=step)


def memory_events(stack, actor_id: str, session_id: str) -> list[dict[str, Any]]:
    client = boto3.client("bedrock-agentcore")
    return client.list_events(memoryId=stack.memory_id, actorId=actor_id, sessionId=session_id, includePayloads=True)[
        "events"
    ]


def history_types(execution_arn: str) -> list[str]:
    events = boto3.client("stepfunctions").get_execution_history(executionArn=execution_arn, maxResults=1000)
    return [e["type"] for e in events["events"]]


def test_model_training_runs_many_steps_to_completed_with_rising_progress_and_one_memory_event(stack):
    service = runtime.task_service()
    # checkpoint_seconds 0: a checkpoint (a workflow step) after every epoch, where the default is one long step.
    params = {"epochs": 4, "epoch_seconds": 0.3, "checkpoint_seconds": 0}
    record = service.start("alice", "model_training", params, session_id="agent-session-1")
    assert service.get("alice", record.task_id).status == TaskStatus.WORKING  # readable before any step ran

    seen: list[float] = []
    while (current := service.get("alice", record.task_id)).status == TaskStatus.WORKING:
        seen.append(current.progress)
        time.sleep(0.05)
    execution = wait_for_execution(record.execution_arn)

    assert execution["status"] == "SUCCEEDED"
    assert current.status == TaskStatus.COMPLETED
    assert current.step_count == 4
    assert seen == sorted(seen) and {0.25, 0.5, 0.75} & set(seen), seen
    _, result, _ = service.result("alice", record.task_id)
    assert result["epochs"] == 4 and result["final_loss"] < result["loss_history_tail"][0]

    events = memory_events(stack, "alice", "agent-session-1")
    assert len(events) == 1
    user, assistant = (p["conversational"] for p in events[0]["payload"])
    restored = json.loads(assistant["content"]["text"])  # the Strands SessionMessage shape
    assert assistant["role"] == "ASSISTANT" and user["role"] == "USER"
    assert restored["message"]["role"] == "assistant"
    assert record.task_id in restored["message"]["content"][0]["text"]
    assert str(result["final_loss"]) in restored["message"]["content"][0]["text"]


def test_a_sleep_outcome_waits_in_the_workflow_then_steps_again(stack, register_kind):
    def nap(params, cursor, ctx):
        return Done({"slept": True}) if cursor == "awake" else Sleep(1, "awake")

    register_kind(kind("nap", nap))
    service = runtime.task_service()
    record = service.start("alice", "nap", {})
    started = time.monotonic()
    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"

    assert time.monotonic() - started >= 1.0
    assert history_types(record.execution_arn).count("WaitStateEntered") == 1
    assert service.result("alice", record.task_id)[1] == {"slept": True}


def test_a_transient_error_is_retried_and_the_task_still_completes(stack, register_kind):
    attempts: list[int] = []

    def flaky(params, cursor, ctx):
        attempts.append(1)
        if len(attempts) == 1:
            raise TransientStepError("the upstream API throttled us")
        return Done({"attempts": len(attempts)})

    register_kind(kind("flaky", flaky))
    service = runtime.task_service()
    record = service.start("alice", "flaky", {})
    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"

    final = service.get("alice", record.task_id)
    assert final.status == TaskStatus.COMPLETED and final.result == {"attempts": 2}
    assert len(attempts) == 2


def test_a_permanent_error_fails_the_task_with_its_type_and_message(stack, register_kind):
    def broken(params, cursor, ctx):
        raise ValueError("column 'price' has no numbers")

    register_kind(kind("broken", broken))
    service = runtime.task_service()
    record = service.start("alice", "broken", {})
    assert wait_for_execution(record.execution_arn)["status"] == "FAILED"

    final = service.get("alice", record.task_id)
    assert final.status == TaskStatus.FAILED
    assert final.error_type == "ValueError"
    assert final.error_message == "column 'price' has no numbers"  # the message, not the runtime's JSON or trace
    assert moto_lambda.invocations.count((stack.functions["RunStepFunction"], "ValueError")) >= 1


def test_stopping_the_execution_ends_the_task_cancelled_through_reconcile(stack):
    service = runtime.task_service()
    # One epoch per step: the step in flight when the execution stops ends soon after, within this test.
    record = service.start("alice", "model_training", {"epochs": 50, "epoch_seconds": 0.2, "checkpoint_seconds": 0})
    deadline = time.monotonic() + 30
    while service.get("alice", record.task_id).progress == 0 and time.monotonic() < deadline:
        time.sleep(0.05)

    boto3.client("stepfunctions").stop_execution(executionArn=record.execution_arn, error="Operator", cause="stop")
    execution = wait_for_execution(record.execution_arn)
    assert execution["status"] == "ABORTED"
    # EventBridge delivers "Execution Status Change" to ReconcileFunction; moto has no such rule, so deliver it.
    event = load_event("reconcile/execution_aborted.json")
    event["detail"].update(
        name=record.execution_name, executionArn=record.execution_arn, stateMachineArn=stack.state_machine_arn
    )
    outcome = invoke_function(stack, "ReconcileFunction", event)

    assert outcome == {"task_id": record.task_id, "changed": True, "status": "cancelled"}
    final = service.get("alice", record.task_id)
    assert final.status == TaskStatus.CANCELLED and 0 < final.progress < 1


def test_cancel_task_marks_cancelled_and_stops_the_execution(stack):
    service = runtime.task_service()
    record = service.start("alice", "model_training", {"epochs": 50, "epoch_seconds": 0.2, "checkpoint_seconds": 0})
    cancelled = service.cancel("alice", record.task_id)
    assert cancelled.status == TaskStatus.CANCELLED
    assert wait_for_execution(record.execution_arn)["status"] in ("ABORTED", "SUCCEEDED", "FAILED")
    assert service.get("alice", record.task_id).status == TaskStatus.CANCELLED


def test_a_result_over_the_inline_threshold_is_stored_in_s3_and_read_back_whole(stack, register_kind):
    big = {"rows": [{"i": i, "text": "x" * 90} for i in range(2000)]}  # ~230 KB: over 64 KiB, near SFN's 256 KiB

    register_kind(kind("big_result", lambda params, cursor, ctx: Done(big)))
    service = runtime.task_service()
    record = service.start("alice", "big_result", {}, session_id="s-big")
    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"

    final, result, url = service.result("alice", record.task_id)
    assert final.result is None and final.result_ref is not None
    assert final.result_ref.key == f"results/{record.task_id}.json"
    assert result == big and url is None
    text = json.loads(memory_events(stack, "alice", "s-big")[0]["payload"][1]["conversational"]["content"]["text"])
    assert "get_task_result" in text["message"]["content"][0]["text"]  # a pointer, not 230 KB of text


def test_tasks_run_concurrently_without_mixing_records(stack):
    service = runtime.task_service()
    records = [service.start(f"user{i}", "model_training", {"epochs": 2, "epoch_seconds": 0.1}) for i in range(3)]
    for record in records:
        assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"
    for i, record in enumerate(records):
        assert service.get(f"user{i}", record.task_id).status == TaskStatus.COMPLETED
    assert threading.active_count() < 50


def invoke_function(stack, logical_id: str, event: dict[str, Any]) -> Any:
    """Invoke a function through moto's Lambda API, as EventBridge or a user's tool would."""
    response = boto3.client("lambda").invoke(FunctionName=stack.functions[logical_id], Payload=json.dumps(event))
    payload = json.loads(response["Payload"].read())
    if response.get("FunctionError"):
        pytest.fail(f"{logical_id} failed: {payload}")
    return payload


def test_a_task_past_its_step_limit_fails_cleanly_before_the_history_limit(stack, monkeypatch):
    monkeypatch.setenv("MAX_STEPS_PER_TASK", "2")
    runtime.reset()
    service = runtime.task_service()
    record = service.start("alice", "model_training", {"epochs": 5, "epoch_seconds": 0, "checkpoint_seconds": 0})
    assert wait_for_execution(record.execution_arn)["status"] == "FAILED"

    final = service.get("alice", record.task_id)
    assert (final.status, final.error_type, final.step_count) == (TaskStatus.FAILED, "StepLimitExceeded", 2)
    assert "MAX_STEPS_PER_TASK" in final.error_message


def test_csv_profile_profiles_an_uploaded_file_in_checkpointed_chunks(stack):
    rows = "".join(f"{i},{i * 0.5},{'x' if i % 2 else ''}\n" for i in range(3000))
    service = runtime.task_service()
    key, _, _ = service.upload_url("alice", "readings.csv")
    boto3.client("s3").put_object(Bucket=stack.bucket_name, Key=key, Body=f"id,value,flag\n{rows}")
    # A checkpoint after every 16 KiB read: the statistics and the unfinished line carry over three times.
    record = service.start("alice", "csv_profile", {"input_key": key, "chunk_bytes": 16384, "checkpoint_seconds": 0})
    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"
    assert service.get("alice", record.task_id).step_count == 3

    _, result, _ = service.result("alice", record.task_id)
    assert result["rows"] == 3000
    assert result["columns"]["value"] == {
        "count": 3000,
        "empty": 0,
        "numeric": 3000,
        "min": 0.0,
        "max": 1499.5,
        "mean": 749.75,
    }
    assert result["columns"]["flag"]["empty"] == 1500


def test_csv_profile_of_a_missing_or_another_owners_file_fails_alike(stack):
    service = runtime.task_service()
    alices, _, _ = service.upload_url("alice", "payroll.csv")
    boto3.client("s3").put_object(Bucket=stack.bucket_name, Key=alices, Body=b"name,salary\nann,91000\n")
    missing, _, _ = service.upload_url("bob", "payroll.csv")  # bob's own key, never uploaded
    messages = []
    for key in (alices, missing):
        record = service.start("bob", "csv_profile", {"input_key": key})
        assert wait_for_execution(record.execution_arn)["status"] == "FAILED"
        final = service.get("bob", record.task_id)
        assert final.error_type == "InputNotFound" and final.result is None
        messages.append(final.error_message.replace(key, "KEY"))
    assert messages[0] == messages[1] and "salary" not in messages[0]


def test_a_result_too_large_for_one_response_is_handed_out_as_a_download_url(stack, register_kind, monkeypatch):
    from longhaul import tasks

    monkeypatch.setattr(tasks, "UNMEASURED_INLINE_BYTES", 100_000)
    big = {"blob": "y" * 150_000}
    register_kind(kind("huge_result", lambda params, cursor, ctx: Done(big)))
    service = runtime.task_service()
    record = service.start("alice", "huge_result", {})
    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"

    final, result, url = service.result("alice", record.task_id)
    assert result is None and final.result_ref.size_bytes > 150_000
    assert url.startswith("https://") and f"results/{record.task_id}.json" in url and "X-Amz-Signature=" in url


@pytest.mark.parametrize("owner", ["ann@example.com", "o'{}\\#x", "ünï {} 'quoted'"])
def test_a_failure_marked_by_the_workflow_keeps_the_owners_listings_right(stack, register_kind, owner):
    """MarkFailed writes the status index key itself (States.Format); it must match the store's for any owner."""

    def broken(params, cursor, ctx):
        raise ValueError("nope")

    register_kind(kind("broken_for_owner", broken))
    service = runtime.task_service()
    record = service.start(owner, "broken_for_owner", {})
    assert wait_for_execution(record.execution_arn)["status"] == "FAILED"

    failed, _ = service.list(owner, status=TaskStatus.FAILED)
    working, _ = service.list(owner, status=TaskStatus.WORKING)
    assert [r.task_id for r in failed] == [record.task_id] and working == []
    assert runtime.sweeper().store.list_active(created_before="9999") == []

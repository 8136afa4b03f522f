"""Built-in kinds work until their time budget (or checkpoint_seconds) per step, on the real workflow: fewer steps
cost fewer transitions and writes, progress still reaches clients while a long step runs, and a cancel still stops
the work of the step in flight."""

from __future__ import annotations

import time

import boto3

from longhaul import runtime
from longhaul.models import TaskStatus
from longhaul_dev import moto_lambda
from longhaul_dev.stack import wait_for_execution


def transitions(execution_arn: str) -> int:
    history = boto3.client("stepfunctions").get_execution_history(executionArn=execution_arn, maxResults=1000)
    return sum(1 for event in history["events"] if event["type"].endswith("StateEntered"))


def test_by_default_a_step_trains_until_done_while_clients_see_its_progress(stack, monkeypatch):
    monkeypatch.setenv("PROGRESS_MIN_INTERVAL_SECONDS", "0.2")  # the poll interval, shortened for the test
    runtime.reset()
    service = runtime.task_service()
    record = service.start("alice", "model_training", {"epochs": 6, "epoch_seconds": 0.25})

    seen: list[tuple[float, int]] = []
    while (current := service.get("alice", record.task_id)).status == TaskStatus.WORKING:
        seen.append((current.progress, current.step_count))
        time.sleep(0.05)

    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"
    assert current.step_count == 1 and transitions(record.execution_arn) == 2 * 1 + 1
    during_the_step = sorted({progress for progress, steps in seen if steps == 0 and 0 < progress < 1})
    assert len(during_the_step) >= 2, seen  # progress written while the only step was still running
    assert service.result("alice", record.task_id)[1]["epochs"] == 6


def test_checkpoint_seconds_sets_the_step_count_and_each_step_costs_two_transitions_and_one_write(stack, aws_faults):
    service = runtime.task_service()
    record = service.start(
        "alice", "model_training", {"epochs": 3, "epoch_seconds": 0, "checkpoint_seconds": 0}, session_id="s-1"
    )
    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"

    steps = service.get("alice", record.task_id).step_count
    assert steps == 3
    assert transitions(record.execution_arn) == 2 * steps + 1
    # mark started + a checkpoint per step but the last + the completing write + the memory outcome
    assert len(aws_faults.requests["dynamodb.UpdateItem"]) == steps + 2


def test_cancelling_during_a_long_step_stops_its_work_at_the_next_progress_write(stack, monkeypatch):
    monkeypatch.setenv("PROGRESS_MIN_INTERVAL_SECONDS", "0.2")
    runtime.reset()
    service = runtime.task_service()
    run_step = stack.functions["RunStepFunction"]
    record = service.start("alice", "model_training", {"epochs": 100, "epoch_seconds": 0.1})  # one 10 s step
    deadline = time.monotonic() + 30
    while service.get("alice", record.task_id).progress == 0 and time.monotonic() < deadline:
        time.sleep(0.05)

    service.cancel("alice", record.task_id)
    cancelled_at = time.monotonic()
    while not any(name == run_step for name, _ in moto_lambda.invocations) and time.monotonic() < deadline:
        time.sleep(0.05)

    # The step returned long before its remaining epochs (about 9 s) would have run: its next progress write
    # found the task cancelled.
    assert any(name == run_step for name, _ in moto_lambda.invocations)
    assert time.monotonic() - cancelled_at < 4
    final = service.get("alice", record.task_id)
    assert final.status == TaskStatus.CANCELLED and final.progress < 0.5

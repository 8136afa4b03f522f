"""Durable input_required: a step asks for input, the real ASL parks the task on a callback token (no Lambda runs
while it waits), answers stored through the task service resume it, and the next step reads them.

Given the local stack (moto executing the real ASL, handlers in-process), when a kind returns NeedInput, then the
record says input_required with its requests through the whole wait, and only complete answers resume it.
"""

from __future__ import annotations

import time
from typing import Any

import boto3
import pytest
from pydantic import BaseModel

from longhaul import runtime
from longhaul.errors import InvalidTaskParams
from longhaul.kinds import Done, TaskKind
from longhaul.kinds.base import Elicit, NeedInput
from longhaul.models import TaskStatus
from longhaul_dev.stack import wait_for_execution

APPROVE = Elicit("Approve the expensive phase?", {"type": "object", "properties": {"approve": {"type": "boolean"}}})
NAME = Elicit(
    "Who is asking?",
    {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]},
)


class NoParams(BaseModel):
    pass


def ask_twice(params: NoParams, cursor: Any, ctx: Any) -> Any:
    if cursor is None:
        return NeedInput({"approve-1": APPROVE, "name-1": NAME}, cursor="asked")
    answers = ctx.input_responses
    return Done({"approved": answers["approve-1"]["content"]["approve"], "name": answers["name-1"]["content"]["name"]})


@pytest.fixture
def asking_kind(register_kind) -> TaskKind:
    return register_kind(
        TaskKind(name="ask_twice", title="ask", description="asks", params_model=NoParams, step=ask_twice)
    )


def wait_for_status(owner: str, task_id: str, status: TaskStatus, timeout: float = 20.0):
    service = runtime.task_service()
    deadline = time.monotonic() + timeout
    while (record := service.get(owner, task_id)).status != status:
        assert time.monotonic() < deadline, f"still {record.status}"
        time.sleep(0.05)
    return record


def history(execution_arn: str) -> list[dict[str, Any]]:
    return boto3.client("stepfunctions").get_execution_history(executionArn=execution_arn, maxResults=1000)["events"]


def run_step_invocations(execution_arn: str) -> int:
    return sum(
        1
        for event in history(execution_arn)
        if event["type"] == "TaskStateEntered" and event["stateEnteredEventDetails"]["name"] == "RunStep"
    )


def test_a_task_waits_for_every_answer_without_running_lambda_then_resumes_with_them(stack, asking_kind):
    service = runtime.task_service()
    record = service.start("alice", "ask_twice", {})

    waiting = wait_for_status("alice", record.task_id, TaskStatus.INPUT_REQUIRED)
    assert set(waiting.input_requests or {}) == {"approve-1", "name-1"}
    assert waiting.input_requests["approve-1"]["method"] == "elicitation/create"
    assert waiting.input_requests["name-1"]["params"]["requestedSchema"] == NAME.requested_schema
    steps_before = run_step_invocations(record.execution_arn)
    time.sleep(1.5)  # an arbitrary delay: nothing runs meanwhile
    assert run_step_invocations(record.execution_arn) == steps_before == 1
    assert service.get("alice", record.task_id).status == TaskStatus.INPUT_REQUIRED

    partial = service.respond(
        "alice", record.task_id, {"approve-1": {"action": "accept", "content": {"approve": True}}}
    )
    assert partial.status == TaskStatus.INPUT_REQUIRED
    assert set(partial.input_requests or {}) == {"name-1"}
    time.sleep(0.5)
    assert run_step_invocations(record.execution_arn) == 1  # a partial answer does not resume

    service.respond("alice", record.task_id, {"name-1": {"action": "accept", "content": {"name": "Ada"}}})
    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"
    assert service.result("alice", record.task_id)[1] == {"approved": True, "name": "Ada"}
    assert run_step_invocations(record.execution_arn) == 2


def test_answers_that_do_not_fit_are_refused_and_unknown_ids_are_ignored(stack, asking_kind):
    service = runtime.task_service()
    record = service.start("alice", "ask_twice", {})
    wait_for_status("alice", record.task_id, TaskStatus.INPUT_REQUIRED)

    with pytest.raises(InvalidTaskParams, match="name-1"):
        service.respond("alice", record.task_id, {"name-1": {"action": "accept", "content": {"name": 5}}})
    with pytest.raises(InvalidTaskParams, match="action"):
        service.respond("alice", record.task_id, {"name-1": {"content": {"name": "x"}}})
    unchanged = service.respond("alice", record.task_id, {"never-asked": {"action": "accept", "content": {}}})

    assert unchanged.status == TaskStatus.INPUT_REQUIRED
    assert set(unchanged.input_requests or {}) == {"approve-1", "name-1"}
    service.cancel("alice", record.task_id)


def test_cancel_while_waiting_ends_the_wait_and_the_execution(stack, asking_kind):
    service = runtime.task_service()
    record = service.start("alice", "ask_twice", {})
    wait_for_status("alice", record.task_id, TaskStatus.INPUT_REQUIRED)

    service.cancel("alice", record.task_id)

    assert wait_for_execution(record.execution_arn)["status"] == "ABORTED"
    assert service.get("alice", record.task_id).status == TaskStatus.CANCELLED
    late = service.respond("alice", record.task_id, {"name-1": {"action": "accept", "content": {"name": "Ada"}}})
    assert late.status == TaskStatus.CANCELLED


def test_model_training_asks_for_approval_before_the_expensive_phase_when_asked_to(stack):
    service = runtime.task_service()
    params = {"epochs": 3, "epoch_seconds": 0, "approve_after_epochs": 1}
    approved = service.start("alice", "model_training", params)
    declined = service.start("alice", "model_training", params)

    for record in (approved, declined):
        waiting = wait_for_status("alice", record.task_id, TaskStatus.INPUT_REQUIRED)
        assert list(waiting.input_requests or {}) == ["approve-full-run"] and waiting.progress == pytest.approx(
            1 / 3, abs=1e-3
        )
    service.respond("alice", approved.task_id, {"approve-full-run": {"action": "accept", "content": {"approve": True}}})
    service.respond("alice", declined.task_id, {"approve-full-run": {"action": "decline"}})

    assert wait_for_execution(approved.execution_arn)["status"] == "SUCCEEDED"
    assert wait_for_execution(declined.execution_arn)["status"] == "SUCCEEDED"
    assert service.result("alice", approved.task_id)[1]["epochs"] == 3
    stopped = service.result("alice", declined.task_id)[1]
    assert stopped["epochs"] == 1 and stopped["stopped_early"]


def test_asking_an_answered_id_again_fails_the_task_with_a_clear_message(stack, register_kind):
    def ask_again(params: NoParams, cursor: Any, ctx: Any) -> Any:
        return NeedInput({"approve-1": APPROVE}, cursor=(cursor or 0) + 1)

    register_kind(TaskKind(name="ask_again", title="a", description="a", params_model=NoParams, step=ask_again))
    service = runtime.task_service()
    record = service.start("alice", "ask_again", {})
    wait_for_status("alice", record.task_id, TaskStatus.INPUT_REQUIRED)
    service.respond("alice", record.task_id, {"approve-1": {"action": "accept", "content": {"approve": True}}})

    wait_for_execution(record.execution_arn)
    failed = service.get("alice", record.task_id)
    assert failed.status == TaskStatus.FAILED
    assert "unique" in (failed.error_message or "") and "approve-1" in (failed.error_message or "")

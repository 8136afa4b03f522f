"""What a task costs, counted on a real workflow run: state transitions (Step Functions bills each) and DynamoDB
writes. A regression in either formula fails here; `docs/` explains the prices."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from pydantic import BaseModel

from longhaul import runtime
from longhaul.kinds import Continue, Done, TaskKind
from longhaul_dev.stack import wait_for_execution


class Steps(BaseModel):
    steps: int = 3


def counted_steps(params: Steps, cursor: Any, ctx: Any) -> Continue | Done:
    done = (cursor or 0) + 1
    for item in range(100):  # a chatty kind: progress per item costs nothing extra
        ctx.progress((done - 1 + item / 100) / params.steps, f"step {done}, item {item}")
    return Done({"steps": done}) if done == params.steps else Continue(done)


@pytest.mark.parametrize("steps", [1, 5])
def test_a_k_step_task_costs_2k_plus_1_transitions_and_k_plus_2_writes(stack, register_kind, aws_faults, steps):
    register_kind(TaskKind(name="counted", title="c", description="c", params_model=Steps, step=counted_steps))
    record = runtime.task_service().start("alice", "counted", {"steps": steps}, session_id="cost-session")
    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"

    history = boto3.client("stepfunctions").get_execution_history(executionArn=record.execution_arn)["events"]
    transitions = [e["type"] for e in history if e["type"].endswith("StateEntered")]
    assert len(transitions) == 2 * steps + 1, transitions

    # mark started + a checkpoint per step but the last + the completing write + the memory outcome
    writes = aws_faults.requests.get("dynamodb.UpdateItem", [])
    assert len(writes) == steps + 2, [w["UpdateExpression"] for w in writes]
    assert len(aws_faults.requests["dynamodb.PutItem"]) == 1
    assert runtime.task_service().get("alice", record.task_id).result == {"steps": steps}

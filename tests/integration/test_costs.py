"""What a task costs, counted on a real workflow run: state transitions (Step Functions bills each) and DynamoDB
writes. A regression in either formula fails here; `docs/` explains the prices."""

from __future__ import annotations

import boto3
import pytest

from longhaul import runtime
from longhaul_dev.metering import Meter, counted_kind, state_transitions
from longhaul_dev.stack import wait_for_execution


@pytest.mark.parametrize("steps", [1, 5])
def test_a_k_step_task_costs_2k_plus_1_transitions_and_k_plus_2_writes(stack, register_kind, aws_faults, steps):
    register_kind(counted_kind())  # a chatty kind: progress per item (100 a step) costs nothing extra
    meter = Meter(stack.table_name)
    with meter.installed():
        record = runtime.task_service().start("alice", "counted", {"steps": steps}, session_id="cost-session")
        assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"

    history = boto3.client("stepfunctions").get_execution_history(executionArn=record.execution_arn)["events"]
    assert state_transitions(history) == 2 * steps + 1, [e["type"] for e in history]
    # capacity, indexes included: 4 to create (item + 3 keys-only index entries), 1 to mark started, 1 per checkpoint,
    # 4 to complete (item + the status index's delete and put + the active index's delete), 1 for the memory outcome
    assert meter.wru() == steps + 9, [(w.detail, w.units) for w in meter.writes]

    # mark started + a checkpoint per step but the last + the completing write + the memory outcome
    writes = aws_faults.requests.get("dynamodb.UpdateItem", [])
    assert len(writes) == steps + 2, [w["UpdateExpression"] for w in writes]
    assert len(aws_faults.requests["dynamodb.PutItem"]) == 1
    assert runtime.task_service().get("alice", record.task_id).result == {"steps": steps}

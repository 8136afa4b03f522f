"""The local stack's moto fixes: StopExecution ends an execution for good, as on AWS - one that waits on a task
token, one whose state fails under the stop, and one stopped while a Task state builds its call.

moto is pinned; if an upgrade changes the private APIs these wrap, these tests say so.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
from moto import mock_aws

from longhaul_dev import moto_stop
from longhaul_dev.stack import MOTO_CONFIG

WAITING = {
    "StartAt": "Wait",
    "States": {
        "Wait": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem.waitForTaskToken",
            "Parameters": {"TableName": "t", "Item": {"id": {"S": "x"}, "token": {"S.$": "$$.Task.Token"}}},
            "End": True,
        }
    },
}


def _table_and_machine(definition: dict[str, Any]) -> tuple[Any, Any, str]:
    """The table "t" the definitions write to, and a state machine of ``definition``: (dynamodb, sfn, its arn)."""
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name="m", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
    return ddb, sfn, machine


def _status_after_stop() -> str:
    ddb, sfn, machine = _table_and_machine(WAITING)
    arn = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    deadline = time.monotonic() + 10
    while "Item" not in ddb.get_item(TableName="t", Key={"id": {"S": "x"}}):  # waiting on its token now
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sfn.stop_execution(executionArn=arn)
    deadline = time.monotonic() + 3
    while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.05)
    return status


def test_a_stopped_execution_waiting_on_a_task_token_ends_aborted():
    with mock_aws(config=MOTO_CONFIG):
        moto_stop.install()
        moto_stop.install()  # idempotent
        try:
            assert _status_after_stop() == "ABORTED"
        finally:
            moto_stop.uninstall()


def test_without_the_fix_moto_does_not_end_it_as_aws_does():
    # Unpatched, moto leaves the execution RUNNING (or, with the local stack's other patches loaded, lets the
    # interrupted wait fail it): either way not the ABORTED AWS reports, which is why the fix exists.
    with mock_aws(config=MOTO_CONFIG):
        assert _status_after_stop() in ("RUNNING", "FAILED")


def _stopped_environment():
    import threading
    from datetime import UTC, datetime

    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    env = Environment.__new__(Environment)  # only the parts set_error touches
    env._state_mutex = threading.RLock()
    env._frames = []
    env.program_state_event = threading.Event()
    env._program_state = ProgramStopped(stop_date=datetime.now(UTC), error=None, cause=None)
    return env


def test_a_stopped_program_stays_stopped_when_a_state_fails_after_the_stop():
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramError, ProgramStopped

    failure = {"error": "States.Runtime", "cause": "a state torn down by the stop"}
    unpatched = _stopped_environment()
    Environment.set_error(unpatched, failure)
    moto_stop.install()
    try:
        patched = _stopped_environment()
        Environment.set_error(patched, failure)
    finally:
        moto_stop.uninstall()

    assert isinstance(unpatched.program_state(), ProgramError)  # moto alone turns the stop into FAILED
    assert isinstance(patched.program_state(), ProgramStopped)


# A Task state whose call carries two bindings; the stop lands between them, as it did between RunStep's task_id and
# its params (a stopped task was then completed by a step that ran the kind's defaults).
WRITING = {
    "StartAt": "Write",
    "States": {
        "Write": {
            "Type": "Task",
            "Resource": "arn:aws:states:::aws-sdk:dynamodb:putItem",
            "Parameters": {"TableName": "t", "Item": {"id": {"S.$": "$.id"}, "late": {"S.$": "$.late"}}},
            "End": True,
        }
    },
}


@contextlib.contextmanager
def stop_once_evaluated(field: str) -> Iterator[None]:
    """StopExecution (the real API call) from inside moto's evaluation, just after the binding ``field``."""
    from moto.stepfunctions.parser.asl.component.common.payload.payloadvalue.payloadbinding.payload_binding import (
        PayloadBinding,
    )

    original = PayloadBinding._eval_body

    def stopping(self: Any, env: Any) -> None:
        original(self, env)
        if self.field == field:
            execution_arn = env.states.context_object.context_object_data["Execution"]["Id"]
            boto3.client("stepfunctions", region_name="us-east-1").stop_execution(executionArn=execution_arn)

    PayloadBinding._eval_body = stopping  # type: ignore[method-assign]
    try:
        yield
    finally:
        PayloadBinding._eval_body = original  # type: ignore[method-assign]


def _item_written_when_stopped_mid_parameters() -> tuple[dict[str, Any] | None, str]:
    ddb, sfn, machine = _table_and_machine(WRITING)
    with stop_once_evaluated("id"):
        arn = sfn.start_execution(stateMachineArn=machine, input=json.dumps({"id": "x", "late": "y"}))["executionArn"]
        deadline = time.monotonic() + 5
        while (status := sfn.describe_execution(executionArn=arn)["status"]) == "RUNNING":
            assert time.monotonic() < deadline, "the stopped execution never ended"
            time.sleep(0.05)
    time.sleep(0.2)  # a call made after the stop would have landed by now
    return ddb.get_item(TableName="t", Key={"id": {"S": "x"}}).get("Item"), status


def test_a_stop_while_a_task_state_builds_its_call_makes_no_call():
    with mock_aws(config=MOTO_CONFIG):
        moto_stop.install()
        try:
            item, status = _item_written_when_stopped_mid_parameters()
        finally:
            moto_stop.uninstall()
    assert (item, status) == (None, "ABORTED")


def test_without_the_fix_moto_makes_the_call_with_partial_parameters():
    with mock_aws(config=MOTO_CONFIG):
        item, _ = _item_written_when_stopped_mid_parameters()
    assert item == {"id": {"S": "x"}}  # the binding after the stop is missing: the call AWS would never make

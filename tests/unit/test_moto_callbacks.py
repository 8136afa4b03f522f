"""The local stack's moto fix: StopExecution ends an execution that waits on a task token (as AWS does).

moto is pinned; if an upgrade changes the private ExecutionWorker.stop, these tests say so.
"""

from __future__ import annotations

import json
import time

import boto3
from moto import mock_aws

from longhaul_dev import moto_callbacks
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


def _status_after_stop() -> str:
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    ddb.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    sfn = boto3.client("stepfunctions", region_name="us-east-1")
    machine = sfn.create_state_machine(
        name="m", definition=json.dumps(WAITING), roleArn="arn:aws:iam::123456789012:role/r"
    )["stateMachineArn"]
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
        moto_callbacks.install()
        moto_callbacks.install()  # idempotent
        try:
            assert _status_after_stop() == "ABORTED"
        finally:
            moto_callbacks.uninstall()


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
    moto_callbacks.install()
    try:
        patched = _stopped_environment()
        Environment.set_error(patched, failure)
    finally:
        moto_callbacks.uninstall()

    assert isinstance(unpatched.program_state(), ProgramError)  # moto alone turns the stop into FAILED
    assert isinstance(patched.program_state(), ProgramStopped)

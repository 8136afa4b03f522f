"""Workflow on Step Functions. Each task incarnation has its own execution name, ``<task_id>-<incarnation>``: a
repeated start of the same record reuses it (Step Functions starts nothing new), while a task id that comes back
after its record expired (an idempotency key reused after the TTL) gets a new execution - Step Functions keeps an
execution name for 90 days after it ends, longer than a record may live."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from longhaul.adapters._aws import AwsAdapter


def execution_arn(state_machine_arn: str, name: str) -> str:
    """The ARN an execution named ``name`` has (or will have): derivable, so no DescribeExecution is needed."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + ":" + name


class StepFunctionsWorkflow(AwsAdapter):
    service = "stepfunctions"

    def __init__(self, state_machine_arn: str, client: Any = None):
        super().__init__(client)
        self.state_machine_arn = state_machine_arn

    def execution_arn(self, name: str) -> str:
        return execution_arn(self.state_machine_arn, name)

    def start(self, name: str, payload: dict[str, Any]) -> str:
        """Start the execution ``name``; a second start with the same name starts nothing new."""
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload, separators=(",", ":"))
            )
            return str(response["executionArn"])
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return execution_arn(self.state_machine_arn, name)
            raise

    def stop(self, arn: str, cause: str) -> None:
        """Stop a running execution; one that already ended is left as it is."""
        try:
            self.client.stop_execution(executionArn=arn, error="TaskCancelled", cause=cause)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("ExecutionDoesNotExist", "ExecutionNotRunning"):
                raise

    def running_names(self) -> set[str]:
        """Names of every running execution (1,000 per call)."""
        names: set[str] = set()
        for page in self.client.get_paginator("list_executions").paginate(
            stateMachineArn=self.state_machine_arn, statusFilter="RUNNING"
        ):
            names.update(execution["name"] for execution in page.get("executions", []))
        return names

    def describe(self, arn: str) -> dict[str, Any] | None:
        """The execution (status, error, cause), or None when it does not exist."""
        try:
            return dict(self.client.describe_execution(executionArn=arn))
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionDoesNotExist":
                return None
            raise

    def resume(self, token: str) -> None:
        """Let a task waiting for input (a .waitForTaskToken state) carry on. A wait that already ended (the
        execution was stopped, or the token was used) is left alone."""
        try:
            self.client.send_task_success(taskToken=token, output="{}")
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist"):
                raise

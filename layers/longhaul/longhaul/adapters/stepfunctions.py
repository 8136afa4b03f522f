"""Workflow on Step Functions. The execution name is the task id, which makes starting idempotent."""

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

    def execution_arn(self, task_id: str) -> str:
        return execution_arn(self.state_machine_arn, task_id)

    def start(self, task_id: str, payload: dict[str, Any]) -> str:
        """Start the execution for ``task_id``; a second start with the same name starts nothing new."""
        try:
            response = self.client.start_execution(
                stateMachineArn=self.state_machine_arn, name=task_id, input=json.dumps(payload, separators=(",", ":"))
            )
            return str(response["executionArn"])
        except ClientError as error:
            if error.response["Error"]["Code"] == "ExecutionAlreadyExists":
                return execution_arn(self.state_machine_arn, task_id)
            raise

    def stop(self, arn: str, cause: str) -> None:
        """Stop a running execution; one that already ended is left as it is."""
        try:
            self.client.stop_execution(executionArn=arn, error="TaskCancelled", cause=cause)
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("ExecutionDoesNotExist", "ExecutionNotRunning"):
                raise

    def resume(self, token: str) -> None:
        """Let a task waiting for input (a .waitForTaskToken state) carry on. A wait that already ended (the
        execution was stopped, or the token was used) is left alone."""
        try:
            self.client.send_task_success(taskToken=token, output="{}")
        except ClientError as error:
            if error.response["Error"]["Code"] not in ("TaskTimedOut", "InvalidToken", "TaskDoesNotExist"):
                raise

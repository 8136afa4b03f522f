"""RunStepFunction: one chunk of a task's work, within this invocation's time budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from longhaul.coldstart import loading

with loading():
    from longhaul.messages import StepRequest
    from longhaul.observability import logger, metrics
    from longhaul.runtime import preload, step_runner

    preload(step_runner)  # what its first request would import (the worker, boto3): loaded here, see loading()

if TYPE_CHECKING:  # the type only: importing it at cold start would load a Powertools module for nothing
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="task_id")
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = StepRequest.from_event(event)
    return step_runner().run_step(request, context.get_remaining_time_in_millis).to_dict()

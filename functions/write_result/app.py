"""WriteResultFunction: the final Lambda. Delivers an ended task's outcome (its result, or why it failed or was
cancelled) to the agent session's AgentCore Memory, exactly once; the task record already holds the outcome."""

from __future__ import annotations

from typing import TYPE_CHECKING

from longhaul.coldstart import loading

with loading():
    from longhaul.messages import DeliveryRequest
    from longhaul.observability import logger, metrics
    from longhaul.runtime import outcome_delivery, preload

    preload(outcome_delivery)  # what its first request would import (the worker, boto3): loaded here, see loading()

if TYPE_CHECKING:  # the type only: importing it at cold start would load a Powertools module for nothing
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="task_id")
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return outcome_delivery().deliver(DeliveryRequest.from_event(event).task_id)

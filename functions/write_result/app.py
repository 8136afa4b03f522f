"""WriteResultFunction: the final Lambda. Delivers an ended task's outcome (its result, or why it failed or was
cancelled) to the agent session's AgentCore Memory, exactly once; the task record already holds the outcome."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from longhaul.models import DeliveryRequest
from longhaul.observability import logger, metrics, tracer
from longhaul.runtime import outcome_delivery


@logger.inject_lambda_context(correlation_id_path="task_id")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return outcome_delivery().deliver(DeliveryRequest.model_validate(event).task_id)

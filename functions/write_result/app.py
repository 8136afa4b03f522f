"""WriteResultFunction: the final step. Result into AgentCore Memory (exactly once), task marked completed."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from longhaul.models import WriteResultRequest
from longhaul.observability import logger, metrics, tracer
from longhaul.runtime import result_writer


@logger.inject_lambda_context(correlation_id_path="task_id")
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return result_writer().write_result(WriteResultRequest.model_validate(event))

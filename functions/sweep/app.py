"""SweepFunction: on a schedule, repairs task records that say working while no execution runs for them."""

from aws_lambda_powertools.utilities.typing import LambdaContext

from longhaul.observability import logger, metrics, tracer
from longhaul.runtime import sweeper


@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return sweeper().sweep()

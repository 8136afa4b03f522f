"""SweepFunction: on a schedule, repairs task records that say working while no execution runs for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from longhaul.observability import logger, metrics
from longhaul.runtime import sweeper

if TYPE_CHECKING:  # the type only: importing it at cold start would load a Powertools module for nothing
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return sweeper().sweep()

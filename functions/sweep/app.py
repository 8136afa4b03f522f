"""SweepFunction: on a schedule, repairs task records that say working while no execution runs for them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from longhaul.coldstart import loading

with loading():
    from longhaul.observability import logger, metrics
    from longhaul.runtime import preload, sweeper

    preload(sweeper)  # what its first request would import (the worker, boto3): loaded here, see loading()

if TYPE_CHECKING:  # the type only: importing it at cold start would load a Powertools module for nothing
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return sweeper().sweep()

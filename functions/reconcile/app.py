"""ReconcileFunction: EventBridge "Step Functions Execution Status Change" -> the task record made terminal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from longhaul.coldstart import loading

with loading():
    from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source

    from longhaul.observability import logger, metrics
    from longhaul.runtime import preload, reconciler

    preload(reconciler)  # what its first request would import (the worker, boto3): loaded here, see loading()

if TYPE_CHECKING:  # the type only: importing it at cold start would load a Powertools module for nothing
    from aws_lambda_powertools.utilities.typing import LambdaContext


@logger.inject_lambda_context(correlation_id_path="detail.name")
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    return reconciler().reconcile(dict(event.detail))

"""ReconcileFunction: EventBridge "Step Functions Execution Status Change" -> the task record made terminal."""

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from longhaul.observability import logger, metrics
from longhaul.runtime import reconciler


@logger.inject_lambda_context(correlation_id_path="detail.name")
@metrics.log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    return reconciler().reconcile(dict(event.detail))

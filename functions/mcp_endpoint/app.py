"""McpEndpointFunction: MCP over streamable HTTP (stateless, JSON responses) behind API Gateway."""

from aws_lambda_powertools.utilities.typing import LambdaContext
from mangum import Mangum

from longhaul.endpoint.app import build_app
from longhaul.observability import logger, metrics


# No Powertools tracer here: creating one loads the X-Ray SDK, ~0.2 s of every cold start (benchmarks/endpoint.py).
# The function's active tracing still records each invocation in X-Ray.
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # A new app and Mangum adapter per invocation: the SDK's session manager runs only once per instance
    # (python-sdk#3121), so a module-level adapter fails on the second warm call. The MCP server and its tools
    # stay module-level; rebuilding the app costs little next to serving the request (benchmarks/endpoint.py).
    return Mangum(build_app(), lifespan="auto")(event, context)

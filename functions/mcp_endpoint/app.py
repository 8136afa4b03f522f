"""McpEndpointFunction: MCP over streamable HTTP (stateless, JSON responses) behind API Gateway."""

from __future__ import annotations

import importlib
import json
import os
import random
from types import SimpleNamespace
from typing import TYPE_CHECKING

from longhaul.coldstart import loading

with loading():
    from aws_lambda_powertools.logging import logger as powertools_logger
    from mangum import Mangum

    from longhaul import runtime
    from longhaul.endpoint.app import build_app
    from longhaul.observability import logger, metrics

    if os.environ.get("JWT_ISSUER"):  # this deployment verifies bearer tokens itself: load the verifier and PyJWT now
        from longhaul.endpoint.tokens import preload as load_token_verifier

        load_token_verifier()

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

try:  # Lambda's managed Python runtimes ship the SnapStart hooks; elsewhere (tests, longhaul dev) no snapshot is taken.
    from snapshot_restore_py import register_after_restore, register_before_snapshot
except ImportError:
    register_after_restore = register_before_snapshot = None


# No Powertools tracer here: creating one loads the X-Ray SDK, ~0.2 s of every cold start (benchmarks/cold_start.py).
# The function's active tracing still records each invocation in X-Ray.
@logger.inject_lambda_context(correlation_id_path="requestContext.requestId")
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    # A new app and Mangum adapter per invocation: the SDK's session manager runs only once per instance
    # (python-sdk#3121), so a module-level adapter fails on the second warm call. The MCP server and its tools
    # stay module-level; rebuilding the app costs little next to serving the request.
    return Mangum(build_app(), lifespan="auto")(event, context)


# The tool list, and a status call for a task that does not exist (DynamoDB's answer given in-process, below).
_WARMUP_BODIES = (
    {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
    {
        "jsonrpc": "2.0",
        "id": 2,
        "method": "tools/call",
        "params": {"name": "get_task_status", "arguments": {"task_id": "snapstart-warmup"}},
    },
)


def before_snapshot() -> None:
    """SnapStart snapshots the environment after init, so what init leaves lazy, every restored environment pays on
    its first request (issue 12: 138 ms vs 18.5 ms warm). Build the AWS clients (service models, endpoint rules,
    the credential chain) and serve a tools/list and a get_task_status, so the snapshot holds every module and
    first-use cache the first real request needs. No request reaches AWS: DynamoDB's "no such item" is answered
    in-process, so the snapshot holds no connection to go stale (boto3 opens one on first use after restore); the
    credentials come from the container provider SnapStart functions get, which botocore refreshes before they
    expire. A plain cold start (no SnapStart) skips this and stays lazy."""
    # The first connection encodes the AWS host name with the idna codec, imported on first use.
    importlib.import_module("encodings.idna")
    from longhaul.endpoint.tokens import preload as load_token_verifier

    load_token_verifier()  # the stage's settings may name an issuer the function's environment does not
    # The pydantic models a plain cold start builds on first use.
    runtime.build_models("longhaul.models", "longhaul.endpoint.views", "longhaul.endpoint.tasks_ext")
    service = runtime.task_service()
    runtime.build_clients(service)
    with runtime.answered_in_process(service.store.client, "GetItem"):
        for body in _WARMUP_BODIES:
            lambda_handler(_warmup_event(body), _WARMUP_CONTEXT)
    # The warm-up was not a client's request: a restored environment's first invocation still logs cold_start=true.
    powertools_logger.is_cold_start = True


def after_restore() -> None:
    # One snapshot seeds many environments: give each its own pseudo-random sequence (botocore's retry jitter uses
    # `random`; task ids use os.urandom, which is unique per environment already).
    random.seed()


# What Powertools reads from the context (the warm-up runs through the decorators, as a real request does).
_WARMUP_CONTEXT = SimpleNamespace(
    function_name="snapstart-warmup",
    memory_limit_in_mb=0,
    invoked_function_arn="snapstart-warmup",
    aws_request_id="snapstart-warmup",
)


def _warmup_event(body: dict) -> dict:
    return {
        "version": "2.0",
        "routeKey": "POST /mcp",
        "rawPath": "/mcp",
        "rawQueryString": "",
        "headers": {
            "accept": "application/json, text/event-stream",
            "content-type": "application/json",
            "host": "snapstart.invalid",
            "mcp-protocol-version": "2025-11-25",
        },
        "requestContext": {
            "authorizer": {"jwt": {"claims": {"sub": "snapstart-warmup"}, "scopes": []}},
            "http": {"method": "POST", "path": "/mcp", "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1"},
            "requestId": "snapstart-warmup",
            "routeKey": "POST /mcp",
            "stage": "$default",
        },
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


if register_before_snapshot is not None and register_after_restore is not None:
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore)

"""SnapStart on the MCP endpoint: the before-snapshot hook leaves the AWS clients built and the request path loaded
without sending anything to AWS, and the first request after a restore reads real data.

Lambda's python runtimes ship ``snapshot_restore_py``, which only collects callables; a stand-in with the same two
functions collects them here, and the test runs them as the runtime does (before-snapshot hooks in reverse order of
registration, after-restore hooks in order)."""

from __future__ import annotations

import inspect
import json
import sys
import types
from collections.abc import Callable
from typing import Any

import pytest
from aws_lambda_powertools.logging import logger as powertools_logger
from botocore.exceptions import EndpointConnectionError
from botocore.httpsession import URLLib3Session

from longhaul import runtime
from longhaul_dev.moto_lambda import LocalLambdaContext, load_handler
from longhaul_dev.template import PROJECT_ROOT
from tests.conftest import load_event

SUB = "8c4a1f2e-0b7d-4c55-9a8e-1f2e3d4c5b6a"  # the caller in events/mcp_endpoint/*.json
TASK = "5f0c3a9e2b7d4e1f8a6c0d2e4b6a8c01"  # the task http_api_get_task_status.json asks for


class Hooks:
    def __init__(self) -> None:
        self.before: list[Callable[[], Any]] = []
        self.after: list[Callable[[], Any]] = []

    def snapshot_and_restore(self) -> None:
        for hook in reversed(self.before):
            hook()
        for hook in self.after:
            hook()


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> Hooks:
    found = Hooks()
    module = types.ModuleType("snapshot_restore_py")
    module.register_before_snapshot = found.before.append  # type: ignore[attr-defined]
    module.register_after_restore = found.after.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "snapshot_restore_py", module)
    return found


def load_endpoint() -> Callable[[Any, Any], Any]:
    return load_handler(PROJECT_ROOT / "functions" / "mcp_endpoint", "app.lambda_handler")


def test_off_lambda_no_hook_is_registered():
    # Tests, `longhaul dev` and `make invoke` import the handler where no snapshot is ever taken.
    assert "snapshot_restore_py" not in sys.modules
    handler_globals = inspect.unwrap(load_endpoint()).__globals__
    assert handler_globals["register_before_snapshot"] is None


def test_the_snapshot_holds_built_clients_and_no_request_left_the_process(hooks, monkeypatch):
    # Given an endpoint whose every HTTP request is recorded (and refused, as an unreachable AWS would)
    sent: list[str] = []

    def refuse(session: Any, request: Any) -> Any:
        sent.append(f"{request.method} {request.url}")
        raise EndpointConnectionError(endpoint_url=request.url)

    monkeypatch.setattr(URLLib3Session, "send", refuse)
    for name, value in {
        "TASKS_TABLE_NAME": "tasks",
        "RESULTS_BUCKET_NAME": "results",
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:tasks",
        "AUTH_MODE": "jwt",
    }.items():
        monkeypatch.setenv(name, value)
    runtime.reset()
    try:
        load_endpoint()
        assert len(hooks.before) == 1 and len(hooks.after) == 1

        # When Lambda initializes the function and takes its snapshot
        hooks.snapshot_and_restore()

        # Then nothing was sent, and every client the endpoint uses is already built (the first request builds none)
        assert sent == []
        service = runtime.task_service()
        assert service.store._client is not None  # type: ignore[attr-defined]
        assert service.workflow._client is not None  # type: ignore[attr-defined]
        assert service.blobs._client is not None and service.blobs._presigner is not None  # type: ignore[attr-defined]
    finally:
        runtime.reset()


def test_the_first_request_after_a_restore_reads_the_stored_task(stack, hooks, monkeypatch):
    # Given a stored task and an endpoint initialized with its hooks run
    from longhaul.adapters.dynamodb import DynamoTaskStore
    from longhaul.models import TaskRecord, iso, utc_now

    now = iso(utc_now())
    DynamoTaskStore(stack.table_name).create(
        TaskRecord(
            task_id=TASK, owner=SUB, kind="model_training", created_at=now, updated_at=now, expires_at=4102444800
        )
    )
    monkeypatch.setenv("AUTH_MODE", "jwt")
    runtime.reset()
    handler = load_endpoint()
    hooks.snapshot_and_restore()
    assert powertools_logger.is_cold_start, "the warm-up is not the environment's first invocation in the logs"

    # When the first real request arrives
    response = handler(
        load_event("mcp_endpoint/http_api_get_task_status.json"),
        LocalLambdaContext(function_name="McpEndpointFunction", timeout_seconds=30),
    )

    # Then it answers from the table (the warm-up's in-process answer is gone)
    assert response["statusCode"] == 200
    status = json.loads(response["body"])["result"]["structuredContent"]
    assert status["task_id"] == TASK and status["status"] == "working"

"""Run the real ``functions/`` handlers in-process when moto's Lambda is invoked (by Step Functions or boto3).

Without Docker, moto's Lambda never runs code. This module replaces moto's private
``LambdaFunction._invoke_lambda`` (pinned moto version; see tests/unit/test_moto_lambda.py), which returns
``(payload_json, errored, logs)``. A handler's exception becomes ``{"errorMessage", "errorType"}`` with
``errored`` set, as the Lambda runtime reports it, so Retry/Catch on error names behave as on AWS.
"""

from __future__ import annotations

import importlib.util
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from longhaul_dev import moto_asl_cache, moto_stop, retry_waits
from longhaul_dev.faults import LambdaFaults

_handlers: dict[str, Callable[[Any, Any], Any]] = {}
_lock = threading.Lock()
_original: Callable[..., tuple[str, bool, str]] | None = None
invocations: list[tuple[str, str]] = []  # (function name, "ok" | error type), for tests and the dev log
# Invocations the Lambda service reports as crashed or timed out instead of running the handler (tests).
faults = LambdaFaults()


@dataclass
class LocalLambdaContext:
    """The parts of Lambda's context object that handlers and Powertools use."""

    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    invoked_function_arn: str = ""
    log_group_name: str = ""
    log_stream_name: str = "local"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def load_handler(code_dir: Path, handler: str) -> Callable[[Any, Any], Any]:
    """Import ``module.function`` from a function's code directory under a unique module name."""
    module_name, _, attr = handler.rpartition(".")
    path = code_dir / (module_name.replace(".", "/") + ".py")
    unique = f"longhaul_function_{code_dir.name}_{module_name.replace('.', '_')}"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load handler {handler!r} from {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, attr)  # type: ignore[no-any-return,unused-ignore]


def register(function_name: str, handler: Callable[[Any, Any], Any]) -> None:
    """Route invocations of the moto function ``function_name`` to ``handler``."""
    with _lock:
        _handlers[function_name] = handler


def registered(function_name: str) -> Callable[[Any, Any], Any]:
    """The handler invocations of ``function_name`` are routed to (``register``); KeyError if none is."""
    return _handlers[function_name]


def invoke_handler(
    handler: Callable[[Any, Any], Any], event: Any, context: LocalLambdaContext
) -> tuple[str, bool, str]:
    """Call a handler as the Lambda runtime would: JSON in, JSON out, an exception as an error payload."""
    # Handlers log to stdout through Powertools, as on Lambda; moto's log result stays empty.
    try:
        result = handler(event, context)
        invocations.append((context.function_name, "ok"))
        return json.dumps(result), False, ""
    except Exception as error:  # the runtime reports every exception the same way
        invocations.append((context.function_name, type(error).__name__))
        payload = {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "requestId": context.aws_request_id,
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
        return json.dumps(payload), True, ""


def _invoke_in_process(self: Any, event: Any = None) -> tuple[str, bool, str]:
    handler = _handlers.get(self.function_name)
    if handler is None:
        assert _original is not None
        return _original(self, event)
    injected = faults.take(self.function_name)
    if injected is not None:
        # What Lambda reports when the function hung past its timeout or its process died.
        invocations.append((self.function_name, injected))
        message = {
            "Sandbox.Timedout": "Task timed out",
            "Runtime.ExitError": "Runtime exited with error: signal: killed",
        }
        payload = {"errorType": injected, "errorMessage": message.get(injected, injected)}
        return json.dumps(payload), True, ""
    if isinstance(event, str | bytes):
        event = json.loads(event or "{}")
    context = LocalLambdaContext(
        function_name=self.function_name,
        timeout_seconds=int(self.timeout),
        memory_limit_in_mb=int(self.memory_size),
        invoked_function_arn=self.function_arn,
    )
    return invoke_handler(handler, event if event is not None else {}, context)


def install() -> None:
    """Patch moto once per process; idempotent."""
    global _original
    from moto.awslambda.models import LambdaFunction

    moto_stop.install()  # StopExecution ends an execution for good, as on AWS
    moto_asl_cache.install()  # one ASL parse per definition, not one per execution
    retry_waits.install()  # retry waits as on AWS, or compressed (LONGHAUL_DEV_RETRY_WAIT_SCALE)
    with _lock:
        if _original is None:
            _original = LambdaFunction._invoke_lambda
            LambdaFunction._invoke_lambda = _invoke_in_process  # type: ignore[method-assign]


def uninstall() -> None:
    global _original
    from moto.awslambda.models import LambdaFunction

    moto_stop.uninstall()
    moto_asl_cache.uninstall()
    retry_waits.uninstall()
    with _lock:
        if _original is not None:
            LambdaFunction._invoke_lambda = _original  # type: ignore[method-assign]
            _original = None
        _handlers.clear()

"""Fault injection for the local stack, where AWS would raise: at the boto3 call, and at the Lambda service.

``AwsFaults`` hooks botocore's ``before-call`` event on the default session, so every client built afterwards (the
handlers' own, moto's Step Functions integrations) gets the error answer an outage would send - a ``ClientError``
with the service's error code and HTTP status - without longhaul's code knowing. ``LambdaFaults`` makes the Lambda
service report an invocation as crashed or timed out (``Runtime.ExitError``, ``Sandbox.Timedout``) instead of
running the handler, as Lambda does when a function dies or runs past its timeout.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import boto3

Predicate = Callable[[dict[str, Any]], bool]


@dataclass
class _Rule:
    service: str  # botocore service id, hyphenated lower case: dynamodb, s3, sfn, bedrock-agentcore, lambda
    operation: str  # e.g. CreateEvent
    code: str
    status: int
    message: str
    times: int | None  # None: every matching call
    when: Predicate | None
    fired: int = 0


class _FakeHttp:
    def __init__(self, status: int):
        self.status_code = status
        self.headers: dict[str, str] = {}
        self.content = b""
        self.raw = None


@dataclass
class AwsFaults:
    """Programmable AWS failures. ``fail("bedrock-agentcore", "CreateEvent", "ThrottledException", status=429)``."""

    rules: list[_Rule] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    requests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # API parameters of every call
    injected: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(
        self,
        service: str,
        operation: str,
        code: str,
        *,
        status: int = 400,
        message: str = "injected by the local stack",
        times: int | None = None,
        when: Predicate | None = None,
    ) -> AwsFaults:
        """Fail matching calls (``times`` of them, or all) with ``code``; ``when`` sees the API parameters."""
        with self._lock:
            self.rules.append(_Rule(service, operation, code, status, message, times, when))
        return self

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()

    # --- botocore hooks ------------------------------------------------------------------------------

    def _remember_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["longhaul_api_params"] = dict(params)

    def _before_call(self, event_name: str, model: Any, context: dict[str, Any], **_: Any) -> Any:
        service, operation = event_name.split(".", 2)[1:]
        api_params: dict[str, Any] = context.get("longhaul_api_params", {})
        with self._lock:
            self.calls[f"{service}.{operation}"] += 1
            self.requests.setdefault(f"{service}.{operation}", []).append(api_params)
            for rule in self.rules:
                if (rule.service, rule.operation) != (service, operation):
                    continue
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if rule.when is not None and not rule.when(api_params):
                    continue
                rule.fired += 1
                self.injected[f"{service}.{operation}:{rule.code}"] += 1
                return _FakeHttp(rule.status), {
                    "Error": {"Code": rule.code, "Message": rule.message},
                    "ResponseMetadata": {"HTTPStatusCode": rule.status, "HTTPHeaders": {}, "RetryAttempts": 0},
                }
        return None

    @contextmanager
    def installed(self) -> Iterator[AwsFaults]:
        """Hook the default boto3 session; clients built inside see the faults (build them after entering)."""
        with session_hooks(
            ("before-parameter-build", self._remember_params, "longhaul-faults-params"),
            ("before-call", self._before_call, "longhaul-faults-call"),
        ):
            yield self


@contextmanager
def session_hooks(*hooks: tuple[str, Callable[..., Any], str]) -> Iterator[None]:
    """Register (event, handler, unique id) hooks on the default boto3 session while open: every client built from it
    inside runs them, as it would a real AWS answer (the fault injector and the cost meter both hook here)."""
    events = boto3._get_default_session().events
    for event, handler, unique_id in hooks:
        events.register(event, handler, unique_id=unique_id)
    try:
        yield
    finally:
        for event, _, unique_id in hooks:
            events.unregister(event, unique_id=unique_id)


@dataclass
class LambdaFaults:
    """The Lambda service reporting invocations as crashed or timed out, for a function, ``times`` times."""

    pending: dict[str, list[str]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, function_name: str, error_type: str = "Sandbox.Timedout", times: int = 1) -> LambdaFaults:
        with self._lock:
            self.pending.setdefault(function_name, []).extend([error_type] * times)
        return self

    def take(self, function_name: str) -> str | None:
        with self._lock:
            queue = self.pending.get(function_name)
            return queue.pop(0) if queue else None

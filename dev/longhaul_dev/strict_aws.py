"""AWS behaviour that moto 5.2.5 leaves out and longhaul depends on, added to the local stack.

- **AgentCore Memory** (``bedrock-agentcore``): every request moto implements is checked against the service
  model's constraints (lengths, patterns, enums, list/map sizes), as the service does; botocore itself checks
  only required members and minimums, so without this a 150,000-character message or an actor id with ``@``
  would pass locally and fail on AWS. A memory that does not exist (or was deleted) answers
  ``ResourceNotFoundException``, where moto accepts any id. ``CreateEvent`` honours ``clientToken``: the same
  token with the same parameters returns the first event and writes nothing; with different parameters it fails
  as AWS idempotency does (``ValidationException`` with reason ``IdempotentParameterMismatchException``, one of
  the reasons the model lists for that error).
- **DynamoDB**: moto evaluates a ``ConditionExpression`` and then writes, with no lock between, so two
  concurrent conditional writes can both succeed. Here every item operation holds a per-table lock (several,
  in a fixed order, for batch and transaction calls), which makes check-and-write atomic as in DynamoDB.

The patches replace methods of moto's private response classes (moto is pinned; tests/unit/test_strict_aws.py
tests each patch). Both ``mock_aws`` and the in-process moto server of ``longhaul dev`` dispatch through these
classes, so one ``install()`` covers both.
"""

from __future__ import annotations

import copy
import functools
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from botocore import xform_name
from botocore.model import Shape

# DynamoDB actions that read or write items, and where each names its tables.
_SINGLE_TABLE = ("put_item", "update_item", "delete_item", "get_item", "query", "scan")
_BATCH = ("batch_write_item", "batch_get_item")  # body["RequestItems"]: {table: ...}
_TRANSACT = ("transact_write_items", "transact_get_items")  # body["TransactItems"]: [{op: {"TableName"}}]

_install_lock = threading.Lock()
_originals: list[tuple[type, str, Callable[..., Any]]] = []
_table_locks: dict[str, threading.RLock] = {}
_table_locks_guard = threading.Lock()
_idempotency_lock = threading.Lock()


def install() -> None:
    """Patch moto once per process; idempotent."""
    from moto.bedrockagentcore.responses import BedrockAgentCoreResponse
    from moto.dynamodb.responses import DynamoHandler

    with _install_lock:
        if _originals:
            return
        for action in (*_SINGLE_TABLE, *_BATCH, *_TRANSACT):
            _patch(DynamoHandler, action, _locked(action))
        # Validation outermost: a request AWS would refuse never reaches the token check.
        _patch(BedrockAgentCoreResponse, "create_event", _idempotent)
        model = _agentcore_model()
        for operation in model.operation_names:
            action = xform_name(operation)
            if action in vars(BedrockAgentCoreResponse):
                _patch(BedrockAgentCoreResponse, action, _validated(model.operation_model(operation).input_shape))


def uninstall() -> None:
    with _install_lock:
        for cls, name, original in reversed(_originals):
            setattr(cls, name, original)
        _originals.clear()


def installed() -> bool:
    return bool(_originals)


def _patch(cls: type, name: str, wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> None:
    original = getattr(cls, name)
    _originals.append((cls, name, original))
    setattr(cls, name, functools.wraps(original)(wrap(original)))


# ---------------------------------------------------------------- DynamoDB: atomic conditional writes


def table_lock(table: str) -> threading.RLock:
    """The lock every item operation on ``table`` holds (by name or ARN)."""
    name = table.rpartition(":table/")[2]
    with _table_locks_guard:
        return _table_locks.setdefault(name, threading.RLock())


def _tables(action: str, body: dict[str, Any]) -> list[str]:
    if action in _BATCH:
        return list(body.get("RequestItems") or {})
    if action in _TRANSACT:
        return [op.get("TableName", "") for item in body.get("TransactItems") or [] for op in item.values()]
    return [body.get("TableName", "")]


@contextmanager
def _holding(tables: list[str]) -> Iterator[None]:
    # A fixed order (sorted, deduplicated) so two multi-table calls cannot deadlock.
    with ExitStack() as stack:
        for table in sorted(set(tables)):
            stack.enter_context(table_lock(table))
        yield


def _locked(action: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        # The whole action runs under the lock: the condition check, the write, and reading back the old or new
        # image for ReturnValues (moto reads the old image in the response layer, before calling the backend).
        def action_under_lock(self: Any) -> Any:
            with _holding(_tables(action, self.body or {})):
                return original(self)

        return action_under_lock

    return wrap


# ---------------------------------------------------------------- AgentCore Memory: the service's constraints


def _agentcore_model() -> Any:
    import botocore.session

    return botocore.session.get_session().get_service_model("bedrock-agentcore")


def _length(value: str) -> int:
    # Java services count UTF-16 code units, Smithy's spec counts code points; the larger of the two never lets
    # through locally what AWS would refuse (they differ only outside the Basic Multilingual Plane, e.g. emoji).
    return len(value.encode("utf-16-le")) // 2


def violations(shape: Shape, value: Any, path: str = "") -> Iterator[str]:
    """Each way ``value`` breaks ``shape``'s constraints, in the service's wording."""
    if value is None or shape.metadata.get("document"):
        return
    where = f"Value at '{path}' failed to satisfy constraint: Member must"
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    kind = shape.type_name
    if kind == "structure":
        for name, member in shape.members.items():
            if name in value:
                yield from violations(member, value[name], f"{path}.{name}" if path else name)
    elif kind in ("list", "map", "string"):
        size = _length(value) if kind == "string" else len(value)
        if low is not None and size < low:
            yield f"{where} have length greater than or equal to {low}"
        if high is not None and size > high:
            yield f"{where} have length less than or equal to {high}"
        if kind == "string":
            if shape.enum and value not in shape.enum:
                yield f"{where} satisfy enum value set: [{', '.join(shape.enum)}]"
            pattern = shape.metadata.get("pattern")
            if pattern and not re.fullmatch(pattern, value):
                yield f"{where} satisfy regular expression pattern: {pattern}"
        elif kind == "list":
            for index, item in enumerate(value, start=1):
                yield from violations(shape.member, item, f"{path}.{index}.member")
        else:
            for key, item in value.items():
                yield from violations(shape.key, key, f"{path}.{key}.key")
                yield from violations(shape.value, item, f"{path}.{key}.value")
    elif kind in ("integer", "long"):
        if low is not None and value < low:
            yield f"{where} have value greater than or equal to {low}"
        if high is not None and value > high:
            yield f"{where} have value less than or equal to {high}"


def _memory_must_exist(account: str, region: str, memory: str) -> None:
    """moto's data plane accepts any memory id; AWS answers a deleted or unknown memory with a 404."""
    from moto.bedrockagentcore.exceptions import ResourceNotFoundException
    from moto.bedrockagentcorecontrol.models import bedrockagentcorecontrol_backends

    memory_id = memory.rpartition(":memory/")[2]
    if memory_id not in bedrockagentcorecontrol_backends[account][region].memories:
        raise ResourceNotFoundException(f"Memory {memory_id} not found")


def _validation_error(message: str, reason: str) -> Exception:
    from moto.bedrockagentcore.exceptions import ValidationException

    error = ValidationException(message)
    error.reason = reason  # type: ignore[attr-defined]  # a required member of the modelled error
    return error


def _validated(input_shape: Shape) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(original: Callable[..., Any]) -> Callable[..., Any]:
        def validated_action(self: Any) -> Any:
            params = self._get_params()
            found = list(violations(input_shape, params))
            if found:
                count = f"{len(found)} validation error{'s' if len(found) > 1 else ''} detected"
                raise _validation_error(f"{count}: {'; '.join(found)}", "FieldValidationFailed")
            if "memoryId" in params:
                _memory_must_exist(self.current_account, self.region, params["memoryId"])
            return original(self)

        return validated_action

    return wrap


# ---------------------------------------------------------------- AgentCore Memory: clientToken


def _idempotent(original: Callable[..., Any]) -> Callable[..., Any]:
    from moto.core.responses import ActionResult

    def create_event_once(self: Any) -> Any:
        params = self._get_params()
        token = params.get("clientToken")
        if not token:  # botocore always fills one in (an idempotencyToken member); other clients may not
            return original(self)
        request = {k: v for k, v in params.items() if k != "clientToken"}
        # Kept on the backend, so it is reset with moto's state (mock_aws exit, moto server reset).
        backend = self.backend
        with _idempotency_lock:
            seen: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = backend.__dict__.setdefault(
                "_longhaul_client_tokens", {}
            )
            key = (params.get("memoryId", ""), token)
            if key in seen:
                first_request, first_event = seen[key]
                if first_request != request:
                    raise _validation_error(
                        "The request has the same clientToken as a previous request but different parameters",
                        "IdempotentParameterMismatchException",
                    )
                return ActionResult({"event": copy.deepcopy(first_event)})
            result = original(self)
            seen[key] = (copy.deepcopy(request), copy.deepcopy(_event_of(result)))
            return result

    return create_event_once


def _event_of(result: Any) -> dict[str, Any]:
    """The event dict inside moto's ``ActionResult`` for CreateEvent."""
    return dict(result.result["event"])

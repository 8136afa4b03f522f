"""AWS behaviour that moto 5.2.5 leaves out and longhaul depends on, added to the local stack.

- **AgentCore Memory** (``bedrock-agentcore``): every request moto implements is checked against the service
  model's constraints (lengths, patterns, enums, list/map sizes), as the service does; botocore itself checks
  only required members and minimums, so without this a 150,000-character message or an actor id with ``@``
  would pass locally and fail on AWS. A memory that does not exist (or was deleted) answers
  ``ResourceNotFoundException``, where moto accepts any id. ``CreateEvent`` honours ``clientToken``: the same
  token with the same parameters returns the first event and writes nothing; with different parameters it fails
  as AWS idempotency does (``ValidationException`` with reason ``IdempotentParameterMismatchException``, one of
  the reasons the model lists for that error).
- **Athena**: moto reports every query SUCCEEDED at the first look, ignores ``ClientRequestToken`` and lets
  ``StopQueryExecution`` turn a finished query into CANCELLED. Here a query is QUEUED, then RUNNING, then ends
  (``ATHENA_QUEUED_SECONDS``, ``ATHENA_RUNNING_SECONDS``), with the queue and engine times in its statistics; the
  same token starts one query; stopping an ended query changes nothing; GetQueryResults before the end answers
  as Athena does; and a query naming a table that is not in the Glue catalog (moto's Glue) ends FAILED with
  Athena's ``TABLE_NOT_FOUND`` message. moto runs no SQL: rows come from its result queue
  (``/moto-api/static/athena/query-results``, or ``queue_athena_result`` in-process).
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
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
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
    from moto.athena.responses import AthenaResponse
    from moto.bedrockagentcore.responses import BedrockAgentCoreResponse
    from moto.dynamodb.responses import DynamoHandler

    with _install_lock:
        if _originals:
            return
        for action in (*_SINGLE_TABLE, *_BATCH, *_TRANSACT):
            _patch(DynamoHandler, action, _locked(action))
        for action, wrap in _ATHENA_PATCHES.items():
            _patch(AthenaResponse, action, wrap)
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


# ---------------------------------------------------------------- Athena: queries that take time, and can fail

ATHENA_QUEUED_SECONDS = 0.3
ATHENA_RUNNING_SECONDS = 1.0
_athena_lock = threading.Lock()
# FROM / JOIN <name>, and the names a WITH clause defines (not tables).
_TABLE_REFERENCE = re.compile(
    r"\b(?:FROM|JOIN)\s+((?:\"[^\"]+\"|`[^`]+`|[\w$]+)(?:\s*\.\s*(?:\"[^\"]+\"|`[^`]+`|[\w$]+))*)", re.I
)
_CTE_NAME = re.compile(r"(?:\bWITH|,)\s*([\w$]+)\s+AS\s*\(", re.I)


@dataclass
class _LocalQuery:
    submitted: float
    failure: str | None  # Athena's message when the query will fail
    scanned_bytes: int = 0
    cancelled_at: float | None = None

    def state(self, now: float) -> str:
        elapsed = now - self.submitted
        if self.cancelled_at is not None:
            return "CANCELLED"
        if elapsed < ATHENA_QUEUED_SECONDS:
            return "QUEUED"
        if self.failure:
            return "FAILED"  # a missing table fails in planning, before the engine runs
        if elapsed < ATHENA_QUEUED_SECONDS + ATHENA_RUNNING_SECONDS:
            return "RUNNING"
        return "SUCCEEDED"

    def statistics(self, now: float) -> dict[str, int]:
        running = 0.0 if self.failure else ATHENA_RUNNING_SECONDS
        end = min(now, self.cancelled_at or now, self.submitted + ATHENA_QUEUED_SECONDS + running)
        queued = min(end - self.submitted, ATHENA_QUEUED_SECONDS)
        engine = max(0.0, end - self.submitted - ATHENA_QUEUED_SECONDS)
        done = 0.0 if self.failure else min(1.0, round(engine / ATHENA_RUNNING_SECONDS, 6))
        return {
            "DataScannedInBytes": int(self.scanned_bytes * done),
            "QueryQueueTimeInMillis": int(queued * 1000),
            "EngineExecutionTimeInMillis": int(engine * 1000),
            "TotalExecutionTimeInMillis": int((queued + engine) * 1000),
        }


def _athena_state(response: Any) -> dict[str, Any]:
    """Per-backend bookkeeping (reset with moto's state): queries by id, and query ids by ClientRequestToken."""
    return response.athena_backend.__dict__.setdefault("_longhaul_athena", {"queries": {}, "tokens": {}})


def _unquote(name: str) -> str:
    return name.strip().strip('"`').lower()


def plan_query(sql: str, database: str, location_of: Callable[[str, str], str | None]) -> tuple[str | None, list[str]]:
    """What Athena would make of ``sql``'s tables: (Athena's SCHEMA_NOT_FOUND or TABLE_NOT_FOUND message for the
    first table it names that the catalog lacks, or None; the S3 locations of the tables it reads).
    ``location_of(schema, table)`` is the table's location, None when there is no such table, and raises KeyError
    when there is no such schema."""
    defined = {name.lower() for name in _CTE_NAME.findall(sql)}
    locations: list[str] = []
    for match in _TABLE_REFERENCE.finditer(sql):
        parts = [_unquote(part) for part in match.group(1).split(".")]
        if len(parts) == 1 and parts[0] in defined:
            continue
        schema, table = (parts[-2], parts[-1]) if len(parts) > 1 else (database.lower(), parts[0])
        line = sql.count("\n", 0, match.start(1)) + 1
        where = f"line {line}:{match.start(1) - (sql.rfind(chr(10), 0, match.start(1)) + 1) + 1}"
        try:
            location = location_of(schema, table)
        except KeyError:
            return f"SCHEMA_NOT_FOUND: {where}: Schema '{schema}' does not exist", []
        if location is None:
            return f"TABLE_NOT_FOUND: {where}: Table 'awsdatacatalog.{schema}.{table}' does not exist", []
        locations.append(location)
    return None, locations


def _glue_location(response: Any) -> Callable[[str, str], str | None]:
    from moto.glue.models import glue_backends

    glue = glue_backends[response.current_account][response.region]

    def location_of(database: str, table: str) -> str | None:
        if database not in glue.databases:
            raise KeyError(database)
        try:
            found = glue.get_table(database, table)
        except Exception:  # moto's EntityNotFound for a missing database or table
            return None
        return str(found.as_dict().get("StorageDescriptor", {}).get("Location", ""))

    return location_of


def _bytes_under(response: Any, locations: list[str]) -> int:
    """What a scan of these tables reads: every object under their locations (text tables are read whole)."""
    from moto.s3.models import s3_backends

    s3 = s3_backends[response.current_account]["aws"]
    total = 0
    for location in dict.fromkeys(locations):
        bucket_name, _, prefix = location.removeprefix("s3://").partition("/")
        try:
            keys = s3.get_bucket(bucket_name).keys
        except Exception:  # no such bucket: nothing to scan
            continue
        total += sum(keys[name].size for name in list(keys) if name.startswith(prefix))
    return total


def _athena_start(original: Callable[..., Any]) -> Callable[..., Any]:
    def start_query_execution(self: Any) -> Any:
        token = self._get_param("ClientRequestToken")
        with _athena_lock:
            bookkeeping = _athena_state(self)
            if token and token in bookkeeping["tokens"]:
                return json.dumps({"QueryExecutionId": bookkeeping["tokens"][token]})
            result = original(self)
            if not isinstance(result, str):  # moto's own error answer (e.g. an unknown workgroup)
                return result
            query_id = json.loads(result)["QueryExecutionId"]
            database = (self._get_param("QueryExecutionContext") or {}).get("Database", "default")
            failure, locations = plan_query(self._get_param("QueryString") or "", database, _glue_location(self))
            scanned = _bytes_under(self, locations)
            bookkeeping["queries"][query_id] = _LocalQuery(time.monotonic(), failure, scanned)
            if token:
                bookkeeping["tokens"][token] = query_id
            return result

    return start_query_execution


def _athena_get(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_query_execution(self: Any) -> Any:
        result = original(self)
        query = _athena_state(self)["queries"].get(self._get_param("QueryExecutionId"))
        if query is None or not isinstance(result, str):
            return result
        now = time.monotonic()
        body = json.loads(result)
        execution = body["QueryExecution"]
        state = query.state(now)
        execution["Status"]["State"] = state
        if state == "FAILED":
            execution["Status"]["StateChangeReason"] = query.failure
            execution["Status"]["AthenaError"] = {
                "ErrorCategory": 2,
                "ErrorType": 1301,
                "Retryable": False,
                "ErrorMessage": query.failure,
            }
        elif state == "CANCELLED":
            execution["Status"]["StateChangeReason"] = "Query cancelled by user"
        execution["Statistics"].update(query.statistics(now))
        return json.dumps(body)

    return get_query_execution


def _athena_results(original: Callable[..., Any]) -> Callable[..., Any]:
    def get_query_results(self: Any) -> Any:
        from moto.athena.exceptions import QueryStillRunning

        query = _athena_state(self)["queries"].get(self._get_param("QueryExecutionId"))
        if query is not None and (state := query.state(time.monotonic())) != "SUCCEEDED":
            raise QueryStillRunning(current_status=state)
        return original(self)

    return get_query_results


def _athena_stop(original: Callable[..., Any]) -> Callable[..., Any]:
    def stop_query_execution(self: Any) -> Any:
        query = _athena_state(self)["queries"].get(self._get_param("QueryExecutionId"))
        if query is None:
            return original(self)
        now = time.monotonic()
        if query.state(now) in ("QUEUED", "RUNNING"):
            query.cancelled_at = now
            return original(self)
        return json.dumps({})  # an ended query stays as it ended

    return stop_query_execution


_ATHENA_PATCHES: dict[str, Callable[[Callable[..., Any]], Callable[..., Any]]] = {
    "start_query_execution": _athena_start,
    "get_query_execution": _athena_get,
    "get_query_results": _athena_results,
    "stop_query_execution": _athena_stop,
}


def queue_athena_result(
    rows: list[list[str | None]],
    columns: list[tuple[str, str]],
    account: str = "123456789012",
    region: str = "us-east-1",
) -> None:
    """Queue the rows moto's Athena returns for the next query that has none (moto runs no SQL): the header row
    first, as Athena returns it for a SELECT. The in-process twin of POST /moto-api/static/athena/query-results."""
    from moto.athena.models import QueryResults, athena_backends

    header = [{"Data": [{"VarCharValue": name} for name, _ in columns]}]
    data = [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows]
    info = [{"Name": name, "Label": name, "Type": kind} for name, kind in columns]
    athena_backends[account][region].query_results_queue.append(QueryResults(header + data, info))

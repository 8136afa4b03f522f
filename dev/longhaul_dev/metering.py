"""What a task costs, counted on the local stack: AWS calls by caller, DynamoDB capacity units, Lambda time.

Shared by tests/integration/test_costs.py (the formulas a regression must not break) and benchmarks/costs.py
(``make bench``: the same counts priced). ``Meter`` hooks botocore's events on the default boto3 session, as
``AwsFaults`` does, so it sees every call the handlers and moto's Step Functions integrations make; the
harness's own reads go through ``quiet_client`` and are not counted.

DynamoDB capacity follows the developer guide ("Item sizes and formats", "Capacity unit consumption", "Global
secondary indexes - provisioned throughput considerations"): a write costs ceil(size / 1 KB) of the larger of the
item before and after it; each index whose key changes costs a delete and a put of its entry (keys + 100 bytes);
a strongly consistent read ceil(size / 4 KB), an eventually consistent one half that; at least one unit a call.
"""

from __future__ import annotations

import contextvars
import math
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import boto3
from pydantic import BaseModel

from longhaul.kinds import Continue, Done, Sleep, TaskKind
from longhaul_dev.faults import session_hooks

WORKFLOW = "TaskWorkflow"  # calls made by Step Functions itself (lambda:invoke, direct DynamoDB integrations)
HARNESS = "harness"  # calls made outside any handler and outside the workflow (a test or benchmark)
_caller: contextvars.ContextVar[str | None] = contextvars.ContextVar("longhaul_metering_caller", default=None)

WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
INDEX_ENTRY_OVERHEAD = 100  # bytes DynamoDB adds to each global secondary index entry


# --------------------------------------------------------------------------------------- Step Functions


def state_transitions(history: list[dict[str, Any]]) -> int:
    """State transitions Step Functions Standard bills for an execution: one per state entered (retries included)."""
    return sum(1 for event in history if event["type"].endswith("StateEntered"))


def states_entered(history: list[dict[str, Any]]) -> Counter[str]:
    return Counter(
        event["stateEnteredEventDetails"]["name"] for event in history if event["type"].endswith("StateEntered")
    )


# --------------------------------------------------------------------------------------- DynamoDB sizes


def _number_size(text: str) -> int:
    digits = str(Decimal(text).normalize()).lstrip("-").replace(".", "")
    digits = digits.split("E")[0].strip("0") or "0"
    return math.ceil(len(digits) / 2) + 1


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB's wire form ({"S": ...}, {"N": ...}, {"M": {...}}, ...)."""
    (kind, inner), *_ = value.items()
    if kind == "S":
        return len(inner.encode())
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return len(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode()) for v in inner)
    if kind == "NS":
        return sum(_number_size(v) for v in inner)
    if kind == "BS":
        return sum(len(v) for v in inner)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in inner)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in inner.items())
    raise ValueError(f"unknown DynamoDB type {kind!r}")


def item_size(item: dict[str, Any] | None) -> int:
    """Bytes DynamoDB bills an item at: attribute names plus values."""
    return sum(len(name.encode()) + value_size(value) for name, value in (item or {}).items())


def write_units(size: int) -> int:
    return max(1, math.ceil(size / 1024))


def read_units(size: int, consistent: bool) -> float:
    units = max(1, math.ceil(size / 4096))
    return float(units) if consistent else units / 2


@dataclass(frozen=True)
class Index:
    name: str
    keys: tuple[str, ...]  # the index's key attributes (KEYS_ONLY projects these plus the table key)


@dataclass
class Write:
    caller: str
    operation: str
    table_units: int
    index_units: int
    size_before: int
    size_after: int
    detail: str  # the update expression, or the operation: what the write was for

    @property
    def units(self) -> int:
        return self.table_units + self.index_units


def index_write_units(index: Index, table_key: tuple[str, ...], before: dict | None, after: dict | None) -> int:
    """WRU a write costs one keys-only index: none unless the entry appears, disappears or changes its key."""

    def entry(item: dict | None) -> dict | None:
        if not item or not all(k in item for k in index.keys):
            return None
        return {k: item[k] for k in (*table_key, *index.keys)}

    old, new = entry(before), entry(after)
    if old == new:
        return 0  # keys-only: a change to any other attribute is not in the index
    units = 0
    for present in (old, new):
        if present is not None:
            units += write_units(item_size(present) + INDEX_ENTRY_OVERHEAD)
    return units


# --------------------------------------------------------------------------------------- the meter


def quiet_client(service: str, region: str = "us-east-1") -> Any:
    """A client the meter does not count (its own session): for a harness reading what the run did."""
    return boto3.session.Session(region_name=region).client(service)


@dataclass
class Meter:
    """Counts AWS calls by caller (function logical id, the workflow, or the harness) and prices DynamoDB calls in
    capacity units. ``timed`` wraps a Lambda handler to record its invocations and their duration."""

    table_name: str
    calls: Counter[tuple[str, str]] = field(default_factory=Counter)  # (caller, "service.Operation")
    writes: list[Write] = field(default_factory=list)
    reads: list[tuple[str, str, float]] = field(default_factory=list)  # (caller, operation, RRU)
    invocations: list[tuple[str, float]] = field(default_factory=list)  # (function logical id, seconds)
    timeline: list[tuple[float, str, str]] = field(default_factory=list)  # (time.monotonic(), caller, operation)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        described = quiet_client("dynamodb").describe_table(TableName=self.table_name)["Table"]
        self.table_key = tuple(k["AttributeName"] for k in described["KeySchema"])
        self.indexes = [
            Index(i["IndexName"], tuple(k["AttributeName"] for k in i["KeySchema"]))
            for i in described.get("GlobalSecondaryIndexes", [])
        ]
        self._dynamodb = quiet_client("dynamodb")

    # --- what was counted ----------------------------------------------------------------------------

    def count(self, operation: str, caller: str | None = None) -> int:
        return sum(n for (who, op), n in self.calls.items() if op == operation and caller in (None, who))

    def wru(self, caller: str | None = None) -> int:
        return sum(w.units for w in self.writes if caller in (None, w.caller))

    def rru(self, caller: str | None = None) -> float:
        return sum(units for who, _, units in self.reads if caller in (None, who))

    def lambda_seconds(self, function: str) -> list[float]:
        return [seconds for name, seconds in self.invocations if name == function]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.writes.clear()
            self.reads.clear()
            self.invocations.clear()
            self.timeline.clear()

    # --- Lambda handlers -----------------------------------------------------------------------------

    def timed(self, function: str, handler: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """``handler`` recording each invocation's duration, with its AWS calls counted under ``function``."""

        def run(event: Any, context: Any) -> Any:
            token = _caller.set(function)
            started = time.perf_counter()
            try:
                return handler(event, context)
            finally:
                with self._lock:
                    self.invocations.append((function, time.perf_counter() - started))
                _caller.reset(token)

        return run

    # --- botocore hooks ------------------------------------------------------------------------------

    def _who(self) -> str:
        caller = _caller.get()
        if caller is not None:
            return caller
        # Step Functions runs executions on moto's own threads; everything else is the harness's main thread.
        return HARNESS if threading.current_thread() is threading.main_thread() else WORKFLOW

    def _params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["longhaul_meter_params"] = dict(params)

    def _key(self, params: dict[str, Any]) -> dict[str, Any] | None:
        key = params.get("Key") or {k: params["Item"][k] for k in self.table_key if k in params.get("Item", {})}
        return key if params.get("TableName") == self.table_name and key else None

    def _get(self, key: dict[str, Any]) -> dict[str, Any] | None:
        item = self._dynamodb.get_item(TableName=self.table_name, Key=key, ConsistentRead=True).get("Item")
        return dict(item) if item is not None else None

    def _before(self, event_name: str, context: dict[str, Any], **_: Any) -> None:
        service, operation = event_name.split(".")[1:3]
        context["longhaul_meter_caller"] = self._who()
        if service == "dynamodb" and operation in WRITE_OPERATIONS:
            key = self._key(context.get("longhaul_meter_params", {}))
            context["longhaul_meter_before"] = self._get(key) if key else None

    def _after(self, event_name: str, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        service, operation = event_name.split(".")[1:3]
        caller = context.get("longhaul_meter_caller") or self._who()
        params: dict[str, Any] = context.get("longhaul_meter_params", {})
        with self._lock:
            self.calls[(caller, f"{service}.{operation}")] += 1
            self.timeline.append((time.monotonic(), caller, f"{service}.{operation}"))
        if service != "dynamodb" or params.get("TableName", self.table_name) != self.table_name:
            return
        if operation in WRITE_OPERATIONS:
            key = self._key(params)
            before = context.get("longhaul_meter_before")
            after = self._get(key) if key else None
            size_before, size_after = item_size(before), item_size(after)
            write = Write(
                caller=caller,
                operation=operation,
                table_units=write_units(max(size_before, size_after)),
                index_units=sum(index_write_units(i, self.table_key, before, after) for i in self.indexes),
                size_before=size_before,
                size_after=size_after,
                detail=params.get("UpdateExpression", operation),
            )
            with self._lock:
                self.writes.append(write)
        elif operation == "GetItem":
            units = read_units(item_size(parsed.get("Item")), bool(params.get("ConsistentRead")))
            with self._lock:
                self.reads.append((caller, operation, units))
        elif operation == "Query":
            self._query_units(caller, params, parsed)
        elif operation == "BatchGetItem":
            request = params["RequestItems"].get(self.table_name, {})
            items = parsed.get("Responses", {}).get(self.table_name, [])
            units = sum(read_units(item_size(i), bool(request.get("ConsistentRead"))) for i in items)
            with self._lock:
                self.reads.append((caller, operation, units))

    def _query_units(self, caller: str, params: dict[str, Any], parsed: dict[str, Any]) -> None:
        items = parsed.get("Items")
        if items is None:  # Select=COUNT returns no items, but DynamoDB reads them: size what it read
            again = {k: v for k, v in params.items() if k != "Select"}
            items = self._dynamodb.query(**again).get("Items", [])
        units = read_units(sum(item_size(i) for i in items), bool(params.get("ConsistentRead")))
        with self._lock:
            self.reads.append((caller, "Query", units))

    @contextmanager
    def installed(self) -> Iterator[Meter]:
        """Hook the default boto3 session: clients built inside (build them after entering) are counted."""
        with session_hooks(
            ("before-parameter-build", self._params, "longhaul-meter-params"),
            ("before-call", self._before, "longhaul-meter-before"),
            ("after-call", self._after, "longhaul-meter-after"),
        ):
            yield self


# --------------------------------------------------------------------------------------- kinds to count with


class Steps(BaseModel):
    steps: int = 3
    sleeps: int = 0  # Sleep (the workflow's Wait) after each of the first ``sleeps`` steps
    sleep_seconds: int = 1


def counted_steps(params: Steps, cursor: Any, ctx: Any) -> Continue | Sleep | Done:
    """A chatty kind: it reports progress per item (100 per step), which must cost nothing extra."""
    done = (cursor or 0) + 1
    for item in range(100):
        ctx.progress((done - 1 + item / 100) / params.steps, f"step {done}, item {item}")
    if done == params.steps:
        return Done({"steps": done})
    return Sleep(params.sleep_seconds, done) if done <= params.sleeps else Continue(done)


def counted_kind() -> TaskKind[Steps]:
    """``counted``: ``steps`` steps, the first ``sleeps`` of them followed by a Wait, then a small result."""
    return TaskKind(name="counted", title="Counted", description="c", params_model=Steps, step=counted_steps)

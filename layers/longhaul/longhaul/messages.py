"""The messages between the state machine and the functions, and the vocabulary they share with the task record
(statuses, timestamps). Standard library only: a worker's step reads its event and answers the workflow without
loading pydantic (tests/unit/test_cold_path.py). The task record itself is a pydantic model (models.py), loaded only
by a step that reads it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, get_args

from longhaul.errors import InvalidEvent


class TaskStatus(StrEnum):
    """MCP task statuses. The last three are terminal and never change once written."""

    WORKING = "working"
    INPUT_REQUIRED = "input_required"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL_STATUSES


TERMINAL_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED})
# A task is active while its execution may still write to it; every "only while active" condition uses this set.
ACTIVE_STATUSES = frozenset(TaskStatus) - TERMINAL_STATUSES


class MemoryDelivery(StrEnum):
    """What became of delivering the task's outcome to AgentCore Memory (never changes the task's status)."""

    DELIVERED = "delivered"
    FAILED = "failed"


_SESSION_ID = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}")


def is_valid_session_id(session_id: str) -> bool:
    """AgentCore's session id rule: 1-100 characters of letters, digits, '-' and '_', starting alphanumeric."""
    return bool(_SESSION_ID.fullmatch(session_id))


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: sorts lexically, so it serves as the GSI sort key."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def error_message_from_cause(cause: str | None) -> str | None:
    """The human part of a Step Functions error cause.

    A Lambda error's cause is the JSON the runtime reports (message, type and stack trace); clients
    get the message only, never the trace.
    """
    if not cause:
        return cause
    try:
        parsed = json.loads(cause)
    except ValueError:
        return cause
    if isinstance(parsed, dict) and "errorMessage" in parsed:
        return str(parsed["errorMessage"])
    return cause


# --- Messages between the state machine and the functions (statemachines/task_workflow.asl.json) -----------------


class _Event:
    """Reads one function's event field by field, failing with InvalidEvent naming the function and the field.
    Keys the workflow may add later are ignored."""

    def __init__(self, function: str, event: Any):
        if not isinstance(event, dict):
            raise InvalidEvent(f"{function}'s event must be a JSON object, not {_json_type(event)}")
        self.function, self.event = function, event

    def text(self, name: str) -> str:
        if name not in self.event:
            raise InvalidEvent(f"{self.function}'s event has no {name!r}")
        return self._typed(name, self.event[name], str, "a string")

    def object(self, name: str) -> dict[str, Any]:
        return self._typed(name, self.event.get(name, {}), dict, "a JSON object")

    def count(self, name: str) -> int:
        value = self._typed(name, self.event.get(name, 0), int, "a whole number")
        if value < 0:
            raise InvalidEvent(f"{self.function}'s {name!r} must not be negative (got {value})")
        return value

    def _typed(self, name: str, value: Any, kind: type, what: str) -> Any:
        if not isinstance(value, kind) or isinstance(value, bool):
            raise InvalidEvent(f"{self.function}'s {name!r} must be {what}, not {_json_type(value)}")
        return value


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "an array"}
    return "null" if value is None else names.get(type(value), "an object" if isinstance(value, dict) else "a value")


@dataclass(frozen=True, kw_only=True)
class StepRequest:
    """What the workflow hands RunStep: the task and where the previous step left off."""

    task_id: str
    owner: str
    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    cursor: Any = None
    step_count: int = 0

    @classmethod
    def from_event(cls, event: Any) -> StepRequest:
        read = _Event("RunStep", event)
        return cls(
            task_id=read.text("task_id"),
            owner=read.text("owner"),
            kind=read.text("kind"),
            params=read.object("params"),
            cursor=event.get("cursor"),
            step_count=read.count("step_count"),
        )


Outcome = Literal["continue", "sleep", "done", "need_input"]
OUTCOMES: frozenset[str] = frozenset(get_args(Outcome))


@dataclass(frozen=True, kw_only=True)
class StepOutcome:
    """What RunStep hands back; the workflow's Choice reads ``outcome``. A ``done`` task is already completed in its
    record (result included) when RunStep returns: nothing after this can lose the result."""

    outcome: Outcome
    cursor: Any = None
    step_count: int
    sleep_seconds: int = 0
    # need_input: the requests the workflow parks the task on (id -> {"method": "elicitation/create", "params"}).
    input_requests: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} is not one of {sorted(OUTCOMES)}")

    def to_dict(self) -> dict[str, Any]:
        """The Lambda's answer: every key, null ones too (RunStep's ResultSelector reads each of them)."""
        return {
            "outcome": self.outcome,
            "cursor": self.cursor,
            "step_count": self.step_count,
            "sleep_seconds": self.sleep_seconds,
            "input_requests": self.input_requests,
        }


@dataclass(frozen=True, kw_only=True)
class DeliveryRequest:
    """What the workflow hands WriteResult once the task ended: deliver the record's outcome to memory."""

    task_id: str

    @classmethod
    def from_event(cls, event: Any) -> DeliveryRequest:
        return cls(task_id=_Event("WriteResult", event).text("task_id"))

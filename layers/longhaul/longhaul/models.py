"""The task record and the messages that pass between the state machine and the functions."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


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


# Each model's validator is built when it is first used, not at import: a function pays only for the models its
# requests use (a worker's step validates no TaskRecord; a tools/list validates none). A SnapStart snapshot builds
# them all before it is taken (runtime.build_models).
DEFERRED = ConfigDict(defer_build=True)


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds: sorts lexically, so it serves as the GSI sort key."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class ResultRef(BaseModel):
    """Where a result too large to keep inline lives."""

    model_config = DEFERRED

    bucket: str
    key: str
    size_bytes: int


class TaskRecord(BaseModel):
    """One task, as stored in the tasks table and shown (minus internals) to its owner."""

    model_config = DEFERRED

    task_id: str
    owner: str
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    status: TaskStatus = TaskStatus.WORKING
    progress: float = 0.0
    message: str = ""
    step_count: int = 0
    created_at: str
    updated_at: str
    started_at: str | None = None
    ended_at: str | None = None
    expires_at: int
    session_id: str | None = None
    idempotency_key: str | None = None
    execution_arn: str | None = None
    result: Any = None
    result_ref: ResultRef | None = None
    error_type: str | None = None
    error_message: str | None = None
    memory_event_id: str | None = None
    memory_delivery: MemoryDelivery | None = None
    memory_error: str | None = None
    # A job this task started elsewhere (e.g. an Athena query execution id), saved with the step that started it:
    # when the task is cancelled, fails or times out, the reconciler hands it to the kind's cancel hook.
    external_job: str | None = None

    @field_validator("error_message", mode="before")
    @classmethod
    def _readable_error(cls, value: Any) -> Any:
        # The workflow's MarkFailed stores Step Functions' raw Cause; the record keeps the human part only.
        return error_message_from_cause(value) if isinstance(value, str) else value

    # Durable input_required: the requests still waiting for an answer (id -> {"method", "params"}), every answer
    # received so far (id -> response; ids are unique for the task's life), and the workflow's callback token.
    input_requests: dict[str, Any] | None = None
    input_responses: dict[str, Any] | None = None
    input_token: str | None = None

    @property
    def has_result(self) -> bool:
        return self.result is not None or self.result_ref is not None

    @property
    def execution_name(self) -> str | None:
        return self.execution_arn.rsplit(":", 1)[-1] if self.execution_arn else None


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


# --- Messages between the state machine and the functions -----------------------------------------


class StepRequest(BaseModel):
    """What the workflow hands RunStep: the task and where the previous step left off."""

    model_config = DEFERRED

    task_id: str
    owner: str
    kind: str
    params: dict[str, Any] = Field(default_factory=dict)
    cursor: Any = None
    step_count: int = 0


class StepOutcome(BaseModel):
    """What RunStep hands back; the workflow's Choice reads ``outcome``. A ``done`` task is already completed in its
    record (result included) when RunStep returns: nothing after this can lose the result."""

    model_config = DEFERRED

    outcome: Literal["continue", "sleep", "done", "need_input"]
    cursor: Any = None
    step_count: int
    sleep_seconds: int = 0
    # need_input: the requests the workflow parks the task on (id -> {"method": "elicitation/create", "params"}).
    input_requests: dict[str, Any] | None = None


class DeliveryRequest(BaseModel):
    """What the workflow hands WriteResult once the task ended: deliver the record's outcome to memory."""

    model_config = DEFERRED

    task_id: str

"""The task record as stored and shown: pydantic models, loaded by the endpoint and by a worker that reads a record."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

# The vocabulary the record shares with the step messages, which live apart (messages.py) so that a worker's step
# loads no pydantic; re-exported here for the endpoint's and the tests' imports.
from longhaul.messages import (
    ACTIVE_STATUSES,
    TERMINAL_STATUSES,
    DeliveryRequest,
    MemoryDelivery,
    StepOutcome,
    StepRequest,
    TaskStatus,
    error_message_from_cause,
    is_valid_session_id,
    iso,
    utc_now,
)

__all__ = [
    "ACTIVE_STATUSES",
    "DEFERRED",
    "TERMINAL_STATUSES",
    "DeliveryRequest",
    "MemoryDelivery",
    "ResultRef",
    "StepOutcome",
    "StepRequest",
    "TaskRecord",
    "TaskStatus",
    "error_message_from_cause",
    "is_valid_session_id",
    "iso",
    "utc_now",
]

# Each model's validator is built when it is first used, not at import: a function pays only for the models its
# requests use (a worker's step imports them only if it reads its record; a tools/list validates none). A SnapStart
# snapshot builds them all before it is taken (runtime.build_models).
DEFERRED = ConfigDict(defer_build=True)


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

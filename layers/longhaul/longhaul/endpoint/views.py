"""What the MCP tools return: structured output, with field descriptions an LLM can read."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from longhaul.models import TaskRecord, TaskStatus


class TaskHandle(BaseModel):
    """Returned at once when a task starts: follow it with get_task_status / wait_for_task."""

    task_id: str = Field(description="Id to pass to get_task_status, wait_for_task, get_task_result, cancel_task")
    kind: str
    status: TaskStatus
    poll_interval_seconds: int = Field(description="Suggested seconds between get_task_status calls")
    created_at: str
    message: str = Field(description="What to do next")


class TaskStatusView(BaseModel):
    task_id: str
    kind: str
    status: TaskStatus = Field(description="working, input_required, completed, failed or cancelled")
    progress: float = Field(description="0.0 to 1.0")
    message: str = Field(description="Latest progress message from the task")
    step_count: int
    created_at: str
    updated_at: str
    started_at: str | None = None
    ended_at: str | None = None
    error_type: str | None = None
    error_message: str | None = None
    has_result: bool = Field(description="True once get_task_result can return the result")
    poll_interval_seconds: int = 5
    input_requests: dict[str, Any] | None = Field(
        default=None,
        description="While input_required: the questions to answer with respond_to_task, by request id",
    )

    @classmethod
    def of(cls, record: TaskRecord, poll_interval_seconds: int = 5) -> TaskStatusView:
        fields = record.model_dump(include=set(cls.model_fields))
        return cls(**fields, has_result=record.has_result, poll_interval_seconds=poll_interval_seconds)


class TaskResultView(BaseModel):
    task_id: str
    status: TaskStatus
    ready: bool = Field(description="False while the task is still working: the result is not there yet")
    result: Any = Field(
        default=None,
        description="The task's result (completed tasks)",
        json_schema_extra={"type": ["object", "array", "string", "number", "boolean", "null"]},
    )
    result_url: str | None = Field(
        default=None, description="For results too large to return inline: a download URL valid for 15 minutes"
    )
    result_size_bytes: int | None = None
    error_type: str | None = Field(default=None, description="Why the task failed (failed tasks)")
    error_message: str | None = None


class TaskList(BaseModel):
    tasks: list[TaskStatusView]
    next_cursor: str | None = Field(default=None, description="Pass as cursor to get the next page; null at the end")

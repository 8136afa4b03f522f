"""What the MCP tools return: structured output, with field descriptions an LLM can read."""

from __future__ import annotations

import json
from typing import Any

from mcp_types import CallToolResult, TextContent
from pydantic import BaseModel, Field

from longhaul.models import DEFERRED, TaskRecord, TaskStatus

# Lambda returns at most 6 MB (6,291,456 bytes) from a synchronous invocation; API Gateway allows 10 MB. The
# budget leaves room for what the measure below does not see: response headers, a long request id, _meta.
LAMBDA_RESPONSE_LIMIT_BYTES = 6 * 1024 * 1024
RESPONSE_BUDGET_BYTES = LAMBDA_RESPONSE_LIMIT_BYTES - 512 * 1024


class TaskHandle(BaseModel):
    """Returned at once when a task starts: follow it with get_task_status / wait_for_task."""

    model_config = DEFERRED

    task_id: str = Field(description="Id to pass to get_task_status, wait_for_task, get_task_result, cancel_task")
    kind: str
    status: TaskStatus
    poll_interval_seconds: int = Field(description="Suggested seconds between get_task_status calls")
    created_at: str
    message: str = Field(description="What to do next")


class TaskStatusView(BaseModel):
    model_config = DEFERRED

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


class UploadUrlView(BaseModel):
    """Where to put an input file, and the key that names it for a task."""

    model_config = DEFERRED

    input_key: str = Field(description="Pass this as input_key to csv_profile once the upload finished")
    upload_url: str = Field(description="HTTP PUT the file's bytes to this URL (valid for expires_in_seconds)")
    method: str = "PUT"
    headers: dict[str, str] = Field(
        default_factory=dict, description="Headers the PUT must send exactly (Content-Type, when one was given)"
    )
    expires_in_seconds: int


class TaskResultView(BaseModel):
    model_config = DEFERRED

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
    model_config = DEFERRED

    tasks: list[TaskStatusView]
    next_cursor: str | None = Field(default=None, description="Pass as cursor to get the next page; null at the end")


def tool_result(view: BaseModel | dict[str, Any]) -> CallToolResult:
    """The tool answer for ``view``: structured content plus its compact JSON as text (what clients without
    structured output read). Built here rather than by the SDK, whose text copy is indented JSON and so several
    times the result's size; this is what the response size is measured on.

    Tools publish no output schema (endpoint/listing.py): clients validate structured content only against a
    published one, and the schemas were most of tools/list, which lands in every agent's context. The models
    above still document each answer's fields."""
    structured = view.model_dump(mode="json") if isinstance(view, BaseModel) else view
    text = json.dumps(structured, ensure_ascii=False, separators=(",", ":"))
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=structured)


def response_bytes(result: CallToolResult) -> int:
    """Bytes of the Lambda response that carries ``result``: the JSON-RPC response as the SDK writes it, inside
    the API Gateway proxy response whose ``body`` is a JSON string, escaped once more (quotes and backslashes
    double; non-ASCII counted as ``\\uXXXX``, the larger of the runtime's two encodings)."""
    envelope = {
        "jsonrpc": "2.0",
        "id": "0" * 64,
        "result": result.model_dump(by_alias=True, mode="json", exclude_none=True),
    }
    body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
    return len(json.dumps({"statusCode": 200, "headers": {}, "body": body, "isBase64Encoded": False}))


def fits_one_response(result: CallToolResult) -> bool:
    return response_bytes(result) <= RESPONSE_BUDGET_BYTES

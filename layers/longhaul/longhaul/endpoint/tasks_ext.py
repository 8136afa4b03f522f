"""The 2026-07-28 tasks extension (``io.modelcontextprotocol/tasks``, SEP-2663), served from the durable record.

A client that declares the extension in a request's ``_meta`` clientCapabilities gets a flat ``CreateTaskResult``
from a task kind's ``tools/call`` (after the record is written, so an immediate ``tasks/get`` resolves), then
follows the task with ``tasks/get`` / ``tasks/update`` / ``tasks/cancel``. The task is the same record and
execution the fallback tools see. mcp 2.3.0 has no tasks runtime; its Extension hooks carry this: the
``tools/call`` interceptor, extension methods, and the runner passing the non-core ``resultType: "task"`` through.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.extension import Extension, MethodBinding, ToolBinding
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolRequestParams, CallToolResult, RequestParams, ToolAnnotations
from mcp_types.jsonrpc import HEADER_MISMATCH, INTERNAL_ERROR, INVALID_PARAMS, MISSING_REQUIRED_CLIENT_CAPABILITY
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import Field

from longhaul import runtime
from longhaul.endpoint.views import tool_result as structured_result
from longhaul.errors import InvalidTaskParams, LonghaulError, TaskNotFound
from longhaul.kinds import TaskKind, get_kind
from longhaul.models import DEFERRED, TaskRecord, TaskStatus, utc_now
from longhaul.settings import get_settings

TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
CLIENT_CAPABILITIES_KEY = "io.modelcontextprotocol/clientCapabilities"
# Vendor key for a retry-safe start without touching the tool's arguments (same effect as idempotency_key).
IDEMPOTENCY_META_KEY = "io.longhaul/idempotency-key"
UNAUTHORIZED = -32001
MODERN = frozenset(MODERN_PROTOCOL_VERSIONS)
T = TypeVar("T")


class TaskIdParams(RequestParams):
    model_config = DEFERRED  # built by the first tasks/* request (or before a SnapStart snapshot)

    task_id: str = Field(min_length=1, max_length=128)


class UpdateTaskParams(TaskIdParams):
    input_responses: dict[str, Any] = Field(default_factory=dict)


def required_capability_error(message: str) -> MCPError:
    return MCPError(
        code=MISSING_REQUIRED_CLIENT_CAPABILITY,
        message=message,
        data={"requiredCapabilities": {"extensions": {TASKS_EXTENSION: {}}}},
    )


def declares_extension(ctx: ServerRequestContext[Any, Any]) -> bool:
    """Whether this request's client declared the extension (on 2026-07-28 every request carries its own)."""
    if ctx.protocol_version not in MODERN:
        return False
    capabilities = ctx.session.client_capabilities
    return bool(capabilities and capabilities.extensions and TASKS_EXTENSION in capabilities.extensions)


def owner_of(ctx: ServerRequestContext[Any, Any]) -> str:
    """The caller as the request guard verified it (the API Gateway authorizer), never a client-chosen value."""
    request = ctx.request
    owner = getattr(request, "scope", {}).get("state", {}).get("principal") if request is not None else None
    if owner is None and request is None and get_settings().auth_mode == "none":
        owner = get_settings().dev_principal  # in-process clients (tests) in the development auth mode
    if owner is None:
        raise MCPError(code=UNAUTHORIZED, message="Unauthorized: no verified caller identity")
    return str(owner)


async def _call(fn: Callable[..., T], *args: Any) -> T:
    """A task-service call in a worker thread, its domain errors as JSON-RPC errors. Unknown, expired and
    other owners' tasks answer the same -32602, so a task id reveals nothing about anyone else's tasks."""
    try:
        return await anyio.to_thread.run_sync(lambda: fn(*args))
    except TaskNotFound:
        raise MCPError(code=INVALID_PARAMS, message="Failed to retrieve task: Task not found") from None
    except InvalidTaskParams as error:
        raise MCPError(code=INVALID_PARAMS, message=str(error)) from None
    except LonghaulError as error:
        raise MCPError(code=INTERNAL_ERROR, message=f"{type(error).__name__}: {error}") from None


def _kind(name: str) -> TaskKind | None:
    try:
        return get_kind(name)
    except LonghaulError:
        return None


def _poll_ms(record: TaskRecord) -> int:
    kind = _kind(record.kind)
    return (kind.poll_interval_seconds if kind else 5) * 1000


def task_fields(record: TaskRecord) -> dict[str, Any]:
    """The extension's Task: what every task shape carries."""
    created = _epoch(record.created_at)
    fields: dict[str, Any] = {
        "taskId": record.task_id,
        "status": record.status.value,
        "createdAt": record.created_at,
        "lastUpdatedAt": record.updated_at,
        # The record's lifetime from creation (DynamoDB TTL deletes it afterwards).
        "ttlMs": max(1, int((record.expires_at - created) * 1000)) if created is not None else None,
        "pollIntervalMs": _poll_ms(record),
    }
    # A failed or cancelled task says why (the error kept on the record); others show their latest progress message.
    message = record.error_message if record.status in (TaskStatus.FAILED, TaskStatus.CANCELLED) else None
    if message or record.message:
        fields["statusMessage"] = message or record.message
    return fields


def _epoch(stamp: str) -> float | None:
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def tool_result(value: Any, url: str | None, size: int | None) -> dict[str, Any]:
    """A completed task's CallToolResult. A kind whose result already is one (it has ``content``, e.g. a tool
    error with ``isError: true``) is passed as it is; anything else becomes text plus structured content."""
    if url is not None:
        return {
            "content": [
                {"type": "text", "text": f"The result is {size} bytes, too large to return inline; download it."},
                {"type": "resource_link", "uri": url, "name": "result.json", "mimeType": "application/json"},
            ],
            "isError": False,
        }
    if isinstance(value, dict) and isinstance(value.get("content"), list):
        return value
    result: dict[str, Any] = {"content": [{"type": "text", "text": json.dumps(value)}], "isError": False}
    if isinstance(value, dict):
        result["structuredContent"] = value
    return result


def detailed_task(record: TaskRecord, value: Any = None, url: str | None = None) -> dict[str, Any]:
    """tasks/get's DetailedTask: the Task plus result (completed), error (failed) or inputRequests."""
    task = task_fields(record)
    if record.status == TaskStatus.COMPLETED:
        task["result"] = tool_result(value, url, record.result_ref.size_bytes if record.result_ref else None)
    elif record.status == TaskStatus.FAILED:
        message = record.error_message or "The task failed"
        task["error"] = {"code": INTERNAL_ERROR, "message": message, "data": {"type": record.error_type}}
    elif record.status == TaskStatus.INPUT_REQUIRED:
        task["inputRequests"] = record.input_requests or {}
    return task


class TasksExtension(Extension):
    """``io.modelcontextprotocol/tasks`` on 2026-07-28 requests: task-kind tool calls become tasks for clients that
    declare it; ``tasks/get``, ``tasks/update`` and ``tasks/cancel`` read and steer the durable record."""

    identifier = TASKS_EXTENSION

    def methods(self) -> list[MethodBinding]:
        # tasks/result and tasks/list are not bound: SEP-2663 removed them, so they answer -32601 here.
        return [
            MethodBinding("tasks/get", TaskIdParams, self.get, MODERN),
            MethodBinding("tasks/update", UpdateTaskParams, self.update, MODERN),
            MethodBinding("tasks/cancel", TaskIdParams, self.cancel, MODERN),
        ]

    def tools(self) -> list[ToolBinding]:
        return [
            ToolBinding(
                respond_to_task,
                kwargs={"annotations": ToolAnnotations(destructive_hint=False, idempotent_hint=True)},
            )
        ]

    async def intercept_tool_call(
        self, params: CallToolRequestParams, ctx: ServerRequestContext[Any, Any], call_next: CallNext
    ) -> HandlerResult:
        kind = _kind(params.name)
        if kind is None or ctx.protocol_version not in MODERN:
            return await call_next(ctx)
        if not declares_extension(ctx) and kind.task_support == "required":
            raise required_capability_error(f"Tool {kind.name!r} runs only as a task: declare {TASKS_EXTENSION}")
        if kind.ask_before_start:
            unanswered = ask_before_start(kind, params)
            if unanswered is not None:
                return unanswered
        if not declares_extension(ctx):
            return await call_next(ctx)
        key = (params.meta or {}).get(IDEMPOTENCY_META_KEY)
        if isinstance(key, str) and params.arguments is not None and "idempotency_key" not in params.arguments:
            params.arguments["idempotency_key"] = key
        elif isinstance(key, str) and params.arguments is None:
            params.arguments = {"idempotency_key": key}
        # The start tool validates the arguments and writes the record before it answers: its handle names a
        # task that tasks/get resolves at once. A tool error (bad arguments) goes back as it is.
        started = await call_next(ctx)
        structured = getattr(started, "structured_content", None)
        if getattr(started, "is_error", False) or not isinstance(structured, dict) or "task_id" not in structured:
            return started
        record = await _call(runtime.task_service().get, owner_of(ctx), structured["task_id"])
        return {"resultType": "task", **task_fields(record)}

    async def get(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        owner = self._checked(ctx, params)
        record, value, url = await _call(runtime.task_service().result, owner, params.task_id)
        _not_expired(record)
        return detailed_task(record, value, url)

    async def update(self, ctx: ServerRequestContext[Any, Any], params: UpdateTaskParams) -> dict[str, Any]:
        owner = self._checked(ctx, params)
        _not_expired(await _call(runtime.task_service().get, owner, params.task_id))
        await _call(runtime.task_service().respond, owner, params.task_id, params.input_responses)
        return {}

    async def cancel(self, ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> dict[str, Any]:
        owner = self._checked(ctx, params)
        record = await _call(runtime.task_service().get, owner, params.task_id)
        _not_expired(record)
        if not record.status.is_terminal:  # cancelling a finished task is an idempotent no-op here
            with contextlib.suppress(MCPError):  # it finished meanwhile
                await _call(runtime.task_service().cancel, owner, params.task_id)
        return {}

    @staticmethod
    def _checked(ctx: ServerRequestContext[Any, Any], params: TaskIdParams) -> str:
        if not declares_extension(ctx):
            raise required_capability_error(f"tasks/* requests must declare the {TASKS_EXTENSION} extension")
        request = ctx.request
        headers = getattr(request, "headers", None)
        name = headers.get("mcp-name") if headers is not None else None
        # Routing intermediaries read Mcp-Name: one that disagrees with the body is refused (SEP-2243/2663).
        # A missing header is accepted: the Python SDK 2.x client does not send it for extension methods.
        if name is not None and name.strip() != params.task_id:
            raise MCPError(code=HEADER_MISMATCH, message="Mcp-Name header does not match params.taskId")
        return owner_of(ctx)


def ask_before_start(kind: TaskKind, params: CallToolRequestParams) -> dict[str, Any] | None:
    """Multi round-trip before creation (SEP-2322): while the kind's questions are unanswered, the answer to the
    call is an InputRequiredResult asking them; once answered, accepted content fills in the arguments the caller
    left out and None lets the call go on (to a task). A declined question ends the call as a tool error."""
    from longhaul.tasks import _checked_response

    questions = kind.ask_before_start or {}
    given = {
        key: value.model_dump(by_alias=True, exclude_none=True) if hasattr(value, "model_dump") else value
        for key, value in (params.input_responses or {}).items()
    }
    if any(key not in given for key in questions):
        return {"resultType": "input_required", "inputRequests": {k: q.as_request() for k, q in questions.items()}}
    arguments = dict(params.arguments or {})
    for key, question in questions.items():
        try:
            answer = _checked_response(key, question.as_request(), given[key])
        except InvalidTaskParams as error:
            raise MCPError(code=INVALID_PARAMS, message=str(error)) from None
        if answer["action"] != "accept":
            return {
                "content": [{"type": "text", "text": f"Not started: {key!r} was {answer['action']}d"}],
                "isError": True,
            }
        for name, value in answer["content"].items():
            arguments.setdefault(name, value)
    params.arguments = arguments
    return None


def _not_expired(record: TaskRecord) -> None:
    # DynamoDB deletes expired items lazily (within days): a task past its TTL answers like an unknown one.
    if record.expires_at <= time.time():
        raise MCPError(code=INVALID_PARAMS, message="Failed to retrieve task: Task not found")


async def respond_to_task(task_id: str, responses: dict[str, Any], ctx: Context) -> CallToolResult:
    """Answer an input_required task: responses maps each id of its input_requests to {"action": "accept",
    "content": {...}} or action decline / cancel. The task goes on once all are answered."""
    from mcp.server.mcpserver.exceptions import ToolError

    from longhaul.endpoint.server import principal

    owner = principal(ctx)
    try:
        record = await anyio.to_thread.run_sync(lambda: runtime.task_service().respond(owner, task_id, responses))
    except (TaskNotFound, InvalidTaskParams) as error:
        raise ToolError(str(error)) from None
    except LonghaulError as error:
        raise ToolError(f"{type(error).__name__}: {error}") from None
    answer = {
        "task_id": record.task_id,
        "status": record.status.value,
        "pending_input_requests": record.input_requests or {} if record.status == TaskStatus.INPUT_REQUIRED else {},
        "message": record.message,
        "checked_at": utc_now().isoformat(),
    }
    return structured_result(answer)  # structured content, no output schema in tools/list (endpoint/listing.py)


async def task_tools_schema_middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """For a client that declares the extension, a task-kind tool's result is the task's final CallToolResult (the
    kind's result), not the fallback TaskHandle: its tools/list entry drops the TaskHandle output schema, which
    clients would otherwise hold the final result to (the Python SDK does)."""
    result = await call_next(ctx)
    if ctx.method != "tools/list" or not declares_extension(ctx) or not isinstance(result, dict):
        return result
    for tool in result.get("tools", []):
        if isinstance(tool, dict) and _kind(str(tool.get("name"))) is not None:
            tool.pop("outputSchema", None)
    return result


async def no_prompts_or_resources_middleware(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """longhaul serves no prompts or resources, yet the SDK advertises both (empty): a get or read names one that
    does not exist, which is the client's mistake (-32602), not the SDK's internal error (-32603 with a
    traceback on 2026-07-28, code 0 on 2025-11-25)."""
    if ctx.method in ("prompts/get", "resources/read"):
        params = ctx.params or {}
        what = f"prompt {params.get('name')!r}" if ctx.method == "prompts/get" else f"resource {params.get('uri')!r}"
        raise MCPError(code=INVALID_PARAMS, message=f"Unknown {what}: this server offers tools only")
    return await call_next(ctx)

"""The 2025-11-25 experimental tasks utility (SEP-1686), served from the same record and execution as the tools.

Clients that negotiate 2025-11-25 with ``initialize`` (TypeScript SDK 1.x ``client.experimental.tasks``, Python
SDK 1.x ``session.experimental``, Strands on mcp 1.x) see a longhaul task as a native MCP task:

- ``initialize`` advertises ``capabilities.tasks``; ``tools/list`` marks each task-kind tool
  ``execution.taskSupport: "optional"`` (the status tools stay forbidden: no ``execution``);
- ``tools/call`` with ``params.task`` starts the task through the ordinary start tool (same argument checks,
  owner and idempotency) and answers the nested ``CreateTaskResult`` once the record is durable;
- ``tasks/get``, ``tasks/list``, ``tasks/cancel`` and ``tasks/result`` read and change that record.

Why server middleware: mcp 2.x has no tasks runtime, and it validates every 2025-era ``tools/call`` result as a
``CallToolResult``, so ``{"task": {...}}`` cannot come back through a tool. The SDK's server middleware runs before
that validation and may answer a request itself (its result is passed through as is). Everything here is limited
to connections on 2025-11-25; the 2026-07-28 tasks extension lives in its own module.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar

import anyio
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, METHOD_NOT_FOUND
from starlette.types import ASGIApp, Receive, Scope, Send

from longhaul import runtime
from longhaul.errors import LonghaulError, TaskAlreadyTerminal, TaskNotFound, TaskStartFailed
from longhaul.kinds import get_kind, offered_kinds
from longhaul.models import TaskRecord, TaskStatus
from longhaul.settings import get_settings

PROTOCOL_VERSION = "2025-11-25"
RELATED_TASK = "io.modelcontextprotocol/related-task"
IMMEDIATE_RESPONSE = "io.modelcontextprotocol/model-immediate-response"
# A client that may re-send a task-augmented tools/call (after a broken connection) names the request here, or
# in the start tool's idempotency_key argument: the retry then answers the same task instead of starting another.
IDEMPOTENCY_META = "io.longhaul/idempotency-key"
# tasks/result on a task still working when the request's wait budget is spent (Lambda behind API Gateway cannot
# hold a request open for long): the client keeps polling tasks/get and asks again once the task is terminal.
RESULT_NOT_READY = -32010
CAPABILITY: dict[str, Any] = {"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}}
LIST_PAGE_SIZE = 50
_STREAMING = "longhaul.streaming"
_UNAUTHORIZED = -32001  # as endpoint.server.UNAUTHORIZED (not imported: that module imports this one's users)
T = TypeVar("T")


class TransportMode:
    """Tells the task methods whether this app streams (SSE) or answers one JSON body: only a streaming
    transport may hold ``tasks/result`` open until the task ends and push ``notifications/tasks/status``."""

    def __init__(self, app: ASGIApp, streaming: bool):
        self.app = app
        self.streaming = streaming

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})[_STREAMING] = self.streaming
        await self.app(scope, receive, send)


def install(server: Any) -> None:
    """Add the middleware to an MCPServer once (the server lives as long as the execution environment)."""
    if not any(isinstance(m, Tasks2025) for m in server.middleware):
        server.middleware.append(Tasks2025())


# ---------------------------------------------------------------- wire shapes


def _kind_names() -> set[str]:
    return {kind.name for kind in offered_kinds()}


def _poll_interval_ms(kind_name: str) -> int:
    try:
        return get_kind(kind_name).poll_interval_seconds * 1000
    except LonghaulError:
        return 5000


def task_of(record: TaskRecord) -> dict[str, Any]:
    """The flat 2025-11-25 ``Task``. ``ttl`` is the record's actual lifetime from creation (the table's TTL
    deletes it then), whatever the client asked for: the spec lets the receiver choose and requires the truth."""
    created = datetime.fromisoformat(record.created_at.replace("Z", "+00:00"))
    ttl_ms = max(0, record.expires_at * 1000 - int(created.timestamp() * 1000))
    task: dict[str, Any] = {
        "taskId": record.task_id,
        "status": record.status.value,
        "createdAt": record.created_at,
        "lastUpdatedAt": record.updated_at,
        "ttl": ttl_ms,
        "pollInterval": _poll_interval_ms(record.kind),
    }
    # A failed or cancelled record says why in error_message; the progress message is the last one before.
    ended_early = record.status in (TaskStatus.FAILED, TaskStatus.CANCELLED)
    message = (record.error_message or record.message) if ended_early else record.message
    if message:
        task["statusMessage"] = message
    return task


def call_tool_result_of(record: TaskRecord, value: Any, url: str | None) -> dict[str, Any]:
    """What the tool call would have returned had it run synchronously: the result (completed), or an
    ``isError`` result saying why not (failed, cancelled). Always tagged with the related task."""
    result: dict[str, Any]
    if record.status is TaskStatus.COMPLETED and url is not None:
        size = record.result_ref.size_bytes if record.result_ref else None
        text = f"The result ({size} bytes) is too large to return inline; download it within 15 minutes: {url}"
        result = {"content": [{"type": "text", "text": text}], "structuredContent": {"result_url": url}}
    elif record.status is TaskStatus.COMPLETED:
        text = value if isinstance(value, str) else json.dumps(value)
        result = {"content": [{"type": "text", "text": text}]}
        if isinstance(value, dict):
            result["structuredContent"] = value
    elif record.status is TaskStatus.FAILED:
        text = f"Task failed: {record.error_type or 'Error'}: {record.error_message or 'no details'}"
        result = {"content": [{"type": "text", "text": text}], "isError": True}
    else:
        reason = record.error_message or "cancelled"
        result = {"content": [{"type": "text", "text": f"Task was cancelled: {reason}"}], "isError": True}
    result["_meta"] = {RELATED_TASK: {"taskId": record.task_id}}
    return result


# ---------------------------------------------------------------- the middleware


def _owner(ctx: ServerRequestContext[Any, Any]) -> str:
    """The caller RequestGuard established from the authorizer context (the same rule as the tools use)."""
    request = ctx.request
    scope = getattr(request, "scope", None) or {}
    owner = scope.get("state", {}).get("principal")
    if owner is None and request is None and get_settings().auth_mode == "none":
        owner = get_settings().dev_principal  # in-process clients (tests) in the development auth mode
    if owner is None:
        raise MCPError(code=_UNAUTHORIZED, message="Unauthorized: no verified caller identity")
    return str(owner)


def _streaming(ctx: ServerRequestContext[Any, Any]) -> bool:
    scope = getattr(ctx.request, "scope", None) or {}
    return bool(scope.get("state", {}).get(_STREAMING))


def _task_id(params: Mapping[str, Any] | None) -> str:
    task_id = (params or {}).get("taskId")
    if not isinstance(task_id, str) or not task_id:
        raise MCPError(code=INVALID_PARAMS, message="Invalid params: taskId (a string) is required")
    return task_id


async def _service(fn: Callable[..., T], *args: Any) -> T:
    """A task-service call in a worker thread (boto3 blocks); an unknown or foreign task is -32602."""
    try:
        return await anyio.to_thread.run_sync(lambda: fn(*args))
    except TaskNotFound:
        # The same answer for unknown, expired and other callers' ids: an id reveals nothing.
        raise MCPError(code=INVALID_PARAMS, message="Failed to retrieve task: Task not found") from None


class Tasks2025:
    """Server middleware (``MCPServer.middleware``) answering the tasks utility on 2025-11-25 connections."""

    async def __call__(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        method = ctx.method
        if method == "initialize":
            result = await call_next(ctx)
            if isinstance(result, dict) and result.get("protocolVersion") == PROTOCOL_VERSION:
                result["capabilities"] = {**result.get("capabilities", {}), "tasks": CAPABILITY}
            return result
        if ctx.protocol_version != PROTOCOL_VERSION:
            return await call_next(ctx)
        if method == "tools/list":
            return self._mark_task_tools(await call_next(ctx))
        if method == "tools/call" and (ctx.params or {}).get("task") is not None:
            return await self._create(ctx, call_next)
        if method == "tasks/get":
            return task_of(await _service(runtime.task_service().get, _owner(ctx), _task_id(ctx.params)))
        if method == "tasks/list":
            return await self._list(ctx)
        if method == "tasks/cancel":
            return await self._cancel(ctx)
        if method == "tasks/result":
            return await self._result(ctx)
        return await call_next(ctx)

    @staticmethod
    def _mark_task_tools(result: HandlerResult) -> HandlerResult:
        if not isinstance(result, dict):
            return result
        kinds = _kind_names()
        for tool in result.get("tools", []):
            if tool.get("name") in kinds:
                tool["execution"] = {"taskSupport": "optional"}
                # The output schema describes the synchronous answer (a task handle); called as a task the tool's
                # result is the kind's own result, which clients (TS SDK) would otherwise reject against it.
                tool.pop("outputSchema", None)
        return result

    async def _create(self, ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> dict[str, Any]:
        params = dict(ctx.params or {})
        task_params = params.pop("task")
        name = params.get("name")
        if not isinstance(task_params, dict):
            raise MCPError(code=INVALID_PARAMS, message='Invalid params: task must be an object, e.g. {"ttl": 60000}')
        if name not in _kind_names():
            raise MCPError(
                code=METHOD_NOT_FOUND,
                message=f"Tool {name!r} cannot run as a task (its taskSupport is forbidden): call it without task",
            )
        meta, arguments = params.get("_meta"), params.get("arguments")
        key = meta.get(IDEMPOTENCY_META) if isinstance(meta, dict) else None
        if isinstance(key, str) and isinstance(arguments, dict | None) and "idempotency_key" not in (arguments or {}):
            params["arguments"] = {**(arguments or {}), "idempotency_key": key}  # an explicit argument wins
        # The start tool itself validates the arguments, writes the record and starts the execution; it returns
        # only once the record exists, so the task below is one that tasks/get resolves.
        started = await call_next(replace(ctx, params=params))
        if not isinstance(started, dict):
            raise MCPError(code=INTERNAL_ERROR, message="The task could not be started")
        handle = started.get("structuredContent") or {}
        if started.get("isError") or "task_id" not in handle:
            text = " ".join(c.get("text", "") for c in started.get("content", []) if isinstance(c, dict)).strip()
            # A start the workflow could not confirm is worth retrying (-32603); anything else is the caller's input.
            code = INTERNAL_ERROR if f"{TaskStartFailed.__name__}:" in text else INVALID_PARAMS
            raise MCPError(code=code, message=text or "The task could not be started")
        record = await _service(runtime.task_service().get, _owner(ctx), handle["task_id"])
        return {
            "task": task_of(record),
            "_meta": {
                IMMEDIATE_RESPONSE: f"Started {record.kind} as task {record.task_id}; it keeps running in the "
                "background. Its result will be available when it completes."
            },
        }

    async def _list(self, ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        cursor = (ctx.params or {}).get("cursor")
        if cursor is not None and not isinstance(cursor, str):
            raise MCPError(code=INVALID_PARAMS, message="Invalid params: cursor must be a string")
        try:
            records, next_cursor = await _service(
                runtime.task_service().list, _owner(ctx), None, LIST_PAGE_SIZE, cursor
            )
        except LonghaulError as error:  # the only error a listing raises on purpose: a cursor it did not issue
            raise MCPError(code=INVALID_PARAMS, message=f"Invalid cursor: {error}") from None
        result: dict[str, Any] = {"tasks": [task_of(r) for r in records]}
        if next_cursor:
            result["nextCursor"] = next_cursor
        return result

    async def _cancel(self, ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        try:
            # TaskService.cancel writes "cancelled" before it returns, so the reply already tells the truth.
            record = await _service(runtime.task_service().cancel, _owner(ctx), _task_id(ctx.params))
        except TaskAlreadyTerminal as error:
            raise MCPError(
                code=INVALID_PARAMS, message=f"Cannot cancel task: already in terminal status {error.status!r}"
            ) from None
        return task_of(record)

    async def _result(self, ctx: ServerRequestContext[Any, Any]) -> dict[str, Any]:
        """Block until the task is terminal, then answer its CallToolResult. A streaming transport waits to the
        end and pushes status changes; a buffered one (Lambda) waits at most MAX_WAIT_SECONDS."""
        owner, task_id, service, settings = _owner(ctx), _task_id(ctx.params), runtime.task_service(), get_settings()
        streaming = _streaming(ctx)
        deadline = None if streaming else time.monotonic() + settings.max_wait_seconds
        last_status: TaskStatus | None = None
        while True:
            record = await _service(service.get, owner, task_id)
            if streaming and last_status is not None and record.status is not last_status:
                await self._notify_status(ctx, record)
            last_status = record.status
            if record.status.is_terminal:
                record, value, url = await _service(service.result, owner, task_id)
                return call_tool_result_of(record, value, url)
            if deadline is not None and time.monotonic() >= deadline:
                task = task_of(record)
                raise MCPError(
                    code=RESULT_NOT_READY,
                    message=(
                        f"Task {task_id} is still {record.status.value} after {settings.max_wait_seconds:g} s, the "
                        "longest this endpoint holds a request: poll tasks/get until the status is terminal, then "
                        "call tasks/result again"
                    ),
                    data={**task, "_meta": {RELATED_TASK: {"taskId": task_id}}},
                )
            pause = settings.wait_poll_seconds
            if deadline is not None:
                pause = min(pause, max(0.0, deadline - time.monotonic()))
            await anyio.sleep(pause)

    @staticmethod
    async def _notify_status(ctx: ServerRequestContext[Any, Any], record: TaskRecord) -> None:
        from mcp_types import TaskStatusNotification, TaskStatusNotificationParams

        notification = TaskStatusNotification(params=TaskStatusNotificationParams.model_validate(task_of(record)))
        # Optional and best effort: a client that went away still gets its result by polling.
        with contextlib.suppress(Exception):
            await ctx.session.send_notification(notification, related_request_id=ctx.request_id)  # type: ignore[arg-type]

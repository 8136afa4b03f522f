"""The MCP server: one tool per task kind, plus tools to follow, fetch, cancel and list tasks.

Tools are registered on import; the server object lives as long as the execution environment. Tool
functions are async and hand blocking boto3 calls to a worker thread, so one server also serves
concurrent streaming clients (``longhaul dev --stream``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.func_metadata import ArgModelBase, FuncMetadata
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, ConfigDict, Field, ValidationError, WithJsonSchema, create_model

from longhaul import __version__, runtime
from longhaul.endpoint.listing import published
from longhaul.endpoint.tasks_ext import (
    TasksExtension,
    no_prompts_or_resources_middleware,
    task_tools_schema_middleware,
)
from longhaul.endpoint.views import (
    TaskHandle,
    TaskList,
    TaskResultView,
    TaskStatusView,
    UploadUrlView,
    fits_one_response,
    tool_result,
)
from longhaul.errors import InvalidTaskParams, LonghaulError, TaskAlreadyTerminal, TaskNotFound
from longhaul.kinds import TaskKind, get_kind, offered_kinds
from longhaul.kinds.validation import describe_validation_error, params_model, parse_strict
from longhaul.models import TaskRecord, TaskStatus
from longhaul.settings import get_settings

UNAUTHORIZED = -32001
T = TypeVar("T")

INSTRUCTIONS = """\
longhaul runs long tasks (minutes to days) durably. Starting a task returns a task_id immediately; the work
continues after this call, even if you disconnect. Follow it with get_task_status (or wait_for_task, which
waits up to timeout_s), then read the outcome with get_task_result. Pass session_id when starting a task to
have its result delivered to that agent session's memory."""


def principal(ctx: Context) -> str:
    """The caller, as the auth middleware established it from the API Gateway authorizer context."""
    request = ctx.request_context.request
    owner = request.scope.get("state", {}).get("principal") if request is not None else None
    if owner is None and request is None and get_settings().auth_mode == "none":
        owner = get_settings().dev_principal  # in-process clients (tests) in the development auth mode
    if owner is None:
        raise MCPError(code=UNAUTHORIZED, message="Unauthorized: no verified caller identity")
    return str(owner)


async def _call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a task-service call in a worker thread; domain errors become tool errors the model can read."""
    try:
        return await anyio.to_thread.run_sync(lambda: fn(*args, **kwargs))
    except (TaskNotFound, TaskAlreadyTerminal, InvalidTaskParams) as error:
        raise ToolError(str(error)) from None
    except LonghaulError as error:
        raise ToolError(f"{type(error).__name__}: {error}") from None


def _poll_interval(kind_name: str) -> int:
    try:
        return get_kind(kind_name).poll_interval_seconds
    except LonghaulError:
        return 5


# ---------------------------------------------------------------- one start tool per task kind

# Annotations say only what differs from the spec's defaults (readOnlyHint false, destructiveHint true,
# idempotentHint false, openWorldHint true); the tool's title is not repeated in them.
STARTS = ToolAnnotations(destructive_hint=False)
READ_ONLY = ToolAnnotations(read_only_hint=True)
START_SUFFIX = "Runs in the background: returns a task_id immediately; poll get_task_status, then get_task_result."


class _StartOptions(BaseModel):
    session_id: str | None = Field(
        default=None,
        description="Agent memory session to receive the result",
    )
    idempotency_key: str | None = Field(
        default=None,
        min_length=1,
        max_length=128,
        description="Retry-safe: the same key returns the same task",
    )


class _PassThroughArguments(ArgModelBase):
    """Hands the raw arguments to the start tool unvalidated: the SDK's own validation is lax (it coerces
    ``true`` to 1 and ``"3"`` to 3, and drops unknown names), so the tool validates strictly itself."""

    model_config = ConfigDict(extra="allow")

    def model_dump_one_level(self) -> dict[str, Any]:
        return {"arguments": dict(self.model_extra or {})}


# What the SDK needs to call a start tool, the same for every kind: ``start(arguments, ctx)`` returns a CallToolResult
# (no output schema, nothing to wrap) and gets the raw arguments (tests/unit/test_cold_path.py checks this is what
# Tool.from_function would give).
_START_METADATA = FuncMetadata(arg_model=_PassThroughArguments)


def start_tool(kind: TaskKind) -> Tool:
    """A tool named after the kind whose input schema is the kind's params (plus the start options), flat.
    Unknown arguments and wrong types are rejected with a message naming the field; nothing is coerced."""
    params = params_model(kind.params_model)  # a dataclass's pydantic model is built here, once per kind
    arguments_model = create_model(f"{params.__name__}Arguments", __base__=(params, _StartOptions))
    option_names = set(_StartOptions.model_fields)

    async def start(arguments: dict[str, Any], ctx: Context) -> CallToolResult:
        owner = principal(ctx)
        try:
            values = parse_strict(arguments_model, arguments).model_dump(exclude_unset=True)
        except ValidationError as error:
            raise ToolError(describe_validation_error(error)) from None
        except InvalidTaskParams as error:
            raise ToolError(str(error)) from None
        options = {name: values.pop(name, None) for name in option_names}
        record = await _call(runtime.task_service().start, owner, kind.name, values, **options)
        handle = TaskHandle(
            task_id=record.task_id,
            kind=record.kind,
            status=record.status,
            poll_interval_seconds=kind.poll_interval_seconds,
            created_at=record.created_at,
            message=(
                f"Task started and running in the background. Poll get_task_status every "
                f"{kind.poll_interval_seconds}s (or call wait_for_task), then call get_task_result."
            ),
        )
        return tool_result(handle)

    # Built here rather than by Tool.from_function, which would derive an argument model and schema from ``start``'s
    # signature only for both to be replaced (a cold start paid for that once per kind). The SDK reads the argument
    # model and schema live: publish the kind's flat schema, closed to other names ("additionalProperties" last,
    # whatever the params' own config says: a dataclass's model forbids extras itself).
    schema = {key: value for key, value in arguments_model.model_json_schema().items() if key != "additionalProperties"}
    tool = Tool(
        fn=start,
        name=kind.name,
        title=kind.title,
        description=f"{kind.description} {START_SUFFIX}",
        parameters={**schema, "additionalProperties": False},
        fn_metadata=_START_METADATA,
        is_async=True,
        context_kwarg="ctx",
        annotations=STARTS,
    )
    return published(tool)


mcp = MCPServer(
    "longhaul",
    version=__version__,
    instructions=INSTRUCTIONS,
    # A kind that runs Athena queries is a tool only where the stack set up a workgroup (AthenaDatabase given).
    tools=[start_tool(k) for k in offered_kinds()],
    # The default (INFO) calls logging.basicConfig and logs ~8 lines per request; Powertools does our logging.
    log_level="WARNING",
    # The in-process subscription bus cannot reach a client across stateless Lambda invocations: do not offer it.
    subscriptions=False,
    # Native tasks for 2026-07-28 clients that declare io.modelcontextprotocol/tasks (plus respond_to_task).
    extensions=[TasksExtension()],
    middleware=[task_tools_schema_middleware, no_prompts_or_resources_middleware],
)

# A task id comes from an earlier answer: it is published as a plain string (its name says what it is) and its
# length limits, which only guard the server, are checked here without being sent in every tools/list.
TaskId = Annotated[str, Field(min_length=1, max_length=128), WithJsonSchema({"type": "string"})]


@mcp.tool(annotations=READ_ONLY)
async def get_task_status(task_id: TaskId, ctx: Context) -> CallToolResult:
    """A task's status, progress (0-1) and latest message. Cheap: poll it every poll_interval_seconds while it is
    working."""
    record = await _call(runtime.task_service().get, principal(ctx), task_id)
    return tool_result(TaskStatusView.of(record, _poll_interval(record.kind)))


@mcp.tool(annotations=READ_ONLY)
async def get_task_result(task_id: TaskId, ctx: Context) -> CallToolResult:
    """A finished task's result, or its error; ready is false while it works. A result too large to send comes as
    result_url (valid 15 minutes)."""
    measured: dict[str, CallToolResult] = {}

    def view(record: TaskRecord, result: Any, url: str | None) -> TaskResultView:
        return TaskResultView(
            task_id=record.task_id,
            status=record.status,
            ready=record.status.is_terminal,
            result=result,
            result_url=url,
            result_size_bytes=record.result_ref.size_bytes if record.result_ref else None,
            error_type=record.error_type,
            error_message=record.error_message,
        )

    def fits(record: TaskRecord, value: Any) -> bool:
        # Measured on the very answer that would be sent, kept so it is not serialised twice.
        measured["inline"] = tool_result(view(record, value, None))
        return fits_one_response(measured["inline"])

    record, result, url = await _call(runtime.task_service().result, principal(ctx), task_id, fits)
    if url is None and "inline" in measured:
        return measured["inline"]
    return tool_result(view(record, result, url))


@mcp.tool(annotations=ToolAnnotations(destructive_hint=False, idempotent_hint=True))
async def create_upload_url(
    filename: Annotated[str, Field(min_length=1, max_length=200, description="e.g. sales-2026.csv")],
    ctx: Context,
    content_type: Annotated[
        str | None,
        Field(
            max_length=100,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$",
        ),
        # The pattern is checked here (it keeps headers out of the signed URL), not published: "type/subtype" is
        # what a model needs to know.
        WithJsonSchema({"type": ["string", "null"], "description": "e.g. text/csv; the PUT must send exactly this"}),
    ] = None,
) -> CallToolResult:
    """Get an upload_url and input_key for an input file (e.g. a CSV for csv_profile): PUT the file to upload_url
    within 15 minutes, then pass input_key to the task."""
    key, url, seconds = await _call(runtime.task_service().upload_url, principal(ctx), filename, content_type)
    view = UploadUrlView(
        input_key=key,
        upload_url=url,
        headers={"Content-Type": content_type} if content_type else {},
        expires_in_seconds=seconds,
    )
    return tool_result(view)


# destructiveHint is left at its default (true): cancelling throws the task's remaining work away.
@mcp.tool(annotations=ToolAnnotations(idempotent_hint=True))
async def cancel_task(task_id: TaskId, ctx: Context) -> CallToolResult:
    """Cancel a working task: its work stops and it becomes cancelled."""
    record = await _call(runtime.task_service().cancel, principal(ctx), task_id)
    return tool_result(TaskStatusView.of(record, _poll_interval(record.kind)))


@mcp.tool(annotations=READ_ONLY)
async def list_tasks(
    ctx: Context,
    status: Annotated[TaskStatus | None, Field(description="Only tasks with this status")] = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 20,
    cursor: Annotated[str | None, Field(description="next_cursor of the previous page")] = None,
) -> CallToolResult:
    """Your tasks, newest first: find a task_id again, e.g. in a new session."""
    records, next_cursor = await _call(runtime.task_service().list, principal(ctx), status, limit, cursor)
    views = [TaskStatusView.of(r, _poll_interval(r.kind)) for r in records]
    return tool_result(TaskList(tasks=views, next_cursor=next_cursor))


@mcp.tool(annotations=READ_ONLY)
async def wait_for_task(
    task_id: TaskId,
    ctx: Context,
    timeout_s: Annotated[float, Field(ge=0, le=600, description="Capped by the server's request limit")] = 20,
) -> CallToolResult:
    """Wait up to timeout_s for a task to end; returns its status. Only for tasks ending within a minute: waiting
    holds a server, a get_task_status poll is one cheap read."""
    owner = principal(ctx)
    service = runtime.task_service()
    deadline = time.monotonic() + min(timeout_s, get_settings().max_wait_seconds)
    last: tuple[float, str] | None = None
    while True:
        record = await _call(service.get, owner, task_id)
        if (record.progress, record.message) != last:
            last = (record.progress, record.message)
            await ctx.report_progress(record.progress, 1.0, record.message or record.status.value)
        poll = get_settings().wait_poll_seconds
        # Whole poll intervals only: a last, shorter one would read more often than once per interval.
        if record.status.is_terminal or time.monotonic() + poll > deadline:
            return tool_result(TaskStatusView.of(record, _poll_interval(record.kind)))
        await anyio.sleep(poll)


# What tools/list publishes is decided once, here: every tool compact, the extension's too (MCPServer has no public
# accessor for its Tool objects; the SDK reads their description and parameters live when it lists them).
for _tool in mcp._tool_manager.list_tools():
    published(_tool)

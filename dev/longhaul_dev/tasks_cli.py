"""``longhaul tasks``: start, watch, fetch, cancel and list tasks on any longhaul MCP endpoint from a terminal.

Built on the official MCP Python SDK client. Every command talks to the server through a ``TaskBackend``, chosen
in ``connect()`` from what ``server/discover`` advertises (``--protocol auto``): ``NativeBackend`` speaks the
2026-07-28 tasks extension (``io.modelcontextprotocol/tasks``: the start tool answers a CreateTaskResult, then
``tasks/get``, ``tasks/update``, ``tasks/cancel``); ``ToolsBackend`` uses the fallback tools every longhaul server
has (one start tool per kind, ``get_task_status``, ``get_task_result``, ``cancel_task``, ``list_tasks``,
``respond_to_task``). Both return the fallback tools' shapes, so output and exit codes do not depend on the backend.

Exit codes (also in ``longhaul tasks --help``): 0 ok (or the task completed), 1 the task failed, 2 usage error
or a request the server refused (bad params, unknown kind, task already finished, feature not offered),
3 the task was cancelled, 4 no such task, 5 cannot reach the server or it refused the connection (auth),
6 the task has not finished (result of a working task, a task waiting for input, ``watch --timeout`` expired).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any, Protocol, TypeVar

OK, FAILED, USAGE, CANCELLED, NOT_FOUND, CONNECTION, PENDING = 0, 1, 2, 3, 4, 5, 6
EXIT_CODES = {
    OK: "ok (for status/watch/result: the task completed, or is still working for status)",
    FAILED: "the task failed",
    USAGE: "usage error, or the server refused the request (bad params, unknown kind, already finished)",
    CANCELLED: "the task was cancelled",
    NOT_FOUND: "no such task (unknown, expired, or another caller's)",
    CONNECTION: "cannot reach the server, or it refused the connection (e.g. 401 without a valid token)",
    PENDING: "the task has not finished (not ready, waiting for input, or watch --timeout expired)",
}
DEFAULT_URL = "http://127.0.0.1:8765/mcp"
RESPOND_TOOL = "respond_to_task"
E = TypeVar("E", bound=BaseException)
_OUTCOME_EXIT = {"completed": OK, "failed": FAILED, "cancelled": CANCELLED, "input_required": PENDING}


class CliError(Exception):
    """A failure the user can act on: its message is printed and ``code`` becomes the exit code."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------- talking to the server


class TaskBackend(Protocol):
    """What the commands need from a server; each method returns the fallback tools' structured output shape."""

    async def start(
        self, kind: str, params: dict[str, Any], session_id: str | None, idempotency_key: str | None
    ) -> dict[str, Any]: ...
    async def status(self, task_id: str) -> dict[str, Any]: ...
    async def result(self, task_id: str) -> dict[str, Any]: ...
    async def cancel(self, task_id: str) -> dict[str, Any]: ...
    async def list(self, status: str | None, limit: int, cursor: str | None) -> dict[str, Any]: ...
    async def respond(self, task_id: str, responses: dict[str, Any]) -> dict[str, Any]: ...


class ToolsBackend:
    """The fallback tools: work with every longhaul server and every protocol version."""

    def __init__(self, client: Any):
        self.client = client

    async def _tool_names(self) -> list[str]:
        return [tool.name for tool in (await self.client.list_tools()).tools]

    async def _send(self, tool: str, arguments: dict[str, Any]) -> Any:
        return await self.client.call_tool(tool, arguments)

    async def _call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        from mcp.shared.exceptions import MCPError

        try:
            result = await self._send(tool, arguments)
        except MCPError as error:
            if "unknown tool" in str(error).lower():
                raise CliError(f"this server has no tool {tool!r}", USAGE) from None
            raise CliError(f"server error: {error}", USAGE) from None
        return self._structured(tool, result)

    def _structured(self, tool: str, result: Any) -> dict[str, Any]:
        if result.is_error:
            text = " ".join(getattr(block, "text", "") for block in result.content).strip()
            if "not found" in text.lower():
                raise CliError(text, NOT_FOUND)
            if "unknown tool" in text.lower():
                raise CliError(f"this server has no tool {tool!r}", USAGE)
            raise CliError(text or f"{tool} failed", USAGE)
        return dict(result.structured_content or {})

    async def start(
        self, kind: str, params: dict[str, Any], session_id: str | None, idempotency_key: str | None
    ) -> dict[str, Any]:
        arguments = dict(params)
        if session_id is not None:
            arguments["session_id"] = session_id
        if idempotency_key is not None:
            arguments["idempotency_key"] = idempotency_key
        try:
            return await self._call(kind, arguments)
        except CliError as error:
            if "has no tool" not in str(error):
                raise
            status_tools = {"get_task_status", "get_task_result", "cancel_task", "list_tasks", "wait_for_task"}
            kinds = sorted(set(await self._tool_names()) - status_tools - {RESPOND_TOOL})
            raise CliError(f"no task kind {kind!r} on this server; kinds: {', '.join(kinds)}", USAGE) from None

    async def status(self, task_id: str) -> dict[str, Any]:
        return await self._call("get_task_status", {"task_id": task_id})

    async def result(self, task_id: str) -> dict[str, Any]:
        return await self._call("get_task_result", {"task_id": task_id})

    async def cancel(self, task_id: str) -> dict[str, Any]:
        return await self._call("cancel_task", {"task_id": task_id})

    async def list(self, status: str | None, limit: int, cursor: str | None) -> dict[str, Any]:
        arguments: dict[str, Any] = {"limit": limit}
        if status:
            arguments["status"] = status
        if cursor:
            arguments["cursor"] = cursor
        return await self._call("list_tasks", arguments)

    async def respond(self, task_id: str, responses: dict[str, Any]) -> dict[str, Any]:
        # Ask first: calling a missing tool would read like a refused answer, not like an older server.
        if RESPOND_TOOL not in await self._tool_names():
            raise CliError(
                f"this server cannot take answers for tasks waiting for input (it has no {RESPOND_TOOL} tool): "
                "it runs a longhaul without durable input_required",
                USAGE,
            )
        return await self._call(RESPOND_TOOL, {"task_id": task_id, "responses": responses})


TASKS_EXTENSION = "io.modelcontextprotocol/tasks"
_TERMINAL = ("completed", "failed", "cancelled")


@functools.cache
def _wire() -> SimpleNamespace:
    """The tasks extension's messages (SEP-2663) as SDK models; built on first use, so `--help` stays quick."""
    from typing import Literal

    from mcp.client.extension import ClaimContext, ClientExtension, ResultClaim
    from mcp_types import CallToolResult, Request, RequestParams, Result
    from pydantic import ConfigDict, Field

    class CreateTaskResult(Result):
        model_config = ConfigDict(extra="allow")
        result_type: Literal["task"] = "task"
        task_id: str
        status: str
        created_at: str
        last_updated_at: str
        ttl_ms: int | None = None
        poll_interval_ms: int | None = None

    class DetailedTask(Result):
        model_config = ConfigDict(extra="allow")
        task_id: str
        status: str
        created_at: str | None = None
        last_updated_at: str | None = None
        status_message: str | None = None
        result: dict[str, Any] | None = None
        error: dict[str, Any] | None = None
        # inputRequests is a typed field of the core result surface too: read it under another name.
        pending: dict[str, Any] | None = Field(default=None, alias="inputRequests")

    class TaskIdParams(RequestParams):
        task_id: str

    class UpdateParams(TaskIdParams):
        input_responses: dict[str, Any]

    class GetTask(Request[TaskIdParams, Literal["tasks/get"]]):
        name_param = "taskId"  # mirrored into the Mcp-Name header, as SEP-2663 asks
        method: Literal["tasks/get"] = "tasks/get"

    class UpdateTask(Request[UpdateParams, Literal["tasks/update"]]):
        name_param = "taskId"
        method: Literal["tasks/update"] = "tasks/update"

    class CancelTask(Request[TaskIdParams, Literal["tasks/cancel"]]):
        name_param = "taskId"
        method: Literal["tasks/cancel"] = "tasks/cancel"

    async def unresolved(created: CreateTaskResult, ctx: ClaimContext) -> CallToolResult:
        # The CLI follows tasks itself (session.call_tool(allow_claimed=True)): nothing resolves claims for it.
        raise CliError(f"task {created.task_id} was not followed", USAGE)

    class TasksClient(ClientExtension):
        """Declares the extension and claims its CreateTaskResult (``resultType: "task"``) on tools/call."""

        identifier = TASKS_EXTENSION

        def claims(self) -> list[ResultClaim[Any]]:
            return [ResultClaim(result_type="task", model=CreateTaskResult, resolve=unresolved)]

    return SimpleNamespace(**{cls.__name__: cls for cls in (
        CreateTaskResult, DetailedTask, TaskIdParams, UpdateParams, GetTask, UpdateTask, CancelTask, TasksClient,
        Result,
    )})  # fmt: skip


class NativeBackend(ToolsBackend):
    """The 2026-07-28 tasks extension. Starting declares it and gets a CreateTaskResult; status, result, cancel and
    answers are ``tasks/get`` / ``tasks/cancel`` / ``tasks/update``. The extension's task carries no kind, progress
    or step count and has no list method: those come from longhaul's ``get_task_status`` and ``list_tasks``."""

    async def _send(self, tool: str, arguments: dict[str, Any]) -> Any:
        return await self.client.session.call_tool(tool, arguments, allow_claimed=True)

    def _structured(self, tool: str, result: Any) -> dict[str, Any]:
        if getattr(result, "result_type", None) != "task":
            return super()._structured(tool, result)
        interval = (result.poll_interval_ms or 5000) / 1000
        return {
            "task_id": result.task_id,
            "kind": tool,
            "status": result.status,
            "poll_interval_seconds": max(1, round(interval)),
            "created_at": result.created_at,
            "message": f"Task started as a native MCP task: poll tasks/get every {interval:g}s.",
        }

    async def _request(self, request: Any, result_type: Any) -> Any:
        from mcp.shared.exceptions import MCPError

        try:
            return await self.client.session.send_request(request, result_type)
        except MCPError as error:
            # Unknown, expired and other callers' tasks answer the same -32602 "Task not found".
            code = NOT_FOUND if "not found" in error.message.lower() else USAGE
            raise CliError(error.message, code) from None

    async def _get(self, task_id: str) -> Any:
        wire = _wire()
        return await self._request(wire.GetTask(params=wire.TaskIdParams(task_id=task_id)), wire.DetailedTask)

    async def status(self, task_id: str) -> dict[str, Any]:
        task = await self._get(task_id)
        view = await super().status(task_id)  # kind, progress, step count, times: not in the extension's task
        view.update(status=task.status, input_requests=task.pending if task.status == "input_required" else None)
        if task.status == "failed" and task.error:
            view.update(error_message=task.error.get("message"), error_type=(task.error.get("data") or {}).get("type"))
        return view

    async def result(self, task_id: str) -> dict[str, Any]:
        task = await self._get(task_id)
        view: dict[str, Any] = {
            "task_id": task.task_id,
            "status": task.status,
            "ready": task.status in _TERMINAL,
            "result": None,
            "result_url": None,
            "result_size_bytes": None,
            "error_type": None,
            "error_message": None,
        }
        if task.status == "completed" and task.result is not None:
            view.update(_unwrap(task.result))
        elif task.status == "failed" and task.error:
            view.update(error_message=task.error.get("message"), error_type=(task.error.get("data") or {}).get("type"))
        elif task.status == "cancelled":
            view["error_message"] = task.status_message
        return view

    async def cancel(self, task_id: str) -> dict[str, Any]:
        task = await self._get(task_id)
        # tasks/cancel acknowledges finished tasks too (idempotent); the CLI says so, as the cancel_task tool does.
        if task.status in _TERMINAL:
            raise CliError(f"Task {task_id!r} is already {task.status}", USAGE)
        wire = _wire()
        await self._request(wire.CancelTask(params=wire.TaskIdParams(task_id=task_id)), wire.Result)
        return await self.status(task_id)

    async def respond(self, task_id: str, responses: dict[str, Any]) -> dict[str, Any]:
        wire = _wire()
        params = wire.UpdateParams(task_id=task_id, input_responses=responses)
        await self._request(wire.UpdateTask(params=params), wire.Result)
        status = await self.status(task_id)
        return {
            "task_id": task_id,
            "status": status["status"],
            "pending_input_requests": status.get("input_requests") or {},
            "message": status["message"],
            "checked_at": datetime.now(UTC).isoformat(),
        }


def _unwrap(call_result: dict[str, Any]) -> dict[str, Any]:
    """A completed task's CallToolResult back to what ``get_task_result`` reports: the structured result, the JSON
    of a non-object result, a download link for a large one, or (a kind that returns a CallToolResult) itself."""
    content = call_result.get("content") or []
    for block in content:
        if block.get("type") == "resource_link":
            size = re.search(r"(\d+) bytes", " ".join(b.get("text", "") for b in content if b.get("type") == "text"))
            return {"result_url": block.get("uri"), "result_size_bytes": int(size[1]) if size else None}
    if "structuredContent" in call_result:
        return {"result": call_result["structuredContent"]}
    if set(call_result) <= {"content", "isError"} and not call_result.get("isError") and len(content) == 1:
        try:
            return {"result": json.loads(content[0].get("text", ""))}
        except ValueError:
            pass
    return {"result": call_result}


@asynccontextmanager
async def connect(url: str, token: str | None, protocol: str = "auto") -> AsyncIterator[TaskBackend]:
    """An MCP session to ``url`` and the backend the commands use over it: the native tasks extension when
    ``server/discover`` advertises it (``auto``, ``native``), the fallback tools otherwise (or with ``tools``)."""
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = streamable_http_client(url, http_client=create_mcp_http_client(headers=headers))
    # Declaring the extension changes what task tools answer, so a tools-only session does not declare it.
    extensions = [] if protocol == "tools" else [_wire().TasksClient()]
    async with Client(transport, extensions=extensions) as client:
        offered = TASKS_EXTENSION in (client.server_capabilities.extensions or {})
        if protocol == "native" and not offered:
            raise CliError(
                f"this server does not offer the native tasks extension ({TASKS_EXTENSION}): "
                "use --protocol tools (or auto)",
                USAGE,
            )
        yield NativeBackend(client) if offered and protocol != "tools" else ToolsBackend(client)


def _connection_problem(error: BaseException) -> str | None:
    """The transport failure inside ``error`` (the SDK raises them wrapped in exception groups), if any."""
    seen: set[int] = set()
    stack: list[BaseException] = [error]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        names = {cls.__name__ for cls in type(current).__mro__}
        if "HTTPStatusError" in names:
            response = getattr(current, "response", None)
            code = getattr(response, "status_code", "?")
            hint = " (pass --token or set LONGHAUL_TOKEN)" if code in (401, 403) else ""
            return f"the server answered HTTP {code}{hint}"
        if "MCPError" in names and (getattr(current, "code", None) == -32001 or "unauthorized" in str(current).lower()):
            return f"{current} (pass --token or set LONGHAUL_TOKEN)"  # the endpoint's 401 carries a JSON-RPC error
        if names & {"ConnectError", "ConnectTimeout", "TransportError", "ConnectionError"}:
            return f"cannot connect: {current}"
        if isinstance(current, BaseExceptionGroup):
            stack.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                stack.append(linked)
    return None


# ---------------------------------------------------------------- the command line


def parse_pairs(pairs: list[str], what: str) -> dict[str, Any]:
    """``key=value`` pairs; a value that is valid JSON is used as JSON (``epochs=3`` -> 3), anything else as text."""
    values: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise CliError(f"{what} must look like key=value, got {pair!r}", USAGE)
        try:
            values[key] = json.loads(raw, parse_constant=_reject_constant)
        except ValueError:
            values[key] = raw
    return values


def _reject_constant(name: str) -> Any:
    raise ValueError(name)  # NaN / Infinity are not JSON: keep them as text


def add_parser(commands: argparse._SubParsersAction) -> None:
    epilog = "exit codes:\n" + "\n".join(f"  {code}  {meaning}" for code, meaning in EXIT_CODES.items())
    parser = commands.add_parser(
        "tasks",
        help="start, watch and fetch tasks on a longhaul MCP endpoint",
        description="Run and follow longhaul tasks on any longhaul MCP endpoint (default: `longhaul dev`).",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--url", default=os.environ.get("LONGHAUL_URL", DEFAULT_URL), help=f"MCP URL (LONGHAUL_URL; {DEFAULT_URL})"
    )
    common.add_argument(
        "--token",
        default=os.environ.get("LONGHAUL_TOKEN"),
        help="bearer token: a JWT for a deployed stack (LONGHAUL_TOKEN)",
    )
    common.add_argument("--json", action="store_true", help="machine-readable JSON output")
    common.add_argument(
        "--protocol",
        choices=("auto", "native", "tools"),
        default="auto",
        help="native: the MCP tasks extension (2026-07-28); tools: the task tools; auto (default): native where "
        "the server offers it",
    )
    sub = parser.add_subparsers(dest="tasks_command", required=True, metavar="COMMAND")

    def command(name: str, help: str, handler: Callable[..., Any]) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help, parents=[common], epilog=epilog)
        p.formatter_class = argparse.RawDescriptionHelpFormatter
        p.set_defaults(run=run, handler=handler)
        return p

    start = command("start", "start a task of KIND", cmd_start)
    start.add_argument("kind", help="task kind (its tool name), e.g. model_training")
    start.add_argument(
        "-p", "--param", action="append", default=[], metavar="KEY=VALUE", help="a parameter; JSON values parse"
    )
    start.add_argument("--session-id", help="agent session (AgentCore Memory) that receives the result")
    start.add_argument("--idempotency-key", help="starting again with the same key returns the same task")
    start.add_argument("--watch", action="store_true", help="then watch it to the end (see `watch`)")
    start.add_argument("--interval", type=float, default=1.0, help=argparse.SUPPRESS)

    status = command("status", "show a task's status", cmd_status)
    status.add_argument("task_id")

    watch = command("watch", "show a live progress bar until the task ends, then its result or error", cmd_watch)
    watch.add_argument("task_id")
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between polls (default: 1)")
    watch.add_argument("--timeout", type=float, default=0, help="give up after this many seconds (0: never)")

    result = command("result", "print a finished task's result (or save it with -o)", cmd_result)
    result.add_argument("task_id")
    result.add_argument("-o", "--output", help="write the result to this file (large results are downloaded)")

    cancel = command("cancel", "cancel a working task", cmd_cancel)
    cancel.add_argument("task_id")

    listing = command("list", "list your tasks, newest first", cmd_list)
    listing.add_argument(
        "--status", choices=("working", "input_required", "completed", "failed", "cancelled"), help="only these"
    )
    listing.add_argument("--limit", type=int, default=20, help="most tasks to show (default: 20)")

    respond = command(
        "respond",
        "answer a task that waits for input (status input_required; `status` shows its questions)",
        cmd_respond,
    )
    respond.add_argument("task_id")
    respond.add_argument(
        "responses",
        nargs="*",
        metavar="KEY=VALUE",
        help="a field of a question (approve=true), or a question's whole answer as JSON (REQUEST_ID='{...}')",
    )
    respond.add_argument(
        "--decline", dest="action", action="store_const", const="decline", default="accept", help="decline them all"
    )
    respond.add_argument(
        "--cancel", dest="action", action="store_const", const="cancel", help="answer them all with cancel"
    )


def run(args: argparse.Namespace) -> int:
    import anyio

    out = Output(args.json)
    try:
        return int(anyio.run(_run, args, out))
    except KeyboardInterrupt:
        return out.fail("interrupted", USAGE)
    except Exception as error:
        # The SDK's task groups wrap what a command raised in exception groups: find the part that says why.
        mine = _find(error, CliError)
        if mine is not None:
            return out.fail(str(mine), mine.code)
        problem = _connection_problem(error)
        if problem is None:
            raise
        return out.fail(f"{args.url}: {problem}", CONNECTION)


def _find(error: BaseException, kind: type[E]) -> E | None:
    if isinstance(error, kind):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _find(inner, kind)
            if found is not None:
                return found
    return None


async def _run(args: argparse.Namespace, out: Output) -> int:
    async with connect(args.url, args.token, args.protocol) as backend:
        return int(await args.handler(args, backend, out))


# ---------------------------------------------------------------- the commands


async def cmd_start(args: argparse.Namespace, backend: TaskBackend, out: Output) -> int:
    params = parse_pairs(args.param, "--param")
    handle = await backend.start(args.kind, params, args.session_id, args.idempotency_key)
    if out.json:
        out.emit(handle)
    else:
        out.console.print(f"started [bold]{handle['task_id']}[/] ({handle['kind']}, {handle['status']})")
        if not args.watch:
            out.console.print(f"  follow it: longhaul tasks watch {handle['task_id']}")
    if args.watch:
        return await _watch(backend, out, handle["task_id"], args.interval, 0)
    return OK


async def cmd_status(args: argparse.Namespace, backend: TaskBackend, out: Output) -> int:
    status = await backend.status(args.task_id)
    if out.json:
        out.emit(status)
    else:
        out.show_status(status)
    # A task waiting for input exists and is fine: status reports it, exit 0; watch and result say "not yet".
    return OK if status["status"] == "input_required" else _OUTCOME_EXIT.get(status["status"], OK)


async def cmd_watch(args: argparse.Namespace, backend: TaskBackend, out: Output) -> int:
    return await _watch(backend, out, args.task_id, args.interval, args.timeout)


async def _watch(backend: TaskBackend, out: Output, task_id: str, interval: float, timeout: float) -> int:
    import anyio

    deadline = time.monotonic() + timeout if timeout > 0 else None
    last: tuple[Any, ...] | None = None
    with out.progress() as bar:
        while True:
            status = await backend.status(task_id)
            state = (status["status"], status["progress"], status["message"])
            if state != last:
                last = state
                if out.json:
                    out.emit(status)
                bar.update(status)
            if status["status"] != "working":
                break
            if deadline is not None and time.monotonic() >= deadline:
                return out.fail(f"task {task_id} is still working after {timeout:g} s", PENDING)
            await anyio.sleep(interval)
    if status["status"] == "input_required":
        return out.fail(
            f"task {task_id} waits for input: answer with `longhaul tasks respond {task_id} KEY=VALUE ...`", PENDING
        )
    return out.show_result(await backend.result(task_id), None)


async def cmd_result(args: argparse.Namespace, backend: TaskBackend, out: Output) -> int:
    return out.show_result(await backend.result(args.task_id), args.output)


async def cmd_cancel(args: argparse.Namespace, backend: TaskBackend, out: Output) -> int:
    status = await backend.cancel(args.task_id)
    if out.json:
        out.emit(status)
    else:
        out.console.print(f"{status['task_id']}: {status['status']}")
    return OK


async def cmd_list(args: argparse.Namespace, backend: TaskBackend, out: Output) -> int:
    if not 1 <= args.limit <= 1000:
        raise CliError("--limit must be between 1 and 1000", USAGE)
    tasks: list[dict[str, Any]] = []
    cursor = None
    while len(tasks) < args.limit:
        page = await backend.list(args.status, min(100, args.limit - len(tasks)), cursor)
        tasks.extend(page["tasks"])
        cursor = page.get("next_cursor")
        if not cursor:
            break
    if out.json:
        out.emit({"tasks": tasks, "next_cursor": cursor})
    else:
        out.show_list(tasks)
    return OK


async def cmd_respond(args: argparse.Namespace, backend: TaskBackend, out: Output) -> int:
    pairs = parse_pairs(args.responses, "a response")
    status = await backend.status(args.task_id)
    if status["status"] != "input_required":
        raise CliError(f"task {args.task_id} is {status['status']}: it is not waiting for input", USAGE)
    responses = build_answers(status.get("input_requests") or {}, pairs, args.action)
    answer = await backend.respond(args.task_id, responses)
    if out.json:
        out.emit(answer)
    else:
        pending = ", ".join(answer.get("pending_input_requests") or {})
        out.console.print(
            f"{args.task_id}: answered {', '.join(responses)}; now {answer.get('status', 'sent')}"
            + (f" (still waiting for {pending})" if pending else "")
        )
    return OK


def build_answers(requests: dict[str, Any], pairs: dict[str, Any], action: str) -> dict[str, Any]:
    """Elicitation answers by request id from ``key=value`` pairs: a key that names a request takes its answer as
    JSON (the form's content, or a whole ``{"action": ...}``); any other key is a field of the one request whose
    form has it. ``decline`` / ``cancel`` answer every pending request."""
    if action != "accept":
        if pairs:
            raise CliError(f"--{action} answers every question: give no KEY=VALUE with it", USAGE)
        return {key: {"action": action} for key in requests}
    if not pairs:
        raise CliError(f"give answers as KEY=VALUE (questions: {', '.join(requests)}), or --decline", USAGE)
    answers: dict[str, Any] = {}
    for key, value in pairs.items():
        if key in requests:
            if not isinstance(value, dict):
                raise CliError(f"{key} is a question id: give its answer as a JSON object, {key}='{{...}}'", USAGE)
            answers[key] = value if "action" in value else {"action": "accept", "content": value}
            continue
        owners = [rid for rid, request in requests.items() if key in _form_fields(request)]
        if len(owners) != 1:
            where = "several questions" if owners else "no question"
            fields = sorted({f for request in requests.values() for f in _form_fields(request)})
            raise CliError(f"{key!r} is a field of {where} (fields: {', '.join(fields) or 'none'})", USAGE)
        answer = answers.setdefault(owners[0], {"action": "accept", "content": {}})
        answer.setdefault("content", {})[key] = value
    return answers


def _form_fields(request: dict[str, Any]) -> dict[str, Any]:
    schema = (request.get("params") or {}).get("requestedSchema") or {}
    return dict(schema.get("properties") or {})


# ---------------------------------------------------------------- output


def _elapsed(status: dict[str, Any]) -> str:
    """How long the task has run (to its end, once it ended), from the server's timestamps."""
    try:
        began = datetime.fromisoformat(str(status.get("started_at") or status["created_at"]).replace("Z", "+00:00"))
        ended_at = status.get("ended_at")
        end = datetime.fromisoformat(ended_at.replace("Z", "+00:00")) if ended_at else datetime.now(UTC)
    except (KeyError, ValueError):
        return "-:--:--"
    return str(timedelta(seconds=max(0, int((end - began).total_seconds()))))


class Output:
    """Human output with rich (stdout) or one JSON document per line (``--json``); errors on stderr."""

    def __init__(self, as_json: bool):
        from rich.console import Console

        self.json = as_json
        self.console = Console(highlight=False)
        self.errors = Console(stderr=True, highlight=False, soft_wrap=True)

    def emit(self, document: dict[str, Any]) -> None:
        print(json.dumps(document, default=str), flush=True)

    def fail(self, message: str, code: int) -> int:
        if self.json:
            self.emit({"error": message, "exit_code": code})
        else:
            self.errors.print(f"[red]error:[/] {message}")
        return code

    def show_status(self, status: dict[str, Any]) -> None:
        from rich.markup import escape

        self.console.print(
            f"[bold]{status['task_id']}[/] {status['kind']}: [bold]{status['status']}[/] "
            f"{status['progress']:.0%}  {status['message']}".rstrip()
        )
        self.console.print(
            f"  created {status['created_at']}  elapsed {_elapsed(status)}  steps {status['step_count']}"
        )
        if status.get("error_type"):
            self.console.print(f"  [red]{status['error_type']}[/]: {status.get('error_message') or ''}")
        requests = status.get("input_requests") or {}
        for key, request in requests.items():
            params = request.get("params") or {}
            fields = ", ".join(
                f"{name} ({spec.get('type', 'any')})" + (f": {spec['description']}" if spec.get("description") else "")
                for name, spec in _form_fields(request).items()
            )
            self.console.print(f"  waiting for [bold]{escape(key)}[/]: {escape(str(params.get('message', '')))}")
            if fields:
                self.console.print(f"    fields: {escape(fields)}")
        if requests:
            self.console.print(f"  answer: longhaul tasks respond {status['task_id']} FIELD=VALUE ... (or --decline)")

    def show_list(self, tasks: list[dict[str, Any]]) -> None:
        from rich.table import Table

        if not tasks:
            self.console.print("no tasks")
            return
        table = Table(box=None, pad_edge=False, collapse_padding=True)
        # Whole task ids (to copy), statuses and times even at 80 columns; kind and message shrink.
        widths = {"task_id": 32, "kind": 8, "status": 14, "%": 4, "elapsed": 7, "message": 8}
        for column, width in widths.items():
            table.add_column(column, no_wrap=True, min_width=width, overflow="ellipsis")
        for task in tasks:
            table.add_row(
                task["task_id"],
                task["kind"],
                task["status"],
                f"{task['progress']:.0%}",
                _elapsed(task),
                task["message"],
            )
        self.console.print(table)

    def show_result(self, view: dict[str, Any], output: str | None) -> int:
        task_id, status = view["task_id"], view["status"]
        if not view.get("ready"):
            return self.fail(
                f"task {task_id} is {status}: no result yet (watch it: longhaul tasks watch {task_id})", PENDING
            )
        code = _OUTCOME_EXIT.get(status, OK)
        if status == "completed" and output:
            size = _save_result(view, output)
            view = {**{k: v for k, v in view.items() if k != "result"}, "saved_to": output, "saved_bytes": size}
            if not self.json:
                self.console.print(f"{task_id}: completed; result saved to {output} ({size} bytes)")
        if self.json:
            self.emit(view)
        elif status == "completed" and not output:
            if view.get("result_url"):
                self.console.print(
                    f"{task_id}: completed; the result is large ({view.get('result_size_bytes')} bytes): "
                    f"save it with `longhaul tasks result {task_id} -o FILE`"
                )
            else:
                self.console.print(f"{task_id}: [green]completed[/]")
                self.console.print_json(json.dumps(view.get("result"), default=str))
        elif status == "failed":
            self.errors.print(f"{task_id}: [red]failed[/] {view.get('error_type')}: {view.get('error_message')}")
        elif status == "cancelled":
            self.errors.print(f"{task_id}: [yellow]cancelled[/]")
        return code

    def progress(self) -> _Bar:
        return _Bar(self)


class _Bar:
    """rich's progress display for one task: bar, percentage, the task's elapsed time and its latest message."""

    def __init__(self, out: Output):
        self.out = out
        self.progress: Any = None
        self.id: Any = None

    def __enter__(self) -> _Bar:
        from rich.progress import BarColumn, Progress, SpinnerColumn, TaskProgressColumn, TextColumn

        if not self.out.json:
            self.progress = Progress(
                SpinnerColumn(finished_text="[green]✓[/]"),
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[elapsed]}", style="progress.elapsed"),
                TextColumn("{task.fields[message]}"),
                console=self.out.console,
            )
            self.progress.start()
        return self

    def update(self, status: dict[str, Any]) -> None:
        if self.progress is None:
            return
        fields = {
            "completed": status["progress"] * 100,
            "elapsed": _elapsed(status),
            "message": f"{status['status']}: {status['message']}" if status["message"] else status["status"],
        }
        if self.id is None:
            self.id = self.progress.add_task(f"{status['kind']} {status['task_id'][:8]}", total=100, **fields)
        else:
            self.progress.update(self.id, **fields)

    def __exit__(self, *exc: object) -> None:
        if self.progress is not None:
            self.progress.stop()


def _save_result(view: dict[str, Any], output: str) -> int:
    """Write an inline result as JSON, or stream a large result's download URL to ``output``."""
    if view.get("result_url"):
        import httpx

        size = 0
        with httpx.stream("GET", view["result_url"], timeout=60) as response:
            if response.status_code != 200:
                raise CliError(f"downloading the result failed: HTTP {response.status_code}", CONNECTION)
            with open(output, "wb") as file:
                for chunk in response.iter_bytes():
                    file.write(chunk)
                    size += len(chunk)
        return size
    data = json.dumps(view.get("result"), indent=2, default=str).encode() + b"\n"
    with open(output, "wb") as file:
        file.write(data)
    return len(data)


def main(argv: list[str] | None = None) -> int:
    """``python -m longhaul_dev.tasks_cli ...`` is ``longhaul tasks ...``."""
    from longhaul_dev.cli import main as cli_main

    return cli_main(["tasks", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())

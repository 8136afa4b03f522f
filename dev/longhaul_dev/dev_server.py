"""``longhaul dev``: the whole system on one machine, no AWS account.

A moto server holds DynamoDB, S3, Step Functions (executing the real ASL) and AgentCore Memory, created from
template.yaml; Step Functions' Lambda invocations run the real handlers in this process; and the MCP endpoint
is served on http://HOST:PORT/mcp through the same Lambda handler, one API Gateway HTTP API v2 event per
request. A watcher logs task transitions and plays EventBridge for ReconcileFunction, looking whenever moto tells it
that something happened; with ``--watch`` (the default on a terminal) a live table of active tasks and their progress
stays under the log.

With ``--stream`` the MCP app is served directly with SSE responses (Lambda behind API Gateway buffers
responses, so this mode exists only locally): ``wait_for_task`` then streams progress notifications.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import logging
import os
import socket
import sys
import threading
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the stack (boto3, moto) loads when a dev server starts, not for every `longhaul` command
    from longhaul_dev.stack import LocalStack

DEFAULT_PORT = 8765
_ENDED = ("FAILED", "TIMED_OUT", "ABORTED")


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "dev",
        help="run longhaul locally on moto and serve MCP over HTTP",
        description="Run the whole longhaul system locally (moto-backed) and serve MCP at http://HOST:PORT/mcp.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default: {DEFAULT_PORT}; 0 = any free)")
    parser.add_argument(
        "--auth",
        choices=("none", "dev-token"),
        default="none",
        help="none: every caller is DEV_PRINCIPAL (default 'local-developer'); dev-token: the bearer token is "
        "taken as the caller's name, as if a JWT authorizer had verified it (local testing of multiple owners)",
    )
    parser.add_argument("--stream", action="store_true", help="serve SSE responses so wait_for_task streams progress")
    parser.add_argument("--quiet", action="store_true", help="do not log task transitions")
    parser.add_argument(
        "--watch",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a live table of active tasks and their progress under the transition log (default: on when stdout "
        "is a terminal and not --quiet)",
    )
    parser.add_argument(
        "--conformance", action="store_true", help="add the MCP conformance suite's tasks fixture tools (dev only)"
    )
    parser.set_defaults(run=run)


# ---------------------------------------------------------------- the local AWS


def start_local_aws() -> tuple[Any, LocalStack]:
    """A moto server on a free loopback port with the stack created in it; boto3 in this process points there."""
    import urllib.request

    from moto.moto_server.threaded_moto_server import ThreadedMotoServer

    from longhaul_dev import agentcore_events, moto_lambda
    from longhaul_dev.stack import FAKE_CREDENTIALS, MOTO_CONFIG, apply_environment, create_local_stack

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _, port = server.get_host_and_port()
    endpoint = f"http://127.0.0.1:{port}"
    os.environ.update(FAKE_CREDENTIALS)
    os.environ.pop("AWS_PROFILE", None)
    # boto3 (our code) and moto's own Step Functions executor (MOTO_PORT) both reach this server.
    os.environ.update({"AWS_ENDPOINT_URL": endpoint, "MOTO_PORT": str(port)})
    request = urllib.request.Request(
        f"{endpoint}/moto-api/config", data=json.dumps(MOTO_CONFIG).encode(), method="POST"
    )
    urllib.request.urlopen(request, timeout=10).close()
    moto_lambda.install()
    agentcore_events.install()  # ListEvents as AWS answers it: what Strands' memory session manager relies on
    stack = create_local_stack()
    apply_environment(stack)
    return server, stack


# ---------------------------------------------------------------- HTTP -> API Gateway v2 event


def http_api_event(
    method: str, path: str, query: str, headers: dict[str, str], body: bytes, caller: str | None
) -> dict[str, Any]:
    """The event API Gateway's HTTP API (payload 2.0) sends Lambda; ``caller`` as a verified JWT ``sub``."""
    now = time.time()
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "local",
        "domainName": headers.get("host", "localhost"),
        "domainPrefix": "local",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "127.0.0.1",
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": uuid.uuid4().hex,
        "routeKey": f"{method} /mcp",
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if caller is not None:
        context["authorizer"] = {"jwt": {"claims": {"sub": caller, "iss": "longhaul-dev"}, "scopes": None}}
    return {
        "version": "2.0",
        "routeKey": f"{method} /mcp",
        "rawPath": path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": context,
        "body": text,
        "isBase64Encoded": encoded,
    }


def caller_from_headers(headers: dict[str, str], auth: str) -> str | None:
    """In dev-token mode the bearer token is the caller's name; the endpoint itself still trusts only claims."""
    if auth == "none":
        return None
    token = headers.get("authorization", "")
    name = token[7:].strip() if token.lower().startswith("bearer ") else ""
    return name or None


def lambda_front(handler: Callable[[dict, Any], dict], auth: str) -> Any:
    """An ASGI app that turns each HTTP request into an HTTP API v2 event for the real Lambda handler."""
    import anyio
    from starlette.requests import Request
    from starlette.responses import Response

    from longhaul_dev.moto_lambda import LocalLambdaContext

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        request = Request(scope, receive)
        if request.url.path != "/mcp":
            await Response("Not found: the MCP endpoint is /mcp\n", status_code=404)(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in request.headers.items()}
        event = http_api_event(
            request.method,
            request.url.path,
            request.url.query,
            headers,
            await request.body(),
            caller_from_headers(headers, auth),
        )
        context = LocalLambdaContext(function_name="McpEndpointFunction", timeout_seconds=30)
        result = await anyio.to_thread.run_sync(handler, event, context)
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()
        response_headers = {k: v for k, v in (result.get("headers") or {}).items() if k.lower() != "content-length"}
        await Response(payload, status_code=result["statusCode"], headers=response_headers)(scope, receive, send)

    return app


def streaming_front(auth: str) -> Any:
    """The MCP app served directly (SSE), with the caller placed where API Gateway would put it."""
    from longhaul.endpoint.app import build_app

    inner = build_app(json_response=False)

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = {k.decode().lower(): v.decode() for k, v in scope.get("headers", [])}
            caller = caller_from_headers(headers, auth)
            scope["aws.event"] = http_api_event(scope["method"], scope["path"], "", headers, b"", caller)
        await inner(scope, receive, send)

    return app


# ---------------------------------------------------------------- watcher: transition log + EventBridge


@dataclass
class Watcher:
    """Watches the local stack: prints task transitions, delivers "Execution Status Change" events for
    executions that ended FAILED / TIMED_OUT / ABORTED to ReconcileFunction, as the EventBridge rule does, and runs
    SweepFunction every ``sweep_interval`` seconds, as its schedule does.

    It looks when told that something happened (``notify``: moto_activity tells it of every item write and every
    ended execution), at most every ``interval`` seconds, and otherwise only to sweep: an idle dev server makes no
    calls. While the live view shows active tasks it looks every ``interval`` seconds, to keep their clocks going."""

    stack: LocalStack
    log: Callable[[str], None] | None = print
    interval: float = 0.5
    sweep_interval: float = 60.0
    _next_sweep: float = 0.0
    on_scan: Callable[[list[dict[str, Any]]], None] | None = None  # every scan's items (the live view)
    _seen: dict[str, tuple[str, float, str]] = field(default_factory=dict)
    _reconciled: set[str] = field(default_factory=set)
    _stop: threading.Event = field(default_factory=threading.Event)
    _wake: threading.Event = field(default_factory=threading.Event)
    _ended: threading.Event = field(default_factory=threading.Event)
    _active: bool = False  # the last scan saw tasks working or waiting for input
    _clients: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._ended.set()  # the first look lists the ended executions once

    def _client(self, service: str) -> Any:
        """One boto3 client per service for the watcher's life: building one costs more CPU than the call it makes."""
        if service not in self._clients:
            import boto3

            self._clients[service] = boto3.client(service)
        return self._clients[service]

    def notify(self, what: str = "write") -> None:
        """Something happened in the stack: "write" (an item changed) or "ended" (an execution ended)."""
        if what == "ended":
            self._ended.set()
        self._wake.set()

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._loop, name="longhaul-dev-watcher", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            if not (self._active and self.on_scan):
                self._wake.wait(max(0.0, self._next_sweep - time.monotonic()))
            if self._stop.is_set():
                return
            self._wake.clear()  # before looking: what happens while it looks wakes the next look
            try:
                self.tick()
            except Exception as error:  # keep watching; a transient local error must not end the dev server
                if self.log:
                    self.log(f"watcher: {type(error).__name__}: {error}")
            self._stop.wait(self.interval)

    def tick(self) -> None:
        items = []
        if self.log or self.on_scan:
            items = self._client("dynamodb").scan(TableName=self.stack.table_name).get("Items", [])
            self._active = any(item["status"]["S"] in ("working", "input_required") for item in items)
        if self.on_scan:
            self.on_scan(items)
        if self.log:
            for item in items:
                task_id, status = item["task_id"]["S"], item["status"]["S"]
                state = (status, float(item.get("progress", {}).get("N", 0)), item.get("message", {}).get("S", ""))
                if self._seen.get(task_id) != state:
                    self._seen[task_id] = state
                    owner, kind = item["owner"]["S"], item["kind"]["S"]
                    self.log(f"task {task_id[:8]} {kind} ({owner}): {status} {state[1]:.0%} {state[2]}".rstrip())
        if self._ended.is_set():
            self._ended.clear()  # before listing: an execution ending meanwhile is listed next time
            sfn = self._client("stepfunctions")
            for status in _ENDED:
                executions = sfn.list_executions(stateMachineArn=self.stack.state_machine_arn, statusFilter=status)
                for execution in executions["executions"]:
                    if execution["executionArn"] not in self._reconciled:
                        self._reconciled.add(execution["executionArn"])
                        self._deliver(sfn.describe_execution(executionArn=execution["executionArn"]))
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self.sweep_interval
            self._client("lambda").invoke(FunctionName=self.stack.functions["SweepFunction"], Payload=b"{}")

    def _deliver(self, execution: dict[str, Any]) -> None:
        detail = {
            "executionArn": execution["executionArn"],
            "stateMachineArn": execution["stateMachineArn"],
            "name": execution["name"],
            "status": execution["status"],
            "error": execution.get("error"),
            "cause": execution.get("cause"),
        }
        event = {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "Step Functions Execution Status Change",
            "source": "aws.states",
            "account": "123456789012",
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "region": os.environ.get("AWS_REGION", "us-east-1"),
            "resources": [execution["executionArn"]],
            "detail": detail,
        }
        self._client("lambda").invoke(
            FunctionName=self.stack.functions["ReconcileFunction"], Payload=json.dumps(event, default=str)
        )


# ---------------------------------------------------------------- live view


def active_tasks_table(items: list[dict[str, Any]], now: datetime | None = None) -> Any:
    """The live view's table: tasks still working or waiting for input (table items), oldest first."""
    from rich.progress_bar import ProgressBar
    from rich.table import Table

    now = now or datetime.now(UTC)
    active = sorted(
        (i for i in items if i["status"]["S"] in ("working", "input_required")), key=lambda i: i["created_at"]["S"]
    )
    table = Table(title=f"active tasks: {len(active)}", title_justify="left", box=None, pad_edge=False, expand=False)
    # Narrow terminals shrink kind, owner and message (ellipsis); id, status, bar and times keep their width.
    fixed = {"task": 8, "status": 14, "progress": 12, "%": 4, "elapsed": 7}
    for name in ("task", "kind", "owner", "status", "progress", "%", "elapsed", "message"):
        table.add_column(name, no_wrap=True, overflow="ellipsis", min_width=fixed.get(name), max_width=40)
    for item in active:
        progress = float(item.get("progress", {}).get("N", 0))
        began = datetime.fromisoformat((item.get("started_at") or item["created_at"])["S"].replace("Z", "+00:00"))
        table.add_row(
            item["task_id"]["S"][:8],
            item["kind"]["S"],
            item["owner"]["S"],
            item["status"]["S"],
            ProgressBar(total=1.0, completed=progress, width=12),
            f"{progress:4.0%}",
            str(timedelta(seconds=max(0, int((now - began).total_seconds())))),
            item.get("message", {}).get("S", ""),
        )
    return table


class LiveView:
    """rich Live under the transition log: log lines print above it (rich redirects stdout), the table stays."""

    def __init__(self) -> None:
        from rich.live import Live

        self.live = Live(active_tasks_table([]), refresh_per_second=2, transient=True, redirect_stdout=True)

    def __enter__(self) -> LiveView:
        self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.live.stop()

    def update(self, items: list[dict[str, Any]]) -> None:
        self.live.update(active_tasks_table(items))


# ---------------------------------------------------------------- the command


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from longhaul import runtime
    from longhaul_dev import moto_activity
    from longhaul_dev.moto_lambda import load_handler
    from longhaul_dev.template import PROJECT_ROOT

    # Local servers (moto's werkzeug, uvicorn, Mangum) are chatty at INFO; the transition log is what matters.
    logging.basicConfig(level=logging.WARNING)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    for name in ("werkzeug", "mangum", "mcp", "botocore", "uvicorn", "moto"):
        logging.getLogger(name).setLevel(logging.WARNING if name != "werkzeug" else logging.ERROR)
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "longhaul")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Longhaul")
    os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "1")
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))  # fail fast (and clearly) if the port is taken, before anything starts
    sock.listen(128)  # clients that connect right after the banner wait in the backlog, not refused
    host, port = sock.getsockname()[:2]
    moto_server, stack = start_local_aws()
    # After the stack's own environment (template.yaml's deployed defaults), the local choices:
    os.environ["AUTH_MODE"] = "none" if args.auth == "none" else "jwt"
    # DNS rebinding protection stays on locally: only this server's own host names are accepted.
    os.environ["MCP_ALLOWED_HOSTS"] = f"127.0.0.1:{port},localhost:{port},{host}:{port}"
    runtime.reset()
    if getattr(args, "conformance", False):
        from longhaul_dev import conformance

        conformance.install()
    if args.stream:
        app = streaming_front(args.auth)
    else:
        handler = load_handler(PROJECT_ROOT / "functions" / "mcp_endpoint", "app.lambda_handler")
        app = lambda_front(handler, args.auth)
    watch = args.watch if args.watch is not None else (sys.stdout.isatty() and not args.quiet)
    live = LiveView() if watch else None
    watcher = Watcher(stack, log=None if args.quiet else _log, on_scan=live.update if live else None)
    moto_activity.subscribe(watcher.notify)
    watcher.start()

    url = f"http://{host}:{port}/mcp"
    print(f"longhaul dev: MCP endpoint on {url} ({'SSE streaming' if args.stream else 'JSON, via the Lambda handler'})")
    print(f"  local AWS (moto): {os.environ['AWS_ENDPOINT_URL']}  memory: {stack.memory_id}  auth: {args.auth}")
    print(f"  try:  .venv/bin/python examples/mcp_client.py {url}")
    print("  Ctrl-C stops.", flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    try:
        with live or contextlib.nullcontext():
            server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn re-raises Ctrl-C after its graceful shutdown; stopping is the expected outcome
    finally:
        watcher.stop()
        moto_server.stop()
        print("longhaul dev: stopped", flush=True)
    return 0


def _log(line: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {line}", flush=True)

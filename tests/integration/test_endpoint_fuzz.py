"""Generated requests through McpEndpointFunction's Lambda handler as API Gateway HTTP API v2 events: random
tool calls and argument shapes, random JSON-RPC methods and params, random bodies, headers and HTTP methods.
Whatever arrives: no 5xx, no traceback or internal name in any answer, and a rejected request writes nothing."""

from __future__ import annotations

import base64
import contextlib
import json
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from longhaul.adapters.dynamodb import DynamoTaskStore
from longhaul.errors import TaskAlreadyExists
from longhaul.models import TaskRecord, TaskStatus
from tests.integration.fuzz_support import Endpoint, endpoint, event, problems, rejected

__all__ = ["endpoint"]  # the module-scoped fixture

OWNER = "fuzz-owner"
WORKING, DONE = "f" * 31 + "1", "f" * 31 + "2"  # seeded tasks, so reads and cancels meet real records too
TOOLS = [
    "model_training",
    "csv_profile",
    "get_task_status",
    "get_task_result",
    "cancel_task",
    "list_tasks",
    "wait_for_task",
    "create_upload_url",
]
FIELDS = [
    "task_id",
    "epochs",
    "epoch",
    "epoch_seconds",
    "learning_rate",
    "model_name",
    "checkpoint_seconds",
    "input_key",
    "delimiter",
    "chunk_bytes",
    "session_id",
    "idempotency_key",
    "status",
    "limit",
    "cursor",
    "timeout_s",
    "filename",
    "content_type",
]
METHODS = [
    "initialize",
    "ping",
    "tools/list",
    "tools/call",
    "server/discover",
    "resources/list",
    "resources/read",
    "prompts/list",
    "prompts/get",
    "completion/complete",
    "logging/setLevel",
    "tasks/get",
    "tasks/list",
    "tasks/cancel",
    "tasks/result",
    "tasks/update",
    "notifications/initialized",
    "notifications/cancelled",
]
SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | st.sampled_from([WORKING, DONE, "0" * 32, "", "inputs/x.csv", "completed", "working", "nope", "..", "a" * 300])
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
arguments = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=12), json_values, max_size=6)
task_ids = st.sampled_from([WORKING, DONE, "0" * 32]) | st.text(min_size=1, max_size=40)
# Mostly well-formed calls too, so the paths behind validation (starts, reads, cancels, cursors) are fuzzed as well.
wellformed_calls = st.one_of(
    st.tuples(
        st.just("model_training"),
        st.fixed_dictionaries(
            {},
            optional={
                "epochs": st.integers(min_value=0, max_value=1001),
                "epoch_seconds": st.floats(min_value=0, max_value=600),
                "learning_rate": st.floats(min_value=0, max_value=1.5),
                "model_name": st.text(max_size=130),
                "session_id": st.sampled_from(["s-1", "agent_session", "bad id", ""]) | st.text(max_size=101),
                "idempotency_key": st.sampled_from(["k1", "k2"]) | st.text(max_size=130),
            },
        ),
    ),
    st.tuples(
        st.just("csv_profile"),
        st.fixed_dictionaries(
            {"input_key": st.sampled_from(["inputs/x.csv", "inputs/../x", "results/x"]) | st.text(max_size=60)},
            optional={"delimiter": st.text(max_size=2), "chunk_bytes": st.integers(min_value=0, max_value=2**27)},
        ),
    ),
    st.tuples(
        st.sampled_from(["get_task_status", "get_task_result", "cancel_task", "wait_for_task"]),
        st.fixed_dictionaries({"task_id": task_ids}, optional={"timeout_s": st.floats(min_value=-1, max_value=700)}),
    ),
    st.tuples(
        st.just("list_tasks"),
        st.fixed_dictionaries(
            {},
            optional={
                "status": st.sampled_from(["working", "completed", "failed", "cancelled", "input_required", "x"]),
                "limit": st.integers(min_value=-1, max_value=101),
                "cursor": st.none() | st.text(max_size=80) | st.binary(max_size=60).map(lambda b: b.hex()),
            },
        ),
    ),
    st.tuples(
        st.just("create_upload_url"),
        st.fixed_dictionaries(
            {"filename": st.text(max_size=210)},
            optional={"content_type": st.sampled_from(["text/csv", "application/json", "bad", ""]) | st.text()},
        ),
    ),
)


def seed(endpoint: Endpoint) -> None:
    store = DynamoTaskStore(endpoint.stack.table_name)
    for task_id, status in ((WORKING, TaskStatus.WORKING), (DONE, TaskStatus.COMPLETED)):
        with contextlib.suppress(TaskAlreadyExists):  # seeded by an earlier test of this module
            store.create(
                TaskRecord(
                    task_id=task_id,
                    owner=OWNER,
                    kind="model_training",
                    status=status,
                    created_at="2026-11-26T06:00:00.000Z",
                    updated_at="2026-11-26T06:00:00.000Z",
                    expires_at=1_900_000_000,
                    result={"ok": True} if status == TaskStatus.COMPLETED else None,
                )
            )


class Tally:
    """Checks every answer and keeps the counts the tests assert on."""

    def __init__(self, endpoint: Endpoint):
        self.endpoint = endpoint
        self.outcomes: Counter[str] = Counter()
        self.failures: list[str] = []
        self.echoed = 0  # answers where a word that reads like an internal was only the request's own, echoed

    def send(self, request: dict[str, Any]) -> None:
        before = len(self.endpoint.writes)
        response = self.endpoint.invoke(request)
        wrote = len(self.endpoint.writes) - before
        is_rejected = rejected(response)
        self.outcomes["rejected" if is_rejected else "accepted"] += 1
        found = problems(response, request.get("body") or "")
        self.echoed += len(problems(response)) > len(found)
        if is_rejected and wrote:
            found.append(f"rejected but wrote {wrote} item(s)")
        if found:
            answer = (response.get("body") or "")[:300]
            self.failures.append(f"{found}: {request.get('body', '')[:300]!r} -> {answer!r}")


def test_generated_tool_calls(endpoint):
    seed(endpoint)
    tally = Tally(endpoint)

    @settings(SETTINGS, max_examples=600)
    @given(
        call=st.tuples(st.sampled_from(TOOLS) | st.text(max_size=20), arguments | json_values) | wellformed_calls,
        owner=st.sampled_from([OWNER, OWNER, "someone-else"]),
        request_id=st.integers(min_value=0, max_value=2**53) | st.text(max_size=8),
    )
    @example(call=("create_upload_url", {"filename": "moto.py"}), owner=OWNER, request_id=1)  # an echo, not a leak
    def one(call: tuple[str, Any], owner: str, request_id: Any) -> None:
        name, args = call
        body = {"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": {"name": name, "arguments": args}}
        tally.send(event(json.dumps(body), owner))

    one()
    assert tally.failures == [], "\n".join(tally.failures[:10])
    assert tally.echoed, "the explicit example's file name came back in its upload URL"
    assert sum(tally.outcomes.values()) >= 600 and tally.outcomes["accepted"] > 50 and tally.outcomes["rejected"] > 100


def test_generated_json_rpc_messages(endpoint):
    tally = Tally(endpoint)

    @settings(SETTINGS, max_examples=300)
    @given(
        method=st.sampled_from(METHODS) | st.text(max_size=20),
        params=st.none()
        | json_values
        | st.fixed_dictionaries({"name": st.sampled_from(TOOLS)}, optional={"arguments": arguments}),
        request_id=st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
        jsonrpc=st.sampled_from(["2.0", "2.0", "1.0", None]),
        batch=st.booleans(),
        version=st.sampled_from(["2025-11-25", "2026-07-28", "2025-06-18", "1999-01-01", ""]),
    )
    def one(method: str, params: Any, request_id: Any, jsonrpc: Any, batch: bool, version: str) -> None:
        message: dict[str, Any] = {"jsonrpc": jsonrpc, "method": method}
        if request_id is not None:
            message["id"] = request_id
        if params is not None:
            message["params"] = params
        headers = {"mcp-protocol-version": version, "mcp-method": method}
        tally.send(event(json.dumps([message, message] if batch else message), OWNER, **headers))

    one()
    assert tally.failures == [], "\n".join(tally.failures[:10])
    assert sum(tally.outcomes.values()) >= 300


def test_generated_bodies_headers_and_http_methods(endpoint):
    tally = Tally(endpoint)

    @settings(SETTINGS, max_examples=250)
    @given(
        body=st.text(max_size=200) | st.binary(max_size=200).map(lambda b: b.decode("latin-1")),
        base64_encoded=st.booleans(),
        http_method=st.sampled_from(["POST", "POST", "POST", "GET", "DELETE", "PUT", "OPTIONS"]),
        content_type=st.sampled_from(
            ["application/json", "application/json; charset=utf-8", "text/plain", "", "application/JSON", "x/y"]
        ),
        accept=st.sampled_from(["application/json, text/event-stream", "application/json", "text/html", "*/*", ""]),
        owner=st.none() | st.sampled_from([OWNER, ""]) | st.text(max_size=30),
        extra_headers=st.dictionaries(
            st.sampled_from(["mcp-session-id", "mcp-protocol-version", "mcp-name", "last-event-id", "origin"]),
            st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30),
            max_size=3,
        ),
    )
    def one(
        body: str,
        base64_encoded: bool,
        http_method: str,
        content_type: str,
        accept: str,
        owner: str | None,
        extra_headers: dict[str, str],
    ) -> None:
        request = event(body, owner, **{"content-type": content_type, "accept": accept, **extra_headers})
        request["requestContext"]["http"]["method"] = http_method
        request["routeKey"] = request["requestContext"]["routeKey"] = f"{http_method} /mcp"
        if base64_encoded:
            request["body"], request["isBase64Encoded"] = base64.b64encode(body.encode()).decode(), True
        tally.send(request)

    one()
    assert tally.failures == [], "\n".join(tally.failures[:10])
    assert sum(tally.outcomes.values()) >= 250

"""Cold starts and layer sizes, each beside its anchor measured in the same run (medians; no assertions).

    .venv/bin/python benchmarks/cold_start.py [--quick]      (make bench runs measure() through benchmarks/run.py)

- worker cold start: a fresh interpreter imports functions/run_step/app.py and runs one step of a task (one
  DynamoDB UpdateItem, the step's checkpoint), against a bare handler that imports boto3, builds its client and
  makes the same UpdateItem; beside it (figures without a target), the floor the worker's design sets: the bare
  handler with Powertools' Logger and Metrics (every function logs with a correlation id and emits metrics), with
  RunStep's ratio to it; and what a kind whose params are a pydantic model (instead of the stdlib dataclass the
  built-in kinds use) would add: the bare handler validating ModelTrainingParams' fields with one;
- endpoint cold start: a fresh interpreter imports functions/mcp_endpoint/app.py and serves one tools/list (API
  Gateway HTTP API event), against a bare MCPServer with one no-op tool behind Mangum serving the same request;
- first call after a SnapStart restore: one interpreter imports the endpoint, runs its before-snapshot hooks (as
  Lambda does before it takes the snapshot; the hooks are collected through a stand-in for the runtime's
  snapshot_restore_py), then times its first get_task_status against the median of the warm ones that follow;
- the layers' zipped sizes, from .aws-sam/build (``make build``);
- what verifying bearer tokens in the function costs: PyJWT's import after the MCP SDK, one RS256 check.

Times are CPU time of the function's process (all its threads): this machine is shared, and wall times swing with
its load while CPU time does not; AWS's side of each call (moto here) is not in it, and is the same for both sides
of every comparison. Every interpreter runs on the built layers with Python 3.13 (as on Lambda: the function's
layer, the KindsLayer and the standard library only, with this machine's builds of the few compiled
distributions), after importing what Lambda's own bootstrap (awslambdaric) has imported before it loads a handler.
Without a build they run on the development virtualenv instead, and every figure says so. AWS is a moto server on
loopback: no TLS handshake, so a first call on AWS also pays for a new connection (a few ms) that no local figure
shows.
"""

from __future__ import annotations

import argparse
import glob
import json
import logging
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the benchmarks package lives at the project root
    sys.path.insert(0, str(ROOT))

from benchmarks.figures import Figure  # noqa: E402

BUILD = ROOT / ".aws-sam" / "build"
SHIM = ROOT / ".aws-sam" / "layer-check" / "host-natives"
TABLE = "bench-tasks"
OWNER = "8c4a1f2e-0b7d-4c55-9a8e-1f2e3d4c5b6a"  # the sub in events/mcp_endpoint/*.json
STATUS_TASK = "5f0c3a9e2b7d4e1f8a6c0d2e4b6a8c01"  # the task events/mcp_endpoint/http_api_get_task_status.json asks for
# What Lambda's python3.13 bootstrap (awslambdaric: bootstrap.py, lambda_runtime_client.py, the marshaller) has
# imported before it imports the handler: the same head start for both sides of every comparison.
LAMBDA_BOOTSTRAP_IMPORTS = "import importlib, json, logging, traceback, http.client, decimal, math"
CONTEXT_CLASS = textwrap.dedent(
    """
    class Context:
        function_name = "bench"
        function_version = "$LATEST"
        memory_limit_in_mb = 1024
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
        aws_request_id = "00000000-0000-0000-0000-000000000000"
        log_group_name = log_stream_name = "bench"

        def get_remaining_time_in_millis(self):
            return REMAINING_MS
    """
)


@dataclass(frozen=True)
class Layout:
    """Where a fresh interpreter finds a function's code: the built layer (py3.13) or the development venv."""

    python: str
    flags: tuple[str, ...]
    paths: tuple[str, ...]
    built: bool

    @property
    def label(self) -> str:
        return "built layers, Python 3.13" if self.built else "NOT BUILT (run make build): dev venv"


def python313() -> str | None:
    candidates = [shutil.which("python3.13") or ""]
    candidates += sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.13*/bin/python3.13")))
    for candidate in filter(None, candidates):
        found = subprocess.run([candidate, "-c", "import sys; print(sys.executable)"], capture_output=True, text=True)
        if found.returncode == 0:
            return found.stdout.strip()
    return None


def layout(layer: str, function: str) -> Layout:
    site, python = BUILD / layer / "python", python313()
    if site.is_dir() and SHIM.is_dir() and python:
        paths = (str(SHIM), str(site), str(BUILD / "KindsLayer" / "python"), str(BUILD / function))
        # -B: Lambda's /var/task is read-only, so the function's own app.py is compiled at every cold start.
        return Layout(python, ("-I", "-S", "-B"), paths, True)
    code = {"WorkerLayer": "run_step", "LonghaulLayer": "mcp_endpoint"}[layer]
    return Layout(sys.executable, ("-I", "-B"), (str(ROOT), str(ROOT / "functions" / code)), False)


def zipped_mb(layer: str) -> float | None:
    from longhaul_dev.build_check import zipped_bytes

    directory = BUILD / layer
    return zipped_bytes(directory) / 2**20 if (directory / "python").is_dir() else None


# ---------------------------------------------------------------- a local AWS with the tasks table


class LocalAws:
    """A moto server on a free loopback port with the template's tasks table; nothing global is changed."""

    def __init__(self) -> None:
        import boto3
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        from longhaul_dev.template import load_template

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.server.start()
        host, port = self.server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        self.client = boto3.client("dynamodb", **self.client_args())
        props = load_template()["Resources"]["TasksTable"]["Properties"]
        self.client.create_table(
            TableName=TABLE,
            KeySchema=props["KeySchema"],
            AttributeDefinitions=props["AttributeDefinitions"],
            GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
            BillingMode=props["BillingMode"],
        )

    def client_args(self) -> dict[str, str]:
        return {
            "endpoint_url": self.endpoint,
            "region_name": "us-east-1",
            "aws_access_key_id": "bench",
            "aws_secret_access_key": "bench",
        }

    def put_task(self, task_id: str, *, step_count: int = 1, progress: float = 0.1) -> None:
        from longhaul.adapters.dynamodb import DynamoTaskStore
        from longhaul.models import TaskRecord, iso, utc_now

        now = iso(utc_now())
        record = TaskRecord(
            task_id=task_id,
            owner=OWNER,
            kind="model_training",
            params={"epochs": 10, "epoch_seconds": 0},
            step_count=step_count,
            progress=progress,
            created_at=now,
            updated_at=now,
            started_at=now,
            expires_at=4102444800,
        )
        DynamoTaskStore(TABLE, client=self.client).create(record)

    def environment(self) -> dict[str, str]:
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_EC2_METADATA_DISABLED": "true",
            "POWERTOOLS_SERVICE_NAME": "longhaul",
            "POWERTOOLS_METRICS_NAMESPACE": "Longhaul",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "TASKS_TABLE_NAME": TABLE,
            "RESULTS_BUCKET_NAME": "bench-results",
            "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:bench",
            "AUTH_MODE": "jwt",
            "LONGHAUL_KINDS": "",
        }

    def stop(self) -> None:
        self.server.stop()


# ---------------------------------------------------------------- one fresh interpreter


def run_child(where: Layout, env: dict[str, str], setup: str, timed: str, remaining_ms: int = 30_000) -> dict:
    """Run ``setup`` (untimed), then ``timed``; returns the JSON the timed code leaves in ``out`` plus its ms."""
    code = "\n".join(
        [
            f"import sys; sys.path[:0] = {list(where.paths)!r}",
            LAMBDA_BOOTSTRAP_IMPORTS,
            "import time",
            f"REMAINING_MS = {remaining_ms}",
            CONTEXT_CLASS,
            "out = {}",
            textwrap.dedent(setup),
            "_t0, _c0 = time.perf_counter(), time.process_time()",
            textwrap.dedent(timed),
            "out['wall_ms'] = (time.perf_counter() - _t0) * 1000",
            "out['ms'] = (time.process_time() - _c0) * 1000",
            "print('RESULT ' + json.dumps(out))",
        ]
    )
    with tempfile.TemporaryDirectory() as cwd:  # nothing from this checkout on the path by accident
        done = subprocess.run(
            [where.python, *where.flags, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
        )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"benchmark interpreter failed:\n{done.stderr[-12000:]}")
    return dict(json.loads(lines[-1][len("RESULT ") :]))


# ---------------------------------------------------------------- the measurements


# What the worker's design adds to the bare anchor, whatever longhaul's own code does: every function logs (the task
# id as correlation id) and emits metrics with Powertools (FLOOR_POWERTOOLS). A kind's params are a stdlib dataclass,
# so a step loads no pydantic; a kind may still declare a pydantic model, and PYDANTIC_PARAMS_MODEL shows what that
# costs each cold start. These handlers do the anchor's UpdateItem plus that, and nothing else.
PYDANTIC_PARAMS_MODEL = """
    from pydantic import BaseModel, Field

    class Params(BaseModel):  # ModelTrainingParams' fields and constraints
        model_name: str = Field(default="demo-model", min_length=1, max_length=128)
        epochs: int = Field(default=5, ge=1, le=1000)
        learning_rate: float = Field(default=0.01, gt=0, le=1)
        epoch_seconds: float = Field(default=2.0, ge=0, le=600, description="Simulated seconds per epoch")
        checkpoint_seconds: float = Field(default=900, ge=0, le=900)
        approve_after_epochs: int | None = Field(default=None, ge=1, le=1000, description="Pause for approval")
"""
FLOOR_POWERTOOLS = """
    from aws_lambda_powertools import Logger, Metrics

    logger, metrics = Logger(), Metrics()
"""


def bare_worker_code(task_id: str, *, params_model: bool = False, powertools: bool = False) -> str:
    """The anchor's handler (one UpdateItem, as RunStep's checkpoint), optionally with the design's floor
    (``powertools``) or a pydantic params model (``params_model``)."""
    from longhaul.adapters.dynamodb import ACTIVE_VALUES, IS_ACTIVE

    values = {
        **ACTIVE_VALUES,
        ":n": {"N": "2"},
        ":p": {"N": "0.2"},
        ":m": {"S": "epoch 2/10, loss 0.5000"},
        ":now": {"S": "2026-11-27T00:00:00+00:00"},
    }
    head = textwrap.dedent(PYDANTIC_PARAMS_MODEL if params_model else "") + textwrap.dedent(
        FLOOR_POWERTOOLS if powertools else ""
    )
    decorators = (
        '@logger.inject_lambda_context(correlation_id_path="task_id")\n@metrics.log_metrics\n' if powertools else ""
    )
    validate = (
        "Params.model_validate_json(json.dumps(event['params']), strict=True, extra='forbid')" if params_model else ""
    )
    metric = "metrics.add_metric(name='StepDuration', unit='Milliseconds', value=1.0)" if powertools else ""
    body = f"""
        def handler(event, context):
            {validate}
            dynamodb.update_item(
                TableName={TABLE!r},
                Key={{"task_id": {{"S": event["task_id"]}}}},
                UpdateExpression="SET step_count = :n, updated_at = :now, progress = :p, message = :m",
                ConditionExpression="attribute_exists(task_id) AND {IS_ACTIVE} AND "
                "(attribute_not_exists(step_count) OR step_count < :n) AND progress <= :p",
                ExpressionAttributeNames={{"#status": "status"}},
                ExpressionAttributeValues={values!r},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
            {metric}
            return {{"outcome": "continue"}}
    """
    event = {"task_id": task_id, "params": {"epochs": 10, "epoch_seconds": 0, "checkpoint_seconds": 0}}
    return "\n".join(
        [
            "import boto3",
            'dynamodb = boto3.client("dynamodb")',
            head,
            decorators + textwrap.dedent(body).strip(),
            f"handler({event!r}, Context())",
        ]
    )


def worker_cold(aws: LocalAws, runs: int) -> list[Figure]:
    where = layout("WorkerLayer", "RunStepFunction")
    env = aws.environment()
    sides = {"bare": {}, "floor": {"powertools": True}, "pydantic": {"params_model": True}}
    for index in range(runs):
        for name in ("worker", *sides):
            aws.put_task(f"{name}-{index}")

    def ours(index: int) -> float:
        event = {
            "task_id": f"worker-{index}",
            "owner": OWNER,
            "kind": "model_training",
            "params": {"epochs": 10, "epoch_seconds": 0, "checkpoint_seconds": 0},
            "cursor": {"epoch": 1, "history": [1.0]},
            "step_count": 1,
        }
        timed = f"""
            import app
            response = app.lambda_handler({event!r}, Context())
            assert response["outcome"] == "continue", response
        """
        # checkpoint_seconds 0: the step trains one epoch, then checkpoints (one UpdateItem) and returns.
        return float(run_child(where, env, "", timed, remaining_ms=1000)["ms"])

    # Interleaved, all four sides per round: the machine's load drifts alike for each.
    times: dict[str, list[float]] = {name: [] for name in ("worker", *sides)}
    for index in range(runs):
        times["worker"].append(ours(index))
        for name, floor in sides.items():
            code = bare_worker_code(f"{name}-{index}", **floor)
            times[name].append(float(run_child(where, env, "", code)["ms"]))
    mine, anchor, floor, pydantic = (statistics.median(times[name]) for name in ("worker", "bare", "floor", "pydantic"))
    note = f"median of {runs} fresh interpreters each, interleaved; {where.label}"
    return [
        Figure(
            area="cold start",
            name="worker cold start (RunStep: import + one step with its checkpoint write)",
            value=mine / anchor,
            unit="x",
            target="<= 1.10x",
            met=mine / anchor <= 1.10,
            anchor=f"bare boto3 handler, same UpdateItem: {anchor:.0f} ms (RunStep {mine:.0f} ms)",
            note=note,
        ),
        Figure(
            area="cold start",
            name="worker floor: the bare handler + Powertools Logger and Metrics (inject_lambda_context, log_metrics, "
            "one metric)",
            value=floor / anchor,
            unit="x",
            anchor=f"bare boto3 handler: {anchor:.0f} ms (with Powertools {floor:.0f} ms)",
            note=note + "; every function logs with a correlation id and emits metrics. The floor handlers, like the "
            "anchor, leave the garbage collector on while they load (RunStep turns it off: longhaul/coldstart.py)",
        ),
        Figure(
            area="cold start",
            name="worker cold start against that floor (what longhaul's own code adds)",
            value=mine / floor,
            unit="x",
            anchor=f"bare handler + Powertools: {floor:.0f} ms (RunStep {mine:.0f} ms)",
            note=note,
        ),
        Figure(
            area="cold start",
            name="a kind with pydantic params: the bare handler + a pydantic model of ModelTrainingParams' fields "
            "(validated strictly)",
            value=pydantic / anchor,
            unit="x",
            anchor=f"bare boto3 handler: {anchor:.0f} ms (with the model {pydantic:.0f} ms)",
            note=note
            + "; not the design: a kind's params are a stdlib dataclass and a step loads no pydantic; this is "
            "what a kind that declares a pydantic model instead adds to each of its cold starts",
        ),
    ]


def endpoint_event(name: str) -> dict:
    return dict(json.loads((ROOT / "events" / "mcp_endpoint" / f"{name}.json").read_text()))


def endpoint_cold(aws: LocalAws, runs: int) -> list[Figure]:
    where = layout("LonghaulLayer", "McpEndpointFunction")
    env = aws.environment()
    event = endpoint_event("http_api_tools_list")
    ours = f"""
        import app
        response = app.lambda_handler({event!r}, Context())
        assert response["statusCode"] == 200 and '"tools"' in response["body"], response
    """
    bare = f"""
        from mangum import Mangum
        from mcp.server.mcpserver import MCPServer
        from mcp.server.transport_security import TransportSecuritySettings

        mcp = MCPServer("bare")

        @mcp.tool()
        def noop() -> str:
            return "ok"

        def handler(event, context):
            app = mcp.streamable_http_app(
                stateless_http=True,
                json_response=True,
                transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
            )
            return Mangum(app, lifespan="auto")(event, context)

        response = handler({event!r}, Context())
        assert response["statusCode"] == 200 and '"tools"' in response["body"], response
    """
    # The same request where the function verifies bearer tokens itself (JWT_ISSUER set, as the template's default
    # AuthMode=jwt deploys it): PyJWT is loaded at init then. This event's caller is API Gateway-verified, so no
    # token is checked; the difference is the verifier's import.
    verifying = {**env, "JWT_ISSUER": "https://issuer.example", "JWT_AUDIENCE": "longhaul"}
    times: dict[str, list[float]] = {"ours": [], "bare": [], "verifying": []}
    for _ in range(runs):  # interleaved: the machine's load drifts alike for each
        times["ours"].append(float(run_child(where, env, "", ours)["ms"]))
        times["bare"].append(float(run_child(where, env, "", bare)["ms"]))
        times["verifying"].append(float(run_child(where, verifying, "", ours)["ms"]))
    mine, anchor, verifier = (statistics.median(times[side]) for side in ("ours", "bare", "verifying"))
    note = f"median of {runs} fresh interpreters each, interleaved; {where.label}"
    return [
        Figure(
            area="cold start",
            name="endpoint cold start (import + one tools/list)",
            value=mine / anchor,
            unit="x",
            target="<= 1.10x",
            met=mine / anchor <= 1.10,
            anchor=f"bare MCPServer + Mangum, one no-op tool: {anchor:.0f} ms (endpoint {mine:.0f} ms)",
            note=note + "; the caller verified by API Gateway (no JWT_ISSUER: the function loads no token verifier)",
        ),
        Figure(
            area="cold start",
            name="endpoint cold start where the function verifies bearer tokens (JWT_ISSUER set)",
            value=verifier / anchor,
            unit="x",
            anchor=f"bare MCPServer + Mangum, one no-op tool: {anchor:.0f} ms (endpoint {verifier:.0f} ms)",
            note=note + "; PyJWT and cryptography loaded at init (see the PyJWT import figure)",
        ),
    ]


# The runtime's snapshot_restore_py, as far as a function sees it: hooks registered at import, run by the runtime.
SNAPSHOT_RESTORE_STANDIN = """
    import types
    _before, _after = [], []
    _hooks = types.ModuleType("snapshot_restore_py")
    _hooks.register_before_snapshot = lambda f, *a, **k: (_before.append((f, a, k)), f)[1]
    _hooks.register_after_restore = lambda f, *a, **k: (_after.append((f, a, k)), f)[1]
    sys.modules["snapshot_restore_py"] = _hooks
"""


def snapstart_first_call(aws: LocalAws, warm_calls: int, hooks: bool) -> tuple[float, float]:
    """(first call ms, median warm ms) in one interpreter: init, [before-snapshot hooks], "restore", calls."""
    where = layout("LonghaulLayer", "McpEndpointFunction")
    event = endpoint_event("http_api_get_task_status")
    run_hooks = "for f, a, k in reversed(_before): f(*a, **k)\nfor f, a, k in _after: f(*a, **k)" if hooks else ""
    setup = textwrap.dedent(SNAPSHOT_RESTORE_STANDIN) + "\nimport app\n" + run_hooks
    timed = f"""
        import copy, statistics

        def call():
            start = time.process_time()
            response = app.lambda_handler(copy.deepcopy({event!r}), Context())
            assert response["statusCode"] == 200 and "working" in response["body"], response
            return (time.process_time() - start) * 1000

        out["first"] = call()
        out["warm"] = statistics.median(call() for _ in range({warm_calls}))
    """
    result = run_child(where, aws.environment(), setup, timed)
    return float(result["first"]), float(result["warm"])


def snapstart(aws: LocalAws, runs: int) -> Figure:
    aws.put_task(STATUS_TASK)
    where = layout("LonghaulLayer", "McpEndpointFunction")
    primed = [snapstart_first_call(aws, 30, hooks=True) for _ in range(runs)]
    lazy = [snapstart_first_call(aws, 30, hooks=False) for _ in range(max(1, runs // 2))]
    first, warm = statistics.median(p[0] for p in primed), statistics.median(p[1] for p in primed)
    lazy_first = statistics.median(p[0] for p in lazy)
    return Figure(
        area="cold start",
        name="first get_task_status after a SnapStart restore",
        value=first / warm,
        unit="x",
        target="<= 1.5x",
        met=first / warm <= 1.5,
        anchor=f"warm get_task_status: {warm:.1f} ms (first {first:.1f} ms; without the hooks {lazy_first:.1f} ms)",
        note=f"init + before-snapshot hooks in one interpreter, then the calls; median of {runs}; {where.label}; "
        "loopback moto: a new TLS connection on AWS is not in this figure",
    )


def bearer_tokens(aws: LocalAws, runs: int) -> list[Figure]:
    """What verifying bearer tokens in the function costs (endpoint/tokens.py; README: why not a Lambda authorizer)."""
    import time

    import jwt
    from cryptography.hazmat.primitives.asymmetric import rsa

    where = layout("LonghaulLayer", "McpEndpointFunction")
    imports = [
        float(run_child(where, aws.environment(), "import mcp.server.mcpserver", "import jwt")["ms"])
        for _ in range(runs)
    ]
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": "https://issuer.example", "sub": "alice", "aud": "longhaul", "exp": int(time.time()) + 600}
    token = jwt.encode(claims, key, algorithm="RS256")
    checks = []
    for _ in range(runs * 40):
        start = time.perf_counter()
        jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="longhaul", issuer="https://issuer.example")
        checks.append((time.perf_counter() - start) * 1000)
    return [
        Figure(
            area="cold start",
            name="PyJWT import after the MCP SDK (endpoint cold start)",
            value=statistics.median(imports),
            unit="ms",
            note=f"median of {runs} fresh interpreters; {where.label}",
        ),
        Figure(
            area="warm path",
            name="RS256 bearer token check per warm request",
            value=statistics.median(checks),
            unit="ms",
            note=f"median of {runs * 40}, in this process",
        ),
    ]


def size_figures() -> list[Figure]:
    figures = []
    for layer, target in (("WorkerLayer", 10.0), ("LonghaulLayer", None)):
        mb = zipped_mb(layer)
        if mb is None:  # counted as not met: a report without the built layers has not measured them
            figures.append(
                Figure(
                    area="size",
                    name=f"{layer} zipped",
                    value=0.0,
                    unit="MB",
                    target=f"<= {target:g} MB" if target else "",
                    met=False if target else None,
                    note="NOT BUILT: run make build, then measure again",
                )
            )
            continue
        figures.append(
            Figure(
                area="size",
                name=f"{layer} zipped ({'the workflow functions' if target else 'the MCP endpoint'})",
                value=mb,
                unit="MB",
                target=f"<= {target:g} MB" if target else "",
                met=(mb <= target) if target else None,
                anchor="one layer for every function before: 33.2 MB zipped",
                note="python/ deflated as sam package uploads it, from .aws-sam/build",
            )
        )
    return figures


ALL = ("worker", "endpoint", "snapstart", "tokens", "size")


def measure(quick: bool, only: tuple[str, ...] = ALL) -> list[Figure]:
    # 25 interpreters a side: with 15, the same code's ratios moved by +-0.05x between runs of make bench (the
    # Powertools floor read 0.98x in one and 1.11x in the next), as much as the margins the targets leave.
    runs = 5 if quick else 25
    figures = size_figures() if "size" in only else []
    aws = LocalAws()
    try:
        steps = {
            "worker": lambda: worker_cold(aws, runs),
            "endpoint": lambda: endpoint_cold(aws, runs),
            "snapstart": lambda: [snapstart(aws, 3 if quick else 7)],
            "tokens": lambda: bearer_tokens(aws, runs),
        }
        return [figure for name, step in steps.items() if name in only for figure in step()] + figures
    finally:
        aws.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--only", default=",".join(ALL), help="comma-separated, from: " + ", ".join(ALL))
    args = parser.parse_args()
    for figure in measure(args.quick, tuple(args.only.split(","))):
        met = "" if figure.met is None else (" met" if figure.met else " NOT MET")
        print(f"{figure.name}: {figure.formatted_value()} {figure.target}{met} | {figure.anchor} | {figure.note}")


if __name__ == "__main__":
    main()

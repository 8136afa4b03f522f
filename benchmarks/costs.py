"""What one task costs: counted on real runs on the local stack, checked against the cost formula, priced.

    .venv/bin/python -m benchmarks.costs [--quick]

Each task is started, polled and read through the MCP endpoint's Lambda handler (API Gateway HTTP API events),
runs in the real Step Functions definition on moto with the real RunStep and WriteResult handlers, and names a
session_id (so its outcome is delivered to AgentCore Memory). ``longhaul_dev.metering.Meter`` counts every AWS
call by the function that made it, DynamoDB capacity units from item sizes and the template's keys-only indexes,
and each handler's duration; the execution history gives the state transitions. The formula below must give the
same counts as the run, or the bench fails.
"""

from __future__ import annotations

import argparse
import copy
import itertools
import json
import math
import os
import statistics
import time
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from benchmarks.figures import Figure
from benchmarks.prices import PRICES, PRICES_DATE, REGION

ROOT = Path(__file__).resolve().parents[1]
ENDPOINT = "McpEndpointFunction"
SESSION = "bench-session"
WAIT_TARGET_PER_MINUTE = 20.0  # one read per 3 s


@dataclass(frozen=True)
class Scenario:
    name: str
    steps: int
    sleeps: int
    duration_s: int  # how long the task is taken to run for pricing the client's polls
    story: str


def scenarios(quick: bool) -> list[Scenario]:
    sleeps = 3 if quick else 12
    return [
        Scenario("K=1", 1, 0, 60, "1 step; the task runs 1 minute"),
        Scenario("K=5", 5, 0, 300, "5 steps of 1 minute"),
        Scenario("K=20", 20, 0, 1200, "20 steps of 1 minute"),
        Scenario(
            f"Sleep-heavy (S={sleeps})",
            sleeps + 1,
            sleeps,
            sleeps * 300,
            f"an external job checked every 5 minutes for {sleeps * 5} minutes: {sleeps + 1} steps, {sleeps} Sleeps",
        ),
    ]


# ------------------------------------------------------------------------------------------- the cost model


@dataclass(frozen=True)
class Counts:
    """Billable calls of one task."""

    transitions: int = 0
    run_step: int = 0  # RunStepFunction invocations
    write_result: int = 0  # WriteResultFunction invocations
    endpoint: int = 0  # MCP requests = HTTP API requests = McpEndpointFunction invocations
    put_item: int = 0
    update_item: int = 0
    get_item: int = 0
    query: int = 0
    wru: float = 0
    rru: float = 0
    memory_events: int = 0
    s3_put: int = 0
    s3_get: int = 0
    sfn_api: int = 0  # Step Functions API calls: StartExecution (not billed per call; counted so a new one shows)

    def differences(self, other: Counts) -> dict[str, tuple[float, float]]:
        return {
            f.name: (getattr(self, f.name), getattr(other, f.name))
            for f in fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        }


def formula(steps: int, sleeps: int = 0, polls: int = 0, memory: bool = True) -> Counts:
    """Counts for a task of ``steps`` steps with ``sleeps`` Sleeps, polled ``polls`` times by its client (one start
    request, ``polls`` get_task_status, one get_task_result), whose record stays under 1 KB and result under 64 KiB
    (inline: no S3), delivered to memory when ``memory``.

    - transitions: RunStep + HasMoreWork per step, one Wait per Sleep, DeliverOutcome: 2K + 1 + S.
    - DynamoDB writes: the start's put (item + 3 index entries: 4 WRU), mark started (1), a checkpoint per step but
      the last (1 each: no index key changes), the completing write (item + by_owner_status delete and put + the
      active entry's delete: 4), the memory outcome (1): K + 8 WRU, K + 9 with memory.
    - DynamoDB reads: the start counts the caller's active tasks (2 keys-only Queries, eventually consistent: 0.5
      RRU each); each status poll and the result read one item, strongly consistent (1 RRU); WriteResult reads
      the record (1).
    """
    m = int(memory)
    return Counts(
        transitions=2 * steps + 1 + sleeps,
        run_step=steps,
        write_result=1,
        endpoint=1 + polls + 1,
        put_item=1,
        update_item=steps + 1 + m,
        get_item=polls + 1 + 1,
        query=2,
        wru=4 + 1 + (steps - 1) + 4 + m,
        rru=2 * 0.5 + (polls + 1) + 1,
        memory_events=m,
        sfn_api=1,
    )


@dataclass
class LambdaTime:
    """Measured handler durations (ms, rounded up to the millisecond as Lambda bills) and memory (MB)."""

    memory_mb: dict[str, int]
    run_step_ms: list[int] = field(default_factory=list)
    write_result_ms: list[int] = field(default_factory=list)
    start_ms: int = 0
    poll_ms: list[int] = field(default_factory=list)
    result_ms: int = 0

    def gb_seconds(self, polls: int) -> dict[str, float]:
        poll = statistics.median(self.poll_ms) if self.poll_ms else 0
        gb = {name: mb / 1024 for name, mb in self.memory_mb.items()}
        return {
            "RunStepFunction": gb["RunStepFunction"] * sum(self.run_step_ms) / 1000,
            "WriteResultFunction": gb["WriteResultFunction"] * sum(self.write_result_ms) / 1000,
            ENDPOINT: gb[ENDPOINT] * (self.start_ms + polls * poll + self.result_ms) / 1000,
        }


def dollars(counts: Counts, gb_seconds: float) -> dict[str, float]:
    """The cost of one task by line item, at benchmarks/prices.py."""
    p = PRICES
    return {
        "Step Functions transitions": p["transition"].cost(counts.transitions),
        "Lambda requests": p["lambda_request"].cost(counts.run_step + counts.write_result + counts.endpoint),
        "Lambda GB-s": p["lambda_gb_second"].cost(gb_seconds),
        "HTTP API requests": p["api_request"].cost(counts.endpoint),
        "DynamoDB writes": p["wru"].cost(counts.wru),
        "DynamoDB reads": p["rru"].cost(counts.rru),
        "AgentCore Memory events": p["memory_event"].cost(counts.memory_events),
        "S3 requests": p["s3_put"].cost(counts.s3_put) + p["s3_get"].cost(counts.s3_get),
    }


@dataclass
class Run:
    scenario: Scenario
    polls_in_run: int
    counted: Counts
    expected: Counts
    lambda_time: LambdaTime
    poll_interval_s: int
    record_bytes: int  # the record's largest size during the run
    states: dict[str, int]

    @property
    def stated_polls(self) -> int:
        return math.ceil(self.scenario.duration_s / self.poll_interval_s)

    def priced(self, with_polls: bool) -> tuple[Counts, float, dict[str, float]]:
        polls = self.stated_polls if with_polls else 0
        counts = formula(self.scenario.steps, self.scenario.sleeps, polls)
        gb_s = sum(self.lambda_time.gb_seconds(polls).values())
        return counts, gb_s, dollars(counts, gb_s)


# ------------------------------------------------------------------------------------------- running tasks


class Bench:
    """The local stack with metered handlers, an MCP client over the endpoint's Lambda handler."""

    def __init__(self) -> None:
        from longhaul import kinds, runtime
        from longhaul.endpoint.server import mcp, start_tool
        from longhaul_dev import moto_lambda
        from longhaul_dev.metering import Meter, counted_kind, quiet_client
        from longhaul_dev.stack import apply_environment, create_local_stack
        from longhaul_dev.template import function_specs, load_template

        moto_lambda.install()
        self.stack = create_local_stack("longhaul-bench")
        apply_environment(self.stack)
        kind = counted_kind()
        kinds.register(kind)
        # MCPServer takes prebuilt tools only at construction (as longhaul_dev.conformance does for its kinds).
        mcp._tool_manager._tools[kind.name] = start_tool(kind)
        self.meter = Meter(self.stack.table_name)
        self.specs = function_specs(load_template())
        for logical_id, name in self.stack.functions.items():
            spec = self.specs[logical_id]
            moto_lambda.register(
                name, self.meter.timed(logical_id, moto_lambda.load_handler(spec.code_dir, spec.handler))
            )
        endpoint = self.specs[ENDPOINT]
        self.endpoint = self.meter.timed(ENDPOINT, moto_lambda.load_handler(endpoint.code_dir, endpoint.handler))
        self.event = json.loads((ROOT / "events" / "mcp_endpoint" / "http_api_get_task_status.json").read_text())
        self.sfn = quiet_client("stepfunctions")
        self.dynamodb = quiet_client("dynamodb")
        self._runtime = runtime
        self._ids = 0

    def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        from longhaul_dev.moto_lambda import LocalLambdaContext

        self._ids += 1
        event = copy.deepcopy(self.event)
        request = {"jsonrpc": "2.0", "id": self._ids, "method": "tools/call"}
        event["body"] = json.dumps({**request, "params": {"name": tool, "arguments": arguments}})
        context = LocalLambdaContext(ENDPOINT, 29, self.specs[ENDPOINT].memory_size)
        response = self.endpoint(event, context)
        result = json.loads(response["body"])["result"]
        if result.get("isError"):
            raise RuntimeError(f"{tool}: {result['content'][0]['text']}")
        return dict(result["structuredContent"])

    def execution_ended(self, arn: str, timeout: float = 120) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while self.sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            if time.monotonic() > deadline:
                raise TimeoutError(f"{arn} still running after {timeout} s")
            time.sleep(0.05)
        events: list[dict[str, Any]] = []
        pages = self.sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
        for page in pages:
            events.extend(page["events"])
        return events

    def run(self, scenario: Scenario) -> Run:
        from longhaul_dev.metering import state_transitions, states_entered

        meter = self.meter
        meter.reset()
        handle = self.call("counted", {"steps": scenario.steps, "sleeps": scenario.sleeps, "session_id": SESSION})
        start_ms = math.ceil(meter.lambda_seconds(ENDPOINT)[-1] * 1000)
        polls: list[int] = []
        while True:
            status = self.call("get_task_status", {"task_id": handle["task_id"]})
            polls.append(math.ceil(meter.lambda_seconds(ENDPOINT)[-1] * 1000))
            if status["status"] != "working":
                break
            time.sleep(0.2)
        history = self.execution_ended(self._execution_arn(handle["task_id"]))
        result = self.call("get_task_result", {"task_id": handle["task_id"]})
        if result.get("result") != {"steps": scenario.steps}:
            raise RuntimeError(f"{scenario.name}: unexpected result {result}")
        result_ms = math.ceil(meter.lambda_seconds(ENDPOINT)[-1] * 1000)

        counted = Counts(
            transitions=state_transitions(history),
            run_step=len(meter.lambda_seconds("RunStepFunction")),
            write_result=len(meter.lambda_seconds("WriteResultFunction")),
            endpoint=len(meter.lambda_seconds(ENDPOINT)),
            put_item=meter.count("dynamodb.PutItem"),
            update_item=meter.count("dynamodb.UpdateItem"),
            get_item=meter.count("dynamodb.GetItem"),
            query=meter.count("dynamodb.Query"),
            wru=meter.wru(),
            rru=meter.rru(),
            memory_events=meter.count("bedrock-agentcore.CreateEvent"),
            s3_put=meter.count("s3.PutObject"),
            s3_get=meter.count("s3.GetObject"),
            sfn_api=sum(n for (_, operation), n in meter.calls.items() if operation.startswith("sfn.")),
        )
        memory = {name: spec.memory_size for name, spec in self.specs.items()}
        lambda_time = LambdaTime(
            memory_mb=memory,
            run_step_ms=[math.ceil(s * 1000) for s in meter.lambda_seconds("RunStepFunction")],
            write_result_ms=[math.ceil(s * 1000) for s in meter.lambda_seconds("WriteResultFunction")],
            start_ms=start_ms,
            poll_ms=polls,
            result_ms=result_ms,
        )
        return Run(
            scenario=scenario,
            polls_in_run=len(polls),
            counted=counted,
            expected=formula(scenario.steps, scenario.sleeps, len(polls)),
            lambda_time=lambda_time,
            poll_interval_s=int(handle["poll_interval_seconds"]),
            record_bytes=max(max(w.size_before, w.size_after) for w in meter.writes),
            states=dict(states_entered(history)),
        )

    def wait_reads(self, timeout_s: float | None) -> tuple[int, float, list[float]]:
        """GetItem calls and seconds of one real wait_for_task on a task that outlasts it; the gaps between reads."""
        wait = (timeout_s or 25) + 5
        handle = self.call("counted", {"steps": 2, "sleeps": 1, "sleep_seconds": int(wait)})
        arguments: dict[str, Any] = {"task_id": handle["task_id"]}
        if timeout_s is not None:
            arguments["timeout_s"] = timeout_s
        self.meter.reset()
        started = time.monotonic()
        status = self.call("wait_for_task", arguments)
        elapsed = time.monotonic() - started
        count = self.meter.count("dynamodb.GetItem", ENDPOINT)
        reads = [t for t, who, op in self.meter.timeline if (who, op) == (ENDPOINT, "dynamodb.GetItem")]
        if status["status"] != "working":
            raise RuntimeError(f"the task ended during the wait ({status['status']}): the wait measured nothing")
        self.call("cancel_task", {"task_id": handle["task_id"]})
        self.execution_ended(self._execution_arn(handle["task_id"]), timeout=wait + 30)
        return count, elapsed, [b - a for a, b in itertools.pairwise(reads)]

    def _execution_arn(self, task_id: str) -> str:
        """Read by the harness, uncounted: not a call the task makes."""
        item = self.dynamodb.get_item(TableName=self.stack.table_name, Key={"task_id": {"S": task_id}})["Item"]
        return str(item["execution_arn"]["S"])


# ------------------------------------------------------------------------------------------- measure + report

_report: list[str] = []


def measure(quick: bool) -> list[Figure]:
    os.environ.update(
        {
            "POWERTOOLS_TRACE_DISABLED": "1",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_METRICS_DISABLED": "1",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
        }
    )
    os.environ.pop("AWS_PROFILE", None)
    warnings.filterwarnings("ignore")
    from moto import mock_aws

    from longhaul_dev import moto_lambda
    from longhaul_dev.stack import MOTO_CONFIG

    with mock_aws(config=MOTO_CONFIG):
        bench = Bench()
        try:
            with bench.meter.installed():
                bench._runtime.reset()  # the handlers' clients are built from here on, metered
                bench.run(Scenario("warm-up", 1, 0, 60, "not reported"))  # handlers' first-use setup, not a task's
                runs = [bench.run(s) for s in scenarios(quick)]
                wait = bench.wait_reads(9 if quick else None)
        finally:
            moto_lambda.uninstall()
    _report[:] = [report(runs, wait, quick)]
    return figures(runs, wait)


def figures(runs: list[Run], wait: tuple[int, float, list[float]]) -> list[Figure]:
    out: list[Figure] = []
    for run in runs:
        s = run.scenario
        bound = 2 * s.steps + 1
        if s.sleeps == 0:
            out.append(
                Figure(
                    "cost",
                    f"state transitions per {s.steps}-step task",
                    run.counted.transitions,
                    "count",
                    target=f"<= 2K+1 = {bound}",
                    met=run.counted.transitions <= bound,
                    anchor="execution history of a real run",
                    note="a chatty K-step kind (100 progress reports a step) on the real ASL",
                )
            )
    by_steps = {r.scenario.steps: r for r in runs if r.scenario.sleeps == 0}
    low, high = min(by_steps), max(by_steps)
    per_step = (by_steps[high].counted.wru - by_steps[low].counted.wru) / (high - low)
    out.append(
        Figure(
            "cost",
            "DynamoDB WRU per step, indexes included",
            per_step,
            "count",
            target="<= 2",
            met=per_step <= 2,
            anchor=f"(WRU at K={high} - WRU at K={low}) / {high - low}; "
            f"{by_steps[low].counted.wru:g} WRU for a whole K={low} task",
            note="item sizes x keys-only indexes, counted per write",
        )
    )
    mismatches = sum(len(r.counted.differences(r.expected)) for r in runs)
    out.append(
        Figure(
            "cost",
            "cost formula vs counted calls (every scenario, every line item)",
            mismatches,
            "count",
            target="0 differences",
            met=mismatches == 0,
            anchor=f"{len(runs)} runs x {len(fields(Counts))} counts",
            note="formula and counts side by side below",
        )
    )
    for run in runs:
        _, _, with_polls = run.priced(with_polls=True)
        out.append(
            Figure(
                "cost",
                f"$ per 1,000 tasks, {run.scenario.name}, polled every {run.poll_interval_s} s",
                1000 * sum(with_polls.values()),
                "$",
                anchor=f"without client polls ${1000 * sum(run.priced(with_polls=False)[2].values()):.2f}",
                note=f"{run.scenario.story}; {run.stated_polls} polls; {REGION} list prices of {PRICES_DATE}",
            )
        )
    reads, seconds, gaps = wait
    poll_ms = statistics.median(ms for r in runs for ms in r.lambda_time.poll_ms)
    memory_mb = runs[0].lambda_time.memory_mb[ENDPOINT]
    per_poll = _one_request(poll_ms / 1000, 1, memory_mb)
    per_wait = _one_request(seconds, reads, memory_mb)
    out.append(
        Figure(
            "warm path",
            "one wait_for_task costs as many get_task_status polls as",
            round(per_wait / per_poll),
            "count",
            anchor=f"a {seconds:.0f} s wait ${per_wait * 1e6:.2f} vs a poll ${per_poll * 1e6:.2f} per million",
            note=f"the endpoint's Lambda ({memory_mb} MB) held for the wait, its request and reads, at list prices",
        )
    )
    per_minute = round(wait_rate(reads, seconds), 1)
    out.append(
        Figure(
            "warm path",
            "wait_for_task reads per minute of waiting",
            per_minute,
            "count",
            target=f"<= {WAIT_TARGET_PER_MINUTE:g} (1 read per 3 s)",
            met=per_minute <= WAIT_TARGET_PER_MINUTE,
            anchor=f"{reads} GetItem in one {seconds:.1f} s wait: the call's own read (a status poll's) + "
            f"{reads - 1} while waiting; gaps {', '.join(f'{g:.1f}' for g in gaps)} s",
            note="a real wait on a task that outlasts it, counted at the boto3 call",
        )
    )
    return out


def _one_request(seconds: float, reads: int, memory_mb: int) -> float:
    """$ of one MCP request to the endpoint lasting ``seconds`` and reading ``reads`` items."""
    p = PRICES
    gb_s = memory_mb / 1024 * math.ceil(seconds * 1000) / 1000
    return (
        p["api_request"].cost(1) + p["lambda_request"].cost(1) + p["lambda_gb_second"].cost(gb_s) + p["rru"].cost(reads)
    )


def wait_rate(reads: int, seconds: float) -> float:
    """Reads per minute a wait adds: the first read is the one any status call makes."""
    return (reads - 1) / seconds * 60


def _money(value: float) -> str:
    return f"${value:.4f}" if value < 1 else f"${value:.2f}"


def report(runs: list[Run], wait: tuple[int, float, list[float]], quick: bool) -> str:
    """Markdown: the formula, the counted runs beside it, and $ per 1,000 tasks by line item."""
    lines = [
        "### Cost per task",
        "",
        "For a task of K steps with S Sleeps, polled P times by its client (a start request, P `get_task_status`, one "
        "`get_task_result`), whose outcome is delivered to AgentCore Memory, with its record under 1 KB and result "
        "under 64 KiB (stored inline):",
        "",
        "| line item | formula per task | price |",
        "| --- | --- | --- |",
        f"| Step Functions state transitions | 2K + 1 + S | {_price('transition')} |",
        f"| Lambda requests | K (RunStep) + 1 (WriteResult) + P + 2 (endpoint) | {_price('lambda_request')} |",
        "| Lambda GB-s | 1 GB x RunStep time + 0.5 GB x WriteResult time + 1 GB x endpoint time "
        f"| {_price('lambda_gb_second')} |",
        f"| HTTP API requests | P + 2 | {_price('api_request')} |",
        "| DynamoDB writes | 1 PutItem + (K + 2) UpdateItem = K + 9 WRU: start 4 (item + 3 index entries), started 1, "
        "K - 1 checkpoints 1 each, completion 4 (item + the status index's delete and put + the active index's "
        f"delete), memory outcome 1 | {_price('wru')} |",
        "| DynamoDB reads | 2 keys-only Queries at start (0.5 RRU each) + P + 1 GetItem (strongly consistent, 1 RRU) + "
        f"1 GetItem by WriteResult = P + 3 RRU | {_price('rru')} |",
        f"| AgentCore Memory events | 1 (0 without a session_id) | {_price('memory_event')} |",
        f"| S3 requests | 0 (1 PUT, and 1 GET per read, for a result over 64 KiB) | {_price('s3_put')} |",
        "",
        "Lambda time is **measured**: each handler's duration in this run, in-process on moto on this machine, "
        "rounded up to the millisecond as Lambda bills it; memory is template.yaml's (RunStep 1024 MB, WriteResult "
        "512 MB, endpoint 1024 MB). It covers longhaul's own work only: a step's compute is your kind's (1 GB x its "
        f"seconds, {_price('lambda_gb_second')}), and cold starts (INIT, billed since August 2025) add their "
        "init time at the same rate. Not included: CloudWatch Logs and X-Ray, storage (DynamoDB, S3, memory "
        "events kept), free tiers.",
        "",
        "#### The formula against the counted run",
        "",
        "Counted per task from the run: transitions from the execution history, everything else at the boto3 call "
        "(`longhaul_dev.metering.Meter`); P is the number of polls the run's client made.",
        "",
        "| task | P | transitions | Lambda (RunStep, WriteResult, endpoint) | DynamoDB calls (Put, Update, Get, "
        "Query) | WRU | RRU | memory events | S3 | formula |",
        "| --- | ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for run in runs:
        c = run.counted
        diff = run.counted.differences(run.expected)
        verdict = "equal" if not diff else "differs: " + ", ".join(f"{k} {a} vs {b}" for k, (a, b) in diff.items())
        lines.append(
            f"| {run.scenario.name} | {run.polls_in_run} | {c.transitions} | {c.run_step}, {c.write_result}, "
            f"{c.endpoint} | {c.put_item}, {c.update_item}, {c.get_item}, {c.query} | {c.wru:g} | {c.rru:g} | "
            f"{c.memory_events} | {c.s3_put + c.s3_get} | {verdict} |"
        )
    lines += [
        "",
        f"Largest task record during the runs: {max(r.record_bytes for r in runs)} bytes (the formula assumes "
        "under 1 KB). States entered by the K=5 task: "
        + ", ".join(
            f"{name} {n}" for name, n in sorted(next(r for r in runs if r.scenario.name == "K=5").states.items())
        )
        + ". The Sleep-heavy run waits 1 s per Sleep: a Wait state is one transition however long it waits, and "
        "the client's polls are priced for the stated duration.",
        "",
        "#### $ per 1,000 tasks",
        "",
        f"{REGION} list prices of {PRICES_DATE} (benchmarks/prices.py). The client polls every poll interval for the "
        'stated duration (P = duration / interval); "no polls" is a client that only starts the task and reads '
        "its result (e.g. one told by a notification or recalling it from memory).",
        "",
    ]
    items = list(dollars(Counts(), 0))
    lines.append("| task | duration | P | " + " | ".join(items) + " | total | total, no polls |")
    lines.append("| --- | --- | ---: |" + " ---: |" * (len(items) + 2))
    for run in runs:
        _, _, cost = run.priced(with_polls=True)
        _, _, bare = run.priced(with_polls=False)
        cells = " | ".join(_money(1000 * cost[item]) for item in items)
        lines.append(
            f"| {run.scenario.name}: {run.scenario.story} | {run.scenario.duration_s // 60} min | {run.stated_polls} "
            f"| {cells} | **{_money(1000 * sum(cost.values()))}** | {_money(1000 * sum(bare.values()))} |"
        )
    medians = {
        "RunStep": statistics.median(ms for r in runs for ms in r.lambda_time.run_step_ms),
        "WriteResult": statistics.median(ms for r in runs for ms in r.lambda_time.write_result_ms),
        "endpoint poll": statistics.median(ms for r in runs for ms in r.lambda_time.poll_ms),
        "endpoint start": statistics.median(r.lambda_time.start_ms for r in runs),
    }
    reads, seconds, gaps = wait
    lines += [
        "",
        "Measured handler durations (median ms): " + ", ".join(f"{k} {v:g}" for k, v in medians.items()) + ".",
        "",
        "#### wait_for_task",
        "",
        f"One real `wait_for_task` ({'timeout_s=9' if quick else 'default timeout_s'}) on a task that outlasted it: "
        f"{reads} GetItem in {seconds:.1f} s: the call's own read, as a status poll makes, and {reads - 1} while "
        f"waiting = {wait_rate(reads, seconds):.1f} reads per minute of waiting (target <= "
        f"{WAIT_TARGET_PER_MINUTE:g}); seconds between reads: {', '.join(f'{g:.1f}' for g in gaps)}. The endpoint "
        "Lambda (1 GB) is held for the whole wait, so a wait costs its duration in GB-s where a poll costs one "
        "short invocation.",
    ]
    return "\n".join(lines)


def _price(key: str) -> str:
    price = PRICES[key]
    usd = f"{price.usd:.10f}".rstrip("0").rstrip(".")
    return f"${usd} per {price.per:,}" if price.per > 1 else f"${usd} per {price.unit.split(',')[0]}"


def details() -> str:
    """The markdown of the last ``measure`` (benchmarks/run.py puts it in docs/performance.md)."""
    return _report[0] if _report else ""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for figure in measure(args.quick):
        print(json.dumps(asdict(figure)))
    print(details())


if __name__ == "__main__":
    main()

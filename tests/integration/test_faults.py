"""The fault matrix: every scenario ends in a correct, readable terminal state, with nothing lost and at most one
memory event per task. Faults are injected where AWS raises them (see longhaul_dev.faults); the table in
docs/reliability.md is generated from these tests (``make reliability``)."""

from __future__ import annotations

import contextlib
import json
import random
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import boto3
import pytest
from pydantic import BaseModel

from longhaul import runtime
from longhaul.errors import TaskAlreadyTerminal, TaskStartFailed, TransientStepError
from longhaul.kinds import Continue, Done, TaskKind
from longhaul.models import MemoryDelivery, TaskRecord, TaskStatus, utc_now
from longhaul_dev import moto_lambda
from longhaul_dev.stack import wait_for_execution

OWNER = "alice"
THROTTLED = {"code": "ThrottlingException", "status": 400}


class NoParams(BaseModel):
    pass


def kind(name: str, step: Any) -> TaskKind:
    return TaskKind(name=name, title=name, description=name, params_model=NoParams, step=step)


def quick_step(params: Any, cursor: Any, ctx: Any) -> Done:
    ctx.progress(0.5, "halfway")
    return Done({"answer": 42, "text": 'quotes " and \\ backslashes'})


def three_steps(params: Any, cursor: Any, ctx: Any) -> Continue | Done:
    done = (cursor or 0) + 1
    ctx.progress(done / 3, f"step {done}/3")
    return Done({"steps": done}) if done == 3 else Continue(done)


@pytest.fixture
def kinds(register_kind) -> None:
    register_kind(kind("quick", quick_step))
    register_kind(kind("three_steps", three_steps))


def start(kind_name: str, params: dict[str, Any] | None = None, **options: Any) -> TaskRecord:
    options.setdefault("session_id", f"s-{uuid.uuid4().hex[:12]}")
    return runtime.task_service().start(OWNER, kind_name, params or {}, **options)


def finish(record: TaskRecord, timeout: float = 90) -> tuple[TaskRecord, str]:
    """Wait for the execution to end; deliver its status event as EventBridge would; return the record."""
    execution = wait_for_execution(record.execution_arn, timeout=timeout)
    if execution["status"] in ("FAILED", "TIMED_OUT", "ABORTED"):
        deliver_status_event(record, execution)
    return runtime.task_service().get(OWNER, record.task_id), execution["status"]


def deliver_status_event(record: TaskRecord, execution: dict[str, Any]) -> dict[str, Any]:
    detail = {
        "name": record.execution_name,
        "executionArn": record.execution_arn,
        "status": execution["status"],
        "error": execution.get("error"),
        "cause": execution.get("cause"),
    }
    return runtime.reconciler().reconcile(detail)


def memory_texts(stack, record: TaskRecord) -> list[str]:
    events = boto3.client("bedrock-agentcore").list_events(
        memoryId=stack.memory_id, actorId=OWNER, sessionId=record.session_id, includePayloads=True
    )["events"]
    return [
        json.loads(event["payload"][1]["conversational"]["content"]["text"])["message"]["content"][0]["text"]
        for event in events
    ]


# One epoch per step, so a StopExecution lands between steps: moto reports ABORTED only once the state in flight
# returns, and a step working its whole time budget would have completed the task by then. (On AWS the execution
# ends at once and reconcile marks the record while the orphaned step runs on to its next progress write.) Its 100 s
# of work are never waited for, as every test stops it. (A stop that landed while moto built RunStep's call once
# invoked it without params, and the kind's defaults completed the task: longhaul_dev.moto_stop fix 3.)
STOPPABLE_TRAINING = {"epochs": 500, "epoch_seconds": 0.2, "checkpoint_seconds": 0}


def wait_until_started(record: TaskRecord) -> None:
    """Until the first step reported progress (stopping an execution moto has only just started can crash moto)."""
    deadline = time.monotonic() + 30
    while (progress := runtime.task_service().get(OWNER, record.task_id).progress) == 0:
        if time.monotonic() > deadline:
            raise TimeoutError(f"task {record.task_id} reported no progress in 30 s")
        time.sleep(0.05)
    # Stopping now must land mid-task: a test that stopped a finished task would prove nothing.
    assert progress < 1, f"task {record.task_id} finished before it could be stopped"


def assert_stopped(record: TaskRecord) -> None:
    """Until the stopped execution has ended, which must be as ABORTED. (Once, under two suites at a time, a stopped
    execution's task came out completed; this says whether moto let the execution run on, if that happens again.)"""
    execution = wait_for_execution(record.execution_arn)
    assert execution["status"] == "ABORTED", f"moto let the stopped execution run on: {execution['status']}"


@contextlib.contextmanager
def steps_seen(stack) -> Iterator[list[dict[str, Any]]]:
    """The events RunStep is invoked with meanwhile (what each step worked from), as the Lambda service sees them."""
    name = stack.functions["RunStepFunction"]
    handler, events = moto_lambda.registered(name), []

    def recording(event: Any, context: Any) -> Any:
        events.append({key: event.get(key) for key in ("params", "cursor", "step_count")})
        return handler(event, context)

    moto_lambda.register(name, recording)
    try:
        yield events
    finally:
        moto_lambda.register(name, handler)


def step_invocations(stack) -> list[str]:
    return [outcome for name, outcome in moto_lambda.invocations if name == stack.functions["RunStepFunction"]]


# --- the steps ---------------------------------------------------------------------------------------


@pytest.mark.reliability(fault="the kind raises TransientStepError once", expected="step retried; completed")
def test_transient_worker_error(stack, kinds, register_kind, scenario):
    calls: list[int] = []

    def flaky(params: Any, cursor: Any, ctx: Any) -> Done:
        calls.append(1)
        if len(calls) == 1:
            raise TransientStepError("upstream throttled")
        return Done({"attempts": len(calls)})

    register_kind(kind("flaky", flaky))
    final, status = finish(start("flaky"))
    scenario.observed.append(f"{final.status.value} after {len(calls)} attempts, execution {status}")
    assert final.status == TaskStatus.COMPLETED and final.result == {"attempts": 2}


@pytest.mark.reliability(
    fault="DynamoDB throttles a progress write past botocore's retries",
    expected="step retried from its checkpoint; completed",
)
def test_transient_dynamodb_error_in_a_step(stack, kinds, aws_faults, scenario):
    aws_faults.fail(
        "dynamodb", "UpdateItem", **THROTTLED, times=1, when=lambda p: ":p" in p["ExpressionAttributeValues"]
    )
    final, status = finish(start("three_steps"))
    scenario.observed.append(f"{final.status.value}, step_count {final.step_count}, execution {status}")
    assert final.status == TaskStatus.COMPLETED and final.result == {"steps": 3} and final.step_count == 3
    assert "TransientStepError" in step_invocations(stack)


@pytest.mark.reliability(
    fault="DynamoDB answers 500 to the write that completes the task", expected="last step retried; completed once"
)
def test_transient_error_on_the_completing_write(stack, kinds, aws_faults, scenario):
    aws_faults.fail(
        "dynamodb",
        "UpdateItem",
        "InternalServerError",
        status=500,
        times=1,
        when=lambda p: ":result" in p["ExpressionAttributeValues"],
    )
    record = start("quick")
    final, _ = finish(record)
    scenario.observed.append(f"{final.status.value}, {len(memory_texts(stack, record))} memory event")
    assert final.status == TaskStatus.COMPLETED and final.result["answer"] == 42
    assert len(memory_texts(stack, record)) == 1


@pytest.mark.reliability(fault="S3 answers 503 SlowDown when a large result is stored", expected="retried; completed")
def test_transient_s3_error_storing_a_large_result(stack, register_kind, aws_faults, scenario):
    big = {"rows": [{"i": i, "text": "x" * 90} for i in range(1000)]}
    register_kind(kind("big", lambda params, cursor, ctx: Done(big)))
    aws_faults.fail("s3", "PutObject", "SlowDown", status=503, times=1)
    final, _ = finish(start("big"))
    _, result, _ = runtime.task_service().result(OWNER, final.task_id)
    scenario.observed.append(f"{final.status.value}, result of {final.result_ref.size_bytes} bytes read back whole")
    assert final.status == TaskStatus.COMPLETED and result == big


@pytest.mark.reliability(fault="the step's Lambda process dies (Runtime.ExitError)", expected="retried; completed")
def test_worker_crash(stack, kinds, scenario):
    moto_lambda.faults.fail(stack.functions["RunStepFunction"], "Runtime.ExitError", times=1)
    final, status = finish(start("three_steps"))
    scenario.observed.append(f"{final.status.value}, execution {status}")
    assert final.status == TaskStatus.COMPLETED and "Runtime.ExitError" in step_invocations(stack)


@pytest.mark.reliability(
    fault="one step runs past its Lambda timeout (Sandbox.Timedout)", expected="retried; completed"
)
def test_step_timeout(stack, kinds, scenario):
    moto_lambda.faults.fail(stack.functions["RunStepFunction"], "Sandbox.Timedout", times=1)
    final, _ = finish(start("three_steps"))
    scenario.observed.append(final.status.value)
    assert final.status == TaskStatus.COMPLETED


@pytest.mark.reliability(
    fault="a step times out on every attempt", expected="failed with Sandbox.Timedout after 3 attempts; delivered"
)
def test_step_that_always_times_out(stack, kinds, scenario):
    moto_lambda.faults.fail(stack.functions["RunStepFunction"], "Sandbox.Timedout", times=3)
    record = start("three_steps")
    final, status = finish(record)
    scenario.observed.append(f"{final.status.value} ({final.error_type}), execution {status}")
    assert (final.status, final.error_type) == (TaskStatus.FAILED, "Sandbox.Timedout")
    assert step_invocations(stack).count("Sandbox.Timedout") == 3
    assert final.memory_delivery == MemoryDelivery.DELIVERED and "failed" in memory_texts(stack, record)[0]


@pytest.mark.reliability(
    fault="the kind raises ValueError", expected="failed at once with type and message; the agent learns why"
)
def test_permanent_error(stack, register_kind, scenario):
    def broken(params: Any, cursor: Any, ctx: Any) -> Done:
        raise ValueError("column 'price' has no numbers")

    register_kind(kind("broken", broken))
    record = start("broken")
    final, _ = finish(record)
    texts = memory_texts(stack, record)
    scenario.observed.append(f"{final.status.value}: {final.error_type}: {final.error_message}; memory: {len(texts)}")
    assert (final.status, final.error_type) == (TaskStatus.FAILED, "ValueError")
    assert final.error_message == "column 'price' has no numbers"
    assert len(texts) == 1 and "ValueError: column 'price' has no numbers" in texts[0]


@pytest.mark.reliability(
    fault="the step limit (MAX_STEPS_PER_TASK=2) is reached", expected="failed StepLimitExceeded; nothing half-done"
)
def test_step_limit(stack, kinds, monkeypatch, scenario):
    monkeypatch.setenv("MAX_STEPS_PER_TASK", "2")
    runtime.reset()
    final, _ = finish(start("three_steps"))
    scenario.observed.append(f"{final.status.value} ({final.error_type}) after {final.step_count} steps")
    assert (final.status, final.error_type, final.step_count) == (TaskStatus.FAILED, "StepLimitExceeded", 2)


# --- memory delivery ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"), [("ThrottledException", 429), ("ServiceException", 500)], ids=["throttled", "5xx"]
)
@pytest.mark.reliability(
    fault="AgentCore CreateEvent fails twice past botocore's retries",
    expected="completed first; delivery retried by the workflow; one event",
)
def test_memory_unavailable_for_a_while(stack, kinds, aws_faults, scenario, code, status):
    aws_faults.fail("bedrock-agentcore", "CreateEvent", code, status=status, times=2)
    record = start("quick")
    final, execution = finish(record)
    texts = memory_texts(stack, record)
    scenario.observed.append(f"{code}: {final.status.value}, memory {final.memory_delivery}, {len(texts)} event")
    assert final.status == TaskStatus.COMPLETED and final.result["answer"] == 42 and execution == "SUCCEEDED"
    assert final.memory_delivery == MemoryDelivery.DELIVERED and len(texts) == 1


@pytest.mark.parametrize(
    ("code", "status"),
    [("ValidationException", 400), ("ResourceNotFoundException", 404), ("AccessDeniedException", 403)],
    ids=["rejected-payload", "memory-deleted", "access-denied"],
)
@pytest.mark.reliability(
    fault="AgentCore refuses the event for good",
    expected="completed with its result; memory_delivery failed with the reason; no retry storm",
)
def test_memory_refuses_the_event(stack, kinds, aws_faults, scenario, code, status):
    aws_faults.fail("bedrock-agentcore", "CreateEvent", code, status=status)
    record = start("quick")
    final, execution = finish(record)
    scenario.observed.append(f"{code}: {final.status.value}, memory {final.memory_delivery}: {final.memory_error}")
    assert final.status == TaskStatus.COMPLETED and final.result["answer"] == 42 and execution == "SUCCEEDED"
    assert final.memory_delivery == MemoryDelivery.FAILED and code in (final.memory_error or "")
    assert aws_faults.injected[f"bedrock-agentcore.CreateEvent:{code}"] == 1
    assert memory_texts(stack, record) == []


@pytest.mark.reliability(
    fault="AgentCore answers an error longhaul does not know (ServiceQuotaExceededException)",
    expected="completed; the workflow's Catch records the failed delivery",
)
def test_memory_answers_an_unknown_error(stack, kinds, aws_faults, scenario):
    aws_faults.fail("bedrock-agentcore", "CreateEvent", "ServiceQuotaExceededException", status=402)
    final, execution = finish(start("quick"))
    scenario.observed.append(f"{final.status.value}, memory {final.memory_delivery}, execution {execution}")
    assert final.status == TaskStatus.COMPLETED and execution == "SUCCEEDED"
    assert final.memory_delivery == MemoryDelivery.FAILED and "ServiceQuotaExceeded" in (final.memory_error or "")


@pytest.mark.reliability(
    fault="the delivery is recorded only on a retry (DynamoDB throttles the first record write after CreateEvent)",
    expected="the retried delivery makes the same request under the same client token; one event",
)
def test_delivery_retried_after_the_event_was_created(stack, kinds, aws_faults, scenario):
    aws_faults.fail(
        "dynamodb",
        "UpdateItem",
        **THROTTLED,
        times=1,
        when=lambda p: p["UpdateExpression"].startswith("SET memory_delivery = :d"),
    )
    record = start("quick")
    final, _ = finish(record)
    calls = aws_faults.requests["bedrock-agentcore.CreateEvent"]
    scenario.observed.append(f"{len(calls)} CreateEvent calls, identical: {calls[0] == calls[-1]}")
    assert final.memory_delivery == MemoryDelivery.DELIVERED
    assert len(calls) == 2 and calls[0] == calls[1]  # byte-identical: same token, timestamp and text
    assert len(memory_texts(stack, record)) == 1


# --- cancels, stops, timeouts, races ----------------------------------------------------------------


@pytest.mark.reliability(
    fault="cancel_task while a step runs", expected="cancelled at once; execution stopped; the agent learns it"
)
def test_cancel_mid_step(stack, monkeypatch, scenario):
    # One step of 50 short epochs (the default cadence) reporting progress every 0.5 s: the cancel lands while it
    # runs, after its first progress write; moto ends the execution once that step returns.
    monkeypatch.setenv("PROGRESS_MIN_INTERVAL_SECONDS", "0.5")
    runtime.reset()
    service = runtime.task_service()
    record = start("model_training", {"epochs": 50, "epoch_seconds": 0.05})
    wait_until_started(record)
    service.cancel(OWNER, record.task_id)
    final, execution = finish(record)
    texts = memory_texts(stack, record)
    scenario.observed.append(f"{final.status.value}, execution {execution}, memory: {texts[0][:60]!r}...")
    assert final.status == TaskStatus.CANCELLED and 0 < final.progress < 1
    assert len(texts) == 1 and "was cancelled" in texts[0]


@pytest.mark.reliability(fault="an operator calls StopExecution", expected="cancelled through reconcile; delivered")
def test_manual_stop_execution(stack, scenario):
    record = start("model_training", STOPPABLE_TRAINING)
    wait_until_started(record)
    with steps_seen(stack) as events:
        boto3.client("stepfunctions").stop_execution(executionArn=record.execution_arn, error="Operator", cause="stop")
        final, execution = finish(record)
    scenario.observed.append(f"{final.status.value}, execution {execution}, memory {final.memory_delivery}")
    assert final.status == TaskStatus.CANCELLED, f"{final.status.value}; RunStep events after the stop: {events}"
    assert all(event["params"] for event in events), f"a step ran without the task's params: {events}"
    assert final.memory_delivery == MemoryDelivery.DELIVERED


@pytest.mark.reliability(
    fault="the execution times out (EventBridge: TIMED_OUT)", expected="failed States.Timeout; delivered"
)
def test_execution_timeout(stack, scenario):
    record = start("model_training", STOPPABLE_TRAINING)
    wait_until_started(record)
    boto3.client("stepfunctions").stop_execution(executionArn=record.execution_arn)
    assert_stopped(record)
    # moto cannot time an execution out; the event Step Functions sends when it does is what reconcile acts on.
    deliver_status_event(record, {"status": "TIMED_OUT", "error": "States.Timeout", "cause": "Execution timed out"})
    final = runtime.task_service().get(OWNER, record.task_id)
    scenario.observed.append(f"{final.status.value} ({final.error_type}), memory {final.memory_delivery}")
    assert (final.status, final.error_type) == (TaskStatus.FAILED, "States.Timeout")
    assert final.memory_delivery == MemoryDelivery.DELIVERED


@pytest.mark.reliability(
    fault="20 concurrent starts with one idempotency key", expected="one task, one execution, one memory event"
)
def test_concurrent_duplicate_starts(stack, kinds, scenario):
    results: list[str] = []
    errors: list[BaseException] = []

    def start_once() -> None:
        try:
            results.append(start("quick", idempotency_key="same-request", session_id="dup-session").task_id)
        except BaseException as error:  # collected for the assertion below
            errors.append(error)

    threads = [threading.Thread(target=start_once) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    record = runtime.task_service().get(OWNER, results[0])
    final, _ = finish(record)
    executions = boto3.client("stepfunctions").list_executions(stateMachineArn=stack.state_machine_arn)["executions"]
    scenario.observed.append(f"{len(set(results))} task, {len(executions)} execution, errors {len(errors)}")
    assert not errors and len(results) == 20 and len(set(results)) == 1
    assert [e["name"] for e in executions] == [record.execution_name]
    assert final.status == TaskStatus.COMPLETED and len(memory_texts(stack, final)) == 1


@pytest.mark.reliability(
    fault="cancel_task racing the task's completion, 40 times",
    expected="0 contradictions: memory never says completed for a cancelled task, or the reverse",
)
def test_cancel_racing_completion(stack, register_kind, scenario):
    def racy(params: Any, cursor: Any, ctx: Any) -> Done:
        time.sleep(0.4)  # long enough that about half the cancels land first
        return Done({"answer": 42})

    register_kind(kind("racy", racy))
    service = runtime.task_service()
    rng = random.Random(7)
    outcomes: dict[str, int] = {}

    def cancel_later(record: TaskRecord, delay: float) -> None:
        time.sleep(delay)
        with contextlib.suppress(TaskAlreadyTerminal):
            service.cancel(OWNER, record.task_id)

    records, threads = [], []
    for _ in range(40):
        records.append(start("racy"))
        threads.append(threading.Thread(target=cancel_later, args=(records[-1], rng.uniform(0, 1.2))))
        threads[-1].start()
    for thread in threads:
        thread.join()
    contradictions = []
    for record in records:
        final, _ = finish(record)
        texts = memory_texts(stack, record)
        outcomes[final.status.value] = outcomes.get(final.status.value, 0) + 1
        said = "completed" if any("completed" in t for t in texts) else "cancelled" if texts else "nothing"
        if len(texts) > 1 or said != final.status.value or (final.status == TaskStatus.CANCELLED and final.result):
            contradictions.append((final.status.value, said, len(texts)))
    scenario.observed.append(f"{outcomes}; {len(contradictions)} contradictions")
    assert contradictions == []
    assert set(outcomes) == {"completed", "cancelled"}, outcomes  # it really raced: both outcomes happened


@pytest.mark.reliability(
    fault="a late RunStep and WriteResult arrive after the task was cancelled",
    expected="refused by the record's conditions; the task stays cancelled without a result",
)
def test_late_writers_after_a_terminal_state(stack, kinds, scenario):
    service = runtime.task_service()
    record = start("model_training", {"epochs": 50, "epoch_seconds": 0.2})
    service.cancel(OWNER, record.task_id)
    finish(record)
    late_step = {"task_id": record.task_id, "owner": OWNER, "kind": "quick", "params": {}, "step_count": 1}
    answer = boto3.client("lambda").invoke(
        FunctionName=stack.functions["RunStepFunction"], Payload=json.dumps(late_step)
    )
    boto3.client("lambda").invoke(
        FunctionName=stack.functions["WriteResultFunction"], Payload=json.dumps({"task_id": record.task_id})
    )
    final = service.get(OWNER, record.task_id)
    scenario.observed.append(
        f"late step answered {json.loads(answer['Payload'].read()).get('outcome')}; record {final.status.value}"
    )
    assert final.status == TaskStatus.CANCELLED and final.result is None and final.result_ref is None
    assert len(memory_texts(stack, record)) == 1


# --- nothing stranded -----------------------------------------------------------------------------------


@pytest.mark.reliability(
    fault="StartExecution fails and so does the compensating write (the endpoint dies between PutItem and start)",
    expected="the next sweep marks the task failed (StartFailed); no work runs that nobody awaits",
)
def test_crash_between_put_and_start_execution_is_swept(stack, kinds, aws_faults, scenario):
    aws_faults.fail("sfn", "StartExecution", "ServiceUnavailable", status=503, times=1)
    aws_faults.fail(
        "dynamodb", "UpdateItem", **THROTTLED, times=1, when=lambda p: ":status" in p["ExpressionAttributeValues"]
    )
    with pytest.raises(TaskStartFailed):
        start("quick")
    stranded = runtime.task_service().list(OWNER)[0][0]
    assert stranded.status == TaskStatus.WORKING
    early = runtime.sweeper().sweep()  # within the grace period the start may still be under way
    report = runtime.sweeper().sweep(now=utc_now() + timedelta(minutes=5))
    final = runtime.task_service().get(OWNER, stranded.task_id)
    scenario.observed.append(
        f"first sweep repaired {len(early['repaired'])}; later {final.status.value} ({final.error_type})"
    )
    assert early["repaired"] == [] and report["repaired"][0]["task_id"] == stranded.task_id
    assert (final.status, final.error_type) == (TaskStatus.FAILED, "StartFailed")


@pytest.mark.reliability(
    fault="the ABORTED status event is lost (EventBridge delivery is best effort)",
    expected="the next sweep reconciles the record to cancelled and delivers it",
)
def test_lost_reconcile_event_is_swept(stack, scenario):
    record = start("model_training", STOPPABLE_TRAINING)
    healthy = start("model_training", STOPPABLE_TRAINING)
    wait_until_started(record)
    boto3.client("stepfunctions").stop_execution(executionArn=record.execution_arn)
    assert_stopped(record)  # and no event delivered
    assert runtime.task_service().get(OWNER, record.task_id).status == TaskStatus.WORKING
    report = runtime.sweeper().sweep(now=utc_now() + timedelta(minutes=5))
    final = runtime.task_service().get(OWNER, record.task_id)
    scenario.observed.append(f"{final.status.value}, memory {final.memory_delivery}; running task left alone")
    assert final.status == TaskStatus.CANCELLED and final.memory_delivery == MemoryDelivery.DELIVERED
    assert report["checked"] == 2 and [r["task_id"] for r in report["repaired"]] == [record.task_id]
    assert runtime.task_service().get(OWNER, healthy.task_id).status == TaskStatus.WORKING
    runtime.task_service().cancel(OWNER, healthy.task_id)


@pytest.mark.reliability(
    fault="an idempotency key is reused after the record expired (TTL) while Step Functions still holds the name",
    expected="a new execution runs the new task to completion",
)
def test_idempotency_key_reused_after_the_record_expired(stack, kinds, scenario):
    first = start("quick", idempotency_key="nightly")
    finish(first)
    boto3.client("dynamodb").delete_item(TableName=stack.table_name, Key={"task_id": {"S": first.task_id}})
    again = start("quick", idempotency_key="nightly")
    final, status = finish(again)
    scenario.observed.append(
        f"same task id: {again.task_id == first.task_id}; new execution {status}; {final.status.value}"
    )
    assert again.task_id == first.task_id and again.execution_name != first.execution_name
    assert final.status == TaskStatus.COMPLETED and status == "SUCCEEDED"

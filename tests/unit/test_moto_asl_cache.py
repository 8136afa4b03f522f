"""The local stack parses each state machine definition once and shares the program between executions.

moto is pinned; if an upgrade makes its parsed ASL program hold per-execution state, these tests say so.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from typing import Any

import boto3
from moto import mock_aws
from pydantic import BaseModel

from longhaul import runtime
from longhaul.errors import TransientStepError
from longhaul.kinds import Done, TaskKind
from longhaul.models import TaskStatus
from longhaul_dev import moto_asl_cache, moto_lambda, retry_waits
from longhaul_dev.stack import MOTO_CONFIG, wait_for_execution

ROLE = "arn:aws:iam::123456789012:role/r"


def echo_definition() -> dict[str, Any]:
    """Each execution's own input, reshaped through two states (a Choice reading it): nothing to share."""
    return {
        "Comment": f"unique {uuid.uuid4()}",  # a definition no other test parsed
        "StartAt": "Shape",
        "States": {
            "Shape": {"Type": "Pass", "Parameters": {"n.$": "$.n", "id.$": "$$.Execution.Name"}, "Next": "Branch"},
            "Branch": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericGreaterThanEquals": 10, "Next": "Big"}],
                "Default": "Small",
            },
            "Big": {"Type": "Pass", "Result": "big", "ResultPath": "$.size", "End": True},
            "Small": {"Type": "Pass", "Result": "small", "ResultPath": "$.size", "End": True},
        },
    }


def test_a_definition_is_parsed_once_and_concurrent_executions_each_see_only_their_own_input():
    with mock_aws(config=MOTO_CONFIG):
        moto_asl_cache.install()
        try:
            before = dict(moto_asl_cache.stats)
            sfn = boto3.client("stepfunctions", region_name="us-east-1")
            definition = json.dumps(echo_definition())
            machine = sfn.create_state_machine(name="echo", definition=definition, roleArn=ROLE)["stateMachineArn"]
            arns: dict[int, str] = {}

            def start(n: int) -> None:
                arns[n] = sfn.start_execution(stateMachineArn=machine, name=f"e{n}", input=json.dumps({"n": n}))[
                    "executionArn"
                ]

            threads = [threading.Thread(target=start, args=(n,)) for n in range(20)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            outputs = {n: json.loads(wait_for_execution(arn)["output"]) for n, arn in arns.items()}
        finally:
            moto_asl_cache.uninstall()

    assert outputs == {n: {"n": n, "id": f"e{n}", "size": "big" if n >= 10 else "small"} for n in range(20)}
    assert moto_asl_cache.stats["parsed"] - before["parsed"] == 1  # at CreateStateMachine only
    assert moto_asl_cache.stats["reused"] - before["reused"] == 20  # one per StartExecution


def test_every_component_has_its_heap_key_before_the_program_is_shared():
    from moto.stepfunctions.parser.asl.component.component import Component
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent
    from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

    moto_asl_cache.install()
    try:
        definition = echo_definition()
        definition["States"]["Big"] = {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": "f"},
            "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}],
            "End": True,
        }
        program, _ = AmazonStateLanguageParser.parse(json.dumps(definition))
    finally:
        moto_asl_cache.uninstall()

    components: list[EvalComponent] = []
    pending: list[Any] = [program]
    seen: set[int] = set()
    while pending:
        item = pending.pop()
        if id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, EvalComponent):
            components.append(item)
        if isinstance(item, Component):
            pending.extend(vars(item).values())
        elif isinstance(item, list | tuple | dict):
            pending.extend(item.values() if isinstance(item, dict) else item)
    retry_counters = [c for c in components if type(c).__name__ == "MaxAttemptsDecl"]
    assert retry_counters and len(components) > 10
    assert all(c._EvalComponent__heap_key is not None for c in components)  # type: ignore[attr-defined]


class NoParams(BaseModel):
    pass


def test_concurrent_tasks_each_retry_their_own_failed_step_once(stack, register_kind):
    # Retry keeps its attempt count in the execution's heap under the shared component's key: one execution's
    # retries must not count against another's.
    attempts: Counter[str] = Counter()
    lock = threading.Lock()

    def flaky_once(params: Any, cursor: Any, ctx: Any) -> Done:
        with lock:
            attempts[ctx.task_id] += 1
            first = attempts[ctx.task_id] == 1
        if first:
            raise TransientStepError("upstream throttled")
        return Done({"ok": True})

    register_kind(TaskKind(name="flaky_once", title="f", description="f", params_model=NoParams, step=flaky_once))
    service = runtime.task_service()
    records = [service.start(f"user{i}", "flaky_once", {}) for i in range(6)]
    statuses = [wait_for_execution(record.execution_arn)["status"] for record in records]

    assert statuses == ["SUCCEEDED"] * 6
    assert [service.get(f"user{i}", r.task_id).status for i, r in enumerate(records)] == [TaskStatus.COMPLETED] * 6
    assert sorted(attempts.values()) == [2] * 6
    assert moto_asl_cache.stats["reused"] >= 6  # the executions ran the shared program
    assert moto_lambda.invocations.count((stack.functions["RunStepFunction"], "TransientStepError")) == 6


def test_retry_waits_follow_the_scale(monkeypatch):
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    slept: list[float] = []
    monkeypatch.setattr(retry_waits.time, "sleep", slept.append)
    retry_waits.install()
    try:
        monkeypatch.setenv(retry_waits.SCALE_VARIABLE, "0.05")
        retrier_decl.time.sleep(4)
        monkeypatch.delenv(retry_waits.SCALE_VARIABLE)
        retrier_decl.time.sleep(4)  # unset: AWS's own timing
    finally:
        retry_waits.uninstall()
    assert slept == [0.2, 4.0]
    assert retrier_decl.time is retry_waits.time  # restored

"""athena_query end to end on the local stack: the real ASL executed by moto, the real handlers, Athena from moto
(made to take time, honour ClientRequestToken and fail like Athena by longhaul_dev.strict_aws).

Given the local stack's shared sample table, when a caller runs a query as a task, then the workflow sleeps while
Athena works, and the task ends with what Athena reports: rows and statistics, its failure, or - cancelled - a
query Athena says is CANCELLED.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Any

import boto3
import pytest

from longhaul import runtime
from longhaul.models import TaskRecord, TaskStatus
from longhaul.queries import results_prefix
from longhaul_dev import strict_aws
from longhaul_dev.stack import LOCAL_ATHENA_DATABASE, wait_for_execution
from tests.conftest import load_event

COLUMNS = [("city", "varchar"), ("trips", "integer")]


def athena_execution(query_id: str) -> dict[str, Any]:
    return dict(boto3.client("athena").get_query_execution(QueryExecutionId=query_id)["QueryExecution"])


def states_entered(execution_arn: str) -> list[str]:
    history = boto3.client("stepfunctions").get_execution_history(executionArn=execution_arn, maxResults=1000)
    return [e["stateEnteredEventDetails"]["name"] for e in history["events"] if "stateEnteredEventDetails" in e]


def wait_for_job(service: Any, task_id: str, timeout: float = 30.0) -> TaskRecord:
    deadline = time.monotonic() + timeout
    while (record := service.get("alice", task_id)).external_job is None:
        assert time.monotonic() < deadline, "the first step never saved its query id"
        time.sleep(0.05)
    return record


def test_a_query_runs_to_completed_with_rows_and_statistics_from_athena_sleeping_meanwhile(
    stack, aws_faults, monkeypatch
):
    monkeypatch.setattr(strict_aws, "ATHENA_RUNNING_SECONDS", 2.5)  # still running at the first poll (after 1 s)
    strict_aws.queue_athena_result([["Lisbon", "120"], ["Porto", "75"], ["Faro", None]], COLUMNS)
    service = runtime.task_service()
    record = service.start(
        "alice", "athena_query", {"sql": "SELECT city, trips FROM trips", "max_rows": 2}, session_id="s-athena"
    )

    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"
    final, result, _ = service.result("alice", record.task_id)

    assert final.status == TaskStatus.COMPLETED and final.progress == 1.0
    query = athena_execution(final.external_job or "")
    assert query["Status"]["State"] == "SUCCEEDED"
    assert query["QueryExecutionContext"] == {"Database": LOCAL_ATHENA_DATABASE}
    assert query["WorkGroup"] == stack.resolver.refs["AthenaWorkGroup"]
    assert result["query_id"] == final.external_job
    assert result["columns"] == [{"name": "city", "type": "varchar"}, {"name": "trips", "type": "integer"}]
    assert result["rows"] == [["Lisbon", "120"], ["Porto", "75"]] and result["truncated"] is True
    # The service's statistics: the local stack's sample table is read whole, as Athena reads a CSV table.
    assert result["data_scanned_bytes"] == query["Statistics"]["DataScannedInBytes"] > 0
    assert result["engine_execution_ms"] == query["Statistics"]["EngineExecutionTimeInMillis"] > 0
    assert result["output_location"].startswith(f"s3://{stack.bucket_name}/{results_prefix('alice')}")

    # Started once, then polled after Sleep: the workflow waited, no Lambda ran meanwhile.
    entered = states_entered(record.execution_arn)
    assert entered.count("WaitBeforeNextStep") == final.step_count - 1 >= 1
    starts = aws_faults.requests["athena.StartQueryExecution"]
    assert [s["ClientRequestToken"] for s in starts] == [record.execution_name]
    # K steps, K+2 table writes (as any kind: tests/integration/test_costs.py): the query id rode along with the
    # first checkpoint.
    writes = [w["UpdateExpression"] for w in aws_faults.requests["dynamodb.UpdateItem"]]
    assert len(writes) == final.step_count + 2, writes
    assert sum("external_job" in w for w in writes) == 1


def test_a_retried_first_step_finds_its_query_instead_of_starting_a_second(stack, aws_faults):
    # The checkpoint write after the start fails (an injected answer skips the client's own retries): the workflow
    # retries the whole step, which starts the query again with the same token.
    aws_faults.fail(
        "dynamodb",
        "UpdateItem",
        "ThrottlingException",
        times=1,
        when=lambda params: "external_job" in params.get("UpdateExpression", ""),
    )
    service = runtime.task_service()
    record = service.start("alice", "athena_query", {"sql": "SELECT count(*) FROM trips"})

    assert wait_for_execution(record.execution_arn)["status"] == "SUCCEEDED"
    starts = aws_faults.requests["athena.StartQueryExecution"]
    assert len(starts) == 2 and {s["ClientRequestToken"] for s in starts} == {record.execution_name}
    assert boto3.client("athena").list_query_executions()["QueryExecutionIds"] == [
        service.get("alice", record.task_id).external_job
    ]


def test_a_query_athena_fails_fails_the_task_with_athenas_reason(stack):
    service = runtime.task_service()
    record = service.start("alice", "athena_query", {"sql": "SELECT *\nFROM   no_such_table"})

    wait_for_execution(record.execution_arn)
    final = service.get("alice", record.task_id)

    assert final.status == TaskStatus.FAILED
    assert final.error_type == "QueryFailed"
    assert final.error_message == (
        f"Athena query {final.external_job} failed: TABLE_NOT_FOUND: line 2:8: "
        f"Table 'awsdatacatalog.{LOCAL_ATHENA_DATABASE}.no_such_table' does not exist"
    )
    assert athena_execution(final.external_job or "")["Status"]["State"] == "FAILED"


def test_cancel_task_stops_the_query_in_athena(stack, monkeypatch):
    monkeypatch.setattr(strict_aws, "ATHENA_RUNNING_SECONDS", 120.0)  # a long query: it is still running at cancel
    service = runtime.task_service()
    record = service.start("alice", "athena_query", {"sql": "SELECT * FROM trips"})
    query_id = wait_for_job(service, record.task_id).external_job or ""
    assert athena_execution(query_id)["Status"]["State"] in ("QUEUED", "RUNNING")

    assert service.cancel("alice", record.task_id).status == TaskStatus.CANCELLED
    execution = wait_for_execution(record.execution_arn)
    assert execution["status"] == "ABORTED"
    # EventBridge delivers "Execution Status Change" to ReconcileFunction; moto has no such rule, so deliver it.
    event = load_event("reconcile/execution_aborted.json")
    event["detail"].update(
        name=record.execution_name, executionArn=record.execution_arn, stateMachineArn=stack.state_machine_arn
    )
    response = boto3.client("lambda").invoke(
        FunctionName=stack.functions["ReconcileFunction"], Payload=json.dumps(event)
    )
    assert "FunctionError" not in response, response["Payload"].read()

    query = athena_execution(query_id)
    assert query["Status"]["State"] == "CANCELLED"
    assert service.get("alice", record.task_id).status == TaskStatus.CANCELLED


@pytest.mark.parametrize("sql", ["DROP TABLE trips", "UNLOAD (SELECT 1) TO 's3://elsewhere/'"])
def test_a_statement_that_writes_is_refused_at_start_and_nothing_runs(stack, sql):
    from longhaul.errors import InvalidTaskParams

    with pytest.raises(InvalidTaskParams, match="sql: Value error, must be one read-only statement"):
        runtime.task_service().start("alice", "athena_query", {"sql": sql})
    assert boto3.client("athena").list_query_executions()["QueryExecutionIds"] == []


@pytest.mark.parametrize(("workgroup", "offered"), [("", False), ("longhaul-queries", True)])
def test_the_endpoint_offers_athena_query_only_where_queries_are_set_up(workgroup, offered):
    # A fresh interpreter, as a Lambda execution environment: the endpoint lists its tools when it is imported.
    code = """if True:
        import asyncio, json
        from longhaul.endpoint import tasks_2025
        from longhaul.endpoint.server import mcp
        listed = [tool.name for tool in asyncio.run(mcp.list_tools())]
        print(json.dumps({"listed": listed, "task_tools": sorted(tasks_2025._kind_names())}))
    """
    env = {**os.environ, "ATHENA_WORKGROUP": workgroup}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])
    assert ("athena_query" in seen["listed"], "athena_query" in seen["task_tools"]) == (offered, offered)
    assert {"model_training", "csv_profile", "get_task_status"} <= set(seen["listed"])

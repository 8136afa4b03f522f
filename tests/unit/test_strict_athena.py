"""The local stack's Athena (longhaul_dev.strict_aws on moto): queries take time, a client token starts one query,
a missing table fails as Athena says it, stopping an ended query changes nothing - where moto alone answers
SUCCEEDED at the first look, ignores the token and cancels finished queries."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from longhaul_dev import strict_aws


@pytest.fixture
def athena(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setattr(strict_aws, "ATHENA_QUEUED_SECONDS", 0.1)
    monkeypatch.setattr(strict_aws, "ATHENA_RUNNING_SECONDS", 0.25)
    with mock_aws():
        strict_aws.install()
        glue = boto3.client("glue", region_name="us-east-1")
        glue.create_database(DatabaseInput={"Name": "sales"})
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket="lake")
        s3.put_object(Bucket="lake", Key="orders/part-1.csv", Body=b"a,1\nb,2\n")
        s3.put_object(Bucket="lake", Key="orders/part-2.csv", Body=b"c,3\n")
        s3.put_object(Bucket="lake", Key="other/ignored.csv", Body=b"x" * 1000)
        glue.create_table(
            DatabaseName="sales",
            TableInput={"Name": "orders", "StorageDescriptor": {"Location": "s3://lake/orders/"}},
        )
        yield boto3.client("athena", region_name="us-east-1")


def start(client: Any, sql: str, token: str | None = None) -> str:
    request: dict[str, Any] = {"QueryString": sql, "QueryExecutionContext": {"Database": "sales"}}
    if token:
        request["ClientRequestToken"] = token
    return str(client.start_query_execution(**request)["QueryExecutionId"])


def status(client: Any, query_id: str) -> dict[str, Any]:
    execution = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
    return {"state": execution["Status"]["State"], **execution["Status"], "stats": execution["Statistics"]}


def test_a_query_is_queued_then_running_then_succeeded_with_the_tables_bytes_scanned(athena, monkeypatch):
    monkeypatch.setattr(strict_aws, "ATHENA_QUEUED_SECONDS", 1.0)  # long enough to be seen queued on a busy machine
    query_id = start(athena, "SELECT * FROM orders")
    seen = [status(athena, query_id)["state"]]
    with pytest.raises(ClientError, match=r"Query has not yet finished\. Current state: QUEUED"):
        athena.get_query_results(QueryExecutionId=query_id)
    while seen[-1] != "SUCCEEDED":
        time.sleep(0.05)
        seen.append(status(athena, query_id)["state"])
    assert list(dict.fromkeys(seen)) == ["QUEUED", "RUNNING", "SUCCEEDED"]
    stats = status(athena, query_id)["stats"]
    assert stats["DataScannedInBytes"] == 12  # both files of the table, nothing outside its location
    assert stats["EngineExecutionTimeInMillis"] >= 240 and stats["QueryQueueTimeInMillis"] >= 990
    athena.get_query_results(QueryExecutionId=query_id)  # now readable


def test_the_same_client_token_starts_one_query(athena):
    first = start(athena, "SELECT 1", token="t" * 32)
    assert start(athena, "SELECT 1", token="t" * 32) == first
    assert start(athena, "SELECT 1", token="u" * 32) != first
    assert len(athena.list_query_executions()["QueryExecutionIds"]) == 2


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("SELECT * FROM missing", "TABLE_NOT_FOUND: line 1:15: Table 'awsdatacatalog.sales.missing' does not exist"),
        ("SELECT *\n  FROM orders o\n  JOIN other.t", "SCHEMA_NOT_FOUND: line 3:8: Schema 'other' does not exist"),
        ('SELECT * FROM "sales"."nope"', "line 1:15: Table 'awsdatacatalog.sales.nope' does not exist"),
    ],
)
def test_a_query_naming_a_table_the_catalog_lacks_fails_as_athena_says(athena, sql, message):
    query_id = start(athena, sql)
    time.sleep(0.15)
    found = status(athena, query_id)
    assert found["state"] == "FAILED" and message in found["StateChangeReason"]
    assert found["AthenaError"]["ErrorMessage"] == found["StateChangeReason"]


def test_names_a_with_clause_defines_are_not_tables(athena):
    query_id = start(athena, "WITH recent AS (SELECT * FROM sales.orders), top AS (SELECT 1) SELECT * FROM recent, top")
    time.sleep(0.45)
    assert status(athena, query_id)["state"] == "SUCCEEDED"


def test_stopping_a_running_query_cancels_it_and_stopping_an_ended_one_changes_nothing(athena):
    running = start(athena, "SELECT 1")
    athena.stop_query_execution(QueryExecutionId=running)
    assert status(athena, running)["state"] == "CANCELLED"

    ended = start(athena, "SELECT 1")
    time.sleep(0.45)
    athena.stop_query_execution(QueryExecutionId=ended)
    assert status(athena, ended)["state"] == "SUCCEEDED"


def test_queued_rows_are_the_result_with_the_header_first(athena):
    strict_aws.queue_athena_result([["a", None]], [("name", "varchar"), ("n", "integer")])
    query_id = start(athena, "SELECT * FROM orders")
    time.sleep(0.45)
    rows = athena.get_query_results(QueryExecutionId=query_id)["ResultSet"]["Rows"]
    assert rows == [{"Data": [{"VarCharValue": "name"}, {"VarCharValue": "n"}]}, {"Data": [{"VarCharValue": "a"}, {}]}]


def test_without_the_patch_moto_says_succeeded_at_once_and_ignores_the_token():
    strict_aws.uninstall()
    try:
        with mock_aws():
            client = boto3.client("athena", region_name="us-east-1")
            first = client.start_query_execution(QueryString="SELECT 1", ClientRequestToken="t" * 32)
            second = client.start_query_execution(QueryString="SELECT 1", ClientRequestToken="t" * 32)
            assert first["QueryExecutionId"] != second["QueryExecutionId"]
            state = client.get_query_execution(QueryExecutionId=first["QueryExecutionId"])["QueryExecution"]["Status"]
            assert state["State"] == "SUCCEEDED"
    finally:
        strict_aws.install()

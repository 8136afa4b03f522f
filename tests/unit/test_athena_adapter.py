"""The Athena adapter sends exactly the requests that make queries idempotent, owner-scoped and bounded (botocore
Stubber: "this exact request was sent"), and translates Athena's answers into the package's own terms."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from longhaul.adapters.athena import AthenaQueries
from longhaul.errors import QueryFailed
from longhaul.queries import OwnerQueries, results_prefix


@pytest.fixture
def stubbed() -> Any:
    client = boto3.client("athena", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield AthenaQueries("longhaul-queries", "sales", "results-bucket", client=client), stubber
        stubber.assert_no_pending_responses()


def row(*values: str | None) -> dict[str, Any]:
    return {"Data": [{} if v is None else {"VarCharValue": v} for v in values]}


COLUMNS = {"ColumnInfo": [{"Name": "city", "Type": "varchar"}, {"Name": "trips", "Type": "integer"}]}


def test_a_start_names_the_workgroup_database_token_and_the_owners_own_results_prefix(stubbed):
    adapter, stubber = stubbed
    prefix = results_prefix("alice")
    stubber.add_response(
        "start_query_execution",
        {"QueryExecutionId": "q-1"},
        {
            "QueryString": "SELECT 1",
            "ClientRequestToken": "0123456789abcdef0123456789abcdef-0123456789ab",
            "QueryExecutionContext": {"Database": "sales"},
            "ResultConfiguration": {
                "OutputLocation": f"s3://results-bucket/{prefix}",
                "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
            },
            "WorkGroup": "longhaul-queries",
        },
    )
    queries = OwnerQueries(adapter, "alice")
    assert queries.start("SELECT 1", token="0123456789abcdef0123456789abcdef-0123456789ab") == "q-1"
    assert prefix.startswith("athena/") and prefix != results_prefix("bob")


def test_a_failed_query_reports_athenas_error_message_and_statistics(stubbed):
    adapter, stubber = stubbed
    stubber.add_response(
        "get_query_execution",
        {
            "QueryExecution": {
                "QueryExecutionId": "q-1",
                "ResultConfiguration": {"OutputLocation": "s3://results-bucket/athena/x/q-1.csv"},
                "Status": {
                    "State": "FAILED",
                    "StateChangeReason": "generic",
                    "AthenaError": {"ErrorCategory": 2, "ErrorMessage": "TABLE_NOT_FOUND: line 1:15: no"},
                },
                "Statistics": {"DataScannedInBytes": 10, "EngineExecutionTimeInMillis": 20},
            }
        },
        {"QueryExecutionId": "q-1"},
    )
    execution = adapter.get("q-1")
    assert (execution.state, execution.reason, execution.running) == ("FAILED", "TABLE_NOT_FOUND: line 1:15: no", False)
    assert (execution.data_scanned_bytes, execution.engine_execution_ms) == (10, 20)
    assert execution.output_location == "s3://results-bucket/athena/x/q-1.csv"


def test_rows_leave_out_the_header_and_stop_reading_at_max_rows(stubbed):
    adapter, stubber = stubbed
    stubber.add_response(
        "get_query_results",
        {
            "ResultSet": {
                "Rows": [row("city", "trips"), row("Lisbon", "120"), row("Porto", None)],
                "ResultSetMetadata": COLUMNS,
            },
            "NextToken": "page-2",
        },
        {"QueryExecutionId": "q-1", "MaxResults": 4},  # one more: the header row
    )
    stubber.add_response(
        "get_query_results",
        {
            "ResultSet": {"Rows": [row("Faro", "12"), row("Braga", "3")], "ResultSetMetadata": COLUMNS},
            "NextToken": "p3",
        },
        {"QueryExecutionId": "q-1", "MaxResults": 2, "NextToken": "page-2"},
    )
    found = adapter.rows("q-1", max_rows=3)
    assert found.columns == [{"name": "city", "type": "varchar"}, {"name": "trips", "type": "integer"}]
    assert found.rows == [["Lisbon", "120"], ["Porto", None], ["Faro", "12"]]
    assert found.truncated is True


def test_all_rows_when_they_fit(stubbed):
    adapter, stubber = stubbed
    stubber.add_response(
        "get_query_results",
        {"ResultSet": {"Rows": [row("city", "trips"), row("Lisbon", "120")], "ResultSetMetadata": COLUMNS}},
        {"QueryExecutionId": "q-1", "MaxResults": 11},
    )
    found = adapter.rows("q-1", max_rows=10)
    assert (found.rows, found.truncated) == ([["Lisbon", "120"]], False)


def test_athenas_refusal_is_a_query_failure_and_a_throttle_stays_retryable(stubbed):
    adapter, stubber = stubbed
    stubber.add_client_error("start_query_execution", "InvalidRequestException", "line 1:8: mismatched input")
    with pytest.raises(QueryFailed, match="Athena refused the query: InvalidRequestException: line 1:8"):
        adapter.start("SELECT FROM", token="t" * 32, output_prefix="athena/x/")
    stubber.add_client_error("get_query_execution", "TooManyRequestsException", "slow down", http_status_code=400)
    with pytest.raises(ClientError, match="TooManyRequestsException"):
        adapter.get("q-1")


def test_stopping_a_query_that_already_ended_is_not_an_error(stubbed):
    adapter, stubber = stubbed
    stubber.add_response("stop_query_execution", {}, {"QueryExecutionId": "q-1"})
    stubber.add_client_error("stop_query_execution", "InvalidRequestException", "Query has already finished")
    adapter.stop("q-1")
    adapter.stop("q-1")

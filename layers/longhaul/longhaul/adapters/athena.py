"""Athena queries in the deployment's one workgroup and database (the ``QueryEngine`` of longhaul/queries.py).

Transient failures (throttling, 5xx) pass through as ClientError: the client's retries and then the worker's
``transient_as_retryable`` handle them like any AWS call. Anything else Athena refuses becomes ``QueryFailed`` with
Athena's own message, which is what the caller needs to fix their SQL.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from longhaul.adapters._aws import AwsAdapter
from longhaul.errors import QueryFailed
from longhaul.faults import describe, error_code, is_transient
from longhaul.queries import QueryExecution, QueryRows

# GetQueryResults returns at most 1,000 rows per page.
PAGE_ROWS = 1000


class AthenaQueries(AwsAdapter):
    service = "athena"

    def __init__(self, workgroup: str, database: str, bucket: str, client: Any = None):
        super().__init__(client)
        self.workgroup = workgroup
        self._database = database
        self.bucket = bucket

    @property
    def database(self) -> str:
        return self._database

    def start(self, sql: str, *, token: str, output_prefix: str) -> str:
        """StartQueryExecution with ``token`` as ClientRequestToken: the same token returns the same query."""
        try:
            response = self.client.start_query_execution(
                QueryString=sql,
                ClientRequestToken=token,
                QueryExecutionContext={"Database": self._database},
                ResultConfiguration={
                    "OutputLocation": f"s3://{self.bucket}/{output_prefix}",
                    "EncryptionConfiguration": {"EncryptionOption": "SSE_S3"},
                },
                WorkGroup=self.workgroup,
            )
        except ClientError as error:
            raise _translated(error, "Athena refused the query") from None
        return str(response["QueryExecutionId"])

    def get(self, query_id: str) -> QueryExecution:
        try:
            execution = self.client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]
        except ClientError as error:
            raise _translated(error, f"Query {query_id} could not be read") from None
        status, stats = execution.get("Status", {}), execution.get("Statistics", {})
        reason = (status.get("AthenaError") or {}).get("ErrorMessage") or status.get("StateChangeReason") or ""
        return QueryExecution(
            query_id=query_id,
            state=str(status.get("State", "")),
            reason=str(reason)[:1000],
            data_scanned_bytes=int(stats.get("DataScannedInBytes") or 0),
            engine_execution_ms=int(stats.get("EngineExecutionTimeInMillis") or 0),
            queue_ms=int(stats.get("QueryQueueTimeInMillis") or 0),
            total_execution_ms=int(stats.get("TotalExecutionTimeInMillis") or 0),
            output_location=(execution.get("ResultConfiguration") or {}).get("OutputLocation"),
        )

    def rows(self, query_id: str, *, max_rows: int) -> QueryRows:
        """The first ``max_rows`` rows (page by page); Athena's header row, first for SELECT, is left out."""
        columns: list[dict[str, str]] | None = None
        rows: list[list[str | None]] = []
        token: str | None = None
        first_page = True
        while True:
            # One more than needed: the header row on the first page, or the row that shows there are more.
            wanted = min(PAGE_ROWS, max_rows - len(rows) + 1)
            request: dict[str, Any] = {"QueryExecutionId": query_id, "MaxResults": wanted}
            if token:
                request["NextToken"] = token
            try:
                page = self.client.get_query_results(**request)
            except ClientError as error:
                raise _translated(error, f"Results of query {query_id} could not be read") from None
            result_set = page.get("ResultSet", {})
            if columns is None:
                info = result_set.get("ResultSetMetadata", {}).get("ColumnInfo", [])
                columns = [{"name": str(c.get("Name", "")), "type": str(c.get("Type", ""))} for c in info]
            page_rows = [
                [cell.get("VarCharValue") for cell in row.get("Data", [])] for row in result_set.get("Rows", [])
            ]
            if first_page and page_rows and page_rows[0] == [c["name"] for c in columns]:
                page_rows = page_rows[1:]
            first_page = False
            rows.extend(page_rows)
            token = page.get("NextToken")
            if len(rows) >= max_rows or not token:
                return QueryRows(columns=columns, rows=rows[:max_rows], truncated=len(rows) > max_rows or bool(token))

    def stop(self, query_id: str) -> None:
        """StopQueryExecution; a query that already ended stays as it was."""
        try:
            self.client.stop_query_execution(QueryExecutionId=query_id)
        except ClientError as error:
            if is_transient(error):
                raise
            if error_code(error) != "InvalidRequestException":  # Athena's answer for an unknown or ended query
                raise _translated(error, f"Query {query_id} could not be stopped") from None


def _translated(error: ClientError, action: str) -> Exception:
    if is_transient(error):
        return error
    return QueryFailed(f"{action}: {describe(error)}")

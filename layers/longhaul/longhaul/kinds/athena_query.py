"""``athena_query``: a SQL query run by Amazon Athena, waited for with ``Sleep`` - no Lambda runs while it runs.

Step 1 starts the query (the task run's ``client_token`` as ClientRequestToken, so a retried step gets the same
query) and saves its id with the checkpoint (``track_external_job``); later steps poll GetQueryExecution, reporting
Athena's state and statistics as progress and sleeping longer each time (1 s, 2 s, 4 s ... at most 60 s). The
result is the service's: state, statistics, the first ``max_rows`` rows (GetQueryResults) and the S3 location of
the full result. A query that fails or is cancelled fails the task with Athena's reason (``QueryFailed``); a task
cancelled, failed or timed out while its query runs has the query stopped (``stop_query``, called by the reconciler).

What can be queried is the operator's choice, not the caller's: one database in one workgroup (template
parameters ``AthenaDatabase`` and the stack's workgroup with its per-query scan limit), and IAM that lets the worker
read only that database's tables and data. Only read-only statements (``SELECT`` / ``WITH``) are accepted. Every
caller queries the same data; each caller's results are written under their own prefix and seen only by them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from longhaul.errors import QueryFailed
from longhaul.kinds.base import CancelContext, Done, Sleep, StepContext, StepResult, task_kind
from longhaul.kinds.params import param

if TYPE_CHECKING:  # the type only: the MCP endpoint imports this module to list the kind, and runs no query
    from longhaul.queries import QueryExecution

MAX_SQL_CHARS = 20_000
FIRST_POLL_SECONDS = 1
MAX_POLL_SECONDS = 60
# Leading comments and blank space, then the statement's first keyword.
_LEADING = re.compile(r"\A(?:\s+|--[^\n]*(?:\n|\Z)|/\*.*?\*/)*", re.DOTALL)
_READ_ONLY = re.compile(r"(?:SELECT|WITH)\b", re.IGNORECASE)


def _read_only(sql: str) -> str:
    if not _READ_ONLY.match(sql, _LEADING.match(sql).end()):  # type: ignore[union-attr]  # matches always
        raise ValueError("must be one read-only statement starting with SELECT or WITH")
    return sql


@dataclass(frozen=True)
class AthenaQueryParams:
    # No field descriptions: the names and the tool's description say it all, in every agent's context.
    sql: str = param(min_length=1, max_length=MAX_SQL_CHARS, check=_read_only)
    max_rows: int = param(100, ge=1, le=1000)


def stop_query(job_id: str, ctx: CancelContext) -> None:
    """The cancel hook: stop the query (a query that already ended stays as it was)."""
    ctx.queries.stop(job_id)
    ctx.logger.info("athena query stopped", extra={"query_id": job_id})


@task_kind(title="Run an Athena SQL query", cancel=stop_query, uses_queries=True)
def athena_query(params: AthenaQueryParams, cursor: Any, ctx: StepContext) -> StepResult:
    """Run one read-only SQL statement (SELECT/WITH) with Amazon Athena on this server's shared database. Result:
    columns, first max_rows rows, bytes scanned, run time."""
    queries = ctx.queries
    if cursor is None:
        query_id = queries.start(params.sql, token=ctx.client_token)
        ctx.track_external_job(query_id)
        ctx.progress(0.0, f"query {query_id} submitted")
        return Sleep(FIRST_POLL_SECONDS, {"query_id": query_id, "polls": 0})

    query_id, polls = cursor["query_id"], int(cursor["polls"]) + 1
    execution = queries.get(query_id)
    if execution.running:
        # Athena reports no fraction done: queued and running show as fixed marks, the statistics as the message.
        ctx.progress(0.1 if execution.state == "QUEUED" else 0.5, _status_line(execution))
        seconds = min(MAX_POLL_SECONDS, FIRST_POLL_SECONDS * 2**polls)
        return Sleep(seconds, {"query_id": query_id, "polls": polls})
    if execution.state != "SUCCEEDED":
        raise QueryFailed(f"Athena query {query_id} {execution.state.lower()}: {execution.reason or 'no reason given'}")
    found = queries.rows(query_id, max_rows=params.max_rows)
    ctx.progress(1.0, _status_line(execution))
    return Done(
        {
            "query_id": query_id,
            "state": execution.state,
            "database": queries.database,
            "columns": found.columns,
            "rows": found.rows,
            "row_count": len(found.rows),
            "truncated": found.truncated,
            "data_scanned_bytes": execution.data_scanned_bytes,
            "engine_execution_ms": execution.engine_execution_ms,
            "total_execution_ms": execution.total_execution_ms,
            "output_location": execution.output_location,
        }
    )


def _status_line(execution: QueryExecution) -> str:
    return (
        f"{execution.state.lower()}: {execution.data_scanned_bytes} bytes scanned, "
        f"{execution.engine_execution_ms} ms in the engine"
    )

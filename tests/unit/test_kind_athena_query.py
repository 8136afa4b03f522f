"""athena_query with a plain fake context and a fake Athena: start once, sleep while the query runs, finish with
the service's rows and statistics, fail readably, stop on cancel."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from longhaul.errors import QueryFailed
from longhaul.kinds import Done, Sleep, get_kind
from longhaul.kinds.athena_query import AthenaQueryParams, athena_query
from longhaul.kinds.validation import params_model
from longhaul.queries import QueryExecution, QueryRows


class FakeAthena:
    """Queries whose states the test scripts: each get() returns the next state."""

    database = "sales"

    def __init__(self, states: list[str], reason: str = "") -> None:
        self.states = states
        self.reason = reason
        self.started: list[tuple[str, str]] = []
        self.stopped: list[str] = []

    def start(self, sql: str, *, token: str) -> str:
        self.started.append((sql, token))
        return "q-1"

    def get(self, query_id: str) -> QueryExecution:
        state = self.states.pop(0)
        return QueryExecution(
            query_id=query_id,
            state=state,
            reason=self.reason,
            data_scanned_bytes=2048,
            engine_execution_ms=1500,
            total_execution_ms=1700,
            output_location=f"s3://bucket/athena/owner/{query_id}.csv",
        )

    def rows(self, query_id: str, *, max_rows: int) -> QueryRows:
        rows: list[list[str | None]] = [["Lisbon", "120"], ["Porto", None], ["Faro", "12"]]
        return QueryRows(
            columns=[{"name": "city", "type": "varchar"}, {"name": "trips", "type": "integer"}],
            rows=rows[:max_rows],
            truncated=max_rows < len(rows),
        )

    def stop(self, query_id: str) -> None:
        self.stopped.append(query_id)


class FakeContext:
    task_id = "task-1"
    step_number = 1
    client_token = "task-1-0123456789ab"

    def __init__(self, queries: FakeAthena) -> None:
        self.queries = queries
        self.progress_reports: list[tuple[float, str]] = []
        self.jobs: list[str] = []
        self.logger = _Logger()

    def progress(self, fraction: float, message: str = "") -> None:
        self.progress_reports.append((fraction, message))

    def track_external_job(self, job_id: str) -> None:
        self.jobs.append(job_id)

    def remaining_seconds(self) -> float:
        return 600.0


class _Logger:
    def info(self, *args: Any, **kwargs: Any) -> None:
        pass


def run(params: dict[str, Any], athena: FakeAthena) -> tuple[list[Any], FakeContext]:
    """Step the kind to its end, as the workflow would (Sleep means: step again later from its cursor)."""
    ctx, cursor, outcomes = FakeContext(athena), None, []
    parsed = athena_query.parse_params(params)
    while True:
        outcome = athena_query.step(parsed, cursor, ctx)
        outcomes.append(outcome)
        if isinstance(outcome, Done):
            return outcomes, ctx
        assert isinstance(outcome, Sleep)
        cursor = outcome.cursor


def test_starts_once_with_the_run_token_then_sleeps_longer_while_it_runs_and_ends_with_the_services_rows():
    athena = FakeAthena(["QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"])
    outcomes, ctx = run({"sql": "SELECT city, trips FROM trips", "max_rows": 2}, athena)

    assert athena.started == [("SELECT city, trips FROM trips", "task-1-0123456789ab")]
    assert ctx.jobs == ["q-1"]  # saved with the first checkpoint, for cancel
    assert [o.seconds for o in outcomes[:-1]] == [1, 2, 4, 8]
    assert all(o.cursor["query_id"] == "q-1" for o in outcomes[:-1])
    assert outcomes[-1].result == {
        "query_id": "q-1",
        "state": "SUCCEEDED",
        "database": "sales",
        "columns": [{"name": "city", "type": "varchar"}, {"name": "trips", "type": "integer"}],
        "rows": [["Lisbon", "120"], ["Porto", None]],
        "row_count": 2,
        "truncated": True,
        "data_scanned_bytes": 2048,
        "engine_execution_ms": 1500,
        "total_execution_ms": 1700,
        "output_location": "s3://bucket/athena/owner/q-1.csv",
    }
    fractions = [fraction for fraction, _ in ctx.progress_reports]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert "running: 2048 bytes scanned" in ctx.progress_reports[2][1]


def test_polls_never_sleep_more_than_a_minute():
    athena = FakeAthena(["RUNNING"] * 12 + ["SUCCEEDED"])
    outcomes, _ = run({"sql": "SELECT 1"}, athena)
    assert max(o.seconds for o in outcomes[:-1]) == 60


@pytest.mark.parametrize("state", ["FAILED", "CANCELLED"])
def test_a_query_that_does_not_succeed_fails_the_task_with_athenas_reason(state):
    athena = FakeAthena(["RUNNING", state], reason="TABLE_NOT_FOUND: line 1:15: Table 'x' does not exist")
    with pytest.raises(QueryFailed, match=rf"q-1 {state.lower()}: TABLE_NOT_FOUND: line 1:15"):
        run({"sql": "SELECT * FROM x"}, athena)


def test_cancel_stops_the_query():
    athena = FakeAthena([])
    kind = get_kind("athena_query")
    assert kind.cancel is not None
    kind.cancel("q-7", FakeContext(athena))
    assert athena.stopped == ["q-7"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "  select * from trips",
        "-- totals\nWITH t AS (SELECT 1) SELECT * FROM t",
        "/* why */ SELECT 2",
    ],
)
def test_read_only_statements_are_accepted(sql):
    assert athena_query.parse_params({"sql": sql}) == AthenaQueryParams(sql=sql)


@pytest.mark.parametrize(
    "sql",
    [
        "INSERT INTO trips VALUES ('x', 1, 1.0)",
        "CREATE TABLE copy AS SELECT * FROM trips",
        "UNLOAD (SELECT * FROM trips) TO 's3://elsewhere/' WITH (format = 'CSV')",
        "DROP TABLE trips",
        "-- SELECT\nDELETE FROM trips",
        "selection",
    ],
)
def test_statements_that_write_are_refused_before_anything_starts(sql):
    with pytest.raises(ValidationError, match="read-only statement starting with SELECT or WITH"):
        athena_query.parse_params({"sql": sql})


def test_the_tool_schema_stays_small():
    schema = params_model(AthenaQueryParams).model_json_schema()
    assert set(schema["properties"]) == {"sql", "max_rows"}
    assert len(athena_query.description) <= 250  # tools/list is read by every client

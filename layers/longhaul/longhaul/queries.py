"""SQL queries that run elsewhere (Amazon Athena): what a kind sees of them, with no AWS SDK in sight.

The operator decides what may be queried: one workgroup (with its per-query scan limit) and one database, set by
template parameters, and IAM that lets the worker read only that database's tables and data. Every caller queries
the same data; what is theirs alone is their queries and results: a query's results are written under a prefix of
its owner (``athena/<hash of the owner>/``), and a kind polls only the query ids its own task started (they live
in the task's cursor, which no client can set).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

ATHENA_PREFIX = "athena/"
# Athena's query states; the last three are final.
ACTIVE_STATES = frozenset({"QUEUED", "RUNNING"})


def results_prefix(owner: str) -> str:
    """``athena/<32 hex chars>/``: the owner's own prefix for query results (the same hash as their inputs')."""
    digest = hashlib.sha256(owner.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{ATHENA_PREFIX}{digest[:32]}/"


@dataclass(frozen=True)
class QueryExecution:
    """A query's state and the service's own statistics, as GetQueryExecution reports them."""

    query_id: str
    state: str  # QUEUED, RUNNING, SUCCEEDED, FAILED or CANCELLED
    reason: str = ""  # why it failed or was cancelled (Athena's message)
    data_scanned_bytes: int = 0
    engine_execution_ms: int = 0
    queue_ms: int = 0
    total_execution_ms: int = 0
    output_location: str | None = None

    @property
    def running(self) -> bool:
        return self.state in ACTIVE_STATES


@dataclass(frozen=True)
class QueryRows:
    """The first rows of a query's result (the header row Athena puts first for SELECT is not among them)."""

    columns: list[dict[str, str]]  # [{"name", "type"}]
    rows: list[list[str | None]] = field(default_factory=list)
    truncated: bool = False  # more rows exist than were read


class QueryEngine(Protocol):
    """The service side (adapters/athena.py): one workgroup and database, fixed by the deployment."""

    @property
    def database(self) -> str: ...
    def start(self, sql: str, *, token: str, output_prefix: str) -> str: ...
    def get(self, query_id: str) -> QueryExecution: ...
    def rows(self, query_id: str, *, max_rows: int) -> QueryRows: ...
    def stop(self, query_id: str) -> None: ...


class Queries(Protocol):
    """What a kind gets as ``ctx.queries``: queries run as the task's owner, in the operator's workgroup and
    database. ``start`` is idempotent per ``token`` (pass ``ctx.client_token``): a retried step gets the query it
    started the first time, not a second one. Athena's refusals and failures raise ``QueryFailed``."""

    @property
    def database(self) -> str: ...
    def start(self, sql: str, *, token: str) -> str: ...
    def get(self, query_id: str) -> QueryExecution: ...
    def rows(self, query_id: str, *, max_rows: int) -> QueryRows: ...
    def stop(self, query_id: str) -> None: ...


class OwnerQueries:
    """``Queries`` for one owner: results go under the owner's own prefix."""

    def __init__(self, engine: QueryEngine, owner: str):
        self._engine = engine
        self._prefix = results_prefix(owner)

    @property
    def database(self) -> str:
        return self._engine.database

    def start(self, sql: str, *, token: str) -> str:
        return self._engine.start(sql, token=token, output_prefix=self._prefix)

    def get(self, query_id: str) -> QueryExecution:
        return self._engine.get(query_id)

    def rows(self, query_id: str, *, max_rows: int) -> QueryRows:
        return self._engine.rows(query_id, max_rows=max_rows)

    def stop(self, query_id: str) -> None:
        self._engine.stop(query_id)

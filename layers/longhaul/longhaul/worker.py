"""The work behind the state machine: run one step, deliver the outcome to memory, reconcile and sweep.

The order of events is the durability promise: a step that finishes the task writes the completed record (result
or S3 pointer) before it returns, so nothing after the last step can lose the result; memory delivery is a separate,
retried state that records its own outcome on the record and never changes the task's status.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from longhaul import memory
from longhaul.errors import (
    LonghaulError,
    ProgressWentBackwards,
    QueriesUnavailable,
    ResultTooLarge,
    StepLimitExceeded,
    TaskAlreadyTerminal,
    TaskNotFound,
    TransientStepError,
)
from longhaul.faults import describe, error_code, is_transient
from longhaul.inputs import InputReader, OwnerInputs
from longhaul.messages import MemoryDelivery, StepOutcome, StepRequest, iso, utc_now
from longhaul.observability import logger, metrics

if TYPE_CHECKING:  # types only: a step that runs no query (most) loads no query module, one that reads no record
    # loads no pydantic (models), and WriteResult and Sweep load no kinds
    from longhaul.kinds import TaskKind
    from longhaul.models import ResultRef, TaskRecord
    from longhaul.queries import Queries, QueryEngine
    from longhaul.settings import Settings

MAX_CURSOR_BYTES = 32 * 1024
MAX_SLEEP_SECONDS = 7 * 24 * 3600
MAX_RESULT_BYTES = 100 * 1024 * 1024
MAX_JOB_ID_CHARS = 1024


class CursorTooLarge(LonghaulError):
    """A step returned a cursor too large to carry through the workflow; keep big state in S3 and pass its key."""


class WorkerStore(Protocol):
    def get_unscoped(self, task_id: str) -> TaskRecord: ...
    def report_progress(self, task_id: str, fraction: float, message: str) -> None: ...
    def mark_started(self, task_id: str) -> None: ...
    def record_step(
        self,
        task_id: str,
        step_count: int,
        progress: tuple[float, str] | None = None,
        external_job: str | None = None,
    ) -> None: ...
    def complete(
        self,
        task_id: str,
        *,
        owner: str,
        step_count: int,
        result: Any = None,
        result_ref: ResultRef | None = None,
        message: str | None = None,
    ) -> bool: ...
    def mark_failed(self, task_id: str, *, owner: str, error_type: str, error_message: str) -> bool: ...
    def mark_cancelled(self, task_id: str, *, owner: str, message: str = ...) -> bool: ...
    def set_memory_delivery(
        self, task_id: str, outcome: MemoryDelivery, *, event_id: str | None = None, error: str | None = None
    ) -> None: ...
    def list_active(self, *, created_before: str, limit: int = ...) -> list[str]: ...


class ResultBlobs(Protocol):
    def put_result(self, task_id: str, body: bytes) -> ResultRef: ...
    def size(self, key: str) -> int: ...
    def read_range(self, key: str, start: int, end_inclusive: int) -> bytes: ...


class ResultMemory(Protocol):
    def write(self, *, token: str, actor_id: str, session_id: str, question: str, answer: str, at: Any) -> str: ...


class Executions(Protocol):
    def running_names(self) -> set[str]: ...
    def describe(self, arn: str) -> dict[str, Any] | None: ...


def get_kind(name: str) -> TaskKind:
    """The task kind named ``name``. The kinds load on a worker's first use: WriteResult and Sweep never need one,
    and a step loads only its own kind's module (kinds/__init__.py)."""
    from longhaul import kinds

    return kinds.get_kind(name)


@contextmanager
def transient_as_retryable(action: str) -> Iterator[None]:
    """An AWS failure that outlasted the client's own retries: transient ones become ``TransientStepError`` (the
    workflow retries with backoff), permanent ones pass through unchanged (they end the task, with their message)."""
    try:
        yield
    except LonghaulError:
        raise
    except Exception as error:
        if is_transient(error):
            raise TransientStepError(f"{action}: {describe(error)}") from error
        raise


def _owner_queries(engine: QueryEngine | None, owner: str) -> Queries:
    if engine is None:
        raise QueriesUnavailable(
            "Athena queries are not set up on this deployment (no ATHENA_WORKGROUP); ask its operator"
        )
    from longhaul.queries import OwnerQueries

    return OwnerQueries(engine, owner)


class _CancelContext:
    """The CancelContext a kind's cancel hook gets."""

    def __init__(self, task_id: str, owner: str, queries: QueryEngine | None):
        self.task_id = task_id
        self._owner = owner
        self._engine = queries

    @property
    def logger(self) -> Any:
        return logger

    @property
    def queries(self) -> Queries:
        return _owner_queries(self._engine, self._owner)


class _StepContext:
    """The StepContext a kind's step function gets: progress goes to the task record at most once per
    ``min_interval`` seconds (a kind may report per item; the table should not pay per item), and the latest
    value always reaches the record with the step's checkpoint."""

    def __init__(
        self,
        store: WorkerStore,
        task_id: str,
        step_number: int,
        deadline: float,
        min_interval: float,
        inputs: InputReader,
        owner: str = "",
        queries: QueryEngine | None = None,
    ):
        self._store = store
        self.inputs = inputs  # the task owner's inputs only
        self._task_id = task_id
        self._step_number = step_number
        self._deadline = deadline
        self._min_interval = min_interval
        self._owner = owner
        self._engine = queries
        # A step shorter than the interval writes its progress only with its checkpoint: one write per step.
        self._last_write = time.monotonic()
        self._pending: tuple[float, str] | None = None
        self._job: str | None = None
        self._record: TaskRecord | None = None

    @property
    def task_id(self) -> str:
        return self._task_id

    @property
    def step_number(self) -> int:
        return self._step_number

    def progress(self, fraction: float, message: str = "") -> None:
        self._pending = (round(min(1.0, max(0.0, float(fraction))), 4), message[:500])
        if time.monotonic() - self._last_write >= self._min_interval:
            self.flush()

    def take_pending(self) -> tuple[float, str] | None:
        """The latest progress not written yet (the step's end writes it together with the checkpoint)."""
        pending, self._pending = self._pending, None
        return pending

    def flush(self) -> None:
        """Write the latest reported progress, if it is not written yet."""
        if self._pending is None:
            return
        fraction, message = self._pending
        self._pending, self._last_write = None, time.monotonic()
        try:
            with transient_as_retryable("Progress could not be saved"):
                self._store.report_progress(self._task_id, fraction, message)
        except ProgressWentBackwards:
            logger.debug("progress below the stored value ignored", extra={"fraction": fraction})

    def remaining_seconds(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    @property
    def logger(self) -> Any:
        return logger  # the handler binds the task id as the correlation id of every line

    def _read_record(self) -> TaskRecord:
        # Read lazily, once: only a kind that needs what the record holds pays for the read.
        if self._record is None:
            self._record = self._store.get_unscoped(self._task_id)
        return self._record

    @property
    def input_responses(self) -> dict[str, Any]:
        if not hasattr(self, "_input_responses"):
            self._input_responses = dict(self._read_record().input_responses or {})
        return self._input_responses

    @property
    def client_token(self) -> str:
        # The execution name (<task id>-<incarnation>): a task id reused after its record expired gets a new one.
        return self._read_record().execution_name or self._task_id

    @property
    def queries(self) -> Queries:
        return _owner_queries(self._engine, self._owner)

    def track_external_job(self, job_id: str) -> None:
        if not isinstance(job_id, str) or not 0 < len(job_id) <= MAX_JOB_ID_CHARS:
            raise ValueError(f"an external job id is a string of 1-{MAX_JOB_ID_CHARS} characters")
        self._job = job_id

    def take_job(self) -> str | None:
        """The external job this step started, if any (saved with the checkpoint)."""
        job, self._job = self._job, None
        return job


class StepRunner:
    def __init__(self, store: WorkerStore, blobs: ResultBlobs, settings: Settings, queries: QueryEngine | None = None):
        self.store = store
        self.blobs = blobs
        self.settings = settings
        self.queries = queries

    def run_step(self, request: StepRequest, remaining_ms: Callable[[], int]) -> StepOutcome:
        """Run one chunk of the task within the Lambda's remaining time and say what the workflow does next.

        A ``done`` outcome has already completed the record: the result is durable before this returns.
        """
        step_number = request.step_count + 1
        if step_number > self.settings.max_steps_per_task:
            raise StepLimitExceeded(
                f"Task ran {request.step_count} steps, the most one task may run (MAX_STEPS_PER_TASK); "
                "make each step do more work"
            )
        kind = get_kind(request.kind)
        params = kind.load_params(request.params)
        try:
            return self._run(kind, params, request, step_number, remaining_ms)
        except TaskAlreadyTerminal as error:
            # Cancelled (or otherwise ended) meanwhile: that outcome stands; the workflow only delivers it.
            logger.info("task ended while its step ran", extra={"status": error.status})
            return StepOutcome(outcome="done", step_count=request.step_count)

    def _run(
        self, kind: Any, params: Any, request: StepRequest, step_number: int, remaining_ms: Callable[[], int]
    ) -> StepOutcome:
        from longhaul.kinds.base import Continue, Done, NeedInput, Sleep  # loaded with the kind (get_kind)

        if step_number == 1:
            with transient_as_retryable("The task could not be marked started"):
                self.store.mark_started(request.task_id)
        budget = remaining_ms() / 1000
        # Leave time to write the checkpoint and return before Lambda's hard timeout.
        deadline = time.monotonic() + budget - min(30.0, max(1.0, budget * 0.1))
        ctx = _StepContext(
            self.store,
            request.task_id,
            step_number,
            deadline,
            self.settings.progress_min_interval_seconds,
            OwnerInputs(self.blobs, request.owner),
            request.owner,
            self.queries,
        )
        started = time.perf_counter()
        with transient_as_retryable(f"Step {step_number} hit a temporary AWS error"):
            outcome = kind.step(params, request.cursor, ctx)
        metrics.add_metric(name="StepDuration", unit="Milliseconds", value=(time.perf_counter() - started) * 1000)
        last_progress = ctx.take_pending()
        job = ctx.take_job()

        if isinstance(outcome, Done):
            self._complete(request, step_number, outcome.result, last_progress[1] if last_progress else None)
            return StepOutcome(outcome="done", step_count=step_number)
        try:
            with transient_as_retryable("The step's checkpoint could not be saved"):
                # One write: the step count, the step's last progress and the job it started elsewhere.
                self.store.record_step(request.task_id, step_number, last_progress, external_job=job)
        except TaskAlreadyTerminal:
            # Cancelled while this step started a job: the reconciler cannot know the job, so stop it here.
            if job is not None and kind.cancel is not None:
                kind.cancel(job, _CancelContext(request.task_id, request.owner, self.queries))
            raise
        if isinstance(outcome, Continue):
            return StepOutcome(outcome="continue", cursor=_checked_cursor(outcome.cursor), step_count=step_number)
        if isinstance(outcome, Sleep):
            seconds = int(min(MAX_SLEEP_SECONDS, max(1, outcome.seconds)))
            return StepOutcome(
                outcome="sleep", cursor=_checked_cursor(outcome.cursor), sleep_seconds=seconds, step_count=step_number
            )
        if isinstance(outcome, NeedInput):
            # Clients deduplicate requests by id and ignore answers to answered ids: an id is never asked twice.
            if reused := sorted(set(outcome.requests) & set(ctx.input_responses)):
                raise ValueError(f"NeedInput ids must be unique for the task's life; already answered: {reused}")
            requests = {key: request.as_request() for key, request in outcome.requests.items()}
            return StepOutcome(
                outcome="need_input",
                cursor=_checked_cursor(outcome.cursor),
                step_count=step_number,
                input_requests=_checked_requests(requests),
            )
        raise TypeError(
            f"step of {kind.name!r} returned {type(outcome).__name__}, not Continue, Sleep, Done or NeedInput"
        )

    def _complete(self, request: StepRequest, step_number: int, result: Any, message: str | None) -> None:
        """Store the result and mark the task completed in one conditional write (large results go to S3 first)."""
        body = json.dumps(result, separators=(",", ":")).encode()
        if len(body) > MAX_RESULT_BYTES:
            raise ResultTooLarge(f"Result is {len(body)} bytes; the most longhaul stores is {MAX_RESULT_BYTES}")
        with transient_as_retryable("The result could not be saved"):
            ref = (
                self.blobs.put_result(request.task_id, body)
                if len(body) > self.settings.inline_result_max_bytes
                else None
            )
            try:
                completed = self.store.complete(
                    request.task_id,
                    owner=request.owner,
                    step_count=step_number,
                    result=None if ref else result,
                    result_ref=ref,
                    message=message,
                )
            except TaskAlreadyTerminal as error:
                # Cancelled (or failed) first: that outcome stands, and the result is not kept.
                logger.info("task ended before its result was stored", extra={"status": error.status})
                return
        if completed:
            metrics.add_metric(name="TaskCompleted", unit="Count", value=1)
            logger.info("task completed", extra={"kind": request.kind})


def _checked_requests(requests: dict[str, Any]) -> dict[str, Any]:
    if not requests or not all(isinstance(key, str) and 0 < len(key) <= 128 for key in requests):
        raise ValueError("NeedInput takes at least one request, keyed by ids of 1-128 characters")
    _checked_cursor(requests)  # the same payload budget as a cursor
    return requests


def _checked_cursor(cursor: Any) -> Any:
    size = len(json.dumps(cursor, separators=(",", ":")))
    if size > MAX_CURSOR_BYTES:
        raise CursorTooLarge(f"Cursor is {size} bytes; the most is {MAX_CURSOR_BYTES}")
    return cursor


# AgentCore errors that no retry will fix: the delivery is recorded as failed at once.
_PERMANENT_MEMORY_ERRORS = frozenset(
    {"ValidationException", "InvalidInputException", "AccessDeniedException", "ResourceNotFoundException"}
)


class OutcomeDelivery:
    """Delivers an ended task's outcome (completed, failed or cancelled) to the agent session's memory, once."""

    def __init__(self, store: WorkerStore, memory_: ResultMemory | None, actor_id_for: Callable[[str], str]):
        self.store = store
        self.memory = memory_
        self.actor_id_for = actor_id_for

    def deliver(self, task_id: str) -> dict[str, Any]:
        """Safe to retry: a delivered outcome is not written again, and the same record makes the same request
        (AgentCore deduplicates it by its client token). A transient failure raises TransientStepError (the
        workflow retries); a permanent one is recorded on the task and alarmed, and the task keeps its status."""
        with transient_as_retryable("The task record could not be read"):
            record = self.store.get_unscoped(task_id)
        answer: dict[str, Any] = {"task_id": task_id, "status": record.status.value}
        if not record.status.is_terminal:
            raise ValueError(f"task {task_id} is {record.status.value}; only an ended task is delivered")
        if self.memory is None or not record.session_id or record.memory_delivery is not None:
            return {**answer, "memory_delivery": record.memory_delivery}
        try:
            with transient_as_retryable("Memory delivery failed for now"):
                event_id = self.memory.write(
                    token=record.execution_name or record.task_id,
                    actor_id=self.actor_id_for(record.owner),
                    session_id=record.session_id,
                    question=memory.question(record),
                    answer=memory.answer(record),
                    at=memory.event_time(record),
                )
        except ClientError as error:
            if error_code(error) not in _PERMANENT_MEMORY_ERRORS:
                raise  # an answer we do not know: the workflow's Catch records it as a failed delivery
            reason = describe(error)
            with transient_as_retryable("The delivery outcome could not be saved"):
                self.store.set_memory_delivery(task_id, MemoryDelivery.FAILED, error=reason)
            metrics.add_metric(name="MemoryDeliveryFailed", unit="Count", value=1)
            logger.error("memory delivery failed; the task keeps its outcome", extra={"reason": reason})
            return {**answer, "memory_delivery": MemoryDelivery.FAILED.value}
        # If this write fails, the retry writes the same event again under the same client token: still one event.
        with transient_as_retryable("The delivery outcome could not be saved"):
            self.store.set_memory_delivery(task_id, MemoryDelivery.DELIVERED, event_id=event_id)
        metrics.add_metric(name="MemoryDelivered", unit="Count", value=1)
        return {**answer, "memory_delivery": MemoryDelivery.DELIVERED.value}


# Step Functions execution statuses that end a task without its own Catch having run.
_ENDED_OUTSIDE_CATCH = {
    "ABORTED": ("Cancelled", "The task's execution was stopped"),
    "FAILED": ("States.ExecutionFailed", "The task's workflow failed"),
    "TIMED_OUT": ("States.Timeout", "The task's workflow timed out"),
    "SUCCEEDED": ("WorkflowEndedWithoutOutcome", "The task's workflow ended without recording an outcome"),
}


class Reconciler:
    """Makes a record terminal when its execution ended outside the workflow's own Catch, delivers it, and stops
    the job the task started elsewhere (its kind's cancel hook), if any."""

    def __init__(self, store: WorkerStore, delivery: OutcomeDelivery, queries: QueryEngine | None = None):
        self.store = store
        self.delivery = delivery
        self.queries = queries

    def reconcile(self, detail: dict[str, Any]) -> dict[str, Any]:
        """For an EventBridge "Execution Status Change" detail (name, executionArn, status, error, cause)."""
        name, arn, execution_status = detail["name"], detail.get("executionArn"), detail["status"]
        task_id = task_id_of(name)
        try:
            record = self.store.get_unscoped(task_id)
        except TaskNotFound:
            logger.warning("execution has no task record", extra={"execution": arn})
            return {"task_id": task_id, "changed": False, "reason": "no such task"}
        if arn and record.execution_arn and record.execution_arn != arn:
            # An earlier incarnation of a reused task id: it says nothing about the current record.
            return {"task_id": task_id, "changed": False, "reason": "execution of an earlier incarnation"}
        if execution_status not in _ENDED_OUTSIDE_CATCH:
            return {"task_id": task_id, "changed": False, "reason": f"status {execution_status} needs nothing"}
        changed = self._end(record, execution_status, detail.get("error"), detail.get("cause"))
        self.delivery.deliver(task_id)
        self._stop_external_job(record)
        return {"task_id": task_id, "changed": changed, "status": self.store.get_unscoped(task_id).status.value}

    def _stop_external_job(self, record: TaskRecord) -> None:
        """The execution ended, so nothing will poll the task's job again: stop it (safe to repeat: a redelivered
        event stops an already stopped job). A transient failure raises, so the invocation is retried (ending and
        delivering are idempotent); any other is logged, and the job runs into its own limits."""
        if record.external_job is None:
            return
        try:
            kind = get_kind(record.kind)
        except LonghaulError:
            logger.error("the kind of a task with an external job is gone", extra={"kind": record.kind})
            return
        if kind.cancel is None:
            return
        try:
            with transient_as_retryable("The task's external job could not be stopped"):
                kind.cancel(record.external_job, _CancelContext(record.task_id, record.owner, self.queries))
        except TransientStepError:
            raise
        except Exception:
            metrics.add_metric(name="ExternalJobStopFailed", unit="Count", value=1)
            logger.exception("the task's external job could not be stopped", extra={"job": record.external_job})
            return
        metrics.add_metric(name="ExternalJobStopped", unit="Count", value=1)

    def _end(self, record: TaskRecord, execution_status: str, error: str | None, cause: str | None) -> bool:
        default_error, default_message = _ENDED_OUTSIDE_CATCH[execution_status]
        if execution_status == "ABORTED":
            changed = self.store.mark_cancelled(record.task_id, owner=record.owner, message=default_message)
        else:
            changed = self.store.mark_failed(
                record.task_id,
                owner=record.owner,
                error_type=error or default_error,
                error_message=cause or default_message,
            )
        if changed:
            metrics.add_metric(name="TaskReconciled", unit="Count", value=1)
            logger.warning("task made terminal by reconcile", extra={"execution_status": execution_status})
        return changed


_INCARNATION = re.compile(r"-[0-9a-f]{12}")


def task_id_of(execution_name: str) -> str:
    """Execution names are ``<task_id>-<12 hex digits of incarnation>`` (older ones: the bare task id)."""
    task_id, dash, incarnation = execution_name.rpartition("-")
    return task_id if dash and _INCARNATION.fullmatch(dash + incarnation) else execution_name


class Sweeper:
    """Repairs records that say working although no execution runs for them: their start was interrupted, or the
    event that would have reconciled them was lost (EventBridge delivery is best effort). Reads the sparse index of
    active tasks and one listing of running executions, so a sweep costs about one call per 1,000 tasks."""

    def __init__(self, store: WorkerStore, executions: Executions, reconciler: Reconciler, grace_seconds: int = 120):
        self.store = store
        self.executions = executions
        self.reconciler = reconciler
        self.grace = timedelta(seconds=grace_seconds)

    def sweep(self, now: datetime | None = None) -> dict[str, Any]:
        cutoff = iso((now or utc_now()) - self.grace)  # a start in progress has its execution well within this
        candidates = self.store.list_active(created_before=cutoff)
        if not candidates:
            return {"checked": 0, "repaired": []}
        running = self.executions.running_names()
        repaired: list[dict[str, Any]] = []
        for task_id in candidates:
            record = self.store.get_unscoped(task_id)
            if record.status.is_terminal or (record.execution_name and record.execution_name in running):
                continue
            execution = self.executions.describe(record.execution_arn) if record.execution_arn else None
            if execution is None:
                # The endpoint wrote the record but the execution never started, and the caller was never given
                # this id (the endpoint answers only after the start): fail it rather than run work nobody awaits.
                changed = self.store.mark_failed(
                    task_id,
                    owner=record.owner,
                    error_type="StartFailed",
                    error_message="The task's workflow never started (the start request was interrupted); "
                    "start the task again",
                )
                if changed:
                    self.reconciler.delivery.deliver(task_id)
                repaired.append({"task_id": task_id, "action": "failed", "reason": "no execution"})
            elif execution["status"] != "RUNNING":
                outcome = self.reconciler.reconcile(
                    {
                        "name": record.execution_name,
                        "executionArn": record.execution_arn,
                        "status": execution["status"],
                        "error": execution.get("error"),
                        "cause": execution.get("cause"),
                    }
                )
                repaired.append({"task_id": task_id, "action": "reconciled", "status": outcome.get("status")})
        if repaired:
            metrics.add_metric(name="TasksSwept", unit="Count", value=len(repaired))
            logger.warning("sweep repaired stranded tasks", extra={"repaired": repaired})
        return {"checked": len(candidates), "repaired": repaired}

"""The work behind the state machine: run one step, write the result, reconcile ended executions."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, Protocol

from longhaul.errors import (
    LonghaulError,
    ProgressWentBackwards,
    ResultTooLarge,
    StepLimitExceeded,
    TaskNotFound,
)
from longhaul.kinds import Continue, Done, Sleep, get_kind
from longhaul.kinds.base import NeedInput
from longhaul.models import (
    ResultRef,
    StepOutcome,
    StepRequest,
    TaskRecord,
    TaskStatus,
    WriteResultRequest,
    utc_now,
)
from longhaul.observability import logger, metrics
from longhaul.settings import Settings

MAX_CURSOR_BYTES = 32 * 1024
MAX_SLEEP_SECONDS = 7 * 24 * 3600
MAX_RESULT_BYTES = 100 * 1024 * 1024


class CursorTooLarge(LonghaulError):
    """A step returned a cursor too large to carry through the workflow; keep big state in S3 and pass its key."""


class WorkerStore(Protocol):
    def get(self, task_id: str, owner: str | None = None) -> TaskRecord: ...
    def report_progress(self, task_id: str, fraction: float, message: str) -> None: ...
    def record_step(self, task_id: str, step_count: int) -> None: ...
    def complete(self, task_id: str, result: Any = None, result_ref: ResultRef | None = None) -> bool: ...
    def finish(self, task_id: str, status: TaskStatus, error_type: str | None, error_message: str | None) -> bool: ...
    def set_memory_event(self, task_id: str, event_id: str) -> None: ...


class ResultBlobs(Protocol):
    def put_result(self, task_id: str, body: bytes) -> ResultRef: ...


class ResultMemory(Protocol):
    def write(self, *, task_id: str, actor_id: str, session_id: str, question: str, answer: str, at: Any) -> str: ...


class _StepContext:
    """The StepContext a kind's step function gets: progress goes to the task record, at most once per
    ``min_interval`` seconds (a kind may report per item; the table should not pay per item). The latest
    value is always written before the step returns."""

    def __init__(self, store: WorkerStore, task_id: str, step_number: int, deadline: float, min_interval: float = 1.0):
        self._store = store
        self._task_id = task_id
        self._step_number = step_number
        self._deadline = deadline
        self._min_interval = min_interval
        self._last_write = -float("inf")
        self._pending: tuple[float, str] | None = None

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

    def flush(self) -> None:
        """Write the latest reported progress, if it is not written yet."""
        if self._pending is None:
            return
        fraction, message = self._pending
        self._pending, self._last_write = None, time.monotonic()
        try:
            self._store.report_progress(self._task_id, fraction, message)
        except ProgressWentBackwards:
            logger.debug("progress below the stored value ignored", extra={"fraction": fraction})

    def remaining_seconds(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    @property
    def input_responses(self) -> dict[str, Any]:
        # Read lazily: only a kind that asked for input pays for the read.
        if not hasattr(self, "_input_responses"):
            self._input_responses = dict(self._store.get(self._task_id).input_responses or {})
        return self._input_responses


class StepRunner:
    def __init__(self, store: WorkerStore, blobs: ResultBlobs, settings: Settings):
        self.store = store
        self.blobs = blobs
        self.settings = settings

    def run_step(self, request: StepRequest, remaining_ms: Callable[[], int]) -> StepOutcome:
        """Run one chunk of the task within the Lambda's remaining time and say what the workflow does next."""
        step_number = request.step_count + 1
        if step_number > self.settings.max_steps_per_task:
            raise StepLimitExceeded(
                f"Task ran {request.step_count} steps, the most one task may run (MAX_STEPS_PER_TASK); "
                "make each step do more work"
            )
        kind = get_kind(request.kind)
        params = kind.parse_params(request.params)
        budget = remaining_ms() / 1000
        # Leave time to write the checkpoint and return before Lambda's hard timeout.
        deadline = time.monotonic() + budget - min(30.0, max(1.0, budget * 0.1))
        ctx = _StepContext(
            self.store, request.task_id, step_number, deadline, self.settings.progress_min_interval_seconds
        )
        started = time.perf_counter()
        outcome = kind.step(params, request.cursor, ctx)
        ctx.flush()
        metrics.add_metric(name="StepDuration", unit="Milliseconds", value=(time.perf_counter() - started) * 1000)
        self.store.record_step(request.task_id, step_number)  # also stops here if the task was cancelled meanwhile

        if isinstance(outcome, Continue):
            return StepOutcome(outcome="continue", cursor=_checked_cursor(outcome.cursor), step_count=step_number)
        if isinstance(outcome, Sleep):
            seconds = int(min(MAX_SLEEP_SECONDS, max(1, outcome.seconds)))
            return StepOutcome(
                outcome="sleep", cursor=_checked_cursor(outcome.cursor), sleep_seconds=seconds, step_count=step_number
            )
        if isinstance(outcome, Done):
            body = json.dumps(outcome.result, separators=(",", ":")).encode()
            if len(body) > MAX_RESULT_BYTES:
                raise ResultTooLarge(f"Result is {len(body)} bytes; the most longhaul stores is {MAX_RESULT_BYTES}")
            if len(body) > self.settings.inline_result_max_bytes:
                # Too big for the workflow's 256 KiB payload: store it now, pass only the pointer on.
                ref = self.blobs.put_result(request.task_id, body)
                return StepOutcome(outcome="done", result_ref=ref, step_count=step_number)
            return StepOutcome(outcome="done", result=outcome.result, step_count=step_number)
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


class ResultWriter:
    def __init__(self, store: WorkerStore, memory: ResultMemory | None, actor_id_for: Callable[[str], str]):
        self.store = store
        self.memory = memory
        self.actor_id_for = actor_id_for

    def write_result(self, request: WriteResultRequest) -> dict[str, Any]:
        """Deliver the result to AgentCore Memory (once) and mark the task completed. Safe to retry."""
        record = self.store.get(request.task_id)
        if record.status.is_terminal:
            logger.info("task already terminal; result not written", extra={"status": record.status.value})
            return {"task_id": record.task_id, "status": record.status.value}
        if self.memory is not None and record.session_id and record.memory_event_id is None:
            # The record remembers the event; the clientToken covers a crash between the two writes.
            now = utc_now()
            event_id = self.memory.write(
                task_id=record.task_id,
                actor_id=self.actor_id_for(record.owner),
                session_id=record.session_id,
                question=f"[longhaul] What was the outcome of the {record.kind} task {record.task_id}?",
                answer=memory_text(record, request),
                at=now,
            )
            self.store.set_memory_event(record.task_id, event_id)
        if self.store.complete(request.task_id, result=request.result, result_ref=request.result_ref):
            metrics.add_metric(name="TaskCompleted", unit="Count", value=1)
            logger.info("task completed", extra={"kind": record.kind})
        return {"task_id": record.task_id, "status": TaskStatus.COMPLETED.value}


# Room for the SessionMessage envelope inside AgentCore's 100,000-character message limit.
MAX_MEMORY_RESULT_CHARS = 80_000


def memory_text(record: TaskRecord, request: WriteResultRequest) -> str:
    """What the agent recalls: the whole result when it fits one message, else a summary and where to get it."""
    head = f"The {record.kind} task {record.task_id} completed."
    if request.result_ref is None:
        full = json.dumps(request.result, indent=1)
        if len(full) <= MAX_MEMORY_RESULT_CHARS:
            return f"{head} Result:\n{full}"
        size = len(full)
    else:
        size = request.result_ref.size_bytes
    summary = ""
    if isinstance(request.result, dict):
        scalars = {k: v for k, v in request.result.items() if isinstance(v, str | int | float | bool)}
        summary = " Summary: " + json.dumps(scalars)[:2000] if scalars else ""
    return (
        f"{head} Its result is {size} bytes, too large to repeat here.{summary} "
        f"Call the get_task_result tool with task_id {record.task_id!r} to read it in full."
    )


# Step Functions execution statuses that end a task without its own Catch having run.
_RECONCILED = {
    "ABORTED": (TaskStatus.CANCELLED, None),
    "FAILED": (TaskStatus.FAILED, "States.ExecutionFailed"),
    "TIMED_OUT": (TaskStatus.FAILED, "States.Timeout"),
}


class Reconciler:
    def __init__(self, store: WorkerStore):
        self.store = store

    def reconcile(self, detail: dict[str, Any]) -> dict[str, Any]:
        """Make the record terminal for an execution that ended as FAILED, TIMED_OUT or ABORTED, if it is not yet."""
        task_id, execution_status = detail["name"], detail["status"]
        if execution_status not in _RECONCILED:
            return {"task_id": task_id, "changed": False, "reason": f"status {execution_status} needs nothing"}
        status, default_error = _RECONCILED[execution_status]
        error_type = detail.get("error") or default_error
        message = (
            detail.get("cause")
            or {
                "ABORTED": "The execution was stopped",
                "FAILED": "The workflow failed",
                "TIMED_OUT": "The workflow timed out",
            }[execution_status]
        )
        try:
            changed = self.store.finish(task_id, status, error_type, message)
        except TaskNotFound:
            logger.warning("execution has no task record", extra={"execution": detail.get("executionArn")})
            return {"task_id": task_id, "changed": False, "reason": "no such task"}
        if changed:
            metrics.add_metric(name="TaskReconciled", unit="Count", value=1)
            logger.warning("task made terminal by reconcile", extra={"status": status.value, "error_type": error_type})
        return {"task_id": task_id, "changed": changed, "status": status.value}

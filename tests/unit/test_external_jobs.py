"""A job a task started elsewhere is stopped when the task ends without it: by the reconciler (cancelled, failed or
timed out executions) and by the step that started it when the task was cancelled meanwhile. Plain fakes."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel

from longhaul.errors import TaskAlreadyTerminal, TransientStepError
from longhaul.kinds import Sleep, TaskKind
from longhaul.models import StepRequest, TaskRecord, TaskStatus
from longhaul.settings import Settings
from longhaul.worker import Reconciler, StepRunner


class NoParams(BaseModel):
    pass


class Jobs:
    """The remote service: which jobs were stopped, and how stopping goes."""

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.stopped: list[tuple[str, str]] = []
        self.fail_with = fail_with

    def cancel(self, job_id: str, ctx: Any) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.stopped.append((job_id, ctx.task_id))


def starts_a_job(params: NoParams, cursor: Any, ctx: Any) -> Sleep:
    ctx.track_external_job("job-42")
    return Sleep(5, {"job": "job-42"})


@pytest.fixture
def jobs(register_kind) -> Jobs:
    remote = Jobs()
    register_kind(
        TaskKind(
            name="remote_job",
            title="r",
            description="r",
            params_model=NoParams,
            step=starts_a_job,
            cancel=remote.cancel,
        )
    )
    return remote


def record(**fields: Any) -> TaskRecord:
    values: dict[str, Any] = {
        "task_id": "t1",
        "owner": "alice",
        "kind": "remote_job",
        "created_at": "2026-11-27T10:00:00.000Z",
        "updated_at": "2026-11-27T10:00:00.000Z",
        "expires_at": 1,
        "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:wf:t1-0123456789ab",
    }
    return TaskRecord(**{**values, **fields})


class Store:
    def __init__(self, current: TaskRecord, cancelled_meanwhile: bool = False) -> None:
        self.current = current
        self.cancelled_meanwhile = cancelled_meanwhile
        self.checkpoints: list[tuple[int, str | None]] = []

    def get_unscoped(self, task_id: str) -> TaskRecord:
        return self.current

    def mark_started(self, task_id: str) -> None:
        pass

    def record_step(self, task_id: str, step_count: int, progress: Any = None, external_job: str | None = None) -> None:
        if self.cancelled_meanwhile:
            raise TaskAlreadyTerminal(task_id, "cancelled")
        self.checkpoints.append((step_count, external_job))

    def mark_cancelled(self, task_id: str, *, owner: str, message: str = "") -> bool:
        self.current = self.current.model_copy(update={"status": TaskStatus.CANCELLED})
        return True

    def mark_failed(self, task_id: str, *, owner: str, error_type: str, error_message: str) -> bool:
        self.current = self.current.model_copy(update={"status": TaskStatus.FAILED})
        return True


class Delivery:
    def deliver(self, task_id: str) -> dict[str, Any]:
        return {}


def run_first_step(store: Store) -> Any:
    runner = StepRunner(store, blobs=None, settings=Settings())  # type: ignore[arg-type]
    request = StepRequest(task_id="t1", owner="alice", kind="remote_job")
    return runner.run_step(request, lambda: 60_000)


def test_the_job_a_step_started_is_saved_with_its_checkpoint(jobs):
    store = Store(record())
    assert run_first_step(store).outcome == "sleep"
    assert store.checkpoints == [(1, "job-42")]  # the one write of the step, no extra one
    assert jobs.stopped == []


def test_a_task_cancelled_while_its_step_started_a_job_has_the_job_stopped_at_once(jobs):
    store = Store(record(), cancelled_meanwhile=True)
    assert run_first_step(store).outcome == "done"  # the cancel stands; the workflow only delivers it
    assert jobs.stopped == [("job-42", "t1")]


@pytest.mark.parametrize("status", ["ABORTED", "FAILED", "TIMED_OUT"])
def test_the_reconciler_stops_the_job_of_a_task_whose_execution_ended(jobs, status):
    store = Store(record(external_job="job-42"))
    reconciler = Reconciler(store, Delivery())  # type: ignore[arg-type]
    reconciler.reconcile({"name": "t1-0123456789ab", "executionArn": store.current.execution_arn, "status": status})
    assert jobs.stopped == [("job-42", "t1")]


def test_a_task_without_a_job_stops_nothing(jobs):
    store = Store(record())
    Reconciler(store, Delivery()).reconcile({"name": "t1", "status": "ABORTED"})  # type: ignore[arg-type]
    assert jobs.stopped == []


def test_a_throttled_stop_is_retried_and_a_refused_one_is_logged(jobs):
    from botocore.exceptions import ClientError

    throttled = ClientError({"Error": {"Code": "TooManyRequestsException"}}, "StopQueryExecution")
    jobs.fail_with = throttled
    store = Store(record(external_job="job-42"))
    with pytest.raises(TransientStepError):  # the reconcile invocation is retried; ending and delivery are idempotent
        Reconciler(store, Delivery()).reconcile({"name": "t1", "status": "ABORTED"})  # type: ignore[arg-type]
    jobs.fail_with = ClientError({"Error": {"Code": "AccessDeniedException"}}, "StopQueryExecution")
    outcome = Reconciler(store, Delivery()).reconcile({"name": "t1", "status": "ABORTED"})  # type: ignore[arg-type]
    assert outcome["status"] == "cancelled"


def test_without_an_athena_workgroup_athena_query_fails_saying_queries_are_not_set_up():
    from longhaul.errors import QueriesUnavailable

    store = Store(record(kind="athena_query"))
    runner = StepRunner(store, blobs=None, settings=Settings(), queries=None)  # type: ignore[arg-type]
    request = StepRequest(task_id="t1", owner="alice", kind="athena_query", params={"sql": "SELECT 1"})
    with pytest.raises(QueriesUnavailable, match="Athena queries are not set up on this deployment"):
        runner.run_step(request, lambda: 60_000)
    assert store.checkpoints == []

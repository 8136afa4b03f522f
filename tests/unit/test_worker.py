"""RunStep's step context: progress reaches the record without a write per report."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from longhaul.kinds import Continue, Done, TaskKind
from longhaul.messages import StepRequest
from longhaul.settings import Settings
from longhaul.worker import StepRunner


class RecordingStore:
    def __init__(self) -> None:
        self.progress: list[tuple[float, str]] = []
        self.steps: list[int] = []

    def report_progress(self, task_id: str, fraction: float, message: str) -> None:
        self.progress.append((fraction, message))

    def mark_started(self, task_id: str) -> None:
        self.progress.append((0.0, "started"))

    def record_step(
        self, task_id: str, step_count: int, progress: tuple[float, str] | None = None, external_job: str | None = None
    ) -> None:
        self.steps.append(step_count)
        if progress is not None:
            self.progress.append(progress)

    def complete(self, task_id: str, *, owner: str, step_count: int, result: Any = None, **fields: Any) -> bool:
        self.steps.append(step_count)
        self.completed = (owner, result, fields.get("message"))
        return True


class NoParams(BaseModel):
    pass


def test_a_kind_reporting_per_item_writes_rarely_and_its_last_report_always_lands(register_kind):
    def chatty(params: Any, cursor: Any, ctx: Any) -> Done:
        for i in range(1, 1001):
            ctx.progress(i / 1000, f"item {i}")
        return Done({"items": 1000})

    register_kind(TaskKind(name="chatty", title="c", description="c", params_model=NoParams, step=chatty))
    store = RecordingStore()
    runner = StepRunner(store, blobs=None, settings=Settings(progress_min_interval_seconds=60))  # type: ignore[arg-type]

    outcome = runner.run_step(StepRequest(task_id="t1", owner="alice", kind="chatty"), remaining_ms=lambda: 60_000)

    assert outcome.outcome == "done" and store.steps == [1]
    # The result and the last report reach the record in the completing write, before the step returns.
    assert store.completed == ("alice", {"items": 1000}, "item 1000")
    assert store.progress == [(0.0, "started")]  # no write per item: the last one comes with the completion


def test_a_continuing_step_writes_its_checkpoint_and_last_progress_in_one_write(register_kind):
    def halfway(params: Any, cursor: Any, ctx: Any) -> Continue:
        ctx.progress(0.25, "a quarter")
        ctx.progress(0.5, "half")
        return Continue({"at": 2})

    register_kind(TaskKind(name="halfway", title="h", description="h", params_model=NoParams, step=halfway))
    store = RecordingStore()
    runner = StepRunner(store, blobs=None, settings=Settings(progress_min_interval_seconds=60))  # type: ignore[arg-type]

    outcome = runner.run_step(StepRequest(task_id="t1", owner="a", kind="halfway", step_count=4), lambda: 60_000)

    assert (outcome.outcome, outcome.cursor, outcome.step_count) == ("continue", {"at": 2}, 5)
    assert store.progress == [(0.5, "half")]  # with the checkpoint, in one write; not "started" again (step 5)

"""RunStep's step context: progress reaches the record without a write per report."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from longhaul.kinds import Done, TaskKind
from longhaul.models import StepRequest
from longhaul.settings import Settings
from longhaul.worker import StepRunner


class RecordingStore:
    def __init__(self) -> None:
        self.progress: list[tuple[float, str]] = []
        self.steps: list[int] = []

    def report_progress(self, task_id: str, fraction: float, message: str) -> None:
        self.progress.append((fraction, message))

    def record_step(self, task_id: str, step_count: int) -> None:
        self.steps.append(step_count)

    def complete(
        self, task_id: str, *, owner: str, step_count: int, result: Any = None, result_ref: Any = None
    ) -> bool:
        self.steps.append(step_count)
        self.completed = (owner, result)
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
    runner = StepRunner(store, blobs=None, settings=Settings(PROGRESS_MIN_INTERVAL_SECONDS=60))  # type: ignore[arg-type]

    outcome = runner.run_step(StepRequest(task_id="t1", owner="alice", kind="chatty"), remaining_ms=lambda: 60_000)

    assert outcome.outcome == "done" and store.steps == [1]
    assert store.completed == ("alice", {"items": 1000})  # the result is in the record before the step returns
    assert store.progress == [(0.001, "item 1"), (1.0, "item 1000")]

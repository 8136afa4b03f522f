"""A deploy that changes a kind's params while its tasks run: a step that cannot rebuild the params a task started
with fails that task with a message naming the field, on the real workflow (moto's Step Functions running the ASL,
the handlers in-process) - not a TypeError trace, and not a task stuck retrying."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from longhaul import kinds, runtime
from longhaul.kinds import Done, Sleep, TaskKind, param
from longhaul.models import TaskStatus
from longhaul_dev.stack import wait_for_execution


@dataclass(frozen=True)
class BeforeDeploy:
    size: int = param(1, ge=1)
    retired: str = "soon gone"


@dataclass(frozen=True)
class AfterDeploy:
    size: int = param(1, ge=1)


def test_a_task_whose_kind_dropped_a_param_since_it_started_fails_naming_it(stack, register_kind):
    first_step = threading.Event()

    def before(params: BeforeDeploy, cursor: Any, ctx: Any) -> Sleep:
        first_step.set()
        return Sleep(1, "again")

    def after(params: AfterDeploy, cursor: Any, ctx: Any) -> Done:
        return Done(params.size)

    register_kind(TaskKind(name="redeployed", title="r", description="r", params_model=BeforeDeploy, step=before))
    service = runtime.task_service()
    record = service.start("alice", "redeployed", {"size": 2, "retired": "still here"})
    assert record.params == {"size": 2, "retired": "still here"}
    assert first_step.wait(60)
    # The new version is deployed while the task sleeps: its next step runs the new kind on the stored params.
    kinds.unregister("redeployed")
    register_kind(TaskKind(name="redeployed", title="r", description="r", params_model=AfterDeploy, step=after))

    assert wait_for_execution(record.execution_arn)["status"] == "FAILED"
    final = service.get("alice", record.task_id)
    assert (final.status, final.error_type) == (TaskStatus.FAILED, "InvalidTaskParams")
    assert final.error_message == (
        "This task's stored parameters no longer fit AfterDeploy (unknown: retired): the kind's parameters changed "
        "since the task started; start the task again"
    )

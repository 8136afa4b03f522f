"""StopExecution ends an execution that waits on a task token, as on AWS.

moto 5.2.5's Step Functions parser marks a stopped execution's environment stopped, but a ``.waitForTaskToken``
state keeps waiting on its callback event until a SendTask* call arrives, so the execution stays RUNNING
forever. This wraps moto's private ``ExecutionWorker.stop`` (pinned moto version; see
tests/unit/test_moto_callbacks.py) to also release every pending callback of that execution, which lets the
stopped program end as ABORTED.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_original: Callable[..., Any] | None = None


def _stop_and_interrupt_callbacks(self: Any, *args: Any, **kwargs: Any) -> None:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess

    assert _original is not None
    _original(self, *args, **kwargs)
    # Release the waiting state with an empty success: the program sees it is stopped before its next state and
    # ends ABORTED. (A failure outcome would run the state's Catch and end the execution FAILED.)
    pool = getattr(self.env.callback_pool_manager, "_pool", {})
    for endpoint in list(pool.values()):
        endpoint.notify(CallbackOutcomeSuccess(callback_id=endpoint.callback_id, output="{}"))


def install() -> None:
    """Patch moto once per process; idempotent."""
    global _original
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    with _lock:
        if _original is None:
            _original = ExecutionWorker.stop
            ExecutionWorker.stop = _stop_and_interrupt_callbacks  # type: ignore[method-assign]


def uninstall() -> None:
    global _original
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    with _lock:
        if _original is not None:
            ExecutionWorker.stop = _original  # type: ignore[method-assign]
            _original = None

"""StopExecution ends an execution for good, as on AWS: two fixes to moto 5.2.5's Step Functions parser.

1. A ``.waitForTaskToken`` state keeps waiting on its callback after the execution is stopped, so the execution
   stays RUNNING forever. ``ExecutionWorker.stop`` is wrapped to also release every pending callback of that
   execution (with an empty success: a failure would run the state's Catch), so the stopped program ends ABORTED.
2. A stop that lands while a Task state is mid-flight can make that state fail afterwards (its evaluation stack
   is torn down under it: ``IndexError`` / ``'dict' object has no attribute 'region'``), and the program then
   records FAILED over the stop. On AWS a stopped execution is ABORTED, full stop: ``Environment.set_error`` is
   wrapped to leave a stopped program stopped.

Both wrap private moto APIs (pinned moto version; see tests/unit/test_moto_callbacks.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_original_stop: Callable[..., Any] | None = None
_original_set_error: Callable[..., Any] | None = None


def _stop_and_release_callbacks(self: Any, *args: Any, **kwargs: Any) -> None:
    from moto.stepfunctions.parser.asl.eval.callback.callback import CallbackOutcomeSuccess

    assert _original_stop is not None
    _original_stop(self, *args, **kwargs)
    pool = getattr(self.env.callback_pool_manager, "_pool", {})
    for endpoint in list(pool.values()):
        endpoint.notify(CallbackOutcomeSuccess(callback_id=endpoint.callback_id, output="{}"))


def _set_error_unless_stopped(self: Any, *args: Any, **kwargs: Any) -> None:
    from moto.stepfunctions.parser.asl.eval.program_state import ProgramStopped

    assert _original_set_error is not None
    if isinstance(self._program_state, ProgramStopped):
        return
    _original_set_error(self, *args, **kwargs)


def install() -> None:
    """Patch moto once per process; idempotent."""
    global _original_stop, _original_set_error
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    with _lock:
        if _original_stop is None:
            _original_stop = ExecutionWorker.stop
            ExecutionWorker.stop = _stop_and_release_callbacks  # type: ignore[method-assign]
        if _original_set_error is None:
            _original_set_error = Environment.set_error
            Environment.set_error = _set_error_unless_stopped  # type: ignore[method-assign]


def uninstall() -> None:
    global _original_stop, _original_set_error
    from moto.stepfunctions.parser.asl.eval.environment import Environment
    from moto.stepfunctions.parser.backend.execution_worker import ExecutionWorker

    with _lock:
        if _original_stop is not None:
            ExecutionWorker.stop = _original_stop  # type: ignore[method-assign]
            _original_stop = None
        if _original_set_error is not None:
            Environment.set_error = _original_set_error  # type: ignore[method-assign]
            _original_set_error = None

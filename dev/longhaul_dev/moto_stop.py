"""StopExecution ends an execution for good, as on AWS: three fixes to moto 5.2.5's Step Functions parser.

moto evaluates a state component by component, and every component it reaches after a stop does nothing; so a stop
that lands inside a state leaves that state half evaluated. On AWS a stop is atomic. The fixes:

1. A ``.waitForTaskToken`` state keeps waiting on its callback after the execution is stopped, so the execution
   stays RUNNING forever. ``ExecutionWorker.stop`` is wrapped to also release every pending callback of that
   execution (with an empty success: a failure would run the state's Catch), so the stopped program ends ABORTED.
2. A stop that lands while a Task state is mid-flight can make that state fail afterwards (its evaluation stack
   is torn down under it: ``IndexError`` / ``'dict' object has no attribute 'region'``), and the program then
   records FAILED over the stop. On AWS a stopped execution is ABORTED, full stop: ``Environment.set_error`` is
   wrapped to leave a stopped program stopped.
3. A stop that lands while a Task state evaluates its Parameters leaves them partial (the bindings after the stop
   are skipped), and moto then makes the call anyway: RunStep was invoked with a task's id but not its params or
   cursor, ran the kind's defaults from the start and completed a stopped task. On AWS a stopped execution starts
   no call. ``StateTask._eval_parameters`` (and its two overrides) is wrapped to make no call once stopped.

All wrap private moto APIs (pinned moto version; see tests/unit/test_moto_stop.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

_lock = threading.Lock()
_original_stop: Callable[..., Any] | None = None
_original_set_error: Callable[..., Any] | None = None
_original_parameters: dict[type, Callable[..., Any]] = {}


class StoppedBeforeCall(RuntimeError):
    """The execution was stopped while a Task state built its call: the call is not made."""


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


def _parameters_unless_stopped(original: Callable[..., Any]) -> Callable[..., Any]:
    def parameters(self: Any, env: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            evaluated = original(self, env, *args, **kwargs)
        except Exception as error:  # a stop can tear the evaluation stack down under it (fix 2)
            if env.is_running():
                raise
            raise StoppedBeforeCall("the execution was stopped before this state's call") from error
        if not env.is_running():
            raise StoppedBeforeCall("the execution was stopped before this state's call")
        return evaluated

    return parameters


def _task_state_classes() -> list[type]:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task import StateTask
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_activitiy import (
        StateTaskActivity,
    )
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.state_task_lambda import StateTaskLambda

    return [StateTask, StateTaskActivity, StateTaskLambda]  # the classes that define _eval_parameters


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
        for cls in _task_state_classes():
            if cls not in _original_parameters:
                _original_parameters[cls] = cls.__dict__["_eval_parameters"]
                cls._eval_parameters = _parameters_unless_stopped(_original_parameters[cls])  # type: ignore[attr-defined]


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
        for cls, original in _original_parameters.items():
            cls._eval_parameters = original  # type: ignore[attr-defined]
        _original_parameters.clear()

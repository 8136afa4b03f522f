"""What happens in the in-process moto of ``longhaul dev``, told to its watcher as it happens, so that the watcher
looks at the stack only when there is something to see (an idle dev server then makes no calls at all).

Two events: an item write in DynamoDB (a task started, made progress, ended) and a Step Functions execution that
ended (whatever its status). Wraps moto's DynamoDB response handler and the execution's private ``terminated``
callback (pinned moto version, like moto_stop; tests/unit/test_moto_activity.py pins both).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any

WRITES = ("put_item", "update_item", "delete_item", "batch_write_item", "transact_write_items")

Listener = Callable[[str], None]  # called with "write" or "ended", on the thread that did it: keep it short

_lock = threading.Lock()
_listeners: list[Listener] = []
_originals: list[tuple[type, str, Callable[..., Any]]] = []


def subscribe(listener: Listener) -> None:
    """Call ``listener`` after every DynamoDB item write and every ended execution in this process's moto."""
    install()
    with _lock:
        _listeners.append(listener)


def unsubscribe(listener: Listener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


def _tell(what: str) -> None:
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(what)


def _after(original: Callable[..., Any], what: str) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        finally:  # a refused conditional write changed nothing, but a look costs less than telling them apart
            _tell(what)

    return wrapper


def install() -> None:
    """Patch moto once per process; idempotent."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.stepfunctions.parser.backend.execution import BaseExecutionWorkerCommunication

    with _lock:
        if _originals:
            return
        targets: list[tuple[type, str, str]] = [(DynamoHandler, action, "write") for action in WRITES]
        targets.append((BaseExecutionWorkerCommunication, "terminated", "ended"))
        for cls, name, what in targets:
            original = getattr(cls, name)
            _originals.append((cls, name, original))
            setattr(cls, name, _after(original, what))


def uninstall() -> None:
    with _lock:
        for cls, name, original in reversed(_originals):
            setattr(cls, name, original)
        _originals.clear()
        _listeners.clear()

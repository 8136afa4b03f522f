"""Retry waits on the local stack, optionally compressed: ``LONGHAUL_DEV_RETRY_WAIT_SCALE=0.05`` makes every wait
between retries 20x shorter, while what is retried, how often and in what order stays as on AWS.

Two places wait in real time when a fault is injected: the workflow's Retry (moto sleeps ``IntervalSeconds`` x
``BackoffRate`` with the definition's jitter) and botocore's standard retry mode (exponential backoff with jitter,
up to 20 s). The test suite sets the scale (tests/conftest.py); ``longhaul dev`` keeps AWS's timing unless you set
it. Wraps a private moto API (pinned moto version), like moto_stop.
"""

from __future__ import annotations

import os
import threading
import time
import types
from collections.abc import Callable
from typing import Any

SCALE_VARIABLE = "LONGHAUL_DEV_RETRY_WAIT_SCALE"

_lock = threading.Lock()
_original_time: Any = None
_original_delay: Callable[..., float] | None = None


def scale() -> float:
    """The factor applied to every retry wait (1: AWS's own timing); read at each wait, so a test may change it."""
    try:
        value = float(os.environ.get(SCALE_VARIABLE) or 1.0)
    except ValueError:
        return 1.0
    return min(1.0, max(0.0, value))


def _scaled_sleep(seconds: float) -> None:
    time.sleep(seconds * scale())


def _scaled_delay(self: Any, context: Any) -> float:
    assert _original_delay is not None
    return _original_delay(self, context) * scale()


def install() -> None:
    """Patch moto's Retry wait and botocore's backoff once per process; idempotent."""
    global _original_time, _original_delay
    from botocore.retries.standard import ExponentialBackoff
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    with _lock:
        if _original_time is None:
            # retrier_decl uses the time module only for that sleep.
            _original_time = retrier_decl.time
            retrier_decl.time = types.SimpleNamespace(sleep=_scaled_sleep)  # type: ignore[assignment]
        if _original_delay is None:
            _original_delay = ExponentialBackoff.delay_amount
            ExponentialBackoff.delay_amount = _scaled_delay


def uninstall() -> None:
    global _original_time, _original_delay
    from botocore.retries.standard import ExponentialBackoff
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    with _lock:
        if _original_time is not None:
            retrier_decl.time = _original_time
            _original_time = None
        if _original_delay is not None:
            ExponentialBackoff.delay_amount = _original_delay
            _original_delay = None

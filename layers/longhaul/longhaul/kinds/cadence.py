"""When a built-in kind checkpoints: once it has worked ``checkpoint_seconds``, or when the next unit of work would
not fit in what is left of the step's time budget - not after every unit.

Each checkpoint is one workflow step: two Step Functions transitions and one DynamoDB write, whatever the step did.
Fewer, longer steps cost less to orchestrate; a crash or a retried step loses the work since the last checkpoint.
Progress reaches clients during a long step all the same (``ctx.progress`` writes at most every
PROGRESS_MIN_INTERVAL_SECONDS). docs/kinds.md "Choosing the step size" has the numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from longhaul.kinds.base import StepContext
from longhaul.kinds.params import param

# Lambda's longest run: by default a step works its whole time budget (StepTimeoutSeconds, less a safety margin).
LONGEST_STEP_SECONDS = 900


def checkpoint_seconds_field() -> Any:
    """The ``checkpoint_seconds`` field of a kind's params dataclass (``checkpoint_seconds: float =
    checkpoint_seconds_field()``). No description: tools/list carries it to every agent, and a model has no reason to
    change it; the name and the default say enough to a developer."""
    return param(LONGEST_STEP_SECONDS, ge=0, le=LONGEST_STEP_SECONDS)


@dataclass
class Cadence:
    """Says when the running step should checkpoint (return its cursor)."""

    checkpoint_seconds: float
    ctx: StepContext
    started: float = field(default_factory=time.monotonic)

    def due(self, next_unit_seconds: float = 0.0) -> bool:
        """True once the step worked ``checkpoint_seconds``, or when a next unit of about ``next_unit_seconds`` would
        not end within the step's time budget. Ask after a unit of work: a step always does at least one."""
        worked = time.monotonic() - self.started
        return worked >= self.checkpoint_seconds or self.ctx.remaining_seconds() < next_unit_seconds

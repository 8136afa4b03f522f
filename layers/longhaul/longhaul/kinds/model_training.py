"""``model_training``: the seed example. Trains a (simulated) model for N epochs.

The training itself is a deterministic loss curve and a sleep per epoch; what is real is the shape every
long task needs: a step trains epochs until ``checkpoint_seconds`` passed or its time budget would not fit another
epoch, then checkpoints its cursor; per-epoch progress; a result at the end.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from longhaul.kinds.base import Continue, Done, Elicit, NeedInput, StepContext, StepResult, task_kind
from longhaul.kinds.cadence import Cadence, checkpoint_seconds_field
from longhaul.kinds.params import param


# Field descriptions are read by models choosing arguments, in every tools/list: only where the name is not enough.
@dataclass(frozen=True)
class ModelTrainingParams:
    model_name: str = param("demo-model", min_length=1, max_length=128)
    epochs: int = param(5, ge=1, le=1000)
    learning_rate: float = param(0.01, gt=0, le=1)
    epoch_seconds: float = param(2.0, ge=0, le=600, description="Simulated seconds per epoch")
    checkpoint_seconds: float = checkpoint_seconds_field()
    approve_after_epochs: int | None = param(
        None,
        ge=1,
        le=1000,
        description="Pause for approval (input_required) after this many epochs, then train the rest",
    )


APPROVAL = Elicit(
    "The first epochs are done. Continue with the full (expensive) training run?",
    {
        "type": "object",
        "properties": {"approve": {"type": "boolean", "description": "true to train the remaining epochs"}},
        "required": ["approve"],
    },
)


def _loss_after(epoch: int, learning_rate: float) -> float:
    return round(2.5 * math.exp(-learning_rate * 25 * epoch) + 0.05, 6)


@task_kind(title="Train a model")
def model_training(params: ModelTrainingParams, cursor: Any, ctx: StepContext) -> StepResult:
    """Train a machine-learning model (minutes to hours: epochs x epoch_seconds)."""
    state = cursor or {"epoch": 0, "history": []}
    epoch, history = int(state["epoch"]), list(state["history"])
    gate = params.approve_after_epochs
    if state.get("awaiting_approval"):
        answer = ctx.input_responses.get("approve-full-run", {})
        if not (answer.get("action") == "accept" and answer.get("content", {}).get("approve") is True):
            return Done(_result(params, epoch, history, stopped="not approved after the first epochs"))
        state = {**state, "awaiting_approval": False, "approved": True}
    cadence = Cadence(params.checkpoint_seconds, ctx)
    while epoch < params.epochs:
        if gate is not None and epoch >= gate and not state.get("approved") and gate < params.epochs:
            return NeedInput(
                {"approve-full-run": APPROVAL}, {"epoch": epoch, "history": history[-20:], "awaiting_approval": True}
            )
        if epoch > state["epoch"] and cadence.due(params.epoch_seconds):
            break  # checkpoint now (cadence reached, or no time for another epoch); the next step goes on
        time.sleep(params.epoch_seconds)
        epoch += 1
        loss = _loss_after(epoch, params.learning_rate)
        history.append(loss)
        ctx.progress(epoch / params.epochs, f"epoch {epoch}/{params.epochs}, loss {loss:.4f}")
    if epoch < params.epochs:
        return Continue({"epoch": epoch, "history": history[-20:], "approved": bool(state.get("approved"))})
    return Done(_result(params, epoch, history))


def _result(
    params: ModelTrainingParams, epoch: int, history: list[float], stopped: str | None = None
) -> dict[str, Any]:
    final_loss = _loss_after(epoch, params.learning_rate)
    result: dict[str, Any] = {
        "model_name": params.model_name,
        "epochs": epoch if stopped else params.epochs,
        "final_loss": final_loss,
        "final_accuracy": round(max(0.0, 1 - final_loss / 2.55), 4),
        "loss_history_tail": history[-20:],
    }
    if stopped:
        result["stopped_early"] = stopped
    return result

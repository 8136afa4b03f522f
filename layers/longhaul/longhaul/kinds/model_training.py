"""``model_training``: the seed example. Trains a (simulated) model for N epochs, one checkpoint per step.

The training itself is a deterministic loss curve and a sleep per epoch; what is real is the shape every
long task needs: a cursor checkpointed after each step, per-epoch progress, and a result at the end.
"""

from __future__ import annotations

import math
import time
from typing import Any

from pydantic import BaseModel, Field

from longhaul.kinds.base import Continue, Done, StepContext, StepResult, TaskKind


class ModelTrainingParams(BaseModel):
    model_name: str = Field(default="demo-model", min_length=1, max_length=128, description="Name of the model.")
    epochs: int = Field(default=5, ge=1, le=1000, description="Number of training epochs.")
    learning_rate: float = Field(default=0.01, gt=0, le=1, description="Learning rate.")
    epoch_seconds: float = Field(default=2.0, ge=0, le=600, description="Simulated duration of one epoch, in seconds.")
    epochs_per_step: int = Field(
        default=1, ge=1, le=1000, description="Epochs per checkpoint (one workflow step); more means fewer steps."
    )


def _loss_after(epoch: int, learning_rate: float) -> float:
    return round(2.5 * math.exp(-learning_rate * 25 * epoch) + 0.05, 6)


def train_step(params: ModelTrainingParams, cursor: Any, ctx: StepContext) -> StepResult:
    state = cursor or {"epoch": 0, "history": []}
    epoch, history = int(state["epoch"]), list(state["history"])
    for _ in range(params.epochs_per_step):
        if epoch >= params.epochs:
            break
        if epoch > state["epoch"] and ctx.remaining_seconds() < params.epoch_seconds:
            break  # no time for another epoch in this step: checkpoint and continue in the next one
        time.sleep(params.epoch_seconds)
        epoch += 1
        loss = _loss_after(epoch, params.learning_rate)
        history.append(loss)
        ctx.progress(epoch / params.epochs, f"epoch {epoch}/{params.epochs}, loss {loss:.4f}")
    if epoch < params.epochs:
        return Continue({"epoch": epoch, "history": history[-20:]})
    final_loss = _loss_after(epoch, params.learning_rate)
    return Done(
        {
            "model_name": params.model_name,
            "epochs": params.epochs,
            "final_loss": final_loss,
            "final_accuracy": round(max(0.0, 1 - final_loss / 2.55), 4),
            "loss_history_tail": history[-20:],
        }
    )


KIND = TaskKind(
    name="model_training",
    title="Train a model",
    description=(
        "Train a machine-learning model for a number of epochs. Training takes minutes to hours "
        "(epochs x epoch_seconds), so this tool returns a task id immediately instead of the trained model."
    ),
    params_model=ModelTrainingParams,
    step=train_step,
    poll_interval_seconds=5,
)

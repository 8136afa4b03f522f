"""What a task kind is: a name, a params model, and a step function that does one chunk of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

from pydantic import BaseModel


@dataclass(frozen=True)
class Continue:
    """Run another step right away, starting from ``cursor``."""

    cursor: Any


@dataclass(frozen=True)
class Sleep:
    """Let the workflow wait ``seconds`` (no Lambda running, no compute billed), then step from ``cursor``."""

    seconds: int
    cursor: Any


@dataclass(frozen=True)
class Done:
    """The task finished with ``result`` (anything JSON-serialisable)."""

    result: Any


@dataclass(frozen=True)
class Elicit:
    """One question for the user: an MCP form elicitation (``elicitation/create``) with a flat JSON Schema of
    primitive properties, e.g. ``{"type": "object", "properties": {"approve": {"type": "boolean"}}}``."""

    message: str
    requested_schema: dict[str, Any]

    def as_request(self) -> dict[str, Any]:
        return {
            "method": "elicitation/create",
            "params": {"mode": "form", "message": self.message, "requestedSchema": self.requested_schema},
        }


@dataclass(frozen=True)
class NeedInput:
    """Park the task as ``input_required`` until every request is answered, then step again from ``cursor``.

    ``requests`` maps ids to questions; an id must be unique for the task's whole life (the next step reads
    the answers from ``ctx.input_responses[id]``). The workflow waits on a callback token meanwhile: no
    Lambda runs and nothing is billed, for days if need be."""

    requests: dict[str, Elicit]
    cursor: Any


StepResult = Continue | Sleep | Done | NeedInput


class StepContext(Protocol):
    """What a step function may ask of the running step."""

    @property
    def task_id(self) -> str: ...

    @property
    def step_number(self) -> int:
        """1 for the task's first step."""
        ...

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in 0..1; it is written to the task record at once. Lower values than before are ignored."""
        ...

    def remaining_seconds(self) -> float:
        """Seconds this step may still use before it must return a Continue (a safety margin already taken off)."""
        ...

    @property
    def input_responses(self) -> dict[str, Any]:
        """Answers to this task's NeedInput requests so far, by request id: ``{"action": "accept" | "decline" |
        "cancel", "content": {...}}`` (content only with accept). Read from the task record when first used."""
        ...


P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class TaskKind(Generic[P]):
    """A named unit of long work; every kind becomes its own MCP tool."""

    name: str
    title: str
    description: str
    params_model: type[P]
    step: Callable[[P, Any, StepContext], StepResult]
    # Seconds a client should wait between status polls.
    poll_interval_seconds: int = 5
    # "required": the work only makes sense as a task, so a 2026-07-28 client that does not speak the tasks
    # extension gets -32021 instead of the start tool's handle. "optional": either way works.
    task_support: Literal["optional", "required"] = "optional"
    # Questions a 2026-07-28 client answers before the task is created (multi round-trip requests): each accepted
    # answer's content fills in tool arguments the caller left out. E.g. {"user_name": Elicit(..., {name})}.
    ask_before_start: dict[str, Elicit] | None = None

    def parse_params(self, raw: dict[str, Any]) -> P:
        return self.params_model.model_validate(raw)

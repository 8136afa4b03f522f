"""What a task kind is: a name, a params model, and a step function that does one chunk of work."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar, get_type_hints

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


StepResult = Continue | Sleep | Done


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

    def parse_params(self, raw: dict[str, Any]) -> P:
        return self.params_model.model_validate(raw)


def task_kind(
    *, name: str | None = None, title: str | None = None, description: str | None = None, poll_interval_seconds: int = 5
) -> Callable[[Callable[[Any, Any, StepContext], StepResult]], TaskKind[Any]]:
    """Make a task kind of a typed step function: ``def render(params: RenderParams, cursor, ctx) -> StepResult``.

    The params model is the first parameter's annotation, the name the function's (unless given), and the
    description - what the model reads to choose the tool - the function's docstring. The module that defines it
    is named in LONGHAUL_KINDS, and the kind becomes an MCP tool.
    """

    def make(step: Callable[[Any, Any, StepContext], StepResult]) -> TaskKind[Any]:
        parameters = list(inspect.signature(step).parameters)
        params_model = get_type_hints(step).get(parameters[0]) if parameters else None
        if not (isinstance(params_model, type) and issubclass(params_model, BaseModel)):
            raise TypeError(f"{step.__name__}: annotate its first parameter with a pydantic model of the params")
        text = description or inspect.getdoc(step)
        if not text:
            raise TypeError(f"{step.__name__}: give it a docstring saying what the task does (the tool description)")
        kind_name = name or step.__name__
        return TaskKind(
            name=kind_name,
            title=title or kind_name.replace("_", " ").capitalize(),
            description=text,
            params_model=params_model,
            step=step,
            poll_interval_seconds=poll_interval_seconds,
        )

    return make

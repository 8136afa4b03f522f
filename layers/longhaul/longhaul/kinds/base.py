"""What a task kind is: a name, a params model, and a step function that does one chunk of work."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, get_type_hints

from pydantic import BaseModel, ValidationError

from longhaul.errors import InvalidTaskParams

if TYPE_CHECKING:
    from longhaul.inputs import InputReader
    from longhaul.queries import Queries


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
    def logger(self) -> Any:
        """The function's structured logger: every line it writes carries the task id (its correlation id)."""
        ...

    @property
    def inputs(self) -> InputReader:
        """The task owner's input files (keys under their own ``inputs/`` prefix); the only way a kind reads data."""
        ...

    @property
    def input_responses(self) -> dict[str, Any]:
        """Answers to this task's NeedInput requests so far, by request id: ``{"action": "accept" | "decline" |
        "cancel", "content": {...}}`` (content only with accept). Read from the task record when first used."""
        ...

    @property
    def client_token(self) -> str:
        """Unique to this run of the task (its execution name): pass it as the client token of a service that
        deduplicates starts, so a retried step finds the job it started instead of starting a second one."""
        ...

    @property
    def queries(self) -> Queries:
        """Athena SQL queries in the operator's workgroup and database, run as the task's owner (results under
        their own prefix). Raises ``QueriesUnavailable`` where the deployment configured none."""
        ...

    def track_external_job(self, job_id: str) -> None:
        """Say this step started a job elsewhere: its id is saved with the step's checkpoint (no extra write), and
        if the task is cancelled, fails or times out, the kind's ``cancel`` hook is called with it."""
        ...


class CancelContext(Protocol):
    """What a kind's ``cancel`` hook gets: enough to stop the job, as the task's owner."""

    @property
    def task_id(self) -> str: ...

    @property
    def logger(self) -> Any: ...

    @property
    def queries(self) -> Queries: ...


M = TypeVar("M", bound=BaseModel)


def parse_strict(model: type[M], raw: Any) -> M:
    """Validate ``raw`` as the JSON a client sent: unknown fields are errors, and nothing is coerced (``true`` is
    not ``1``, ``"3"`` is not ``3``, ``3.0`` is not an int). JSON-mode strictness still reads enum values and
    ISO dates from strings, as clients send them. Raises ``ValidationError``, or ``InvalidTaskParams`` for
    values that are not JSON at all."""
    try:
        text = json.dumps(raw, allow_nan=False)
    except (TypeError, ValueError):
        raise InvalidTaskParams("Invalid parameters: values must be plain JSON (no NaN or Infinity)") from None
    return model.model_validate_json(text, strict=True, extra="forbid")


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
    # Stops a job the task started elsewhere (the id a step passed to ctx.track_external_job) when the task is
    # cancelled, fails or times out. Must be safe to call more than once and for a job that already ended.
    cancel: Callable[[str, CancelContext], None] | None = None

    def parse_params(self, raw: dict[str, Any]) -> P:
        """The kind's params from a start request, strictly (see ``parse_strict``): every kind gets the same rules."""
        return parse_strict(self.params_model, raw)


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each bad field, for a client to act on (no pydantic URLs, no echo of large inputs)."""
    parts = []
    for issue in error.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in issue["loc"]) or "arguments"
        message = "unknown argument" if issue["type"] == "extra_forbidden" else issue["msg"]
        parts.append(f"{where}: {message}")
    return "Invalid arguments: " + "; ".join(parts)


def task_kind(
    *,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    poll_interval_seconds: int = 5,
    task_support: Literal["optional", "required"] = "optional",
    ask_before_start: dict[str, Elicit] | None = None,
    cancel: Callable[[str, CancelContext], None] | None = None,
) -> Callable[[Callable[[Any, Any, StepContext], StepResult]], TaskKind[Any]]:
    """Make a task kind of a typed step function: ``def render(params: RenderParams, cursor, ctx) -> StepResult``.

    The params model is the first parameter's annotation, the name the function's (unless given), and the
    description - what the model reads to choose the tool - the function's docstring. The module that defines it
    is named in LONGHAUL_KINDS, and the kind becomes an MCP tool. ``cancel(job_id, ctx)`` stops a job the task
    started elsewhere (see ``StepContext.track_external_job``).
    """

    def make(step: Callable[[Any, Any, StepContext], StepResult]) -> TaskKind[Any]:
        parameters = list(inspect.signature(step).parameters)
        params_model = get_type_hints(step).get(parameters[0]) if parameters else None
        if not (isinstance(params_model, type) and issubclass(params_model, BaseModel)):
            raise TypeError(f"{step.__name__}: annotate its first parameter with a pydantic model of the params")
        doc = description or inspect.getdoc(step) or ""
        # A docstring's lines are wrapped for the source: one line per paragraph for the tool description.
        text = "\n\n".join(" ".join(paragraph.split()) for paragraph in doc.split("\n\n") if paragraph.strip())
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
            task_support=task_support,
            ask_before_start=ask_before_start,
            cancel=cancel,
        )

    return make

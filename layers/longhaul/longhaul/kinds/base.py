"""What a task kind is: a name, its params (a dataclass, see ``kinds/params.py``), and a step function that does one
chunk of work. Imports no pydantic: the worker loads this for every step."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, get_type_hints

from longhaul.kinds.params import is_params_dataclass, is_pydantic_model, load

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


P = TypeVar("P")


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
    # Its steps run Athena queries (ctx.queries). Where the deployment set none up (no ATHENA_WORKGROUP: the
    # template's default, an empty AthenaDatabase), every task of it would fail, so the endpoint does not offer it.
    uses_queries: bool = False

    def load_params(self, stored: dict[str, Any]) -> P:
        """The params a task started with, from what the endpoint stored: what a step gets. For a dataclass of
        JSON-native fields, a constructor call (no pydantic); stored names the params no longer have (a deploy
        changed them since the task started) raise ``InvalidTaskParams``, which fails the task readably."""
        result: P = load(self.params_model, stored)
        return result

    def parse_params(self, raw: dict[str, Any]) -> P:
        """The kind's params from a start request's arguments, validated as the endpoint does (strictly, see
        ``validation.parse_strict``; raises pydantic's ``ValidationError``). Imports pydantic: for the endpoint and
        tests, never a step."""
        from longhaul.kinds.validation import instance_of, validated_params

        result: P = instance_of(self.params_model, validated_params(self.params_model, raw))
        return result


def task_kind(
    *,
    name: str | None = None,
    title: str | None = None,
    description: str | None = None,
    poll_interval_seconds: int = 5,
    task_support: Literal["optional", "required"] = "optional",
    ask_before_start: dict[str, Elicit] | None = None,
    cancel: Callable[[str, CancelContext], None] | None = None,
    uses_queries: bool = False,
) -> Callable[[Callable[[Any, Any, StepContext], StepResult]], TaskKind[Any]]:
    """Make a task kind of a typed step function: ``def render(params: RenderParams, cursor, ctx) -> StepResult``.

    The params are the first parameter's annotation: a dataclass (fields declared with ``param()``, see
    ``kinds/params.py``) or a pydantic model (which costs every step pydantic's import). The name is the function's
    (unless given), and the description - what the model reads to choose the tool - the function's docstring. The
    module that defines it is named in LONGHAUL_KINDS, and the kind becomes an MCP tool. ``cancel(job_id, ctx)``
    stops a job the task started elsewhere (see ``StepContext.track_external_job``). ``uses_queries``: its steps use
    ``ctx.queries``, so the endpoint offers it only where the deployment set up an Athena workgroup.
    """

    def make(step: Callable[[Any, Any, StepContext], StepResult]) -> TaskKind[Any]:
        parameters = list(inspect.signature(step).parameters)
        params_model = get_type_hints(step).get(parameters[0]) if parameters else None
        if not (is_params_dataclass(params_model) or is_pydantic_model(params_model)):
            raise TypeError(
                f"{step.__name__}: annotate its first parameter with the params: a dataclass (or a pydantic model)"
            )
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
            uses_queries=uses_queries,
        )

    return make

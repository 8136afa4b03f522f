"""A kind's params as a stdlib dataclass: declared with ``param()``, rebuilt by the worker without pydantic.

A step is a cold start after every Sleep and NeedInput (and often between Continues), and a pydantic params model
adds about a third to it (``make bench``). So a kind's params may be a plain ``@dataclass`` whose fields carry their
published constraints as metadata (``param``): the MCP endpoint turns it into a pydantic model once
(``kinds/validation.py``) to publish the schema and validate a start strictly; the worker only rebuilds the instance
from what the endpoint stored (``load``), which for JSON-native fields is a constructor call. A pydantic BaseModel
still works as a kind's params, and costs the import.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Callable
from dataclasses import MISSING, dataclass
from typing import Any, Literal, TypeGuard, Union, get_args, get_origin, get_type_hints

from longhaul.errors import InvalidTaskParams

# The key of param()'s metadata: one namespaced entry, which pydantic ignores when it reads a dataclass field itself.
METADATA_KEY = "longhaul.param"
# What param() passes through to pydantic.Field on the endpoint: constraints and what the schema shows.
FIELD_ARGUMENTS = frozenset(
    {
        "ge",
        "gt",
        "le",
        "lt",
        "multiple_of",
        "min_length",
        "max_length",
        "pattern",
        "allow_inf_nan",
        "max_digits",
        "decimal_places",
        "examples",
        "json_schema_extra",
    }
)
_JSON_SCALARS = (str, int, float, bool, type(None))


@dataclass(frozen=True)
class ParamSpec:
    """What ``param()`` records on a field, for the endpoint to build its pydantic field from."""

    description: str | None
    check: Callable[[Any], Any] | None
    constraints: dict[str, Any]


def param(
    default: Any = MISSING,
    *,
    description: str | None = None,
    check: Callable[[Any], Any] | None = None,
    **constraints: Any,
) -> Any:
    """A field of a kind's params dataclass, with what the MCP endpoint publishes and checks for it:

    ``epochs: int = param(5, ge=1, le=1000)``. ``constraints`` are pydantic.Field's (ge, gt, le, lt, multiple_of,
    min_length, max_length, pattern ...); ``description`` is shown to models in tools/list (only where the name is
    not enough: it is in every agent's context); ``check(value) -> value`` raises ValueError with a message for a
    value the constraints cannot express (the client reads ``field: Value error, <message>``). Checked when a task
    starts, not when a step rebuilds the params."""
    unknown = set(constraints) - FIELD_ARGUMENTS
    if unknown:
        raise TypeError(f"param() got unknown constraints {sorted(unknown)}; known: {sorted(FIELD_ARGUMENTS)}")
    spec = ParamSpec(description=description, check=check, constraints=constraints)
    return dataclasses.field(default=default, metadata={METADATA_KEY: spec})


def spec_of(field: dataclasses.Field[Any]) -> ParamSpec | None:
    return field.metadata.get(METADATA_KEY)


def is_params_dataclass(cls: Any) -> TypeGuard[type[Any]]:
    return isinstance(cls, type) and dataclasses.is_dataclass(cls)


def is_pydantic_model(cls: Any) -> TypeGuard[type[Any]]:
    """True for a pydantic BaseModel class, without importing pydantic: a class cannot be one unless it was."""
    pydantic = sys.modules.get("pydantic")
    return pydantic is not None and isinstance(cls, type) and issubclass(cls, pydantic.BaseModel)


@dataclass(frozen=True)
class _Plan:
    """How ``load`` rebuilds one params dataclass, worked out once per class."""

    names: frozenset[str]
    required: frozenset[str]
    floats: frozenset[str]
    # Every field's type is JSON-native: the stored values are the values, no conversion needed.
    native: bool


_PLANS: dict[type, _Plan] = {}
_ADAPTERS: dict[type, Any] = {}


def _plan(cls: type) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        hints = get_type_hints(cls)
        fields = [field for field in dataclasses.fields(cls) if field.init]
        plan = _PLANS[cls] = _Plan(
            names=frozenset(field.name for field in fields),
            required=frozenset(
                field.name for field in fields if field.default is MISSING and field.default_factory is MISSING
            ),
            floats=frozenset(field.name for field in fields if _is_float(hints[field.name])),
            native=all(_json_native(hints[field.name]) for field in fields),
        )
    return plan


def _is_float(annotation: Any) -> bool:
    """``float`` or ``float | None``: a whole number stored for it is read back as a float, as pydantic gives it."""
    return annotation is float or (_is_union(annotation) and set(get_args(annotation)) == {float, type(None)})


def _is_union(annotation: Any) -> bool:
    return get_origin(annotation) in (Union, types.UnionType)


def _json_native(annotation: Any) -> bool:
    """True where a value read from JSON already is what the field holds (so no conversion is needed)."""
    if annotation in _JSON_SCALARS or annotation in (Any, object, list, dict):
        return True
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Literal:
        return all(isinstance(arg, _JSON_SCALARS) for arg in args)
    if _is_union(annotation):
        return all(_json_native(arg) for arg in args)
    if origin is list:
        return all(_json_native(arg) for arg in args)
    if origin is dict:
        return len(args) == 2 and args[0] is str and _json_native(args[1])
    return False  # datetime, Enum, tuple, set, a nested dataclass...: their values need converting


def load(cls: type, stored: dict[str, Any]) -> Any:
    """The params a task started with, from what the endpoint stored (validated, then dumped as JSON)."""
    if is_pydantic_model(cls):
        return _load_model(cls, stored)
    plan = _plan(cls)
    unknown, missing = set(stored) - plan.names, plan.required - set(stored)
    if unknown or missing:
        found = (("unknown", unknown), ("missing", missing))
        problems = "; ".join(f"{what}: {', '.join(sorted(names))}" for what, names in found if names)
        raise InvalidTaskParams(_no_longer_fit(cls, problems))
    if plan.native:
        values = {name: float(v) if name in plan.floats and type(v) is int else v for name, v in stored.items()}
        return cls(**values)
    adapter = _ADAPTERS.get(cls)
    if adapter is None:
        from pydantic import TypeAdapter  # only for field types JSON cannot hold as they are (datetime, Enum...)

        adapter = _ADAPTERS[cls] = TypeAdapter(cls)
    return _validated(cls, lambda: adapter.validate_python(stored))


def _load_model(cls: Any, stored: dict[str, Any]) -> Any:
    return _validated(cls, lambda: cls.model_validate(stored, extra="forbid"))


def _validated(cls: type, validate: Callable[[], Any]) -> Any:
    from pydantic import ValidationError

    try:
        return validate()
    except ValidationError as error:
        issues = "; ".join(
            f"{'.'.join(str(p) for p in issue['loc']) or 'params'}: {issue['msg']}"
            for issue in error.errors(include_url=False, include_input=False)
        )
        raise InvalidTaskParams(_no_longer_fit(cls, issues)) from None


def _no_longer_fit(cls: type, problems: str) -> str:
    return (
        f"This task's stored parameters no longer fit {cls.__name__} ({problems}): the kind's parameters changed "
        "since the task started; start the task again"
    )

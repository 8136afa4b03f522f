"""Validating a start's params strictly, on the MCP endpoint: the one place kinds meet pydantic.

A kind's params are a stdlib dataclass (``kinds/params.py``) or a pydantic BaseModel. For a dataclass, the endpoint
builds a pydantic model of the same fields once, on first use (the endpoint uses it at import, to publish each start
tool's schema, so a SnapStart snapshot holds it built). The worker never imports this module.
"""

from __future__ import annotations

import dataclasses
import json
import types
from typing import Annotated, Any, ForwardRef, TypeVar, Union, get_args, get_origin, get_type_hints

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

from longhaul.errors import InvalidTaskParams
from longhaul.kinds.params import is_params_dataclass, load, spec_of

M = TypeVar("M", bound=BaseModel)

_MODELS: dict[type, type[BaseModel]] = {}
# A dataclass that holds itself (a tree node), directly or through another: while its model is being built, a field
# that refers back to it names the model by a token, resolved once the model exists.
_BUILDING: set[type] = set()
_TOKENS: dict[str, type[BaseModel]] = {}


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


def describe_validation_error(error: ValidationError) -> str:
    """One line naming each bad field, for a client to act on (no pydantic URLs, no echo of large inputs)."""
    parts = []
    for issue in error.errors(include_url=False, include_input=False):
        where = ".".join(str(p) for p in issue["loc"]) or "arguments"
        message = "unknown argument" if issue["type"] == "extra_forbidden" else issue["msg"]
        parts.append(f"{where}: {message}")
    return "Invalid arguments: " + "; ".join(parts)


def params_model(params: type) -> type[BaseModel]:
    """The pydantic model that validates (and publishes) a kind's params: the params themselves if they are one,
    else built from the dataclass's fields, once."""
    if isinstance(params, type) and issubclass(params, BaseModel):
        return params
    model = _MODELS.get(params)
    if model is None:
        model = _MODELS[params] = _model_of_dataclass(params)
    return model


def _model_of_dataclass(params: type) -> type[BaseModel]:
    if not is_params_dataclass(params):
        raise TypeError(f"{params!r} is neither a dataclass nor a pydantic model")
    hints = get_type_hints(params, include_extras=True)
    fields: dict[str, Any] = {}
    _BUILDING.add(params)
    try:
        for field in dataclasses.fields(params):
            if field.init:
                fields[field.name] = _field(field, hints[field.name])
    finally:
        _BUILDING.discard(params)
    model: type[BaseModel] = create_model(
        params.__name__, __config__=ConfigDict(extra="forbid"), __module__=params.__module__, **fields
    )
    _TOKENS[_token(params)] = model
    for built in [model, *_MODELS.values()]:
        if not built.__pydantic_complete__:
            built.model_rebuild(_types_namespace=_TOKENS, raise_errors=False)
    return model


def _token(params: type) -> str:
    return f"_longhaul_params_{id(params)}"


def _checked(annotation: Any) -> Any:
    """``annotation`` with each params dataclass in it (a nested one, or one in a list, a dict or an Optional)
    replaced by its model, so that the nested fields' param() constraints are published and checked too. pydantic
    reads a stdlib dataclass by itself, but ignores param()'s metadata."""
    if is_params_dataclass(annotation):
        return ForwardRef(_token(annotation)) if annotation in _BUILDING else params_model(annotation)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is None or not args:
        return annotation
    if origin is Annotated:
        return Annotated[(_checked(args[0]), *annotation.__metadata__)]
    checked = tuple(_checked(arg) for arg in args)
    if checked == args:
        return annotation
    if origin in (Union, types.UnionType):
        return Union[checked]  # noqa: UP007 (built from a tuple)
    return origin[checked if len(checked) > 1 else checked[0]]


def _field(field: dataclasses.Field[Any], declared: Any) -> tuple[Any, Any]:
    annotation, spec = _checked(declared), spec_of(field)
    arguments: dict[str, Any] = {}
    # A default of a nested dataclass becomes its model, as the field now expects (pydantic does not check defaults).
    if field.default is not dataclasses.MISSING:
        arguments["default"] = _as_model(field.default)
    elif field.default_factory is not dataclasses.MISSING:
        factory = field.default_factory
        arguments["default_factory"] = lambda: _as_model(factory())
    if spec is not None:
        arguments.update(spec.constraints)
        if spec.description is not None:
            arguments["description"] = spec.description
        if spec.check is not None:
            # Its ValueError reads as "<field>: Value error, <message>", as a field_validator's does.
            annotation = Annotated[annotation, AfterValidator(spec.check)]
    return annotation, Field(**arguments)


def _as_model(value: Any) -> Any:
    """A params dataclass instance as its model (a list of them is left as it is: pydantic dumps it all the same)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type) and type(value) in _MODELS:
        return _MODELS[type(value)].model_validate(dataclasses.asdict(value))
    return value


def validated_params(params: type, raw: Any) -> BaseModel:
    """``raw`` validated strictly (``parse_strict``) against the kind's params. Raises ``ValidationError`` or
    ``InvalidTaskParams``."""
    return parse_strict(params_model(params), raw)


def instance_of(params: type, model: BaseModel) -> Any:
    """The kind's params object from a validated model: the model itself, or the dataclass rebuilt from the values
    the endpoint stores, as a step rebuilds it (``params.load``), nested dataclasses included."""
    if isinstance(model, params):
        return model
    return load(params, model.model_dump(mode="json"))

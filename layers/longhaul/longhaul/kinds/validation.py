"""Validating a start's params strictly, on the MCP endpoint: the one place kinds meet pydantic.

A kind's params are a stdlib dataclass (``kinds/params.py``) or a pydantic BaseModel. For a dataclass, the endpoint
builds a pydantic model of the same fields once, on first use (the endpoint uses it at import, to publish each start
tool's schema, so a SnapStart snapshot holds it built). The worker never imports this module.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Annotated, Any, TypeVar, get_type_hints

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, create_model

from longhaul.errors import InvalidTaskParams
from longhaul.kinds.params import is_params_dataclass, spec_of

M = TypeVar("M", bound=BaseModel)

_MODELS: dict[type, type[BaseModel]] = {}


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
    for field in dataclasses.fields(params):
        if not field.init:
            continue
        annotation, spec = hints[field.name], spec_of(field)
        arguments: dict[str, Any] = {}
        if field.default is not dataclasses.MISSING:
            arguments["default"] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            arguments["default_factory"] = field.default_factory
        if spec is not None:
            arguments.update(spec.constraints)
            if spec.description is not None:
                arguments["description"] = spec.description
            if spec.check is not None:
                # Its ValueError reads as "<field>: Value error, <message>", as a field_validator's does.
                annotation = Annotated[annotation, AfterValidator(spec.check)]
        fields[field.name] = (annotation, Field(**arguments))
    model: type[BaseModel] = create_model(
        params.__name__, __config__=ConfigDict(extra="forbid"), __module__=params.__module__, **fields
    )
    return model


def validated_params(params: type, raw: Any) -> BaseModel:
    """``raw`` validated strictly (``parse_strict``) against the kind's params. Raises ``ValidationError`` or
    ``InvalidTaskParams``."""
    return parse_strict(params_model(params), raw)


def instance_of(params: type, model: BaseModel) -> Any:
    """The kind's params object from a validated model: the model itself, or the dataclass with the same values."""
    if isinstance(model, params):
        return model
    return params(**{name: getattr(model, name) for name in type(model).model_fields})

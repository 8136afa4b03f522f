"""Task kind registry. Register a kind with ``register(kind)``; built-ins are registered on import."""

from __future__ import annotations

from longhaul.errors import UnknownTaskKind
from longhaul.kinds.base import Continue, Done, Sleep, StepContext, StepResult, TaskKind

_REGISTRY: dict[str, TaskKind] = {}


def register(kind: TaskKind) -> TaskKind:
    """Add a task kind; its name becomes the MCP tool name, so it must be unique."""
    if kind.name in _REGISTRY and _REGISTRY[kind.name] is not kind:
        raise ValueError(f"task kind {kind.name!r} is already registered")
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind (tests register short-lived kinds)."""
    _REGISTRY.pop(name, None)


def get_kind(name: str) -> TaskKind:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownTaskKind(f"Unknown task kind {name!r}; known kinds: {', '.join(sorted(_REGISTRY))}") from None


def all_kinds() -> list[TaskKind]:
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def _register_builtins() -> None:
    from longhaul.kinds import csv_profile, model_training

    register(model_training.KIND)
    register(csv_profile.KIND)


_register_builtins()

__all__ = [
    "Continue",
    "Done",
    "Sleep",
    "StepContext",
    "StepResult",
    "TaskKind",
    "all_kinds",
    "get_kind",
    "register",
    "unregister",
]

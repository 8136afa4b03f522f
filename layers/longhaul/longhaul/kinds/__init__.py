"""Task kinds: found by configuration, never by editing this package.

A kind module holds one or more module-level ``TaskKind`` objects (``@task_kind`` makes one from a step function).
The modules to load are the built-ins plus those named in ``LONGHAUL_KINDS`` (comma-separated module names, e.g.
``render,etl.nightly``; template.yaml sets it for every function, and ``longhaul new-kind`` adds to it). A module
that cannot be imported, or that defines no kind, fails loudly with its name when the function starts (the MCP
endpoint lists every kind at import; the workers load the configured modules at init, ``runtime.preload``): a kind
is never silently absent from the MCP tools.

The built-in kinds load on first use: a worker's step loads its own kind's module only, not the other built-ins
(each costs its imports and a params model at every cold start).
"""

from __future__ import annotations

import importlib
import os
import re

from longhaul.errors import UnknownTaskKind
from longhaul.kinds.base import CancelContext, Continue, Done, Sleep, StepContext, StepResult, TaskKind, task_kind
from longhaul.kinds.params import param

KINDS_ENV = "LONGHAUL_KINDS"
# Each built-in kind is the module of the same name (tests/unit/test_cold_path.py checks it).
BUILTIN_KINDS = {name: f"longhaul.kinds.{name}" for name in ("model_training", "csv_profile", "athena_query")}
BUILTIN_MODULES = tuple(BUILTIN_KINDS.values())
# MCP tool names: 1-128 characters of letters, digits, '_', '-' and '.'.
TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
# The endpoint's own tools: a kind by one of these names would hide it.
RESERVED_NAMES = frozenset(
    {
        "get_task_status",
        "get_task_result",
        "cancel_task",
        "list_tasks",
        "wait_for_task",
        "respond_to_task",
        "create_upload_url",
    }
)

_REGISTRY: dict[str, TaskKind] = {}
_LOADED: set[str] = set()


class KindModuleError(ImportError):
    """A module named as holding task kinds could not be imported, or defines none."""


def register(kind: TaskKind) -> TaskKind:
    """Add a task kind; its name becomes an MCP tool name, so it must be a valid one and unique."""
    if not TOOL_NAME.fullmatch(kind.name):
        raise ValueError(f"task kind name {kind.name!r} is not a valid MCP tool name: 1-128 of [A-Za-z0-9_.-]")
    if kind.name in RESERVED_NAMES:
        raise ValueError(f"task kind name {kind.name!r} is taken by one of longhaul's own tools")
    if kind.name in _REGISTRY and _REGISTRY[kind.name] is not kind:
        raise ValueError(f"task kind {kind.name!r} is already registered")
    _REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind (tests register short-lived kinds)."""
    _REGISTRY.pop(name, None)


def configured_modules(environ: dict[str, str] | None = None) -> list[str]:
    """The built-in kind modules and those named in LONGHAUL_KINDS, in order, each once."""
    names = (environ if environ is not None else os.environ).get(KINDS_ENV, "")
    extra = [name.strip() for name in names.split(",") if name.strip()]
    return list(dict.fromkeys([*BUILTIN_MODULES, *extra]))


def load_module(name: str) -> list[TaskKind]:
    """Import a kind module and register every TaskKind it defines at module level."""
    try:
        module = importlib.import_module(name)
    except ImportError as error:
        raise KindModuleError(f"task kind module {name!r} (from {KINDS_ENV}) cannot be imported: {error}") from error
    found = [value for value in vars(module).values() if isinstance(value, TaskKind)]
    if not found:
        raise KindModuleError(
            f"task kind module {name!r} defines no task kind: decorate a step function with @task_kind "
            "(or assign a TaskKind at module level)"
        )
    for kind in found:
        register(kind)
    _LOADED.add(name)
    return found


def load_configured(builtins: bool = True) -> None:
    """Load every configured kind module not loaded yet (cheap when nothing changed); with ``builtins`` False, only
    those named in LONGHAUL_KINDS."""
    for name in configured_modules():
        if name not in _LOADED and (builtins or name not in BUILTIN_MODULES):
            load_module(name)


def get_kind(name: str) -> TaskKind:
    module = BUILTIN_KINDS.get(name)
    if module is not None and module not in _LOADED:
        load_module(module)
    load_configured(builtins=module is None)
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownTaskKind(f"Unknown task kind {name!r}; known kinds: {', '.join(sorted(_REGISTRY))}") from None


def all_kinds() -> list[TaskKind]:
    load_configured()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def offered_kinds() -> list[TaskKind]:
    """The kinds the endpoint offers as tools: every kind, except those that run Athena queries where the
    deployment set up no workgroup (ATHENA_WORKGROUP empty: their every task would fail)."""
    from longhaul.settings import get_settings

    queries_set_up = bool(get_settings().athena_workgroup)
    return [kind for kind in all_kinds() if queries_set_up or not kind.uses_queries]


__all__ = [
    "CancelContext",
    "Continue",
    "Done",
    "KindModuleError",
    "Sleep",
    "StepContext",
    "StepResult",
    "TaskKind",
    "all_kinds",
    "configured_modules",
    "get_kind",
    "load_module",
    "offered_kinds",
    "param",
    "register",
    "task_kind",
    "unregister",
]

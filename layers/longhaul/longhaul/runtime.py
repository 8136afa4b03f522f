"""Composition root: builds the concrete services once per execution environment.

Each getter imports only what its function needs, so the MCP endpoint never loads worker or memory code.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from longhaul.settings import get_settings, settings_for

if TYPE_CHECKING:
    from longhaul.adapters.athena import AthenaQueries
    from longhaul.adapters.dynamodb import DynamoTaskStore
    from longhaul.adapters.s3 import S3Blobs
    from longhaul.adapters.stepfunctions import StepFunctionsWorkflow
    from longhaul.tasks import TaskService
    from longhaul.worker import OutcomeDelivery, Reconciler, StepRunner, Sweeper


@lru_cache(maxsize=1)
def _store() -> DynamoTaskStore:
    from longhaul.adapters.dynamodb import DynamoTaskStore

    return DynamoTaskStore(get_settings().tasks_table_name)


@lru_cache(maxsize=1)
def _blobs() -> S3Blobs:
    from longhaul.adapters.s3 import S3Blobs

    return S3Blobs(get_settings().results_bucket_name)


@lru_cache(maxsize=1)
def _workflow() -> StepFunctionsWorkflow:
    from longhaul.adapters.stepfunctions import StepFunctionsWorkflow

    return StepFunctionsWorkflow(get_settings().state_machine_arn)


@lru_cache(maxsize=1)
def _athena() -> AthenaQueries | None:
    """The athena_query kind's engine; None where the deployment set no workgroup (the kind then says so)."""
    settings = get_settings()
    if not settings.athena_workgroup:
        return None
    from longhaul.adapters.athena import AthenaQueries

    return AthenaQueries(settings.athena_workgroup, settings.athena_database, settings.results_bucket_name)


@lru_cache(maxsize=1)
def task_service() -> TaskService:
    from longhaul.tasks import TaskService

    return TaskService(_store(), _workflow(), _blobs(), settings_for("endpoint"))


@lru_cache(maxsize=1)
def step_runner() -> StepRunner:
    from longhaul.worker import StepRunner

    return StepRunner(_store(), _blobs(), settings_for("run_step"), _athena())


@lru_cache(maxsize=1)
def outcome_delivery() -> OutcomeDelivery:
    from longhaul.adapters.agentcore import AgentCoreResultMemory, actor_id_for
    from longhaul.worker import OutcomeDelivery

    memory_id = settings_for("write_result").memory_id
    return OutcomeDelivery(_store(), AgentCoreResultMemory(memory_id) if memory_id else None, actor_id_for)


@lru_cache(maxsize=1)
def reconciler() -> Reconciler:
    from longhaul.worker import Reconciler

    settings_for("reconcile")
    return Reconciler(_store(), outcome_delivery(), _athena())


@lru_cache(maxsize=1)
def sweeper() -> Sweeper:
    from longhaul.worker import Sweeper

    return Sweeper(_store(), _workflow(), reconciler(), settings_for("sweep").sweep_grace_seconds)


# What each getter imports on first use. A worker's handler loads them at init (preload, inside coldstart.loading)
# rather than on its first request; the endpoint leaves task_service's to its first tool call.
_MODULES: dict[str, tuple[str, ...]] = {
    "task_service": ("longhaul.tasks", "longhaul.adapters.dynamodb", "longhaul.adapters.stepfunctions"),
    "step_runner": ("longhaul.worker", "longhaul.adapters.dynamodb", "longhaul.adapters.s3"),
    "outcome_delivery": ("longhaul.worker", "longhaul.adapters.dynamodb", "longhaul.adapters.agentcore"),
    "reconciler": ("longhaul.worker", "longhaul.adapters.dynamodb", "longhaul.adapters.agentcore"),
    "sweeper": ("longhaul.worker", "longhaul.adapters.stepfunctions", "longhaul.adapters.agentcore"),
}


def preload(getter: Any) -> None:
    """Import what ``getter`` will import (no settings read, no client built: the environment may not be final), and
    the kind modules LONGHAUL_KINDS names, so one that cannot be imported stops the function at start (docs/kinds.md).
    Not the built-in kinds: a step loads its own kind's module, and only that one, on first use; with no kind
    modules named, not even the kinds package (WriteResult and Sweep never need it)."""
    import importlib

    for module in _MODULES[getter.__name__]:
        importlib.import_module(module)
    if os.environ.get("LONGHAUL_KINDS", "").strip(" ,"):  # kinds.KINDS_ENV, read here without importing the package
        from longhaul.kinds import load_configured

        load_configured(builtins=False)


def build_clients(service: object) -> list[str]:
    """Build every boto3 client ``service`` reaches through its adapters (and the S3 URL signer); returns their
    service names. Used before a SnapStart snapshot (functions/mcp_endpoint/app.py) and by ``make build``'s check
    that each function builds its clients from its own layer's botocore models. No request is sent: building a
    client loads its model and endpoint rules and resolves credentials, nothing more."""
    from longhaul.adapters._aws import AwsAdapter
    from longhaul.adapters.s3 import S3Blobs

    built: list[str] = []
    seen: set[int] = set()
    pending: list[object] = [service]
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, AwsAdapter):
            built.append(node.client.meta.service_model.service_name)
            if isinstance(node, S3Blobs):
                node.presigner  # noqa: B018 - the property builds the signing client
        # Services hold their adapters (and each other) as attributes: follow only longhaul's own objects.
        pending += [value for value in getattr(node, "__dict__", {}).values() if _is_longhaul(value)]
    return sorted(set(built))


def build_models(*modules: str) -> list[str]:
    """Build now the deferred pydantic models (``models.DEFERRED``) defined in ``modules``; returns their names.
    Before a SnapStart snapshot (functions/mcp_endpoint/app.py), so a restored environment's first request does not
    build the validators and serializers its answer needs."""
    import importlib

    from pydantic import BaseModel

    built = []
    for name in modules:
        for value in vars(importlib.import_module(name)).values():
            if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == name:
                value.model_rebuild()
                built.append(value.__name__)
    return built


@contextmanager
def answered_in_process(client: Any, operation: str, body: bytes = b"{}") -> Iterator[None]:
    """While open, ``client``'s ``operation`` requests get ``body`` (HTTP 200) without leaving the process: a warm-up
    runs the whole request path (serialize, resolve the endpoint, sign, parse) and opens no connection. Uses
    botocore's ``before-send`` event, where a handler's response replaces the HTTP exchange."""
    from botocore.awsrequest import AWSResponse

    class _Body:
        def stream(self) -> Iterator[bytes]:
            yield body

    def answer(request: Any, **_: Any) -> AWSResponse:
        return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.0"}, _Body())

    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(event, answer, unique_id="longhaul-warmup")
    try:
        yield
    finally:
        client.meta.events.unregister(event, unique_id="longhaul-warmup")


def _is_longhaul(value: object) -> bool:
    return type(value).__module__.startswith("longhaul.")


def reset() -> None:
    """Forget every built object and the settings (tests and the local stack change the environment)."""
    getters = (_store, _blobs, _workflow, _athena, task_service, step_runner, outcome_delivery, reconciler, sweeper)
    for getter in (*getters, get_settings):
        getter.cache_clear()

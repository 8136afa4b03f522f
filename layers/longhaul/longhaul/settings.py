"""Settings read once from the environment (set by template.yaml, or by the local stack)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field


class Settings(BaseModel):
    tasks_table_name: str = Field(default="", alias="TASKS_TABLE_NAME")
    results_bucket_name: str = Field(default="", alias="RESULTS_BUCKET_NAME")
    state_machine_arn: str = Field(default="", alias="STATE_MACHINE_ARN")
    # Empty means "no AgentCore Memory": results are stored but not delivered to memory.
    memory_id: str = Field(default="", alias="MEMORY_ID")
    task_ttl_days: int = Field(default=30, ge=1, le=3650, alias="TASK_TTL_DAYS")
    # Results larger than this go to S3; well under Step Functions' 256 KiB payload and DynamoDB's 400 KB item.
    inline_result_max_bytes: int = Field(default=64 * 1024, ge=1024, le=128 * 1024, alias="INLINE_RESULT_MAX_BYTES")
    # Each step adds about 7 history events (more with a Wait); 2,000 steps stay well under the 25,000-event limit.
    max_steps_per_task: int = Field(default=2000, ge=1, le=3000, alias="MAX_STEPS_PER_TASK")
    # A step writes progress to the task record at most this often (plus with its checkpoint when it returns): the
    # clients' poll interval, since a more frequent write is never seen.
    progress_min_interval_seconds: float = Field(default=5.0, ge=0, le=300, alias="PROGRESS_MIN_INTERVAL_SECONDS")
    # Tasks one caller may have working or waiting at once; a start beyond it is refused with a clear message.
    max_active_tasks_per_owner: int = Field(default=50, ge=1, le=10_000, alias="MAX_ACTIVE_TASKS_PER_OWNER")
    # The sweeper leaves records younger than this alone: their start may still be in progress.
    sweep_grace_seconds: int = Field(default=120, ge=30, le=3600, alias="SWEEP_GRACE_SECONDS")
    auth_mode: Literal["jwt", "iam", "none"] = Field(default="jwt", alias="AUTH_MODE")
    dev_principal: str = Field(default="local-developer", alias="DEV_PRINCIPAL")
    # wait_for_task returns before API Gateway's 30 s integration timeout cuts the request off.
    max_wait_seconds: float = Field(default=25.0, ge=0, le=900, alias="MAX_WAIT_SECONDS")
    # wait_for_task reads the record this often: progress moves every few seconds at most, so faster reads buy nothing.
    wait_poll_seconds: float = Field(default=3.0, gt=0, le=60, alias="WAIT_POLL_SECONDS")
    # Host values the MCP transport accepts, comma-separated; empty disables the check (see endpoint/app.py).
    mcp_allowed_hosts: str = Field(default="", alias="MCP_ALLOWED_HOSTS")
    max_request_bytes: int = Field(default=1024 * 1024, ge=1024, le=10 * 1024 * 1024, alias="MAX_REQUEST_BYTES")
    # AUTH_MODE=jwt with an issuer: the endpoint verifies bearer tokens itself (endpoint/tokens.py) and serves the
    # RFC 9728 metadata naming it. JWT_AUDIENCE is comma-separated; JWT_JWKS_URL empty means OIDC discovery.
    jwt_issuer: str = Field(default="", alias="JWT_ISSUER")
    jwt_audience: str = Field(default="", alias="JWT_AUDIENCE")
    jwt_jwks_url: str = Field(default="", alias="JWT_JWKS_URL")
    # The athena_query kind: the workgroup its queries run in (with its scan limit) and the one database they read.
    # Empty workgroup: no queries on this deployment (the kind fails with QueriesUnavailable).
    athena_workgroup: str = Field(default="", alias="ATHENA_WORKGROUP")
    athena_database: str = Field(default="", alias="ATHENA_DATABASE")

    model_config = {"populate_by_name": True, "extra": "ignore"}


# The variables each function needs, by role (template.yaml sets them; tests/unit/test_settings.py checks it does).
# Checked when the function first builds its services (its first invocation), so a missing one fails at once, by name.
ROLE_VARIABLES: dict[str, tuple[str, ...]] = {
    "endpoint": ("TASKS_TABLE_NAME", "RESULTS_BUCKET_NAME", "STATE_MACHINE_ARN"),
    "run_step": ("TASKS_TABLE_NAME", "RESULTS_BUCKET_NAME"),
    "write_result": ("TASKS_TABLE_NAME",),
    "reconcile": ("TASKS_TABLE_NAME",),
    "sweep": ("TASKS_TABLE_NAME", "STATE_MACHINE_ARN"),
}


class MissingSettings(RuntimeError):
    """A function started without the environment its role needs: fail at cold start, naming what is missing."""


def settings_for(role: str) -> Settings:
    """The settings, checked for what ``role`` needs; raises MissingSettings naming every missing variable."""
    settings = get_settings()
    fields = {field.alias: name for name, field in Settings.model_fields.items()}
    missing = [variable for variable in ROLE_VARIABLES[role] if not getattr(settings, fields[variable])]
    if missing:
        raise MissingSettings(f"{role} needs the environment variable(s) {', '.join(missing)} (set by template.yaml)")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return Settings.model_validate(dict(os.environ))

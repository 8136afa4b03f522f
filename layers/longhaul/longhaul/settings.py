"""Settings read once from the environment (set by template.yaml, or by the local stack).

A frozen dataclass and a small parser rather than a pydantic model: every function reads its settings at cold start,
and a worker loads no pydantic at all (tests/unit/test_cold_path.py)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields
from functools import lru_cache
from typing import Any, Literal

AUTH_MODES = ("jwt", "iam", "none")


class InvalidSettings(ValueError):
    """An environment variable (or a value given to Settings) is malformed or out of its range; names the variable."""


def _var(
    env: str,
    default: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    above: bool = False,
    choices: tuple[str, ...] = (),
) -> Any:
    """A setting read from ``env``: its type is its default's; numbers lie in [low, high] (``above``: low excluded)."""
    return field(default=default, metadata={"env": env, "low": low, "high": high, "above": above, "choices": choices})


@dataclass(frozen=True)
class Settings:
    """A function's configuration, each field from the environment variable named beside it."""

    tasks_table_name: str = _var("TASKS_TABLE_NAME", "")
    results_bucket_name: str = _var("RESULTS_BUCKET_NAME", "")
    state_machine_arn: str = _var("STATE_MACHINE_ARN", "")
    # Empty means "no AgentCore Memory": results are stored but not delivered to memory.
    memory_id: str = _var("MEMORY_ID", "")
    task_ttl_days: int = _var("TASK_TTL_DAYS", 30, 1, 3650)
    # Results larger than this go to S3; well under Step Functions' 256 KiB payload and DynamoDB's 400 KB item.
    inline_result_max_bytes: int = _var("INLINE_RESULT_MAX_BYTES", 64 * 1024, 1024, 128 * 1024)
    # Each step adds about 7 history events (more with a Wait); 2,000 steps stay well under the 25,000-event limit.
    max_steps_per_task: int = _var("MAX_STEPS_PER_TASK", 2000, 1, 3000)
    # A step writes progress to the task record at most this often (plus with its checkpoint when it returns): the
    # clients' poll interval, since a more frequent write is never seen.
    progress_min_interval_seconds: float = _var("PROGRESS_MIN_INTERVAL_SECONDS", 5.0, 0, 300)
    # Tasks one caller may have working or waiting at once; a start beyond it is refused with a clear message.
    max_active_tasks_per_owner: int = _var("MAX_ACTIVE_TASKS_PER_OWNER", 50, 1, 10_000)
    # The sweeper leaves records younger than this alone: their start may still be in progress.
    sweep_grace_seconds: int = _var("SWEEP_GRACE_SECONDS", 120, 30, 3600)
    auth_mode: Literal["jwt", "iam", "none"] = _var("AUTH_MODE", "jwt", choices=AUTH_MODES)
    dev_principal: str = _var("DEV_PRINCIPAL", "local-developer")
    # wait_for_task returns before API Gateway's 30 s integration timeout cuts the request off.
    max_wait_seconds: float = _var("MAX_WAIT_SECONDS", 25.0, 0, 900)
    # wait_for_task reads the record this often: progress moves every few seconds at most, so faster reads buy nothing.
    wait_poll_seconds: float = _var("WAIT_POLL_SECONDS", 3.0, 0, 60, above=True)
    # Host values the MCP transport accepts, comma-separated; empty disables the check (see endpoint/app.py).
    mcp_allowed_hosts: str = _var("MCP_ALLOWED_HOSTS", "")
    max_request_bytes: int = _var("MAX_REQUEST_BYTES", 1024 * 1024, 1024, 10 * 1024 * 1024)
    # AUTH_MODE=jwt with an issuer: the endpoint verifies bearer tokens itself (endpoint/tokens.py) and serves the
    # RFC 9728 metadata naming it. JWT_AUDIENCE is comma-separated; JWT_JWKS_URL empty means OIDC discovery.
    jwt_issuer: str = _var("JWT_ISSUER", "")
    jwt_audience: str = _var("JWT_AUDIENCE", "")
    jwt_jwks_url: str = _var("JWT_JWKS_URL", "")
    # The athena_query kind: the workgroup its queries run in (with its scan limit) and the one database they read.
    # Empty workgroup: no queries on this deployment (the kind fails with QueriesUnavailable).
    athena_workgroup: str = _var("ATHENA_WORKGROUP", "")
    athena_database: str = _var("ATHENA_DATABASE", "")

    def __post_init__(self) -> None:
        # Values given directly (tests, dataclasses.replace) are held to the same rules as the environment's.
        for spec in fields(self):
            object.__setattr__(self, spec.name, _checked(spec, getattr(self, spec.name)))

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """The settings the variables in ``environ`` give (others keep their defaults; unknown variables are
        ignored). Raises InvalidSettings naming the first malformed or out-of-range variable."""
        values: dict[str, Any] = {}
        for spec in fields(cls):
            raw = environ.get(spec.metadata["env"])
            if raw is not None:
                try:
                    values[spec.name] = _checked(spec, _parsed(spec, raw))
                except InvalidSettings:
                    raise _invalid(spec, raw) from None  # quoting the variable as it was set
        return cls(**values)


def _rule(spec: Field[Any]) -> str:
    """What a setting accepts, in words, for the error message."""
    low, high, choices = spec.metadata["low"], spec.metadata["high"], spec.metadata["choices"]
    if choices:
        return "one of " + ", ".join(choices)
    what = "an integer" if type(spec.default) is int else "a number" if type(spec.default) is float else "text"
    if low is None:
        return what
    if spec.metadata["above"]:
        return f"{what} above {low} and at most {high}"
    return f"{what} from {low} to {high}"


def _invalid(spec: Field[Any], value: Any) -> InvalidSettings:
    return InvalidSettings(f"{spec.metadata['env']} must be {_rule(spec)} (got {value!r})")


def _parsed(spec: Field[Any], raw: str) -> Any:
    kind: Any = type(spec.default)
    if kind is str:
        return raw
    try:
        number = float(raw)  # takes what int() takes, and "5.0" (CloudFormation may render a number so)
    except ValueError:
        raise _invalid(spec, raw) from None
    if kind is int:
        if not number.is_integer():
            raise _invalid(spec, raw)
        return int(number)
    return number


def _checked(spec: Field[Any], value: Any) -> Any:
    kind: Any = type(spec.default)
    if kind is float and type(value) is int:
        value = float(value)
    if type(value) is not kind:  # bool is an int subclass: not a valid count
        raise _invalid(spec, value)
    meta = spec.metadata
    if meta["choices"] and value not in meta["choices"]:
        raise _invalid(spec, value)
    if meta["low"] is not None:
        above_low = value > meta["low"] if meta["above"] else value >= meta["low"]
        if not (above_low and value <= meta["high"]):  # NaN fails both
            raise _invalid(spec, value)
    return value


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
    names = {spec.metadata["env"]: spec.name for spec in fields(Settings)}
    missing = [variable for variable in ROLE_VARIABLES[role] if not getattr(settings, names[variable])]
    if missing:
        raise MissingSettings(f"{role} needs the environment variable(s) {', '.join(missing)} (set by template.yaml)")
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings; tests call ``get_settings.cache_clear()`` after changing the environment."""
    return Settings.from_environ(os.environ)

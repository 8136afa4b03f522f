"""Who is calling: read only from the verified API Gateway authorizer context, never from the client."""

from __future__ import annotations

from typing import Any

from longhaul.settings import Settings


def principal_from_event(event: dict[str, Any] | None, settings: Settings) -> str | None:
    """The owner for this request, or None when the event carries no identity the auth mode accepts.

    - jwt: the ``sub`` claim an HTTP API JWT authorizer verified (REST API authorizers: ``claims.sub``);
    - iam: the caller ARN API Gateway verified with SigV4 (REST v1 ``identity.userArn``, HTTP API v2
      ``authorizer.iam.userArn``);
    - none: the configured development principal (``longhaul dev``; never the deployed default).
    """
    if settings.auth_mode == "none":
        return settings.dev_principal
    context = (event or {}).get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    if settings.auth_mode == "jwt":
        claims = (authorizer.get("jwt") or {}).get("claims") or authorizer.get("claims") or {}
        sub = claims.get("sub")
        return str(sub) if sub else None
    arn = (context.get("identity") or {}).get("userArn") or (authorizer.get("iam") or {}).get("userArn")
    return str(arn) if arn else None

"""Who is calling: read only from what was verified (API Gateway's authorizer, or the bearer token's signature),
never from a client-chosen header or argument."""

from __future__ import annotations

from typing import Any

from longhaul.settings import Settings


# Here rather than in endpoint/tokens.py (which raises them too): every request's guard catches them, and a deployment
# whose callers API Gateway verifies never loads the token verifier.
class InvalidToken(Exception):
    """The caller's token is missing or unacceptable; the message is safe to show the caller."""


class KeysUnavailable(Exception):
    """The issuer's signing keys could not be fetched: our problem (or the issuer's), not the caller's."""


def _verified_by_api_gateway(event: dict[str, Any]) -> str | None:
    """The caller an API Gateway authorizer verified: JWT ``sub`` (HTTP API ``authorizer.jwt.claims``, REST
    ``authorizer.claims``) or the SigV4 caller ARN (REST ``identity.userArn``, HTTP API ``authorizer.iam``).
    Clients cannot put anything in ``requestContext``: API Gateway writes it."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    claims = (authorizer.get("jwt") or {}).get("claims") or authorizer.get("claims") or {}
    if claims.get("sub"):
        return str(claims["sub"])
    arn = (context.get("identity") or {}).get("userArn") or (authorizer.get("iam") or {}).get("userArn")
    return str(arn) if arn else None


def bearer_token(event: dict[str, Any]) -> str | None:
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    scheme, _, token = str(headers.get("authorization") or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def authenticate(event: dict[str, Any] | None, settings: Settings) -> str:
    """The owner for this request; raises InvalidToken when there is none the deployment accepts.

    An identity API Gateway verified always wins, whatever the auth mode: a function version that outlived a
    change of ``AuthMode`` (see template.yaml, AutoPublishCodeSha256) still never merges callers the gateway told
    apart. Otherwise, by mode:

    - jwt: the ``sub`` of the bearer token, verified here against ``JWT_ISSUER``'s keys and ``JWT_AUDIENCE`` when
      an issuer is configured (the deployed stack); with none configured, only a gateway-verified identity counts;
    - iam: only the gateway-verified caller ARN;
    - none: the configured development principal (``longhaul dev``, private demos; never the deployed default).
    """
    event = event or {}
    verified = _verified_by_api_gateway(event)
    if verified is not None:
        return verified
    if settings.auth_mode == "none":
        return settings.dev_principal
    if settings.auth_mode == "jwt" and settings.jwt_issuer:
        token = bearer_token(event)
        if token is None:
            raise InvalidToken("")  # no credentials: RFC 6750 sends no error code
        from longhaul.endpoint.tokens import verifier

        audiences = tuple(a.strip() for a in settings.jwt_audience.split(",") if a.strip())
        claims = verifier(settings.jwt_issuer, audiences, settings.jwt_jwks_url).verify(token)
        return str(claims["sub"])
    raise InvalidToken("")


def principal_from_event(event: dict[str, Any] | None, settings: Settings) -> str | None:
    """The owner for this request, or None when the event carries no identity the auth mode accepts."""
    try:
        return authenticate(event, settings)
    except InvalidToken:
        return None

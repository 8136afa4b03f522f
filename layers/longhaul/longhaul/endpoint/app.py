"""The ASGI app behind API Gateway: the MCP server's streamable-HTTP app, guarded by identity and size checks."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from longhaul.endpoint import tasks_2025
from longhaul.endpoint.identity import InvalidToken, KeysUnavailable, authenticate
from longhaul.endpoint.server import UNAUTHORIZED, mcp
from longhaul.observability import logger
from longhaul.settings import AUTH_MODES, Settings, get_settings


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """The SDK answers 421 to any Host but localhost by default. Behind API Gateway the Host is always the
    API's own domain and DNS rebinding (the attack the check stops) targets servers on a user's machine, so
    with no MCP_ALLOWED_HOSTS configured the check is off on purpose; with hosts configured it is enforced."""
    hosts = [h.strip() for h in settings.mcp_allowed_hosts.split(",") if h.strip()]
    if not hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")],
    )


async def _send_json(send: Send, status: int, payload: dict[str, Any], headers: list[tuple[bytes, bytes]]) -> None:
    body = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _rpc_error(code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": None, "error": {"code": code, "message": message}}


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/json"
    return False


# RFC 9728 §3.1: the metadata of the resource https://host/mcp lives at /.well-known/oauth-protected-resource/mcp;
# the bare form is served too, for clients that only try the root.
METADATA_PATHS = ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource")


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def _origin(scope: Scope) -> str:
    """The public origin the client called. Behind API Gateway the Host header is the API's (or its custom
    domain's) name, which the function cannot know at deploy time without a dependency cycle."""
    proto = _header(scope, b"x-forwarded-proto") or scope.get("scheme", "https")
    return f"{proto}://{_header(scope, b'host') or 'localhost'}"


def protected_resource_metadata(scope: Scope, settings: Settings) -> dict[str, Any]:
    """RFC 9728 metadata: where an MCP client gets a token for this endpoint (the MCP authorization spec)."""
    return {
        "resource": f"{_origin(scope)}/mcp",
        "authorization_servers": [settings.jwt_issuer],
        "bearer_methods_supported": ["header"],
        "resource_name": "longhaul",
    }


def _www_authenticate(scope: Scope, error: str) -> bytes:
    """RFC 6750 challenge with RFC 9728's resource_metadata; an error code only when a token was sent."""
    value = f'Bearer resource_metadata="{_origin(scope)}{METADATA_PATHS[0]}"'
    if error:
        description = error.replace("\\", "").replace('"', "'")
        value += f', error="invalid_token", error_description="{description}"'
    return value.encode("latin-1", "replace")


# An owner is a DynamoDB index key (with "#<status>" appended): well under its 2,048-byte limit.
MAX_OWNER_BYTES = 1024

# Sign-in settings the deployed API hands the function with every request (template.yaml, McpApi StageVariables).
STAGE_SETTINGS = {"AUTH_MODE": "auth_mode", "JWT_ISSUER": "jwt_issuer", "JWT_AUDIENCE": "jwt_audience"}


def request_settings(scope: Scope, settings: Settings) -> Settings:
    """The settings for this request: the deployed API's stage variables win over the function's environment.

    A function version is frozen with the environment it was published with, and a deploy that changes only a
    parameter may keep serving it; the API's stage is updated by every deploy. Clients cannot set stage variables.
    """
    stage = (scope.get("aws.event") or {}).get("stageVariables") or {}
    update: dict[str, Any] = {
        field: str(stage[name]) for name, field in STAGE_SETTINGS.items() if stage.get(name) is not None
    }
    if update.get("auth_mode", settings.auth_mode) not in AUTH_MODES:
        update.pop("auth_mode")
    return dataclasses.replace(settings, **update) if update else settings


class RequestGuard:
    """Rejects requests without a verified caller (401) or with an oversized body (413) before MCP sees them,
    and hands the caller to the tools in ``scope["state"]["principal"]``."""

    def __init__(self, app: ASGIApp, settings: Settings):
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = request_settings(scope, self.settings)
        if scope["path"] in METADATA_PATHS and scope["method"] in ("GET", "HEAD"):
            # Unauthenticated by design: it is how a client learns where to sign in.
            if settings.auth_mode == "jwt" and settings.jwt_issuer:
                metadata = protected_resource_metadata(scope, settings)
                await _send_json(send, 200, metadata, [(b"cache-control", b"public, max-age=3600")])
            else:
                await _send_json(send, 404, {"error": "this endpoint names no authorization server"}, [])
            return
        if scope["method"] != "POST":
            # Stateless JSON mode has nothing to serve on GET or DELETE, and a GET that opens an SSE stream
            # would hold the Lambda until its timeout.
            await _send_json(
                send, 405, _rpc_error(-32600, "Method Not Allowed: POST JSON-RPC to /mcp"), [(b"allow", b"POST")]
            )
            return
        try:
            owner = authenticate(scope.get("aws.event"), settings)
        except InvalidToken as error:
            reason = str(error) or "send a bearer token (see WWW-Authenticate: resource_metadata)"
            await _send_json(
                send,
                401,
                _rpc_error(UNAUTHORIZED, f"Unauthorized: {reason}"),
                [(b"www-authenticate", _www_authenticate(scope, str(error)))],
            )
            return
        except KeysUnavailable:
            # The issuer's keys could not be fetched: not the caller's fault, and a 401 would send them to sign
            # in again for nothing. The log line names the URL; the caller learns only that it may retry.
            logger.exception("JWKS unavailable")
            await _send_json(
                send, 503, _rpc_error(-32603, "Service Unavailable: cannot verify tokens now; retry shortly"), []
            )
            return
        if len(owner.encode("utf-8", "surrogatepass")) > MAX_OWNER_BYTES:
            # Task records are indexed by owner, and DynamoDB keys hold at most 2,048 bytes: refuse, don't fail later.
            await _send_json(
                send, 401, _rpc_error(UNAUTHORIZED, f"Unauthorized: caller identity over {MAX_OWNER_BYTES} bytes"), []
            )
            return
        if not _is_json(scope):
            # The SDK answers this with a bare text body labelled JSON; clients deserve a JSON-RPC error.
            await _send_json(
                send, 415, _rpc_error(-32600, "Unsupported Media Type: send Content-Type: application/json"), []
            )
            return
        body, too_large = bytearray(), False
        while True:
            message = await receive()
            body += message.get("body", b"")
            if len(body) > self.settings.max_request_bytes:
                too_large = True
                break
            if not message.get("more_body"):
                break
        if too_large:
            limit = self.settings.max_request_bytes
            await _send_json(send, 413, _rpc_error(-32600, f"Request body exceeds {limit} bytes"), [])
            return
        scope.setdefault("state", {})["principal"] = owner
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, replay, send)


def build_app(json_response: bool = True, settings: Settings | None = None) -> ASGIApp:
    """A fresh Starlette app (and session manager) around the module-level MCP server, with the guard."""
    settings = settings or get_settings()
    app = mcp.streamable_http_app(
        stateless_http=True, json_response=json_response, transport_security=transport_security(settings)
    )
    tasks_2025.install(mcp)
    app.add_middleware(tasks_2025.TransportMode, streaming=not json_response)
    app.add_middleware(RequestGuard, settings=settings)
    return app

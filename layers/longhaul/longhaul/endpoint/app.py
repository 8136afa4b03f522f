"""The ASGI app behind API Gateway: the MCP server's streamable-HTTP app, guarded by identity and size checks."""

from __future__ import annotations

import json
from typing import Any

from mcp.server.transport_security import TransportSecuritySettings
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from longhaul.endpoint import tasks_2025
from longhaul.endpoint.identity import principal_from_event
from longhaul.endpoint.server import UNAUTHORIZED, mcp
from longhaul.settings import Settings, get_settings


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
        if scope["method"] != "POST":
            # Stateless JSON mode has nothing to serve on GET or DELETE, and a GET that opens an SSE stream
            # would hold the Lambda until its timeout.
            await _send_json(
                send, 405, _rpc_error(-32600, "Method Not Allowed: POST JSON-RPC to /mcp"), [(b"allow", b"POST")]
            )
            return
        owner = principal_from_event(scope.get("aws.event"), self.settings)
        if owner is None:
            await _send_json(
                send,
                401,
                _rpc_error(UNAUTHORIZED, "Unauthorized: send a valid bearer token (the API's JWT authorizer)"),
                [(b"www-authenticate", b"Bearer")],
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

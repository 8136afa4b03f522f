"""Sign-in an MCP client can discover: the deployed endpoint verifies bearer JWTs itself, with real RSA-signed tokens
checked against a JWKS served over HTTP (OIDC discovery included), and tells unauthenticated clients where the
protected-resource metadata is (RFC 9728, the MCP authorization spec)."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from longhaul import runtime
from longhaul.endpoint import tokens
from longhaul.settings import get_settings
from longhaul_dev.moto_lambda import LocalLambdaContext, load_handler
from longhaul_dev.template import PROJECT_ROOT
from tests.conftest import load_event

AUDIENCE = "longhaul-client-id"
HOST = "abc123defg.execute-api.us-east-1.amazonaws.com"
METADATA_URL = f"https://{HOST}/.well-known/oauth-protected-resource/mcp"
# A task still working when the test ends, in one-epoch steps: the stack's teardown stops it within an epoch.
LONG_TRAINING = {"epochs": 50, "epoch_seconds": 0.2, "checkpoint_seconds": 0}


class Issuer:
    """An OpenID provider on 127.0.0.1: discovery document, JWKS, and a private key to sign tokens with."""

    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = "key-1"
        self.requests: list[str] = []
        self.down = False
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                issuer.requests.append(self.path)
                if issuer.down:
                    self.send_error(503)
                    return
                if self.path == "/.well-known/openid-configuration":
                    body: dict[str, Any] = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/keys"}
                elif self.path == "/keys":
                    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(issuer.key.public_key()))
                    body = {"keys": [{**public, "kid": issuer.kid, "use": "sig", "alg": "RS256"}]}
                else:
                    self.send_error(404)
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # shutdown() waits for the serving loop's next poll: 0.5 s by default, at the end of every test.
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def token(self, sub: str = "alice-sub", key: Any = None, kid: str | None = None, **claims: Any) -> str:
        now = int(time.time())
        payload = {"iss": self.url, "sub": sub, "aud": AUDIENCE, "iat": now, "exp": now + 600, **claims}
        payload = {k: v for k, v in payload.items() if v is not None}
        return jwt.encode(payload, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})


@pytest.fixture(scope="module")
def shared_issuer() -> Iterator[Issuer]:
    """One provider (its RSA key takes ~0.1 s of CPU to generate) for the module; each test gets it reset."""
    provider = Issuer()
    yield provider
    provider.server.shutdown()


@pytest.fixture
def issuer(shared_issuer: Issuer) -> Issuer:
    shared_issuer.requests.clear()
    shared_issuer.down = False
    return shared_issuer


@pytest.fixture
def endpoint(stack, issuer, monkeypatch):
    """The Lambda handler as deployed: AUTH_MODE=jwt with an issuer, and events without an authorizer context
    (the HTTP API routes /mcp to the function without one). Returns (status, headers, parsed body)."""
    handler = load_handler(PROJECT_ROOT / "functions" / "mcp_endpoint", "app.lambda_handler")
    monkeypatch.setenv("AUTH_MODE", "jwt")
    monkeypatch.setenv("JWT_ISSUER", issuer.url)
    monkeypatch.setenv("JWT_AUDIENCE", f"other-app, {AUDIENCE}")
    tokens.verifier.cache_clear()

    def call(event: dict[str, Any], auth_mode: str = "jwt") -> tuple[int, dict[str, str], Any]:
        monkeypatch.setenv("AUTH_MODE", auth_mode)
        get_settings.cache_clear()
        runtime.reset()
        response = handler(event, LocalLambdaContext(function_name="McpEndpointFunction", timeout_seconds=30))
        body = response.get("body") or ""
        headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        return response["statusCode"], headers, (json.loads(body) if body.strip() else None)

    yield call
    tokens.verifier.cache_clear()


def request(body: dict[str, Any] | None = None, token: str | None = None, method: str = "POST", path: str = "/mcp"):
    """An HTTP API v2 event as the deployed API sends it: no requestContext.authorizer."""
    event = load_event("mcp_endpoint/http_api_tools_list.json")
    del event["requestContext"]["authorizer"]
    event["headers"].pop("authorization")
    if token is not None:
        event["headers"]["authorization"] = f"Bearer {token}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["requestContext"]["http"]["method"] = method
    event["routeKey"] = event["requestContext"]["routeKey"] = f"{method} {path}"
    if body is None:
        event.pop("body", None)
    else:
        event["body"] = json.dumps(body)
    return event


TOOLS_LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}


def call_tool(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": name, "arguments": arguments}}


@pytest.mark.parametrize("path", ["/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"])
def test_protected_resource_metadata_is_served_without_a_token(endpoint, issuer, path):
    status, headers, body = endpoint(request(method="GET", path=path))

    assert status == 200 and headers["content-type"] == "application/json"
    assert body == {
        "resource": f"https://{HOST}/mcp",
        "authorization_servers": [issuer.url],
        "bearer_methods_supported": ["header"],
        "resource_name": "longhaul",
    }


def test_a_request_without_a_token_learns_where_to_sign_in(endpoint):
    status, headers, body = endpoint(request(TOOLS_LIST))

    assert status == 401
    assert headers["www-authenticate"] == f'Bearer resource_metadata="{METADATA_URL}"'
    assert body["error"]["code"] == -32001


def test_a_signed_token_is_the_caller_and_callers_see_only_their_own_tasks(endpoint, issuer):
    status, _, body = endpoint(request(TOOLS_LIST, issuer.token()))
    assert status == 200 and body["result"]["tools"]

    _, _, started = endpoint(request(call_tool("model_training", LONG_TRAINING), issuer.token(sub="alice")))
    task_id = started["result"]["structuredContent"]["task_id"]
    _, _, alice = endpoint(request(call_tool("list_tasks", {}), issuer.token(sub="alice")))
    _, _, bob = endpoint(request(call_tool("get_task_status", {"task_id": task_id}), issuer.token(sub="bob")))

    assert [t["task_id"] for t in alice["result"]["structuredContent"]["tasks"]] == [task_id]
    assert bob["result"]["isError"] is True
    runtime.task_service().cancel("alice", task_id)


def test_a_cognito_access_token_is_accepted_by_its_client_id(endpoint, issuer):
    # Cognito access tokens carry no aud; API Gateway's authorizer then compares client_id, and so does longhaul.
    token = issuer.token(aud=None, client_id=AUDIENCE, token_use="access")
    assert endpoint(request(TOOLS_LIST, token))[0] == 200


def other_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize(
    ("make_token", "reason"),
    [
        (lambda i: i.token(exp=int(time.time()) - 120), "expired"),
        (lambda i: i.token(aud="someone-else"), "audience"),
        (lambda i: i.token(aud=None, client_id="someone-else"), "audience"),
        (lambda i: i.token(iss="https://evil.example.com"), "issuer"),
        (lambda i: i.token(key=other_key()), "invalid"),  # right kid, wrong key: the signature fails
        (lambda i: i.token(key=other_key(), kid="key-2"), "not signed by a key of the issuer"),
        (lambda i: i.token(sub=None), "invalid"),
        (lambda i: jwt.encode({"iss": i.url, "sub": "x", "aud": AUDIENCE, "exp": 2**31}, "k" * 32, "HS256"), "algo"),
        (lambda i: jwt.encode({"iss": i.url, "sub": "x", "aud": AUDIENCE}, None, "none"), "algorithm"),
        (lambda i: "not-a-jwt", "not a JWT"),
    ],
)
def test_an_unacceptable_token_gets_401_with_the_reason_and_where_to_sign_in(endpoint, issuer, make_token, reason):
    status, headers, body = endpoint(request(TOOLS_LIST, make_token(issuer)))

    assert status == 401, body
    challenge = headers["www-authenticate"]
    assert challenge.startswith(f'Bearer resource_metadata="{METADATA_URL}", error="invalid_token"')
    assert reason in challenge and reason in body["error"]["message"]


def test_signing_keys_are_fetched_once_per_execution_environment(endpoint, issuer):
    for _ in range(5):
        assert endpoint(request(TOOLS_LIST, issuer.token()))[0] == 200
    # Random key ids do not make every request refetch the JWKS.
    for n in range(5):
        assert endpoint(request(TOOLS_LIST, issuer.token(key=other_key(), kid=f"random-{n}")))[0] == 401

    assert issuer.requests == ["/.well-known/openid-configuration", "/keys"]


def test_an_unreachable_issuer_is_a_503_not_a_sign_in_loop(endpoint, issuer):
    issuer.down = True
    status, headers, body = endpoint(request(TOOLS_LIST, issuer.token()))

    assert status == 503 and "www-authenticate" not in headers
    assert body["error"]["code"] == -32603


def test_an_identity_api_gateway_verified_wins_in_every_auth_mode(endpoint):
    # A function version that outlived an AuthMode change must not merge callers the gateway told apart.
    event = load_event("mcp_endpoint/http_api_tools_list.json")
    _, _, started = endpoint(
        copy.deepcopy(event) | {"body": json.dumps(call_tool("model_training", LONG_TRAINING))}, "none"
    )
    task_id = started["result"]["structuredContent"]["task_id"]
    sub = event["requestContext"]["authorizer"]["jwt"]["claims"]["sub"]

    assert runtime.task_service().get(sub, task_id).owner == sub
    runtime.task_service().cancel(sub, task_id)


def test_without_authentication_no_metadata_is_advertised(endpoint):
    status, _, _ = endpoint(request(method="GET", path="/.well-known/oauth-protected-resource/mcp"), "none")
    assert status == 404


@pytest.mark.parametrize("method", ["GET", "DELETE", "PUT"])
def test_other_methods_on_mcp_get_405_with_allow(endpoint, method):
    status, headers, _ = endpoint(request(method=method))
    assert status == 405 and headers["allow"] == "POST"


def test_the_deployed_stages_sign_in_settings_win_over_a_stale_function_version(endpoint, issuer, monkeypatch):
    # A version published while AuthMode was none (or with another issuer) may still be live after a deploy that
    # changed only parameters; the API's stage variables carry the current values to it on every request.
    monkeypatch.setenv("JWT_ISSUER", "https://old-issuer.example.com")
    monkeypatch.setenv("JWT_AUDIENCE", "old-audience")
    stage = {"AUTH_MODE": "jwt", "JWT_ISSUER": issuer.url, "JWT_AUDIENCE": AUDIENCE}

    anonymous = request(TOOLS_LIST) | {"stageVariables": stage}
    signed_in = request(TOOLS_LIST, issuer.token()) | {"stageVariables": stage}
    metadata = request(method="GET", path="/.well-known/oauth-protected-resource/mcp") | {"stageVariables": stage}

    assert endpoint(anonymous, auth_mode="none")[0] == 401
    assert endpoint(signed_in, auth_mode="none")[0] == 200
    assert endpoint(metadata, auth_mode="none")[2]["authorization_servers"] == [issuer.url]


def test_a_stage_without_authentication_is_honoured_too(endpoint):
    event = request(TOOLS_LIST) | {"stageVariables": {"AUTH_MODE": "none", "JWT_AUDIENCE": "longhaul"}}
    assert endpoint(event, auth_mode="jwt")[0] == 200


def test_keys_already_fetched_keep_working_while_the_issuer_is_down(endpoint, issuer):
    assert endpoint(request(TOOLS_LIST, issuer.token()))[0] == 200
    issuer.down = True
    tokens.verifier(issuer.url, ("other-app", AUDIENCE), "").jwks.max_age = 0  # the cached set is due for refresh

    assert endpoint(request(TOOLS_LIST, issuer.token()))[0] == 200
    assert endpoint(request(TOOLS_LIST, issuer.token()))[0] == 200
    assert issuer.requests.count("/keys") == 2, "one failed refresh, not one per request"

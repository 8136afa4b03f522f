"""Bearer JWTs verified in the function, against the issuer's published signing keys (JWKS).

API Gateway's HTTP API JWT authorizer answers a bad or missing token itself, with a fixed 401 whose
``WWW-Authenticate`` header cannot be changed, so MCP clients would never learn where the protected-resource
metadata is (RFC 9728). The endpoint therefore verifies tokens itself, with the same rules as that authorizer:
issuer equal to ``JWT_ISSUER``; ``aud`` (or, for tokens without ``aud`` such as Cognito access tokens,
``client_id``) among ``JWT_AUDIENCE``; ``exp``/``nbf`` in force; an asymmetric signature by a key in the issuer's
JWKS. Keys are cached per execution environment, so a warm invocation makes no network call.

PyJWT (and the cryptography it loads, ~25 ms) is imported when a token is first verified, not with this module: a
deployment whose callers API Gateway verifies never needs it. One that verifies tokens here loads it at init
(``preload``, from functions/mcp_endpoint/app.py) so its first request does not pay for it.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from longhaul.endpoint.identity import InvalidToken, KeysUnavailable

if TYPE_CHECKING:
    import jwt

__all__ = ["InvalidToken", "KeysUnavailable", "TokenVerifier", "preload", "verifier"]

# Asymmetric only: an HMAC algorithm would let anyone holding the public JWKS forge tokens, and "none" signs nothing.
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"]
LEEWAY_SECONDS = 30  # clock skew tolerated on exp/nbf/iat
FETCH_TIMEOUT_SECONDS = 5.0


def preload() -> None:
    """Import what verifying a token needs (PyJWT, its RSA and EC algorithms), e.g. before a SnapStart snapshot."""
    import jwt.algorithms  # noqa: F401 - loaded for later use (with the jwt package and cryptography's backends)


def _get_json(url: str) -> dict[str, Any]:
    if not url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise KeysUnavailable(f"refusing to fetch keys over plain http: {url}")
    try:
        with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # the scheme is checked above
            data = json.loads(response.read())
    except (OSError, ValueError) as error:
        raise KeysUnavailable(f"{url}: {error}") from None
    if not isinstance(data, dict):
        raise KeysUnavailable(f"{url}: not a JSON object")
    return data


@dataclass
class JwksCache:
    """The issuer's signing keys, fetched on first use and kept for ``max_age`` seconds.

    A token naming an unknown key id refetches the set (the issuer rotated its keys), but at most once per
    ``min_refresh_seconds``: otherwise anyone could make every request fetch the JWKS by sending random key ids.
    """

    issuer: str
    jwks_url: str = ""  # empty: discovered from the issuer's /.well-known/openid-configuration
    max_age: float = 3600.0
    min_refresh_seconds: float = 60.0
    _keys: dict[str, jwt.PyJWK] = field(default_factory=dict, init=False)
    _fetched_at: float = field(default=float("-inf"), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def key(self, kid: str) -> jwt.PyJWK | None:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            if age > self.max_age or (kid not in self._keys and age > self.min_refresh_seconds):
                try:
                    self._refresh()
                except KeysUnavailable:
                    if not self._keys:
                        raise
                    # The issuer is unreachable but we hold its keys: keep verifying with them, and try again
                    # after min_refresh_seconds rather than on every request.
                    self._fetched_at = time.monotonic() - self.max_age + self.min_refresh_seconds
            return self._keys.get(kid)

    def _refresh(self) -> None:
        import jwt

        url = self.jwks_url
        if not url:
            discovery = _get_json(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
            url = str(discovery.get("jwks_uri") or "")
            if not url:
                raise KeysUnavailable(f"{self.issuer}: the OpenID configuration names no jwks_uri")
            self.jwks_url = url
        keys: dict[str, jwt.PyJWK] = {}
        for data in _get_json(url).get("keys", []):
            if data.get("use", "sig") != "sig" or "kid" not in data:
                continue
            try:
                keys[data["kid"]] = jwt.PyJWK(data)
            except jwt.PyJWTError:
                continue  # a key type or algorithm this verifier does not accept
        self._keys = keys
        self._fetched_at = time.monotonic()


@dataclass(frozen=True)
class TokenVerifier:
    issuer: str
    audiences: tuple[str, ...]
    jwks: JwksCache

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``; raises InvalidToken (caller's fault) or KeysUnavailable (ours)."""
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("the token is not a JWT") from None
        if header.get("alg") not in ALGORITHMS:
            raise InvalidToken("the token's signing algorithm is not accepted")
        key = self.jwks.key(str(header.get("kid", "")))
        if key is None:
            raise InvalidToken("the token is not signed by a key of the issuer")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[header["alg"]],
                issuer=self.issuer,
                leeway=LEEWAY_SECONDS,
                # The audience rule is API Gateway's (aud, else client_id), checked below.
                options={"require": ["exp", "iss", "sub"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("the token has expired") from None
        except jwt.InvalidIssuerError:
            raise InvalidToken("the token was issued by another issuer") from None
        except jwt.PyJWTError as error:
            raise InvalidToken(f"the token is invalid: {error}") from None
        aud = claims.get("aud", claims.get("client_id"))
        granted = {aud} if isinstance(aud, str) else set(aud or [])
        if not granted & set(self.audiences):
            raise InvalidToken("the token was not issued for this resource (audience)")
        return claims


@lru_cache(maxsize=4)
def verifier(issuer: str, audiences: tuple[str, ...], jwks_url: str = "") -> TokenVerifier:
    """One verifier (and key cache) per configuration for the life of the execution environment."""
    return TokenVerifier(issuer=issuer, audiences=audiences, jwks=JwksCache(issuer=issuer, jwks_url=jwks_url))

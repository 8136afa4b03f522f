"""One `longhaul dev --auth dev-token` (and one with --stream, one with --conformance) for every client-facing test
module that can share it (each caller is its bearer token, so tests keep apart by using their own names). Starting
a dev server costs seconds; the server is stopped when the test process exits, and killed if it does not stop."""

from __future__ import annotations

import atexit
import subprocess

from tests.integration.test_dev_server import DevServer, start_dev_server, stop

_servers: dict[str, DevServer] = {}


def dev_token_server() -> DevServer:
    return _shared("--auth", "dev-token")


def stream_server() -> DevServer:
    """`longhaul dev --stream --auth dev-token`, its waits reading the record every 0.5 s (WAIT_POLL_SECONDS; 3 s
    deployed) so that short tasks still give several distinct readings."""
    return _shared("--stream", "--auth", "dev-token", env={"WAIT_POLL_SECONDS": "0.5"})


def conformance_server() -> DevServer:
    """`longhaul dev --conformance --quiet`: the conformance suite's fixture tools, no auth (every caller is the local
    developer, so a test that lists tasks reads only the newest, its own)."""
    return _shared("--conformance", "--quiet")


def _shared(*flags: str, env: dict[str, str] | None = None) -> DevServer:
    key = " ".join(flags)
    server = _servers.get(key)
    if server is None or server.process.poll() is not None:
        server = _servers[key] = start_dev_server(*flags, env=env)
        atexit.register(_shutdown, server)
    return server


def _shutdown(server: DevServer) -> None:
    try:
        stop(server)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()

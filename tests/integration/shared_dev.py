"""One `longhaul dev --auth dev-token` for every client-facing test module that can share it (each caller is
its bearer token, so tests keep apart by using their own names). Starting a dev server costs seconds; the
server is stopped when the test process exits, and killed if it does not stop."""

from __future__ import annotations

import atexit
import subprocess

from tests.integration.test_dev_server import DevServer, start_dev_server, stop

_server: DevServer | None = None


def dev_token_server() -> DevServer:
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = start_dev_server("--auth", "dev-token")
        atexit.register(_shutdown, _server)
    return _server


def _shutdown(server: DevServer) -> None:
    try:
        stop(server)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()

"""Strands runs in its own interpreter (.venv-strands: it pins mcp<2.2). Importing Strands, its MCP SDK and
bedrock-agentcore costs over a CPU-second per interpreter and the tests start many short Strands processes, so one
preloaded interpreter per test process (clients/strands_forkserver.py) forks each of them instead. Every run is still
a process of its own, with its own argv, environment, working directory, standard streams and exit status; only
the imports are paid once. It stops when the test process exits."""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import threading
from pathlib import Path

from longhaul_dev.template import PROJECT_ROOT

STRANDS_PYTHON = Path(os.environ.get("LONGHAUL_STRANDS_PYTHON", PROJECT_ROOT / ".venv-strands" / "bin" / "python"))
FORKSERVER = Path(__file__).parent / "clients" / "strands_forkserver.py"
PYTHON = PROJECT_ROOT / STRANDS_PYTHON  # `make test` passes it relative to the project

_lock = threading.Lock()
_server: subprocess.Popen[str] | None = None


def run(
    *,
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    script: Path | None = None,
    code: str | None = None,
    input: str | None = None,
    timeout: float = 180,
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (as ``python script argv[1:]``) or ``code`` (as ``python -c code argv[1:]``) in a new Strands
    process; the result is what ``subprocess.run(..., capture_output=True, text=True)`` would return."""
    request: dict[str, object] = {"argv": argv, "cwd": str(cwd), "env": env, "input": input}
    if script is not None:
        request["script"] = str(script)
    else:
        request["code"] = code
    with _lock:
        server = _forkserver()
        assert server.stdin is not None and server.stdout is not None
        server.stdin.write(json.dumps(request) + "\n")
        server.stdin.flush()
        timer = threading.Timer(timeout, server.kill)  # a hung run fails the test instead of hanging the suite
        timer.start()
        try:
            line = server.stdout.readline()
        finally:
            timer.cancel()
    if not line:
        raise RuntimeError(f"the Strands fork server stopped (exit status {server.wait()}; its stderr is above)")
    answer = json.loads(line)
    command = [str(PYTHON), *([str(script)] if script else ["-c", code or ""]), *argv[1:]]
    return subprocess.CompletedProcess(command, answer["returncode"], answer["stdout"], answer["stderr"])


def _forkserver() -> subprocess.Popen[str]:
    global _server
    if _server is None or _server.poll() is not None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LONGHAUL_"))}
        _server = subprocess.Popen(
            [str(PYTHON), str(FORKSERVER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=PROJECT_ROOT,
        )
        atexit.register(_stop, _server)
    return _server


def _stop(server: subprocess.Popen[str]) -> None:
    if server.stdin is not None:
        server.stdin.close()  # the fork server ends at the end of its input
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()

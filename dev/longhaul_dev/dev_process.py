"""`longhaul dev` as a child process on a free port, as a user runs it: for the tests and the benchmarks."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading

from longhaul_dev.template import PROJECT_ROOT


class DevServerDidNotStart(RuntimeError):
    pass


def start(*args: str, env: dict[str, str] | None = None, timeout: float = 180.0) -> tuple[subprocess.Popen, list[str]]:
    """Start ``longhaul dev --port 0 *args`` and return once it serves, with the lines it printed so far (they keep
    arriving in the list). ``env``: settings on top of this process's environment, minus any AWS endpoint override
    (the server runs its own moto). Raises ``DevServerDidNotStart`` with its output if it is not up in ``timeout``."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("AWS_ENDPOINT_URL")} | (env or {})
    process = subprocess.Popen(
        [sys.executable, "-m", "longhaul_dev.cli", "dev", "--port", "0", *args],
        cwd=PROJECT_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: list[str] = []
    ready: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if "Ctrl-C stops" in line:
                ready.put("")

    threading.Thread(target=pump, daemon=True).start()
    try:
        ready.get(timeout=timeout)  # generous by default: make test runs tests side by side on a loaded machine
    except queue.Empty:
        process.kill()
        raise DevServerDidNotStart("longhaul dev did not start:\n" + "".join(lines)) from None
    return process, lines

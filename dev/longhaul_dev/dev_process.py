"""`longhaul dev` as a child process on a free port, as a user runs it: for the tests and the benchmarks."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from longhaul_dev.template import PROJECT_ROOT


class DevServerDidNotStart(RuntimeError):
    pass


def start(
    *args: str, env: dict[str, str] | None = None, timeout: float = 180.0, log: Path | None = None
) -> tuple[subprocess.Popen, list[str]]:
    """Start ``longhaul dev --port 0 *args`` and return once it serves, with the lines it printed so far (they keep
    arriving in the list). ``env``: settings on top of this process's environment, minus any AWS endpoint override
    and Athena workgroup (the server runs its own moto and stack). ``log``: write its output to this file (which
    other processes can follow, see ``follow``) instead of a pipe, and start it in a session of its own, so that it
    outlives this process if it has to. Raises ``DevServerDidNotStart`` with its output if it is not up in
    ``timeout``."""
    own = ("AWS_ENDPOINT_URL", "ATHENA_WORKGROUP")  # the server's own moto and stack decide these
    environment = {k: v for k, v in os.environ.items() if not k.startswith(own)} | (env or {})
    command = [sys.executable, "-m", "longhaul_dev.cli", "dev", "--port", "0", *args]
    lines: list[str] = []
    ready = threading.Event()
    if log is None:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.append(line)
                if READY in line:
                    ready.set()

        threading.Thread(target=pump, daemon=True).start()
    else:
        with log.open("w") as output:
            process = subprocess.Popen(
                command, cwd=PROJECT_ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT, text=True,
                start_new_session=True,
            )  # fmt: skip
        follow(log, lines, ready)
    deadline = time.monotonic() + timeout  # generous by default: make test runs tests side by side on a loaded machine
    while not ready.wait(0.05):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            process.wait()
            time.sleep(0.2)  # the last lines
            raise DevServerDidNotStart("longhaul dev did not start:\n" + "".join(lines))
    return process, lines


READY = "Ctrl-C stops"


def shared_folder(run: str) -> Path:
    """Where the test processes of one pytest-xdist run (``run``: its id) find the dev servers they share
    (tests/integration/shared_dev.py); the root conftest.py removes it when the run ends."""
    return Path(tempfile.gettempdir()) / f"longhaul-dev-{run}"


def follow(log: Path, lines: list[str], ready: threading.Event | None = None) -> None:
    """Append the lines of a dev server's ``log`` file to ``lines`` as they arrive (in a daemon thread)."""

    def tail() -> None:
        pending = ""
        with log.open() as source:
            while True:
                chunk = source.readline()
                if not chunk:
                    time.sleep(0.05)
                    continue
                pending += chunk
                if pending.endswith("\n"):
                    lines.append(pending)
                    if ready is not None and READY in pending:
                        ready.set()
                    pending = ""

    threading.Thread(target=tail, daemon=True).start()

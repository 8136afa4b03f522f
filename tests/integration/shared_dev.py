"""One `longhaul dev --auth dev-token` (and one with --stream, one with --conformance) for every client-facing test
module that can share it (each caller is its bearer token, so tests keep apart by using their own names). Starting
a dev server costs seconds, so under pytest-xdist the test processes of one run share each server too: the first
to need it starts it (its output goes to a file the others follow) and the last one still using it stops it when
it exits (Ctrl-C, killed if it does not stop). Without xdist the server is this process's own."""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

from longhaul_dev import dev_process
from tests.integration.test_dev_server import DevServer, start_dev_server, stop

_servers: dict[str, DevServer] = {}


def dev_token_server() -> DevServer:
    """`longhaul dev --auth dev-token --quiet`. Quiet: without a transition log to write, its watcher does not scan
    the whole tasks table twice a second, and a shared table grows to hundreds of tasks (test_dev_server reads the
    log of a server of its own)."""
    return _shared("--auth", "dev-token", "--quiet")


def stream_server() -> DevServer:
    """`longhaul dev --stream --auth dev-token --quiet`, its waits reading the record every 0.5 s (WAIT_POLL_SECONDS;
    3 s deployed) so that short tasks still give several distinct readings."""
    return _shared("--stream", "--auth", "dev-token", "--quiet", env={"WAIT_POLL_SECONDS": "0.5"})


def conformance_server() -> DevServer:
    """`longhaul dev --conformance --quiet`: the conformance suite's fixture tools, no auth. Not shared between test
    processes: every caller there is the local developer, and test_strands_tasks reads the newest of their tasks."""
    return _shared("--conformance", "--quiet", between_processes=False)


def _shared(*flags: str, env: dict[str, str] | None = None, between_processes: bool = True) -> DevServer:
    key = " ".join(flags)
    server = _servers.get(key)
    if server is not None and server.process.poll() is None:
        return server
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")  # the same in every worker of one xdist run
    if run and between_processes:
        server = _join(dev_process.shared_folder(run), key, flags, env)
    else:
        server = start_dev_server(*flags, env=env)
        atexit.register(_shutdown, server)
    _servers[key] = server
    return server


def _shutdown(server: DevServer) -> None:
    try:
        stop(server)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


# ---------------------------------------------------------------- one server for all the workers of an xdist run
# <folder>/<name>.json says where the server is (pid, url, log); <name>.users lists the test processes using it.
# Both change only under <name>.lock.


class _Running:
    """A server another test process started: enough of subprocess.Popen for the tests and for stopping it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not _alive(self.pid):
            self.returncode = 0
        return self.returncode

    def send_signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = time.monotonic() + (timeout if timeout is not None else 1e9)
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            time.sleep(0.05)
        return 0


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):  # an exited child not yet reaped by its parent
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


@contextlib.contextmanager
def _locked(folder: Path, name: str) -> Iterator[None]:
    folder.mkdir(exist_ok=True)
    with (folder / f"{name}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _users(folder: Path, name: str) -> set[int]:
    listed = folder / f"{name}.users"
    return {int(pid) for pid in listed.read_text().split()} if listed.exists() else set()


def _set_users(folder: Path, name: str, users: set[int]) -> None:
    (folder / f"{name}.users").write_text(" ".join(str(pid) for pid in sorted(users)))


def _join(folder: Path, key: str, flags: tuple[str, ...], env: dict[str, str] | None) -> DevServer:
    name = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")
    state = folder / f"{name}.json"
    with _locked(folder, name):
        known = json.loads(state.read_text()) if state.exists() else None
        if known is not None and _alive(known["pid"]):
            lines: list[str] = []
            dev_process.follow(Path(known["log"]), lines)
            server = DevServer(known["url"], known["aws"], known["memory"], _Running(known["pid"]), lines)  # type: ignore[arg-type]
        else:
            log = folder / f"{name}.{os.getpid()}.log"
            server = start_dev_server(*flags, env=env, log=log)
            record = {"pid": server.process.pid, "url": server.url, "aws": server.aws_endpoint, "log": str(log)}
            state.write_text(json.dumps({**record, "memory": server.memory_id}))
        _set_users(folder, name, {pid for pid in _users(folder, name) if _alive(pid)} | {os.getpid()})
    atexit.register(_leave, folder, name, server)
    return server


def _leave(folder: Path, name: str, server: DevServer) -> None:
    """This test process is done with the server: the last one to leave stops it."""
    with _locked(folder, name):
        users = {pid for pid in _users(folder, name) if _alive(pid) and pid != os.getpid()}
        _set_users(folder, name, users)
        if users:
            return
        state = folder / f"{name}.json"
        log = json.loads(state.read_text())["log"] if state.exists() else None
        state.unlink(missing_ok=True)
        server.process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            server.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
        for done in (folder / f"{name}.users", Path(log) if log else None):
            if done is not None:
                done.unlink(missing_ok=True)

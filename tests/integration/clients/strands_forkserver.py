"""A Strands interpreter that imports Strands (and the MCP SDK and bedrock-agentcore under it) once, then forks a new
process for every run it is asked for. Runs in .venv-strands; tests/integration/strands_runner.py drives it.

Each request is one JSON line on stdin: {"argv": [...], "cwd": ..., "env": {...}, "input": ..., "script": path} or
{..., "code": source} (like ``python -c``). The forked child sets its argv, environment, working directory and
standard streams, runs the script as ``__main__`` and exits; the answer is one JSON line on stdout:
{"returncode": ..., "stdout": ..., "stderr": ...}. Every run is a process of its own: no state carries over.
"""

import json
import os
import runpy
import sys
import tempfile
import threading
import traceback
import warnings

# What the agent example and the tests' Strands scripts import: the costly part of starting each of them.
import bedrock_agentcore.memory.integrations.strands.bedrock_converter
import bedrock_agentcore.memory.integrations.strands.config
import bedrock_agentcore.memory.integrations.strands.session_manager  # noqa: F401
import boto3  # noqa: F401
import mcp.client.streamable_http  # noqa: F401
import strands
import strands.tools.mcp  # noqa: F401

# Forking is only safe while this process has no other thread (a lock held by one would stay held in the child).
if threading.active_count() != 1:
    warnings.warn("strands_forkserver: threads started during import", stacklevel=1)

CHANNEL = os.fdopen(os.dup(1), "w")  # answers go here; fd 1 itself becomes each child's stdout


def run_child(request: dict, stdin_fd: int, out_fd: int, err_fd: int) -> None:
    code = 1
    try:
        os.dup2(stdin_fd, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the request stream's buffer must not be read here
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        sys.argv = list(request["argv"])
        code = 0
        try:
            if "script" in request:
                sys.path[0] = os.path.dirname(os.path.abspath(request["script"]))
                runpy.run_path(request["script"], run_name="__main__")
            else:
                sys.path[0] = ""
                exec(compile(request["code"], "<string>", "exec"), {"__name__": "__main__"})
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
            if exit.code is not None and not isinstance(exit.code, int):
                print(exit.code, file=sys.stderr)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def serve() -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        with tempfile.TemporaryFile() as given, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            given.write((request.get("input") or "").encode())
            given.flush()
            given.seek(0)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                run_child(request, given.fileno(), out.fileno(), err.fileno())
            _, status = os.waitpid(pid, 0)
            out.seek(0)
            err.seek(0)
            answer = {
                "returncode": os.waitstatus_to_exitcode(status),
                "stdout": out.read().decode(errors="replace"),
                "stderr": err.read().decode(errors="replace"),
            }
        CHANNEL.write(json.dumps(answer) + "\n")
        CHANNEL.flush()


if __name__ == "__main__":
    serve()

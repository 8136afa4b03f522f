"""examples/strands_agent, run as its README shows against `longhaul dev`, with the scripted model instead of an
LLM: session 1 starts a task and exits; the task ends with no client connected; session 2, a new process with the
same session id, restores its history from AgentCore Memory and finds the result there. Strands runs in its own
interpreter (.venv-strands: it pins mcp<2.2)."""

from __future__ import annotations

import os
import re
import subprocess
import time

import anyio
import pytest

from longhaul_dev.template import PROJECT_ROOT
from tests.integration import strands_runner
from tests.integration.shared_dev import dev_token_server
from tests.integration.test_dev_server import DevServer, call, wait_until_done
from tests.integration.test_strands_recall import STRANDS_PYTHON

EXAMPLE = PROJECT_ROOT / "examples" / "strands_agent"
PYTHON = PROJECT_ROOT / STRANDS_PYTHON  # `make test` passes it relative to the project; the agent runs in EXAMPLE


@pytest.fixture(scope="module")
def dev() -> DevServer:
    if not PYTHON.exists():
        pytest.fail(f"{PYTHON} is missing: `make test` creates it (Strands Agents in its own venv)")
    return dev_token_server()


def session(
    dev: DevServer, session_id: str, prompt: str, *options: str, caller: str = "nora", process: bool = False
) -> str:
    """One `python agent.py --scripted ...` session as a process of its own: started as a user does (``process``),
    or forked from a preloaded Strands interpreter (strands_runner: the same script, argv and environment, without
    paying Strands' imports again)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LONGHAUL_"))}
    env.update(
        LONGHAUL_URL=dev.url,
        LONGHAUL_TOKEN=caller,  # `longhaul dev --auth dev-token`: the token is the caller, and so the actor id
        LONGHAUL_ACTOR_ID=caller,
        LONGHAUL_MEMORY_ID=dev.memory_id,
        AWS_ENDPOINT_URL=dev.aws_endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
    )
    argv = ["agent.py", "--scripted", "--session-id", session_id, *options, prompt]
    if process:
        done = subprocess.run([str(PYTHON), *argv], cwd=EXAMPLE, env=env, capture_output=True, text=True, timeout=120)
    else:
        done = strands_runner.run(argv=argv, script=EXAMPLE / "agent.py", cwd=EXAMPLE, env=env, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def status_of(dev: DevServer, task_id: str, wait: bool = False) -> str:
    async with dev.client("nora") as client:
        if wait:
            return (await wait_until_done(client, task_id))[0]["status"]
        return (await call(client, "get_task_status", {"task_id": task_id}))["status"]


def test_a_new_session_recalls_the_result_of_a_task_that_ended_while_no_client_was_connected(dev):
    first = session(dev, "trip-42", "Train a model for 3 epochs", "--epoch-seconds", "2", process=True)
    assert "0 messages restored" in first
    task_id = re.search(r"Started longhaul task (\w+)", first)[1]
    assert "tool call> model_training" in first and '"session_id": "trip-42"' in first

    # Session 1's process has exited: the task goes on without any client, and ends.
    assert anyio.run(status_of, dev, task_id) == "working"
    assert anyio.run(status_of, dev, task_id, True) == "completed"

    deadline = time.monotonic() + 10  # the result reaches memory in the workflow's last state, after the record
    while True:
        second = session(dev, "trip-42", "What did the training produce?")
        if "final_loss" in second or time.monotonic() > deadline:
            break
    restored = int(re.search(r"(\d+) messages restored", second)[1])
    answer = second.split("agent> ", 1)[1]
    assert restored >= 6  # session 1's turn (prompt, tool call, tool result, reply) and longhaul's result turn
    assert task_id in answer and "final_loss" in answer and "completed" in answer


def test_another_session_or_caller_does_not_see_it(dev):
    first = session(dev, "trip-43", "Train a model", "--epoch-seconds", "0")
    task_id = re.search(r"Started longhaul task (\w+)", first)[1]
    assert anyio.run(status_of, dev, task_id, True) == "completed"
    other_session = session(dev, "trip-44", "What did the training produce?")
    other_caller = session(dev, "trip-43", "What did the training produce?", caller="olga")
    for answer in (other_session, other_caller):
        assert "0 messages restored" in answer and "have not started any task" in answer


def test_a_session_that_waits_runs_the_task_as_a_native_task_and_gets_its_result(dev):
    # --wait: Strands' MCPClient(tasks_config=...) declares the tasks extension and polls tasks/get, so the tool
    # result is the training result itself (the start tool alone answers a task handle).
    first = session(dev, "trip-45", "Train a model for 3 epochs", "--wait", "--epoch-seconds", "0.3")
    answer = first.split("agent> ", 1)[1]
    assert "tool call> model_training" in first and "Started longhaul task" not in first
    assert answer.startswith("The training task finished") and '"epochs": 3' in answer and "final_loss" in answer

    async def newest() -> dict:
        async with dev.client("nora") as client:
            return (await call(client, "list_tasks", {"limit": 1}))["tasks"][0]

    task = anyio.run(newest)
    assert (task["kind"], task["status"]) == ("model_training", "completed")  # done before the session ended
    later = session(dev, "trip-45", "What did the training produce?")
    assert "From my memory of this session: The training task finished" in later

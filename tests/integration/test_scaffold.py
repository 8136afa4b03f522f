"""`longhaul new-kind hello` on a copy of the project: the kind it writes passes its own test, is an MCP tool,
and runs to completion on the local stack, without a change to the longhaul package."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from longhaul_dev.scaffold import new_kind, register_in_template
from longhaul_dev.template import PROJECT_ROOT

RUN_HELLO = textwrap.dedent(
    """
    import json, os, time
    from moto import mock_aws
    from longhaul_dev import moto_lambda
    from longhaul_dev.stack import MOTO_CONFIG, apply_environment, create_local_stack, wait_for_execution
    with mock_aws(config=MOTO_CONFIG):
        moto_lambda.install()
        apply_environment(create_local_stack())
        from longhaul import runtime
        from longhaul.endpoint.server import mcp
        tools = [tool.name for tool in mcp._tool_manager.list_tools()]
        record = runtime.task_service().start("me", "hello", {"items": 3, "seconds_per_item": 0})
        status = wait_for_execution(record.execution_arn)["status"]
        final = runtime.task_service().get("me", record.task_id)
        kinds = os.environ["LONGHAUL_KINDS"]
        print(json.dumps({"tools": tools, "status": status, "result": final.result, "kinds": kinds}))
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The project as a fresh clone has it (tracked files), in a scratch folder."""
    files = subprocess.run(["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    for name in files.stdout.splitlines():
        source = PROJECT_ROOT / name
        if source.is_file():
            (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, tmp_path / name)
    return tmp_path


def run_in(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run a command in the copy, importing the copy's code (not this checkout's editable install)."""
    env = {k: v for k, v in os.environ.items() if k != "LONGHAUL_KINDS"}  # from the copy's template.yaml only
    env["PYTHONPATH"] = os.pathsep.join(str(project / p) for p in ("dev", "layers/longhaul", "."))
    command = list(args) if args[0].startswith("/") else [sys.executable, *args]
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300)


def documented_commands() -> list[list[str]]:
    """The commands docs/kinds.md tells a user to run first, as written there."""
    text = (PROJECT_ROOT / "docs" / "kinds.md").read_text()
    block = text.split("## Start from the scaffold", 1)[1].split("```bash\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line) for line in block.splitlines() if line.strip()]


def test_a_new_kind_passes_its_test_is_a_tool_and_runs_to_completion(project):
    commands = documented_commands()
    assert [c[:2] for c in commands] == [[".venv/bin/longhaul", "new-kind"], [".venv/bin/pytest", "-q"]]
    venv_bin = Path(sys.executable).parent
    made, tested = (run_in(project, str(venv_bin / c[0].removeprefix(".venv/bin/")), *c[1:]) for c in commands)
    assert made.returncode == 0, made.stderr
    assert "wrote kinds/hello.py" in made.stdout and "Sid: HelloAccess" in made.stdout
    assert 'LONGHAUL_KINDS: "kinds.hello"' in (project / "template.yaml").read_text()
    assert tested.returncode == 0 and "2 passed" in tested.stdout, tested.stdout + tested.stderr

    ran = run_in(project, "-c", RUN_HELLO)
    assert ran.returncode == 0, ran.stderr[-3000:]
    outcome = __import__("json").loads(ran.stdout.strip().splitlines()[-1])
    assert "hello" in outcome["tools"] and outcome["kinds"] == "kinds.hello"
    assert (outcome["status"], outcome["result"]) == ("SUCCEEDED", {"items": 3})
    # The longhaul package is untouched: its files as tracked, and none added (bytecode caches aside).
    tracked = subprocess.run(["git", "ls-files", "layers"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    names = set(tracked.stdout.split())
    assert [n for n in sorted(names) if (project / n).read_bytes() != (PROJECT_ROOT / n).read_bytes()] == []
    present = {str(p.relative_to(project)) for p in (project / "layers").rglob("*") if p.is_file()}
    assert {n for n in present - names if "__pycache__" not in n} == set()


def test_new_kind_refuses_bad_taken_and_existing_names(project):
    with pytest.raises(ValueError, match="lower_snake_case"):
        new_kind("Hello World", project)
    with pytest.raises(ValueError, match="taken"):
        new_kind("model_training", project)
    with pytest.raises(ValueError, match="taken"):
        new_kind("list_tasks", project)
    new_kind("once", project)
    with pytest.raises(ValueError, match="exists already"):
        new_kind("once", project)


def test_registration_edits_only_the_kinds_line(tmp_path):
    template = tmp_path / "template.yaml"
    template.write_text('Globals:\n  # keep me\n      LONGHAUL_KINDS: "kinds.a"\nResources: {}\n')
    register_in_template(template, "kinds.b")
    register_in_template(template, "kinds.b")
    assert template.read_text() == 'Globals:\n  # keep me\n      LONGHAUL_KINDS: "kinds.a,kinds.b"\nResources: {}\n'

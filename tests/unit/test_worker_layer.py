"""The workflow's functions run on WorkerLayer, which has no MCP SDK, Starlette, Mangum or PyJWT: each worker's
handler must import and build its services without them (``make build`` proves the same on the built layer; this
catches an import that would break it without a build)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from longhaul_dev.build_check import GETTERS
from longhaul_dev.requirements import ENDPOINT_ONLY, WORKER_REQUIREMENTS, distribution
from longhaul_dev.template import PROJECT_ROOT, function_specs, load_template

# The top-level modules of the endpoint-only distributions and of what only they pull in.
ENDPOINT_MODULES = ("mcp", "mcp_types", "mangum", "starlette", "jwt", "cryptography", "sse_starlette", "httpx2")
WORKERS = sorted(name for name in function_specs(load_template()) if name != "McpEndpointFunction")


def test_the_worker_layer_requirements_leave_out_only_the_endpoints_dependencies():
    lines = [line for line in WORKER_REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")]
    assert {distribution(line) for line in lines} == {"aws-lambda-powertools", "boto3", "pydantic"}
    assert not ENDPOINT_ONLY & {distribution(line) for line in lines}


def test_every_worker_imports_and_builds_its_clients_without_the_endpoints_libraries():
    # One interpreter for all of them (fast); the blocker refuses the endpoint's libraries to every import.
    specs = function_specs(load_template())
    workers = {name: (str(specs[name].code_dir / "app.py"), GETTERS[name]) for name in WORKERS}
    code = textwrap.dedent(
        f"""
        import importlib.abc, importlib.util, json, sys

        class NotInWorkerLayer(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {ENDPOINT_MODULES!r}:
                    raise ImportError(f"{{name}} is not in WorkerLayer")
                return None

        sys.meta_path.insert(0, NotInWorkerLayer())
        sys.path.insert(0, {str(PROJECT_ROOT)!r})
        from longhaul import runtime
        built = {{}}
        for function, (path, getter) in {workers!r}.items():
            spec = importlib.util.spec_from_file_location("handler_" + function, path)
            spec.loader.exec_module(importlib.util.module_from_spec(spec))
            built[function] = runtime.build_clients(getattr(runtime, getter)())
        print(json.dumps(built))
        """
    )
    environment = {
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "TASKS_TABLE_NAME": "tasks",
        "RESULTS_BUCKET_NAME": "results",
        "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:tasks",
        "MEMORY_ID": "memory-1",
        "LONGHAUL_KINDS": "",
        "PYTHONDONTWRITEBYTECODE": "1",  # imports this checkout's code: leave no __pycache__ in it
    }
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    built = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(built) == WORKERS
    assert all("dynamodb" in clients for clients in built.values())

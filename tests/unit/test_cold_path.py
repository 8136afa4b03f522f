"""What a cold start loads: only what its first request needs (benchmarks/cold_start.py measures what it costs).

Each check runs in a fresh interpreter, as Lambda starts one: RunStep serving one step of a built-in kind, and the
MCP endpoint serving a tools/list, then its before-snapshot hook (which must leave nothing for the first request
after a SnapStart restore to load or build)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from longhaul import kinds
from longhaul_dev.template import PROJECT_ROOT

ENVIRONMENT = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "POWERTOOLS_SERVICE_NAME": "longhaul",
    "POWERTOOLS_METRICS_NAMESPACE": "Longhaul",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
    "TASKS_TABLE_NAME": "tasks",
    "RESULTS_BUCKET_NAME": "results",
    "STATE_MACHINE_ARN": "arn:aws:states:us-east-1:123456789012:stateMachine:tasks",
    "AUTH_MODE": "jwt",
    "LONGHAUL_KINDS": "",
    "PYTHONDONTWRITEBYTECODE": "1",  # imports this checkout's code: leave no __pycache__ in it
}
CONTEXT = """
    from types import SimpleNamespace

    context = SimpleNamespace(
        function_name="f", function_version="$LATEST", memory_limit_in_mb=1024, aws_request_id="r",
        invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:f",
        get_remaining_time_in_millis=lambda: 60_000,
    )
"""


# The pydantic distributions a fresh interpreter has loaded (an expression for the programs below).
PYDANTIC_LOADED = "sorted(m for m in sys.modules if m.partition('.')[0] in ('pydantic', 'pydantic_core'))"


def run(*code: str, **environment: str) -> dict:
    """Runs ``code`` in a fresh interpreter (this checkout first on the path); returns the JSON it printed last."""
    program = f"import sys; sys.path.insert(0, {str(PROJECT_ROOT)!r})\n" + textwrap.dedent(CONTEXT)
    program += "\n".join(textwrap.dedent(part) for part in code)
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        env={**ENVIRONMENT, **environment},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_a_step_of_a_builtin_kind_loads_no_other_kind_and_builds_no_task_record():
    found = run(
        f"""
        import json, boto3
        from moto import mock_aws

        with mock_aws():
            table = boto3.client("dynamodb")
            table.create_table(
                TableName="tasks",
                KeySchema=[{{"AttributeName": "task_id", "KeyType": "HASH"}}],
                AttributeDefinitions=[{{"AttributeName": "task_id", "AttributeType": "S"}}],
                BillingMode="PAY_PER_REQUEST",
            )
            item = {{"task_id": "t1", "status": "working", "step_count": 1, "progress": 0}}
            table.put_item(TableName="tasks", Item={{k: {{"N" if k != "task_id" and k != "status" else "S": str(v)}}
                                                     for k, v in item.items()}})
            sys.path.insert(0, {str(PROJECT_ROOT / "functions" / "run_step")!r})
            import app

            event = {{
                "task_id": "t1", "owner": "alice", "kind": "model_training",
                "params": {{"epochs": 3, "epoch_seconds": 0, "checkpoint_seconds": 0}},
                "cursor": {{"epoch": 1, "history": [1.0]}}, "step_count": 1,
            }}
            outcome = app.lambda_handler(event, context)
            stored = table.get_item(TableName="tasks", Key={{"task_id": {{"S": "t1"}}}})["Item"]["step_count"]
            models = sys.modules.get("longhaul.models")  # what this process loaded: nothing is imported below
            print(json.dumps({{
                "outcome": outcome, "stored_step": stored["N"], "pydantic": {PYDANTIC_LOADED},
                "record_built": models is not None and models.TaskRecord.__pydantic_complete__,
                "plugins_looked_up": "pydantic.plugin._loader" in sys.modules
                and sys.modules["pydantic.plugin._loader"]._plugins is not None,
                "modules": sorted(m for m in sys.modules if m.startswith("longhaul")),
            }}))
        """
    )
    # The step ran and checkpointed...
    assert found["outcome"]["outcome"] == "continue" and found["outcome"]["step_count"] == 2
    assert found["stored_step"] == "2"
    # ...without pydantic: the kind's params are a dataclass, the step messages and settings plain Python.
    assert found["pydantic"] == []
    # ...loading its own kind only: not the other built-ins, the query engine, or the endpoint's task service.
    assert "longhaul.kinds.model_training" in found["modules"]
    unneeded = {
        "longhaul.kinds.csv_profile",
        "longhaul.kinds.athena_query",
        "longhaul.queries",
        "longhaul.adapters.athena",
        "longhaul.tasks",
    }
    assert not unneeded & set(found["modules"])
    assert not [m for m in found["modules"] if m.startswith("longhaul.endpoint")]
    # A checkpoint writes the step's facts; the task record's models are not even imported, let alone built.
    assert "longhaul.models" not in found["modules"] and found["record_built"] is False
    # Nor does pydantic read every distribution's entry points looking for plugins (coldstart.loading).
    assert found["plugins_looked_up"] is False


@pytest.mark.parametrize("function", ["run_step", "write_result", "reconcile", "sweep"])
def test_a_worker_loads_no_pydantic_at_cold_start(function):
    # pydantic was ~40% of RunStep's cold start on the built layer: the settings, the step messages and the worker's
    # own modules are plain Python; the task record's models load only where a request reads a record.
    found = run(
        f"sys.path.insert(0, {str(PROJECT_ROOT / 'functions' / function)!r})",
        "import json, app",
        f"print(json.dumps({{'pydantic': {PYDANTIC_LOADED}, 'kinds': 'longhaul.kinds' in sys.modules}}))",
    )
    assert found["pydantic"] == []
    # With no kind modules configured, not even the kinds package: a step loads its own kind on first use.
    assert found["kinds"] is False


def test_each_builtin_kind_is_the_module_of_its_name():
    # get_kind loads a built-in kind's module by its name alone: the two must not drift apart.
    for name, module in kinds.BUILTIN_KINDS.items():
        assert [kind.name for kind in kinds.load_module(module)] == [name]
    assert kinds.get_kind("csv_profile").name == "csv_profile"


ENDPOINT = f"""
    import json
    sys.path.insert(0, {str(PROJECT_ROOT / "functions" / "mcp_endpoint")!r})
    event = json.loads(open({str(PROJECT_ROOT / "events" / "mcp_endpoint" / "http_api_tools_list.json")!r}).read())
"""


def test_the_endpoint_loads_pyjwt_only_where_it_verifies_tokens_itself():
    # API Gateway verified this caller (the event's authorizer claims): a tools/list needs no token library.
    found = run(
        ENDPOINT,
        """
        import app
        response = app.lambda_handler(event, context)
        print(json.dumps({"status": response["statusCode"], "body": response["body"], "jwt": "jwt" in sys.modules}))
        """,
    )
    assert found["status"] == 200 and '"tools"' in found["body"]
    assert found["jwt"] is False
    # A deployment that verifies bearer tokens itself (JWT_ISSUER) loads it at init, not on its first request.
    loaded = run(
        ENDPOINT,
        "import app\nprint(json.dumps({'jwt': 'jwt.algorithms' in sys.modules}))",
        **{"JWT_ISSUER": "https://issuer.example"},
    )
    assert loaded["jwt"] is True


def test_the_before_snapshot_hook_leaves_nothing_to_load_or_build_for_the_first_request():
    found = run(
        ENDPOINT,
        """
        import app
        from longhaul import models
        from longhaul.endpoint import views

        deferred = [m.__name__ for m in (models.TaskRecord, views.TaskStatusView) if not m.__pydantic_complete__]
        app.before_snapshot()
        print(json.dumps({
            "deferred_at_init": deferred,
            "jwt": "jwt.algorithms" in sys.modules,
            "unbuilt": [
                name for module in (models, views) for name, value in vars(module).items()
                if isinstance(value, type) and hasattr(value, "__pydantic_complete__")
                and value.__module__ == module.__name__ and not value.__pydantic_complete__
            ],
        }))
        """,
    )
    # Built on first use by a plain cold start (a tools/list validates none of them)...
    assert found["deferred_at_init"] == ["TaskRecord", "TaskStatusView"]
    # ...and all built, with PyJWT loaded, before a snapshot is taken.
    assert found["unbuilt"] == [] and found["jwt"] is True


def test_a_start_tool_is_what_the_sdk_would_derive_from_its_function():
    # endpoint/server.py builds each kind's start tool itself (cheaper at cold start): the SDK must see the same tool.
    from mcp.server.mcpserver.tools import Tool

    from longhaul.endpoint.server import _PassThroughArguments, mcp

    built = mcp._tool_manager.get_tool("model_training")
    assert built is not None
    derived = Tool.from_function(built.fn, name=built.name, title=built.title, annotations=built.annotations)
    same = ("is_async", "context_kwarg", "resolved_params", "resolver_plans", "icons", "meta")
    assert {name: getattr(built, name) for name in same} == {name: getattr(derived, name) for name in same}
    metadata = ("output_schema", "output_model", "wrap_output")
    assert {name: getattr(built.fn_metadata, name) for name in metadata} == {
        name: getattr(derived.fn_metadata, name) for name in metadata
    }
    # Only the arguments differ, on purpose: passed through raw, validated strictly by the tool against the kind's
    # params (the published schema is the kind's, flat).
    assert built.fn_metadata.arg_model is _PassThroughArguments
    assert set(built.parameters["properties"]) >= {"epochs", "session_id", "idempotency_key"}


def test_a_worker_still_stops_at_start_on_a_kind_module_it_cannot_import():
    # Built-in kinds load on first use; the modules LONGHAUL_KINDS names still load at init (docs/kinds.md).
    program = f"import sys; sys.path[:0] = [{str(PROJECT_ROOT)!r}, {str(PROJECT_ROOT / 'functions' / 'run_step')!r}]\n"
    done = subprocess.run(
        [sys.executable, "-c", program + "import app"],
        capture_output=True,
        text=True,
        env={**ENVIRONMENT, "LONGHAUL_KINDS": "lh_no_such_kind_module"},
        timeout=120,
    )
    assert done.returncode != 0
    assert "KindModuleError" in done.stderr and "'lh_no_such_kind_module'" in done.stderr

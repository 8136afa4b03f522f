"""`longhaul invoke`: every sample event in events/ runs through its function's real handler on a fresh local stack,
exactly as a user without Docker runs it; --env-vars, --no-seed and --aws behave as documented."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from longhaul.adapters.dynamodb import to_item
from longhaul.models import TaskRecord
from longhaul_dev.cli import main
from longhaul_dev.template import PROJECT_ROOT, function_specs, load_template
from tests.conftest import EVENTS

SPECS = function_specs(load_template())
# events/<dir>/ holds the events of the function whose code lives in functions/<dir>/.
FUNCTION_FOR_DIR = {spec.code_dir.name: logical_id for logical_id, spec in SPECS.items()}
EVENT_FILES = sorted(p.relative_to(EVENTS).as_posix() for p in EVENTS.glob("*/*.json"))
# The rest_api_* samples come from a REST API with IAM authorization; the template's HTTP API verifies JWTs.
ENV_VARS = {"mcp_endpoint/rest_api_": EVENTS / "env.rest_api_iam.json"}


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, object, str]:
    """Run `longhaul invoke ...` in this process; returns (exit status, the printed result, stderr)."""
    status = main(["invoke", *args])
    out, err = capsys.readouterr()
    return status, json.loads(out.strip().splitlines()[-1]), err


def test_every_event_directory_belongs_to_a_function():
    assert {Path(f).parts[0] for f in EVENT_FILES} <= set(FUNCTION_FOR_DIR)
    assert {"run_step", "write_result", "reconcile"} <= {Path(f).parts[0] for f in EVENT_FILES}


@pytest.mark.parametrize("relative", EVENT_FILES)
def test_event_file_runs_on_a_fresh_local_stack(capsys, relative):
    directory = Path(relative).parts[0]
    event = json.loads((EVENTS / relative).read_text())

    env_vars = next((["--env-vars", str(f)] for prefix, f in ENV_VARS.items() if relative.startswith(prefix)), [])

    status, result, err = invoke(capsys, FUNCTION_FOR_DIR[directory], "-e", str(EVENTS / relative), *env_vars)

    assert status == 0, (result, err)
    assert isinstance(result, dict) and "errorType" not in result, result
    if directory == "run_step":
        assert result["outcome"] == ("done" if event["cursor"] else "continue")
        assert result["step_count"] == event["step_count"] + 1
    elif directory == "write_result":
        assert result == {"task_id": event["task_id"], "status": "completed", "memory_delivery": "delivered"}
    elif directory == "reconcile":
        expected = "cancelled" if event["detail"]["status"] == "ABORTED" else "failed"
        assert result == {"task_id": event["detail"]["name"], "changed": True, "status": expected}
    elif directory == "sweep":
        assert result == {"checked": 0, "repaired": []}  # a fresh stack has nothing stranded
    elif directory == "mcp_endpoint":
        assert result["statusCode"] == 200, result
        answer = json.loads(result["body"])
        assert "error" not in answer and "result" in answer, answer
        assert not answer["result"].get("isError"), answer
    if directory in ("run_step", "write_result", "reconcile"):
        assert "seeded task 5f0c3a9e2b7d4e1f8a6c0d2e4b6a8c01" in err


def test_without_seeding_the_task_is_unknown(capsys):
    status, result, err = invoke(
        capsys, "ReconcileFunction", "-e", str(EVENTS / "reconcile/execution_failed.json"), "--no-seed"
    )
    assert status == 0
    assert result == {"task_id": "5f0c3a9e2b7d4e1f8a6c0d2e4b6a8c01", "changed": False, "reason": "no such task"}
    assert "seeded" not in err


def test_env_vars_override_the_template_and_a_handler_error_is_the_runtime_payload(capsys, tmp_path):
    env_vars = tmp_path / "env.json"
    env_vars.write_text(
        json.dumps({"Parameters": {"NOT_DECLARED": "x"}, "ReconcileFunction": {"TASKS_TABLE_NAME": "no-such-table"}})
    )

    status, result, err = invoke(
        capsys, "ReconcileFunction", "-e", str(EVENTS / "reconcile/execution_failed.json"), "--env-vars", str(env_vars)
    )

    assert status == 1
    assert result["errorType"] == "ResourceNotFoundException" and "stackTrace" in result
    assert "NOT_DECLARED not in ReconcileFunction's environment; ignored" in err


def test_the_sample_env_vars_files_only_set_variables_the_functions_have(capsys):
    status, _, err = invoke(
        capsys,
        "RunStepFunction",
        "-e",
        str(EVENTS / "run_step/model_training_first_step.json"),
        "--env-vars",
        str(EVENTS / "env.json"),
    )
    assert status == 0
    assert "ignored" not in err
    for path in EVENTS.glob("env*.json"):
        for section, variables in json.loads(path.read_text()).items():
            declared = set.intersection(*(set(s.environment) for s in SPECS.values()))
            assert set(variables) <= (declared if section == "Parameters" else set(SPECS[section].environment))


def test_an_unknown_function_is_named(capsys):
    assert main(["invoke", "NoSuchFunction", "-e", str(EVENTS / "reconcile/execution_failed.json")]) == 2
    assert "template.yaml has" in capsys.readouterr().err


def test_aws_mode_uses_the_deployed_functions_environment(capsys, monkeypatch, tmp_path):
    """--aws against a "deployed" stack (moto's CloudFormation here): names come from the function's configuration."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        template = {
            "Resources": {
                "Tasks": {
                    "Type": "AWS::DynamoDB::Table",
                    "Properties": {
                        "BillingMode": "PAY_PER_REQUEST",
                        "KeySchema": [{"AttributeName": "task_id", "KeyType": "HASH"}],
                        "AttributeDefinitions": [{"AttributeName": "task_id", "AttributeType": "S"}],
                    },
                },
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
                "ReconcileFunction": {
                    "Type": "AWS::Lambda::Function",
                    "Properties": {
                        "Runtime": "python3.13",
                        "Handler": "app.lambda_handler",
                        "Role": {"Fn::GetAtt": ["Role", "Arn"]},
                        "Code": {"ZipFile": "# deployed code"},
                        "Environment": {"Variables": {"TASKS_TABLE_NAME": {"Ref": "Tasks"}}},
                    },
                },
            }
        }
        boto3.client("cloudformation").create_stack(StackName="longhaul-e2e", TemplateBody=json.dumps(template))
        table = boto3.client("cloudformation").describe_stack_resource(
            StackName="longhaul-e2e", LogicalResourceId="Tasks"
        )["StackResourceDetail"]["PhysicalResourceId"]
        record = TaskRecord(
            task_id="t-1", owner="someone", kind="model_training", created_at="c", updated_at="u", expires_at=0
        )
        boto3.client("dynamodb").put_item(TableName=table, Item=to_item(record))
        event = json.loads((EVENTS / "reconcile/execution_timed_out.json").read_text())
        event["detail"]["name"] = "t-1"
        event_file = tmp_path / "event.json"
        event_file.write_text(json.dumps(event))

        status, result, _ = invoke(
            capsys, "ReconcileFunction", "-e", str(event_file), "--aws", "--stack-name", "longhaul-e2e"
        )

        assert status == 0, result
        assert result == {"task_id": "t-1", "changed": True, "status": "failed"}
        item = boto3.client("dynamodb").get_item(TableName=table, Key={"task_id": {"S": "t-1"}})["Item"]
        assert item["status"]["S"] == "failed" and item["error_type"]["S"] == "States.Timeout"


def test_aws_mode_names_a_missing_stack(capsys):
    with mock_aws(), pytest.raises(SystemExit, match="ReconcileFunction of stack nowhere"):
        event = str(EVENTS / "reconcile/execution_failed.json")
        main(["invoke", "ReconcileFunction", "-e", event, "--aws", "--stack-name", "nowhere", "--region", "us-east-1"])


def test_the_console_script_prints_only_the_result_on_stdout():
    script = Path(sys.executable).with_name("longhaul")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    completed = subprocess.run(
        [str(script), "invoke", "RunStepFunction", "-e", "events/run_step/model_training_last_step.json"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)  # the whole of stdout is one JSON document
    assert result == {"outcome": "done", "cursor": None, "step_count": 3, "sleep_seconds": 0, "input_requests": None}
    assert "seeded task" in completed.stderr

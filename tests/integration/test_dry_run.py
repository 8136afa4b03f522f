"""A structural deploy dry run: template.yaml translated by SAM and created as a stack on moto's CloudFormation, for the
parameter combinations users deploy (dev with their own issuer, prod with an in-stack user pool, a private demo)."""

from __future__ import annotations

import json
import shlex
import tomllib

import boto3
import pytest
from moto import mock_aws

from longhaul_dev.dry_run import REGION, UNMODELED, dry_run
from longhaul_dev.template import PROJECT_ROOT

PROD = dict(
    item.split("=", 1)
    for item in shlex.split(
        tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())["prod"]["deploy"]["parameters"][
            "parameter_overrides"
        ]
    )
)
SCENARIOS = {
    "own issuer": {"JwtIssuer": "https://idp.example.com/realms/longhaul", "AlarmEmail": "ops@example.com"},
    "prod with a user pool": {**PROD, "CreateUserPool": "true"},
    "private demo, existing memory, shared Athena data": {
        "AuthMode": "none",
        "ExistingMemoryId": "team_memory-AbCdEf1234",
        "AthenaDatabase": "shared_lake",
        "AthenaDataLocation": "team-lake/curated",
    },
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_stack_creates_completely_with_every_output(scenario, monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        run = dry_run(SCENARIOS[scenario])
        api_id = run.outputs["McpUrl"].removeprefix("https://").split(".", 1)[0]
        v2 = boto3.client("apigatewayv2", region_name=REGION)
        routes = {r["RouteKey"] for r in v2.get_routes(ApiId=api_id)["Items"]}
        stage = v2.get_stage(ApiId=api_id, StageName="$default")
        machine = boto3.client("stepfunctions", region_name=REGION).describe_state_machine(
            stateMachineArn=run.outputs["TaskWorkflowArn"]
        )
        workgroups = {w["Name"] for w in boto3.client("athena", region_name=REGION).list_work_groups()["WorkGroups"]}
        run_step_env = boto3.client("lambda", region_name=REGION).get_function_configuration(
            FunctionName=run.outputs["RunStepFunctionName"]
        )["Environment"]["Variables"]
        endpoint_env = boto3.client("lambda", region_name=REGION).get_function_configuration(
            FunctionName=run.outputs["McpEndpointFunctionName"]
        )["Environment"]["Variables"]

    assert run.status == "CREATE_COMPLETE", run.reason
    assert set(run.outputs) == run.expected_outputs and all(run.outputs.values()), run.outputs
    assert run.outputs["McpUrl"].endswith(".execute-api.us-east-1.amazonaws.com/mcp")
    # API Gateway imports x-amazon-apigateway-any-method as "ANY"; moto keeps the extension's name.
    assert {"ANY /mcp", "X-AMAZON-APIGATEWAY-ANY-METHOD /mcp"} & routes
    assert "GET /.well-known/oauth-protected-resource/mcp" in routes
    assert stage["DefaultRouteSettings"]["ThrottlingBurstLimit"] == 100
    assert stage["StageVariables"]["AUTH_MODE"] == SCENARIOS[scenario].get("AuthMode", "jwt")
    definition = json.loads(machine["definition"])  # the substituted definition, as Step Functions receives it
    assert "${" not in machine["definition"] and definition["StartAt"]
    assert set(run.created_by_api.values()) <= {how for _, how in UNMODELED.values()}
    # athena_query: a workgroup and its name in RunStep's environment only where the operator shared a database.
    queries = "AthenaDatabase" in SCENARIOS[scenario]
    assert (f"{run.stack_name}-queries" in workgroups) is queries
    assert run_step_env["ATHENA_WORKGROUP"] == (f"{run.stack_name}-queries" if queries else "")
    assert endpoint_env["ATHENA_WORKGROUP"] == run_step_env["ATHENA_WORKGROUP"]  # offers athena_query only then


def test_the_user_pool_is_the_issuer_when_created_in_the_stack(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        run = dry_run(SCENARIOS["prod with a user pool"])
        api_id = run.outputs["McpUrl"].removeprefix("https://").split(".", 1)[0]
        stage = boto3.client("apigatewayv2", region_name=REGION).get_stage(ApiId=api_id, StageName="$default")

    pool = run.outputs["UserPoolId"]
    assert run.outputs["JwtIssuer"] == f"https://cognito-idp.us-east-1.amazonaws.com/{pool}"
    assert stage["StageVariables"]["JWT_ISSUER"] == run.outputs["JwtIssuer"]
    assert stage["StageVariables"]["JWT_AUDIENCE"] == run.outputs["UserPoolClientId"]

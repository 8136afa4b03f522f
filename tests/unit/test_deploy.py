"""What a deploy really does, checked on SAM's own translation of template.yaml: every deploy reaches the MCP
endpoint, parameters that would be silently wrong are refused at changeset time, the routes answer as documented,
and the limits and operations a public endpoint needs are wired."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from typing import Any

import boto3
import pytest
from moto import mock_aws

from longhaul_dev import dry_run
from longhaul_dev.template import PROJECT_ROOT, Resolver, load_template

TEMPLATE = load_template()
PARAMS = TEMPLATE["Parameters"]
RESOURCES = TEMPLATE["Resources"]
ENDPOINT = RESOURCES["McpEndpointFunction"]["Properties"]
ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI"
NO_VALUE = "<AWS::NoValue>"


def resolver_(**values: Any) -> Resolver:
    """Resolves the template's intrinsics as CloudFormation would, with names standing in for created resources."""
    found = Resolver(TEMPLATE)
    for logical_id in RESOURCES:
        found.refs[logical_id] = f"longhaul-{logical_id}"
    found.refs.update({"AWS::NoValue": NO_VALUE}, **values)
    return found


def translate(
    parameters: dict[str, str] | None = None,
    layer_key: str = "layers/longhaul",
    endpoint_key: str = "functions/mcp_endpoint",
) -> dict[str, Any]:
    """template.yaml through SAM's translator, offline, with the layer's and the endpoint's artifact keys given."""
    keys = {"LonghaulLayer": layer_key, "McpEndpointFunction": endpoint_key}
    return dry_run.translate(parameters or {}, artifact_keys=keys)


def of_type(template: dict[str, Any], resource_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == resource_type}


def endpoint_version(template: dict[str, Any]) -> str:
    (version,) = [k for k, v in of_type(template, "AWS::Lambda::Version").items() if k.startswith("McpEndpoint")]
    return version


# --- every deploy reaches the endpoint -------------------------------------------------------------------------


def test_a_layer_change_publishes_a_new_endpoint_version():
    # sam package names the uploaded layer after its content's hash: new code, new key.
    before, after = translate(layer_key="0f1e2d3c4b5a"), translate(layer_key="a5b4c3d2e1f0")

    assert endpoint_version(before) != endpoint_version(after)
    layer_ids = [set(of_type(t, "AWS::Lambda::LayerVersion")) for t in (before, after)]
    assert layer_ids[0] != layer_ids[1], "a new layer version, not an update in place"
    alias = of_type(after, "AWS::Lambda::Alias")["McpEndpointFunctionAliaslive"]["Properties"]
    assert alias["FunctionVersion"] == {"Fn::GetAtt": [endpoint_version(after), "Version"]}


def test_an_endpoint_code_change_publishes_a_new_version():
    before, after = translate(endpoint_key="1a2b3c4d5e6f"), translate(endpoint_key="6f5e4d3c2b1a")
    assert endpoint_version(before) != endpoint_version(after)
    assert endpoint_version(translate(endpoint_key="1a2b3c4d5e6f")) == endpoint_version(before), "and only then"


def test_every_function_runs_what_the_last_deploy_shipped():
    # Aliased functions publish on any change of their properties or layer; the others are invoked unqualified
    # (their $LATEST, updated in place by every deploy): the workflow names them by their plain ARN.
    substitutions = RESOURCES["TaskWorkflow"]["Properties"]["DefinitionSubstitutions"]
    for logical_id, resource in RESOURCES.items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        props = resource["Properties"]
        if "AutoPublishAlias" in props:
            assert props.get("AutoPublishAliasAllProperties") is True, logical_id
        elif f"{logical_id}Arn" in substitutions:
            assert substitutions[f"{logical_id}Arn"] == {"Fn::GetAtt": [logical_id, "Arn"]}, logical_id


def parameter_refs(value: Any) -> set[str]:
    """The parameters a template value depends on, through Conditions too."""
    conditions = TEMPLATE["Conditions"]
    found: set[str] = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and inner in PARAMS:
                found.add(inner)
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found |= {n for n in re.findall(r"\$\{([^}.!]+)\}", text) if n in PARAMS}
                found |= parameter_refs(inner)
            elif key == "Fn::If":
                found |= parameter_refs(conditions[inner[0]]) | parameter_refs(inner[1:])
            elif key == "Condition":
                found |= parameter_refs(conditions[inner])
            else:
                found |= parameter_refs(inner)
    elif isinstance(value, list):
        for inner in value:
            found |= parameter_refs(inner)
    return found


def parameters_reaching_the_endpoint() -> set[str]:
    """Every parameter the endpoint function's properties (Globals included) depend on, through Conditions too."""
    return parameter_refs(TEMPLATE["Globals"]["Function"]) | parameter_refs(ENDPOINT)


def version_description() -> tuple[str, dict[str, Any]]:
    """The endpoint version's description: its text, and the values !Sub fills in beside the parameters."""
    sub = ENDPOINT["VersionDescription"]["Fn::Sub"]
    return (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])


def parameters_in_the_version() -> set[str]:
    text, values = version_description()
    return {n for n in re.findall(r"\$\{(\w+)\}", text) if n in PARAMS} | parameter_refs(values)


# Parameters that change the function itself, not a published version: they act on the next invocation.
FUNCTION_LEVEL = {
    "EndpointMaxConcurrency": "ReservedConcurrentExecutions is a setting of the function, not of a version",
    "EndpointDeployment": "CodeDeploy's deployment group, which shifts the alias",
}
# Parameters that reach the endpoint only through resources whose names never change (table, workflow, bucket).
THROUGH_STABLE_RESOURCES = {"LogRetentionDays": "the log group's retention, not the function's configuration"}


def test_every_parameter_reaching_the_endpoint_changes_what_it_runs():
    description, _ = version_description()
    in_version = parameters_in_the_version()
    stage = RESOURCES["McpApi"]["Properties"]["StageVariables"]
    environment = ENDPOINT["Environment"]["Variables"]
    # A stage variable overrides the environment variable of the same name (endpoint/app.py, request_settings).
    per_request = {
        name
        for var, value in stage.items()
        if var in environment
        for name in PARAMS
        if f'"{name}"' in json.dumps(value)
    }

    unhandled = (
        parameters_reaching_the_endpoint()
        - in_version
        - per_request
        - set(FUNCTION_LEVEL)
        - set(THROUGH_STABLE_RESOURCES)
    )
    assert unhandled == set()
    assert {"JwtIssuer", "JwtAudience", "AuthMode"} <= per_request
    assert len(description) + sum(len(p) for p in in_version) < 256, "AWS::Lambda::Version Description max length"


@pytest.mark.parametrize("name", sorted(parameters_in_the_version()))
def test_a_parameter_change_replaces_the_endpoint_version(name):
    # Description is create-only on AWS::Lambda::Version: CloudFormation publishes a new version when it changes.
    resolver = resolver_()
    before = resolver.resolve(ENDPOINT["VersionDescription"])
    spec = PARAMS[name]
    resolver.refs[name] = next(str(v) for v in spec.get("AllowedValues", [7, 8]) if str(v) != resolver.refs[name])

    assert resolver.resolve(ENDPOINT["VersionDescription"]) != before
    translated = translate()["Resources"][endpoint_version(translate())]["Properties"]
    assert translated["Description"] == ENDPOINT["VersionDescription"], "SAM passes it to the version unchanged"


def test_the_stage_hands_the_endpoint_its_current_sign_in_settings():
    stage = of_type(translate({"JwtIssuer": ISSUER}), "AWS::ApiGatewayV2::Stage")["McpApiApiGatewayDefaultStage"]
    variables = stage["Properties"]["StageVariables"]
    assert set(variables) == {"AUTH_MODE", "JWT_ISSUER", "JWT_AUDIENCE"}
    resolver = resolver_()
    resolver.refs.update(JwtIssuer=ISSUER, UserPoolClient="client-id")
    resolver.attrs["UserPool.ProviderURL"] = "unused"
    assert resolver.resolve(variables) == {"AUTH_MODE": "jwt", "JWT_ISSUER": ISSUER, "JWT_AUDIENCE": "longhaul"}


# --- parameters that cannot be silently wrong --------------------------------------------------------------------


def rule_failures(values: dict[str, str]) -> list[str]:
    """The AssertDescription of every template Rule assertion that fails for these parameter values, evaluated as
    CloudFormation does when it creates the changeset."""
    resolver = resolver_()
    resolver.refs.update(values)

    def truth(expr: Any) -> bool:
        ((fn, arg),) = expr.items()
        if fn == "Fn::And":
            return all(truth(a) for a in arg)
        if fn == "Fn::Or":
            return any(truth(a) for a in arg)
        if fn == "Fn::Not":
            return not truth(arg[0])
        if fn == "Fn::Equals":
            left, right = (resolver.resolve(a) for a in arg)
            return str(left) == str(right)
        raise AssertionError(f"rule function not evaluated here: {fn}")

    failures = []
    for rule in TEMPLATE["Rules"].values():
        if "RuleCondition" in rule and not truth(rule["RuleCondition"]):
            continue
        failures += [a["AssertDescription"] for a in rule["Assertions"] if not truth(a["Assert"])]
    return failures


def test_a_deploy_with_the_defaults_is_refused_with_a_message_saying_what_to_set():
    # The old default, a placeholder pool, deployed fine and then answered 401 to everyone.
    assert PARAMS["JwtIssuer"]["Default"] == ""
    (message,) = rule_failures({})
    assert "JwtIssuer" in message and "CreateUserPool=true" in message and "AuthMode=none" in message


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        ({"JwtIssuer": ISSUER}, False),
        ({"CreateUserPool": "true"}, False),
        ({"AuthMode": "none"}, False),
        ({"CreateUserPool": "true", "JwtIssuer": ISSUER}, True),
        ({"CreateUserPool": "true", "AuthMode": "none"}, True),
    ],
)
def test_rules_accept_exactly_one_source_of_tokens(values, refused):
    assert bool(rule_failures(values)) is refused


def test_the_rules_survive_sams_translation():
    assert translate({"JwtIssuer": ISSUER})["Rules"] == TEMPLATE["Rules"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("", True),
        ("longhaul_results-AbCdEf1234", True),
        ("arn:aws:bedrock-agentcore:us-east-1:123456789012:memory/longhaul_results-AbCdEf1234", False),
        ("longhaul_results", False),
    ],
)
def test_existing_memory_id_must_be_an_id_not_an_arn(value, ok):
    assert bool(re.fullmatch(PARAMS["ExistingMemoryId"]["AllowedPattern"], value)) is ok


@mock_aws
def test_a_memory_id_agentcore_returns_passes_the_pattern():
    memory = boto3.client("bedrock-agentcore-control", region_name="us-east-1").create_memory(
        name="longhaul_results", eventExpiryDuration=30
    )["memory"]
    assert re.fullmatch(PARAMS["ExistingMemoryId"]["AllowedPattern"], memory["id"])


@pytest.mark.parametrize(
    ("value", "ok"), [("", True), (ISSUER, True), ("http://idp.example.com", False), ("https://a b", False)]
)
def test_the_issuer_must_be_https(value, ok):
    assert bool(re.fullmatch(PARAMS["JwtIssuer"]["AllowedPattern"], value)) is ok


# --- sign-in for newcomers ----------------------------------------------------------------------------------------


def test_create_user_pool_makes_pool_client_and_domain_and_the_endpoint_trusts_them():
    translated = translate({"CreateUserPool": "true"})
    assert {"UserPool", "UserPoolClient", "UserPoolDomain"} <= set(translated["Resources"])
    client = RESOURCES["UserPoolClient"]["Properties"]
    assert client["GenerateSecret"] is False and client["AllowedOAuthFlows"] == ["code"]
    assert "ALLOW_USER_PASSWORD_AUTH" in client["ExplicitAuthFlows"]  # the README's way to a first token
    resolver = resolver_()
    resolver.refs.update(CreateUserPool="true", UserPoolClient="client-id")
    resolver.attrs["UserPool.ProviderURL"] = "cognito-idp.us-east-1.amazonaws.com/us-east-1_AbCdEfGhI"
    env = resolver.resolve(ENDPOINT["Environment"]["Variables"])
    assert env["JWT_ISSUER"] == ISSUER and env["JWT_AUDIENCE"] == "client-id"
    outputs = TEMPLATE["Outputs"]
    assert {outputs[o]["Condition"] for o in ("UserPoolId", "UserPoolClientId", "SignInUrl")} == {"UseUserPool"}


# --- routes as documented -----------------------------------------------------------------------------------------


def test_every_method_on_mcp_and_the_metadata_reach_the_endpoint_without_an_authorizer():
    translated = translate({"JwtIssuer": ISSUER})
    api = translated["Resources"]["McpApi"]["Properties"]
    paths = api["Body"]["paths"]
    assert set(paths) == {"/mcp", "/.well-known/oauth-protected-resource", "/.well-known/oauth-protected-resource/mcp"}
    assert set(paths["/mcp"]) == {"x-amazon-apigateway-any-method"}  # GET/DELETE get the function's 405
    for methods in paths.values():
        for operation in methods.values():
            assert "security" not in operation
            integration = operation["x-amazon-apigateway-integration"]
            assert integration["uri"]["Fn::Sub"][1]["AliasArn"] == {"Ref": "McpEndpointFunctionAliaslive"}
    assert "securitySchemes" not in json.dumps(api["Body"])
    assert not of_type(translated, "AWS::ApiGatewayV2::Authorizer")
    permission = translated["Resources"]["McpApiInvokePermission"]["Properties"]
    assert permission["SourceArn"]["Fn::Sub"].endswith("${McpApi}/*/*/*")


# --- limits ---------------------------------------------------------------------------------------------------------


def test_the_stage_is_throttled_by_parameters():
    stage = of_type(translate({"JwtIssuer": ISSUER}), "AWS::ApiGatewayV2::Stage")["McpApiApiGatewayDefaultStage"]
    assert stage["Properties"]["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": {"Ref": "ApiRateLimit"},
        "ThrottlingBurstLimit": {"Ref": "ApiBurstLimit"},
    }


@pytest.mark.parametrize(
    ("function", "parameter"),
    [("McpEndpointFunction", "EndpointMaxConcurrency"), ("RunStepFunction", "WorkerReservedConcurrency")],
)
def test_reserved_concurrency_is_set_only_when_asked(function, parameter):
    reserved = RESOURCES[function]["Properties"]["ReservedConcurrentExecutions"]
    resolver = resolver_()
    assert resolver.resolve(reserved) == NO_VALUE  # 0: new accounts cannot reserve any
    resolver.refs[parameter] = "40"
    assert resolver.resolve(reserved) == "40"


# --- prod ------------------------------------------------------------------------------------------------------------

PROD = dict(
    item.split("=", 1)
    for item in shlex.split(
        tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())["prod"]["deploy"]["parameters"][
            "parameter_overrides"
        ]
    )
)


def test_prod_rolls_the_endpoint_out_as_a_canary_watched_by_its_alarms():
    group = translate({**PROD, "JwtIssuer": ISSUER})["Resources"]["McpEndpointFunctionDeploymentGroup"]["Properties"]
    assert group["DeploymentConfigName"]["Fn::Sub"][1] == {"ConfigName": "Canary10Percent5Minutes"}
    assert group["AlarmConfiguration"]["Alarms"] == [
        {"Name": {"Ref": "McpEndpointErrorsAlarm"}},
        {"Name": {"Ref": "McpApi5xxAlarm"}},
    ]
    assert "DEPLOYMENT_STOP_ON_ALARM" in group["AutoRollbackConfiguration"]["Events"]


def test_prod_protects_the_task_table_and_the_user_pool_from_deletion():
    resolver = resolver_()
    resolver.refs.update(PROD)
    assert resolver.resolve(RESOURCES["TasksTable"]["Properties"]["DeletionProtectionEnabled"]) is True
    assert resolver.resolve(RESOURCES["UserPool"]["Properties"]["DeletionProtection"]) == "ACTIVE"
    dev = resolver_()
    assert dev.resolve(RESOURCES["TasksTable"]["Properties"]["DeletionProtectionEnabled"]) is False


# --- operations -------------------------------------------------------------------------------------------------------


def test_every_function_is_watched_for_throttles_and_the_system_side_for_errors():
    alarms = of_type(TEMPLATE, "AWS::CloudWatch::Alarm")
    throttles = alarms["FunctionThrottlesAlarm"]["Properties"]["Metrics"]
    watched = {m["MetricStat"]["Metric"]["Dimensions"][0]["Value"]["Ref"] for m in throttles if "MetricStat" in m}
    assert watched == {k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::Function"}
    system = {"WorkflowSystemErrorsAlarm", "WorkflowTimedOutAlarm", "WorkflowThrottledAlarm", "WriteResultErrorsAlarm"}
    assert system | {"TasksTableThrottlesAlarm", "ReconcileErrorsAlarm"} <= set(alarms)
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
    pattern = RESOURCES["WorkflowSystemErrorsMetric"]["Properties"]["FilterPattern"]
    assert "TaskFailed" not in pattern  # the workflow's own error for a failed task is not a system error


def test_the_dashboard_is_valid_json_with_the_task_metrics_and_every_alarm():
    resolver = resolver_()
    for logical_id in RESOURCES:
        resolver.refs.setdefault(logical_id, f"longhaul-{logical_id}")
        resolver.attrs[f"{logical_id}.Arn"] = f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:{logical_id}"
    text, values = RESOURCES["Dashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    resolved = {name: resolver.resolve(value) for name, value in values.items()}
    body = json.loads(resolver.resolve({"Fn::Sub": [text, resolved]}))

    metrics = json.dumps([w["properties"].get("metrics") for w in body["widgets"]])
    for name in ("TaskStarted", "TaskCompleted", "ExecutionsFailed", "StepDuration", "ConcurrentExecutions"):
        assert name in metrics
    (alarm_widget,) = [w for w in body["widgets"] if w["type"] == "alarm"]
    alarm_ids = {k for k, v in RESOURCES.items() if v["Type"] == "AWS::CloudWatch::Alarm"}
    assert {a.rsplit(":", 1)[1] for a in alarm_widget["properties"]["alarms"]} == alarm_ids


def test_every_checkov_skip_says_why():
    skips = [
        (logical_id, skip)
        for logical_id, resource in RESOURCES.items()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips, "make validate runs checkov; its skips live next to their resources"
    assert [(logical_id, s["id"]) for logical_id, s in skips if len(s.get("comment", "")) < 40] == []

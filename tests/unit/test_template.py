"""template.yaml as it deploys: state machines that parse with their substitutions filled in, IAM without wildcards
outside a documented list (checked on SAM's own translation, so policy templates and the policies SAM adds count),
and the operational settings users rely on: tracing, log retention, alarms, a samconfig.toml that deploys."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from longhaul_dev.template import PROJECT_ROOT, Resolver, function_specs, load_template, substituted_definition

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
STATE_MACHINES = sorted(k for k, v in RESOURCES.items() if v["Type"] == "AWS::Serverless::StateMachine")
FUNCTIONS = sorted(function_specs(TEMPLATE))

# Where an Allow statement may still name a wildcard, and why. Keyed by (IAM resource, statement Sid).
ALLOWED_WILDCARDS = {
    ("TaskWorkflowRole", "DeliverLogs"): "CloudWatch Logs delivery actions support no resource-level permissions",
    ("RunStepFunctionRole", "StoreLargeResults"): "S3 objects are named by key prefix: results/ only",
    ("RunStepFunctionRole", "ReadTaskInputs"): "S3 objects are named by key prefix: inputs/ only",
    ("McpEndpointFunctionRole", "ReadLargeResults"): "S3 objects are named by key prefix: results/ only",
    ("McpEndpointFunctionRole", "PresignInputUploads"): "S3 objects are named by key prefix: inputs/ only",
    ("McpEndpointFunctionRole", "CancelTasks"): "executions of TaskWorkflow only; their names (task ids) vary",
    ("SweepFunctionRole", "EndedExecutions"): "executions of TaskWorkflow only; their names (task ids) vary",
    ("McpEndpointFunctionRole", "ResumeWaitingTasks"): "states:SendTaskSuccess supports no resource-level permissions",
    ("RunStepFunctionRole", "ReadQueryCatalog"): "Glue tables of AthenaDatabase only; their names vary",
    ("RunStepFunctionRole", "WriteQueryResults"): "S3 objects are named by key prefix: athena/ only",
    ("RunStepFunctionRole", "ReadQueryData"): "S3 objects are named by key prefix: AthenaDataLocation only",
}
# The AWS managed policies SAM attaches to the roles it generates, and why they stay.
ALLOWED_MANAGED_POLICIES = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": (
        "SAM adds it to every function role it generates: CloudWatch Logs for the function's own log stream"
    ),
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": (
        "SAM adds it for Tracing; X-Ray's write actions support no resource-level permissions"
    ),
    "arn:aws:iam::aws:policy/service-role/AWSCodeDeployRoleForLambda": (
        "SAM's role for the endpoint's DeploymentPreference: CodeDeploy shifts the live alias and reads its alarms"
    ),
}
ARN_FORMATS = {
    "AWS::Serverless::Function": "arn:aws:lambda:{region}:{account}:function:{name}",
    "AWS::DynamoDB::Table": "arn:aws:dynamodb:{region}:{account}:table/{name}",
    "AWS::S3::Bucket": "arn:aws:s3:::{name}",
    "AWS::Logs::LogGroup": "arn:aws:logs:{region}:{account}:log-group:{name}:*",
}


def deployed_resolver() -> Resolver:
    """Names and ARNs for every resource, shaped like CloudFormation's, to fill substitutions with."""
    resolver = Resolver(TEMPLATE, stack_name="longhaul-test")
    for logical_id, resource in RESOURCES.items():
        name = f"longhaul-test-{logical_id}"
        resolver.refs[logical_id] = name
        if resource["Type"] in ARN_FORMATS:
            arn = ARN_FORMATS[resource["Type"]].format(region=resolver.region, account=resolver.account, name=name)
            resolver.attrs[f"{logical_id}.Arn"] = arn
    resolver.attrs["Memory.MemoryId"] = "longhaul_test-AbCdEf1234"
    return resolver


def asl_errors(definition: str) -> str | None:
    """moto's ASL parser (the same one moto's CreateStateMachine uses): None when the definition parses."""
    try:
        AmazonStateLanguageParser.parse(definition)
    except Exception as error:  # ASLParserException for syntax, plain exceptions from its preprocessor
        return f"{type(error).__name__}: {getattr(error, 'errors', None) or error}"
    return None


# --- state machines ----------------------------------------------------------------------------------------------


def test_every_state_machine_is_checked():
    assert STATE_MACHINES == ["TaskWorkflow"]


@pytest.mark.parametrize("logical_id", STATE_MACHINES)
def test_placeholders_and_substitutions_match(logical_id):
    props = RESOURCES[logical_id]["Properties"]
    placeholders = set(re.findall(r"\$\{(\w+)\}", (PROJECT_ROOT / props["DefinitionUri"]).read_text()))
    assert placeholders == set(props["DefinitionSubstitutions"])


@pytest.mark.parametrize("logical_id", STATE_MACHINES)
def test_state_machine_parses_with_its_substitutions_filled(logical_id):
    definition = substituted_definition(TEMPLATE, logical_id, deployed_resolver())

    assert "${" not in definition
    states = json.loads(definition)["States"]
    invoked = {s["Parameters"]["FunctionName"] for s in states.values() if s.get("Resource", "").endswith(":invoke")}
    assert invoked and all(arn.startswith("arn:aws:lambda:us-east-1:123456789012:function:") for arn in invoked)
    assert asl_errors(definition) is None


def test_the_asl_check_rejects_what_asl_validator_misses():
    definition = json.loads(substituted_definition(TEMPLATE, "TaskWorkflow", deployed_resolver()))
    definition["States"]["RunStep"]["Retry"][0]["JitterStrategy"] = "HALF"  # asl-validator 4.0 accepts this

    assert "HALF" in (asl_errors(json.dumps(definition)) or "")


# --- least privilege ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def translated() -> dict[str, Any]:
    """template.yaml through SAM's translator, offline, as CloudFormation receives it from sam deploy."""
    from longhaul_dev.dry_run import translate

    return translate({})


def allow_statements(template: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(IAM resource, Sid or position, statement) of every Allow statement of every policy in the template."""
    for logical_id, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        documents = [(p["PolicyName"], p["PolicyDocument"]) for p in props.get("Policies", []) if "PolicyDocument" in p]
        if "PolicyDocument" in props:
            documents.append((logical_id, props["PolicyDocument"]))
        for name, document in documents:
            statements = document["Statement"]
            for index, statement in enumerate(statements if isinstance(statements, list) else [statements]):
                if "Fn::If" in statement:  # a statement only some deployments get: checked as if they all did
                    statement = statement["Fn::If"][1]
                if statement.get("Effect") == "Allow":
                    yield logical_id, statement.get("Sid", f"{name}[{index}]"), statement


def wildcards(statement: dict[str, Any]) -> list[str]:
    """What is wild about a statement: a "*" in any action or resource, or NotAction / NotResource at all."""
    found = [key for key in ("NotAction", "NotResource") if key in statement]
    actions = statement.get("Action", [])
    found += [a for a in ([actions] if isinstance(actions, str) else actions) if "*" in a]
    if "*" in json.dumps(statement.get("Resource", "")):
        found.append(f"Resource {json.dumps(statement['Resource'])}")
    return found


def test_the_wildcard_check_sees_wildcards():
    assert wildcards({"Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:::table/t"}) == ["dynamodb:*"]
    assert wildcards({"Action": ["s3:GetObject"], "Resource": "*"}) == ['Resource "*"']
    assert wildcards({"Action": "s3:GetObject", "Resource": {"Fn::Sub": "${B.Arn}/*"}})
    assert wildcards({"NotAction": "iam:*", "Resource": "arn:aws:s3:::b"})
    assert not wildcards({"Action": "s3:GetObject", "Resource": {"Fn::GetAtt": ["B", "Arn"]}})


def test_no_wildcard_in_iam_outside_the_documented_list(translated):
    found = {(owner, sid): wildcards(st) for owner, sid, st in allow_statements(translated) if wildcards(st)}

    assert set(found) - set(ALLOWED_WILDCARDS) == set(), found
    assert set(ALLOWED_WILDCARDS) - set(found) == set(), "allow-list entries that no longer match: remove them"


def test_only_the_documented_managed_policies_are_attached(translated):
    attached = {
        arn if isinstance(arn, str) else json.dumps(arn)
        for resource in translated["Resources"].values()
        if resource["Type"] == "AWS::IAM::Role"
        for arn in resource["Properties"].get("ManagedPolicyArns", [])
    }
    assert attached <= set(ALLOWED_MANAGED_POLICIES), attached - set(ALLOWED_MANAGED_POLICIES)


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement.get("Action", [])
    return [actions] if isinstance(actions, str) else actions


def test_athena_and_glue_access_is_where_queries_run_and_stop_only(translated):
    # athena_query: RunStep starts, polls, reads and stops queries in the stack's workgroup, and reads the one
    # database's catalog; reconcile and sweep may only stop queries there. Nobody else touches Athena or Glue.
    workgroup = "arn:${AWS::Partition}:athena:${AWS::Region}:${AWS::AccountId}:workgroup/${AthenaWorkGroup}"
    granted: dict[str, set[str]] = {}
    for owner, _, statement in allow_statements(translated):
        for action in _actions(statement):
            if action.split(":")[0] in ("athena", "glue"):
                granted.setdefault(owner, set()).add(action)
                if action.startswith("athena:"):
                    assert statement["Resource"] == {"Fn::Sub": workgroup}, (owner, statement)
                else:
                    resources = json.dumps(statement["Resource"])
                    assert "database/${AthenaDatabase}" in resources and "*" not in resources.replace(
                        "table/${AthenaDatabase}/*", ""
                    ), (owner, statement)
    assert granted == {
        "RunStepFunctionRole": {
            "athena:StartQueryExecution",
            "athena:GetQueryExecution",
            "athena:GetQueryResults",
            "athena:StopQueryExecution",
            "glue:GetDatabase",
            "glue:GetTable",
            "glue:GetTables",
            "glue:GetPartition",
            "glue:GetPartitions",
        },
        "ReconcileFunctionRole": {"athena:StopQueryExecution"},
        "SweepFunctionRole": {"athena:StopQueryExecution"},
    }


def test_without_a_database_no_function_may_query():
    resolver = Resolver(TEMPLATE)
    assert TEMPLATE["Parameters"]["AthenaDatabase"]["Default"] == ""
    assert resolver.condition("AthenaEnabled") is False and resolver.condition("AthenaHasData") is False
    assert RESOURCES["AthenaWorkGroup"]["Condition"] == "AthenaEnabled"
    resolver.refs.update(AthenaDatabase="sales", AthenaDataLocation="lake/sales")
    assert resolver.condition("AthenaEnabled") is True and resolver.condition("AthenaHasData") is True


def test_functions_use_statements_not_broad_policy_templates():
    # SAM's CRUD policy templates grant deletes and scans these functions never make.
    for logical_id in FUNCTIONS + STATE_MACHINES:
        for policy in RESOURCES[logical_id]["Properties"].get("Policies", []):
            assert not (set(policy) & {"DynamoDBCrudPolicy", "S3CrudPolicy", "S3FullAccessPolicy"}), logical_id


# --- operations --------------------------------------------------------------------------------------------------


def test_every_function_and_state_machine_is_traced():
    assert TEMPLATE["Globals"]["Function"]["Tracing"] == "Active"
    assert all(RESOURCES[f]["Properties"].get("Tracing", "Active") == "Active" for f in FUNCTIONS)
    assert all(RESOURCES[s]["Properties"]["Tracing"] == {"Enabled": True} for s in STATE_MACHINES)


def test_every_function_and_state_machine_logs_with_retention():
    for logical_id in FUNCTIONS:
        # Bound with LoggingConfig to a group named after the stack: the function depends on its group, so nothing
        # creates a default group of the same name first (a SnapStart publish runs the function's init).
        group_id = RESOURCES[logical_id]["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        group = RESOURCES[group_id]["Properties"]
        assert group["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id
        assert group["LogGroupName"]["Fn::Sub"].startswith("/aws/lambda/${AWS::StackName}/"), logical_id
    for logical_id in STATE_MACHINES:
        (destination,) = RESOURCES[logical_id]["Properties"]["Logging"]["Destinations"]
        group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
        assert RESOURCES[group_id]["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


def test_metrics_have_a_namespace():
    assert TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"] == "Longhaul"


def alarmed_metrics(alarm: dict[str, Any]) -> list[tuple[str, str, Any]]:
    """(namespace, metric name, dimensions) of every metric an alarm watches, single metric or metric math."""
    if "MetricName" in alarm:
        return [(json.dumps(alarm["Namespace"]).strip('"'), alarm["MetricName"], alarm.get("Dimensions"))]
    stats = [m["MetricStat"]["Metric"] for m in alarm["Metrics"] if "MetricStat" in m]
    return [(m["Namespace"], m["MetricName"], m.get("Dimensions")) for m in stats]


def alarms() -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (namespace, name): r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        for namespace, name, _ in alarmed_metrics(r["Properties"])
    }


def test_timed_out_executions_raise_an_alarm():
    alarm = alarms()[("AWS/States", "ExecutionsTimedOut")]
    assert alarm["Dimensions"] == [{"Name": "StateMachineArn", "Value": {"Ref": "TaskWorkflow"}}]
    assert alarm["Threshold"] == 1 and alarm["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
    assert alarm["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_a_task_its_caller_made_fail_pages_no_one():
    # Every failed task ends the execution in the workflow's TaskFailed state, whoever caused it: ExecutionsFailed
    # (and RunStep's Lambda errors, which include a kind raising on bad input) are for the dashboard, not alarms.
    assert ("AWS/States", "ExecutionsFailed") not in alarms()
    run_step_errors = ("AWS/Lambda", "Errors", [{"Name": "FunctionName", "Value": {"Ref": "RunStepFunction"}}])
    watched = [
        m for r in RESOURCES.values() if r["Type"] == "AWS::CloudWatch::Alarm" for m in alarmed_metrics(r["Properties"])
    ]
    assert run_step_errors not in watched


def test_mcp_endpoint_errors_raise_an_alarm():
    api_errors = alarms()[("AWS/ApiGateway", "5xx")]
    assert {"Name": "ApiId", "Value": {"Ref": "McpApi"}} in api_errors["Dimensions"]
    assert api_errors["AlarmActions"] == [{"Ref": "AlarmTopic"}]
    function_alarms = [
        r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and r["Properties"].get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": "McpEndpointFunction"}}]
    ]
    assert [(a["Namespace"], a["MetricName"]) for a in function_alarms] == [("AWS/Lambda", "Errors")]


def test_alarm_email_is_optional():
    subscriptions = [r for r in RESOURCES.values() if r["Type"] == "AWS::SNS::Subscription"]
    assert subscriptions == [
        {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmEmail",
            "Properties": {"TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}},
        }
    ]
    pattern = re.compile(TEMPLATE["Parameters"]["AlarmEmail"]["AllowedPattern"])
    assert pattern.fullmatch("") and pattern.fullmatch("ops@example.com") and not pattern.fullmatch("ops at example")
    resolver = Resolver(TEMPLATE)
    assert resolver.condition("HasAlarmEmail") is False
    resolver.refs["AlarmEmail"] = "ops@example.com"
    assert resolver.condition("HasAlarmEmail") is True


# --- samconfig.toml ----------------------------------------------------------------------------------------------

SAMCONFIG = tomllib.loads((PROJECT_ROOT / "samconfig.toml").read_text())


@pytest.mark.parametrize("environment", ["default", "prod"])
def test_samconfig_environment_deploys_the_template(environment):
    deploy = SAMCONFIG[environment]["deploy"]["parameters"]
    assert deploy["stack_name"] and deploy["resolve_s3"] is True
    assert "CAPABILITY_IAM" in deploy["capabilities"]
    params = TEMPLATE["Parameters"]
    for item in shlex.split(deploy.get("parameter_overrides", "")):
        name, value = item.split("=", 1)
        assert name in params, f"{environment}: {name} is not a template parameter"
        spec = params[name]
        if "AllowedValues" in spec:
            assert value in [str(v) for v in spec["AllowedValues"]], (name, value)
        if "AllowedPattern" in spec:
            assert re.fullmatch(spec["AllowedPattern"], value), (name, value)
        if "MinValue" in spec:
            assert spec["MinValue"] <= float(value) <= spec["MaxValue"], (name, value)


def test_every_parameter_is_explained_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text()
    missing = [name for name in TEMPLATE["Parameters"] if f"`{name}`" not in readme]
    assert missing == []


def test_the_workflow_times_out_by_the_parameter_as_a_number():
    from longhaul_dev.template import checked_definition

    template = load_template()
    definition = json.loads(checked_definition(template, "TaskWorkflow"))
    default = template["Parameters"]["ExecutionTimeoutSeconds"]["Default"]
    assert definition["TimeoutSeconds"] == default and isinstance(definition["TimeoutSeconds"], int)

"""Structural deploy dry run: template.yaml through SAM's translator, then created as a stack on moto's CloudFormation.

What it proves: the translated template is a stack CloudFormation can create - every reference resolves, every
condition combination named by the caller creates, the state machine definition parses with its substitutions, and
every output has a value. What it does not: IAM evaluation, service quotas, or behaviour moto does not model.

moto's CloudFormation models most of the stack's resource types. The others are handled explicitly, each with its
reason (UNMODELED): created through their own moto API before the stack (and references to them replaced by what the
API returned, as CloudFormation would resolve them), or after it (their references to stack resources resolved
against what the stack created). Nothing is skipped silently: a type in neither list fails the run.

    .venv/bin/python -m longhaul_dev.dry_run [Param=Value ...]
"""

from __future__ import annotations

import io
import json
import re
import sys
import zipfile
from dataclasses import dataclass, field
from typing import Any

import boto3

from longhaul_dev.template import PROJECT_ROOT, Resolver, load_template

REGION = "us-east-1"
ACCOUNT = "123456789012"
ARTIFACTS = "longhaul-dry-run-artifacts"

# Resource types moto's CloudFormation does not create: when the dry run creates them through their own moto API
# (before the stack: its resources may reference them; after: they reference the stack's resources), and how.
UNMODELED = {
    "AWS::BedrockAgentCore::Memory": ("before", "bedrock-agentcore-control CreateMemory"),
    "AWS::Cognito::UserPool": ("before", "cognito-idp CreateUserPool"),
    "AWS::Cognito::UserPoolClient": ("before", "cognito-idp CreateUserPoolClient"),
    "AWS::Cognito::UserPoolDomain": ("before", "cognito-idp CreateUserPoolDomain"),
    "AWS::CodeDeploy::Application": ("before", "codedeploy CreateApplication"),
    "AWS::Athena::WorkGroup": ("before", "athena CreateWorkGroup"),
    "AWS::ApiGatewayV2::Api": ("before+after", "apigatewayv2 CreateApi, then ReimportApi of its OpenAPI body"),
    "AWS::CloudWatch::Alarm": (
        "before+after",
        "named <stack>-<logical id> before (the dashboard names its ARN), then cloudwatch PutMetricAlarm",
    ),
    "AWS::Lambda::Alias": ("after", "lambda CreateAlias on the version the stack published"),
    "AWS::ApiGatewayV2::Stage": ("after", "apigatewayv2 CreateStage"),
    "AWS::CodeDeploy::DeploymentGroup": ("after", "codedeploy CreateDeploymentGroup"),
    "AWS::Logs::MetricFilter": ("after", "logs PutMetricFilter"),
    "AWS::S3::BucketPolicy": ("after", "s3 PutBucketPolicy"),
    "AWS::SQS::QueuePolicy": ("after", "sqs SetQueueAttributes Policy"),
    "AWS::Lambda::EventInvokeConfig": ("after", "lambda PutFunctionEventInvokeConfig"),
    "AWS::Scheduler::Schedule": ("after", "scheduler CreateSchedule"),
    "AWS::SNS::Subscription": ("after", "sns Subscribe"),
    # moto models this one, but its FunctionName is the alias, which exists only after the stack
    "AWS::Lambda::Permission": ("after", "lambda AddPermission (after the stack: the endpoint's names the alias)"),
}


@dataclass
class DryRun:
    stack_name: str
    parameters: dict[str, str]
    status: str = ""
    reason: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    expected_outputs: set[str] = field(default_factory=set)
    created_by_api: dict[str, str] = field(default_factory=dict)  # logical id -> how


def translate(parameters: dict[str, str], artifact_keys: dict[str, str] | None = None) -> dict[str, Any]:
    """SAM's translation, offline, with the artifact locations sam package writes (one S3 object per CodeUri).
    ``artifact_keys`` (logical id -> key) stands in for a changed artifact, as a new package would upload."""
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.translator.transform import transform

    class OfflinePolicies(ManagedPolicyLoader):
        def __init__(self) -> None:
            pass

        def load(self) -> dict[str, str]:
            return {}

    template = load_template()
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if isinstance(props.get(key), str):
                props[key] = f"s3://{ARTIFACTS}/{props[key].strip('/')}"
    for logical_id, key in (artifact_keys or {}).items():
        props = template["Resources"][logical_id]["Properties"]
        uri = "ContentUri" if "ContentUri" in props else "CodeUri"
        props[uri] = f"s3://{ARTIFACTS}/{key}"
    return transform(template, parameters, OfflinePolicies())


def _upload_artifacts(template: dict[str, Any]) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=ARTIFACTS)
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        code = props.get("Code") or props.get("Content")
        if isinstance(code, dict) and "S3Key" in code:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as archive:
                archive.writestr("app.py", "def lambda_handler(event, context):\n    return None\n")
            s3.put_object(Bucket=code["S3Bucket"], Key=code["S3Key"], Body=buffer.getvalue())


def _inline_definitions(template: dict[str, Any]) -> None:
    """moto ignores DefinitionS3Location. CloudFormation reads the file and replaces each ${key} with its
    DefinitionSubstitutions value - which is exactly Fn::Sub with a variable map, so the definition moto receives is
    the one Step Functions would."""
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        location = props.pop("DefinitionS3Location", None)
        if location is None:
            continue
        text = (PROJECT_ROOT / location["Key"]).read_text()  # the key is the file's path (see translate)
        props["DefinitionString"] = {"Fn::Sub": [text, props.pop("DefinitionSubstitutions", {})]}


def _replace(value: Any, known: dict[str, Any]) -> Any:
    """Replace Ref/GetAtt/${...} of resources in ``known`` ("Logical" or "Logical.Attr") by their values."""
    if isinstance(value, list):
        return [_replace(v, known) for v in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref" and arg in known:
            return known[arg]
        if fn == "Fn::GetAtt":
            name = ".".join(arg) if isinstance(arg, list) else arg
            if name in known:
                return known[name]
        if fn == "Fn::Sub":
            text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])

            def sub(match: re.Match[str]) -> str:
                name = match[1]
                return str(known[name]) if name in known and name not in variables else match[0]

            text = re.sub(r"\$\{([^}!]+)\}", sub, text)
            return {"Fn::Sub": text if isinstance(arg, str) else [text, _replace(variables, known)]}
    return {k: _replace(v, known) for k, v in value.items()}


def _stack_resolver(template: dict[str, Any], stack_name: str, parameters: dict[str, str]) -> Resolver:
    """Refs and the attributes the after-stack resources use, from what the stack created."""
    resolver = Resolver(template, region=REGION, account=ACCOUNT, stack_name=stack_name)
    resolver.refs.update(parameters)
    resolver.refs["AWS::NoValue"] = NO_VALUE
    for name, spec in template.get("Parameters", {}).items():
        # A value given as text (the caller's parameters): CloudFormation splits a CommaDelimitedList.
        if spec.get("Type") == "CommaDelimitedList" and isinstance(resolver.refs[name], str):
            resolver.refs[name] = resolver.refs[name].split(",")  # type: ignore[assignment]
    cfn = boto3.client("cloudformation", region_name=REGION)
    for summary in cfn.list_stack_resources(StackName=stack_name)["StackResourceSummaries"]:
        logical, physical, kind = summary["LogicalResourceId"], summary["PhysicalResourceId"], summary["ResourceType"]
        resolver.refs[logical] = physical
        if kind == "AWS::Lambda::Function":
            fn = boto3.client("lambda", region_name=REGION).get_function(FunctionName=physical)["Configuration"]
            resolver.attrs[f"{logical}.Arn"] = fn["FunctionArn"]
        elif kind == "AWS::Lambda::Version":
            function = template["Resources"][logical]["Properties"]["FunctionName"]["Ref"]
            versions = boto3.client("lambda", region_name=REGION).list_versions_by_function(
                FunctionName=resolver.refs[function]
            )["Versions"]
            resolver.attrs[f"{logical}.Version"] = max(v["Version"] for v in versions if v["Version"] != "$LATEST")
        elif kind == "AWS::IAM::Role":
            resolver.attrs[f"{logical}.Arn"] = f"arn:aws:iam::{ACCOUNT}:role/{physical}"
        elif kind == "AWS::Logs::LogGroup":
            resolver.attrs[f"{logical}.Arn"] = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{physical}:*"
        elif kind == "AWS::S3::Bucket":
            resolver.attrs[f"{logical}.Arn"] = f"arn:aws:s3:::{physical}"
        elif kind == "AWS::Events::Rule":
            rule = physical.rsplit("/", 1)[-1].split("|")[0]
            resolver.attrs[f"{logical}.Arn"] = boto3.client("events", region_name=REGION).describe_rule(Name=rule)[
                "Arn"
            ]
        elif kind == "AWS::StepFunctions::StateMachine":
            resolver.attrs[f"{logical}.Name"] = physical.rsplit(":", 1)[1]
        elif kind == "AWS::SQS::Queue":  # the physical id is the queue URL
            attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
                QueueUrl=physical, AttributeNames=["QueueArn"]
            )["Attributes"]
            resolver.attrs[f"{logical}.Arn"] = attributes["QueueArn"]
            resolver.attrs[f"{logical}.QueueName"] = physical.rsplit("/", 1)[1]
    return resolver


def _create_before(logical: str, resource: dict[str, Any], stack: str, known: dict[str, Any]) -> None:
    props = _replace(resource.get("Properties", {}), known)
    kind = resource["Type"]
    if kind == "AWS::BedrockAgentCore::Memory":
        name = f"longhaul{stack.replace('-', '')}"  # the template derives it from the stack id, unknown before
        memory = boto3.client("bedrock-agentcore-control", region_name=REGION).create_memory(
            name=name,
            eventExpiryDuration=int(props["EventExpiryDuration"])
            if str(props["EventExpiryDuration"]).isdigit()
            else 90,
        )["memory"]
        known.update(
            {logical: memory["id"], f"{logical}.MemoryId": memory["id"], f"{logical}.MemoryArn": memory["arn"]}
        )
    elif kind == "AWS::Cognito::UserPool":
        pool = boto3.client("cognito-idp", region_name=REGION).create_user_pool(PoolName=f"{stack}-users")["UserPool"]
        provider = f"cognito-idp.{REGION}.amazonaws.com/{pool['Id']}"
        known.update({logical: pool["Id"], f"{logical}.ProviderURL": provider, f"{logical}.Arn": pool["Arn"]})
    elif kind == "AWS::Cognito::UserPoolClient":
        client = boto3.client("cognito-idp", region_name=REGION).create_user_pool_client(
            UserPoolId=props["UserPoolId"],
            ClientName=f"{stack}-mcp",
            GenerateSecret=props["GenerateSecret"],
            ExplicitAuthFlows=props["ExplicitAuthFlows"],
            AllowedOAuthFlows=props["AllowedOAuthFlows"],
            AllowedOAuthScopes=props["AllowedOAuthScopes"],
            AllowedOAuthFlowsUserPoolClient=props["AllowedOAuthFlowsUserPoolClient"],
            SupportedIdentityProviders=props["SupportedIdentityProviders"],
        )["UserPoolClient"]
        known[logical] = client["ClientId"]
    elif kind == "AWS::Cognito::UserPoolDomain":
        domain = f"longhaul-{stack}"
        boto3.client("cognito-idp", region_name=REGION).create_user_pool_domain(
            Domain=domain, UserPoolId=props["UserPoolId"]
        )
        known[logical] = domain
    elif kind == "AWS::CodeDeploy::Application":
        name = f"{stack}-{logical}"
        boto3.client("codedeploy", region_name=REGION).create_application(
            applicationName=name, computePlatform=props.get("ComputePlatform", "Lambda")
        )
        known[logical] = name
    elif kind == "AWS::ApiGatewayV2::Api":
        api = boto3.client("apigatewayv2", region_name=REGION).create_api(
            Name=f"{stack}-{logical}", ProtocolType="HTTP"
        )
        known[logical] = api["ApiId"]
    elif kind == "AWS::CloudWatch::Alarm":
        name = f"{stack}-{logical}"
        known.update({logical: name, f"{logical}.Arn": f"arn:aws:cloudwatch:{REGION}:{ACCOUNT}:alarm:{name}"})
    elif kind == "AWS::Athena::WorkGroup":
        name = f"{stack}-queries"  # the template's ${AWS::StackName}-queries
        boto3.client("athena", region_name=REGION).create_work_group(Name=name, Description=props["Description"])
        known[logical] = name
    elif kind == "AWS::Lambda::Alias":
        pass  # its Ref (an ARN) is only used by resources created after the stack
    else:
        known[logical] = f"{stack}-{logical}"


NO_VALUE = "\x00AWS::NoValue"


def _drop_no_value(value: Any) -> Any:
    """CloudFormation removes a property (or map key) whose value is Ref AWS::NoValue."""
    if isinstance(value, dict):
        return {k: _drop_no_value(v) for k, v in value.items() if v != NO_VALUE}
    if isinstance(value, list):
        return [_drop_no_value(v) for v in value if v != NO_VALUE]
    return value


def _create_after(logical: str, resource: dict[str, Any], resolver: Resolver, known: dict[str, Any]) -> None:
    props = _drop_no_value(resolver.resolve(_replace(resource.get("Properties", {}), known)))
    kind = resource["Type"]
    if kind == "AWS::Lambda::Alias":
        alias = boto3.client("lambda", region_name=REGION).create_alias(
            FunctionName=props["FunctionName"], Name=props["Name"], FunctionVersion=props["FunctionVersion"]
        )
        resolver.refs[logical] = alias["AliasArn"]
    elif kind == "AWS::Lambda::Permission":
        name = props["FunctionName"]  # a name, or an ARN with an optional qualifier (the alias)
        function, _, qualifier = (name.partition(":function:")[2] if ":function:" in name else name).partition(":")
        grant = {"StatementId": logical, "Action": props["Action"], "Principal": props["Principal"]}
        boto3.client("lambda", region_name=REGION).add_permission(
            FunctionName=function,
            SourceArn=props["SourceArn"],
            **grant,
            **({"Qualifier": qualifier} if qualifier else {}),
        )
    elif kind == "AWS::ApiGatewayV2::Api":
        boto3.client("apigatewayv2", region_name=REGION).reimport_api(
            ApiId=known[logical], Body=json.dumps(props["Body"]), FailOnWarnings=True
        )
    elif kind == "AWS::ApiGatewayV2::Stage":
        boto3.client("apigatewayv2", region_name=REGION).create_stage(
            ApiId=props["ApiId"],
            StageName=props["StageName"],
            AutoDeploy=props.get("AutoDeploy", False),
            StageVariables={k: str(v) for k, v in props.get("StageVariables", {}).items()},
            DefaultRouteSettings={
                k: int(v) if k == "ThrottlingBurstLimit" else float(v) for k, v in props["DefaultRouteSettings"].items()
            },
            AccessLogSettings=props["AccessLogSettings"],
        )
    elif kind == "AWS::CodeDeploy::DeploymentGroup":
        boto3.client("codedeploy", region_name=REGION).create_deployment_group(
            applicationName=props["ApplicationName"],
            deploymentGroupName=logical,
            serviceRoleArn=props["ServiceRoleArn"],
            deploymentConfigName=props["DeploymentConfigName"],
            deploymentStyle={"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            alarmConfiguration={
                "enabled": True,
                "alarms": [{"name": a["Name"]} for a in props["AlarmConfiguration"]["Alarms"]],
            },
        )
    elif kind == "AWS::CloudWatch::Alarm":
        args = {k: v for k, v in props.items() if k not in ("AlarmDescription",)}
        boto3.client("cloudwatch", region_name=REGION).put_metric_alarm(AlarmName=known[logical], **args)
    elif kind == "AWS::Logs::MetricFilter":
        boto3.client("logs", region_name=REGION).put_metric_filter(
            logGroupName=props["LogGroupName"],
            filterName=logical,
            filterPattern=props["FilterPattern"],
            metricTransformations=[
                {k[0].lower() + k[1:]: v for k, v in t.items()} for t in props["MetricTransformations"]
            ],
        )
    elif kind == "AWS::S3::BucketPolicy":
        boto3.client("s3", region_name=REGION).put_bucket_policy(
            Bucket=props["Bucket"], Policy=json.dumps(props["PolicyDocument"])
        )
    elif kind == "AWS::Lambda::EventInvokeConfig":
        boto3.client("lambda", region_name=REGION).put_function_event_invoke_config(
            FunctionName=props["FunctionName"],
            Qualifier=props["Qualifier"],
            MaximumRetryAttempts=int(props["MaximumRetryAttempts"]),
            DestinationConfig=props["DestinationConfig"],
        )
    elif kind == "AWS::Scheduler::Schedule":
        target = {k: v for k, v in props["Target"].items() if k in ("Arn", "RoleArn", "RetryPolicy", "Input")}
        boto3.client("scheduler", region_name=REGION).create_schedule(
            Name=props["Name"],
            ScheduleExpression=props["ScheduleExpression"],
            FlexibleTimeWindow=props["FlexibleTimeWindow"],
            Target=target,
        )
    elif kind == "AWS::SQS::QueuePolicy":
        sqs = boto3.client("sqs", region_name=REGION)
        for queue_url in props["Queues"]:
            sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
    elif kind == "AWS::SNS::Subscription":
        boto3.client("sns", region_name=REGION).subscribe(
            TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
        )
    else:
        raise AssertionError(f"{logical}: no way to create {kind} after the stack")


def dry_run(parameters: dict[str, str], stack_name: str = "longhaul-dry-run") -> DryRun:
    """Create the stack (inside an active moto mock) and report its status, outputs and what the API created."""
    from moto.cloudformation.parsing import get_model_map

    result = DryRun(stack_name=stack_name, parameters=parameters)
    template = translate(parameters)
    _upload_artifacts(template)
    _inline_definitions(template)

    conditions = Resolver(load_template(), region=REGION, account=ACCOUNT, stack_name=stack_name)
    conditions.refs.update(parameters)

    def holds(item: dict[str, Any]) -> bool:
        return "Condition" not in item or conditions.condition(item["Condition"])

    modeled = get_model_map()
    before: dict[str, dict[str, Any]] = {}
    after: dict[str, dict[str, Any]] = {}
    for logical, resource in template["Resources"].items():
        kind = resource["Type"]
        if kind not in UNMODELED:
            if kind not in modeled:
                raise AssertionError(f"{logical}: moto does not model {kind}; say how the dry run creates it")
            continue
        phases, how = UNMODELED[kind]
        if holds(resource):
            if "before" in phases:
                before[logical] = resource
            if "after" in phases:
                after[logical] = resource
            result.created_by_api[logical] = how
    known: dict[str, Any] = {}
    for logical in _dependency_order(before):
        _create_before(logical, before[logical], stack_name, known)
    resources = {
        logical: _replace(resource, known)
        for logical, resource in template["Resources"].items()
        if logical not in before and logical not in after
    }
    removed = set(before) | set(after)
    for resource in resources.values():
        if isinstance(resource.get("DependsOn"), list):
            resource["DependsOn"] = [d for d in resource["DependsOn"] if d not in removed]
        elif resource.get("DependsOn") in removed:
            del resource["DependsOn"]
    stack_template = {**template, "Resources": resources, "Outputs": _replace(template.get("Outputs", {}), known)}

    cfn = boto3.client("cloudformation", region_name=REGION)
    cfn.create_stack(
        StackName=stack_name,
        TemplateBody=json.dumps(stack_template),
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    stack = cfn.describe_stacks(StackName=stack_name)["Stacks"][0]
    result.status, result.reason = stack["StackStatus"], stack.get("StackStatusReason", "")
    result.outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs", [])}
    result.expected_outputs = {name for name, output in template.get("Outputs", {}).items() if holds(output)}

    resolver = _stack_resolver(template, stack_name, parameters)
    resolver.refs.update({k: v for k, v in known.items() if "." not in k})
    resolver.attrs.update({k: v for k, v in known.items() if "." in k})
    for logical in _dependency_order(after, frozenset(k for k in known if "." not in k)):
        resource = template["Resources"][logical]
        _create_after(logical, resource, resolver, known)
    return result


def _dependency_order(resources: dict[str, dict[str, Any]], known: frozenset[str] = frozenset()) -> list[str]:
    """Resources ordered so that each comes after those of the set it references (but for ``known`` ones, whose
    references are already resolvable)."""
    ordered: list[str] = []

    def visit(logical: str, path: tuple[str, ...] = ()) -> None:
        if logical in ordered or logical in path:
            return
        text = json.dumps(resources[logical])
        for other in resources:
            if other != logical and other not in known and re.search(rf'"{other}"|\$\{{{other}[.}}]', text):
                visit(other, (*path, logical))
        ordered.append(logical)

    for logical in resources:
        visit(logical)
    return ordered


def main(argv: list[str] | None = None) -> int:
    from moto import mock_aws

    parameters = dict(arg.split("=", 1) for arg in (argv if argv is not None else sys.argv[1:]))
    with mock_aws():
        run = dry_run(parameters)
    print(f"{run.stack_name}: {run.status} {run.reason}".rstrip())
    for logical, how in sorted(run.created_by_api.items()):
        print(f"  {logical}: {how}")
    missing = run.expected_outputs - {k for k, v in run.outputs.items() if v}
    print(
        f"  outputs: {len(run.outputs)} of {len(run.expected_outputs)}"
        + (f", missing {sorted(missing)}" if missing else "")
    )
    return 0 if run.status == "CREATE_COMPLETE" and not missing else 1


if __name__ == "__main__":
    raise SystemExit(main())

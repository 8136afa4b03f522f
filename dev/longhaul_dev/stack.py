"""The local stack: template.yaml's resources created in moto, with the real handlers dispatched in-process.

Works against whatever moto backend boto3 reaches: ``mock_aws`` in tests, or a moto server (``longhaul dev``)
when ``AWS_ENDPOINT_URL`` points at it.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import json
import os
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import botocore.loaders
import botocore.session

from longhaul_dev import moto_lambda, strict_aws
from longhaul_dev.template import (
    PROJECT_ROOT,
    Resolver,
    configured_kinds,
    function_specs,
    load_template,
    substituted_definition,
)


def share_botocore_loader() -> None:
    """One botocore data loader for the whole process; idempotent. Every boto3 Session otherwise reads and parses
    the service models and endpoints.json again: moto's EC2 backend alone builds three Sessions when imported (Step
    Functions' parser imports it), each test's mock_aws a new default one. The data is read-only."""
    if not hasattr(botocore.session.create_loader, "cache_info"):
        botocore.session.create_loader = functools.lru_cache(maxsize=None)(botocore.loaders.create_loader)


def defer_moto_batch() -> None:
    """Import moto's Batch models only where Batch is used; idempotent. moto's Step Functions parser imports
    ``moto.batch.utils`` for one enum, and the ``moto.batch`` package's ``__init__`` imports its models, which import
    all of moto.ec2 (its instance-type and region data: ~0.5 s of CPU) in every process that runs a workflow. Here
    the package is registered without running that ``__init__``; its one name, ``batch_backends``, loads the models
    on first use (moto's backend registry asks for it by that name), so Batch works as before wherever it is used."""
    if "moto.batch" in sys.modules:
        return
    spec = importlib.util.find_spec("moto.batch")
    if spec is None:
        return
    package = importlib.util.module_from_spec(spec)  # a package: its submodules import as usual

    def load_on_first_use(name: str) -> Any:
        if name == "batch_backends":
            from moto.batch.models import batch_backends

            return batch_backends
        raise AttributeError(f"module 'moto.batch' has no attribute {name!r}")

    package.__getattr__ = load_on_first_use  # type: ignore[method-assign]
    sys.modules["moto.batch"] = package


share_botocore_loader()  # on import: before a dev server or a test process makes its first Session
defer_moto_batch()  # and before moto's Step Functions parser is imported

# Moto executes state machines only when told to. Its Docker-free Lambda ("use_docker": False) would echo
# the event back without calling _invoke_lambda, so the regular backend is kept and its invoke is patched.
MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}}
# The operator's choice of what athena_query may read (AthenaDatabase, AthenaDataLocation), made for the local stack:
# a small sample table in moto's Glue, its data in moto's S3. moto runs no SQL (see strict_aws: its result queue).
LOCAL_ATHENA_DATABASE = "longhaul_samples"
LOCAL_ATHENA_TABLE = "trips"
LOCAL_ATHENA_COLUMNS = (("city", "string"), ("trips", "int"), ("distance_km", "double"))
LOCAL_ATHENA_ROWS = (("Lisbon", "120", "4.2"), ("Porto", "75", "3.1"), ("Faro", "12", "6.8"))
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@dataclass
class LocalStack:
    """Names of what was created, and the environment every function sees."""

    resolver: Resolver
    table_name: str
    bucket_name: str
    memory_id: str | None
    state_machine_arn: str
    functions: dict[str, str]  # logical id -> function name
    environment: dict[str, str] = field(default_factory=dict)
    function_environments: dict[str, dict[str, str]] = field(default_factory=dict)


# Process-wide, because a test process builds one local stack per test: a boto3 client (its class is built from the
# service model, per session) and a function's handler module (imported from its file) cost more to make than the
# calls the stack makes with them. Clients hold no state of a stack (moto answers whichever backend is active, or
# AWS_ENDPOINT_URL's server); the handler modules hold none either (their services are built per runtime.reset()).
_clients: dict[tuple[str, str, str], Any] = {}
_handlers: dict[tuple[Path, str], Callable[[Any, Any], Any]] = {}


def _client(service: str, region: str) -> Any:
    key = (service, region, os.environ.get("AWS_ENDPOINT_URL", ""))
    if key not in _clients:
        _clients[key] = boto3.client(service, region_name=region)
    return _clients[key]


def _handler(code_dir: Path, handler: str) -> Callable[[Any, Any], Any]:
    if (code_dir, handler) not in _handlers:
        _handlers[code_dir, handler] = moto_lambda.load_handler(code_dir, handler)
    return _handlers[code_dir, handler]


def _dummy_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", "# longhaul runs the real handler in-process; this code never runs\n")
    return buffer.getvalue()


def put_kinds_on_path(template: dict[str, Any]) -> None:
    """Your kinds importable and named before any handler is loaded (the endpoint lists its tools on import), as
    Lambda puts the KindsLayer's python/ on the path and the function's LONGHAUL_KINDS in its environment."""
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.append(str(PROJECT_ROOT))
    os.environ.setdefault("LONGHAUL_KINDS", configured_kinds(template))


def create_tasks_table(template: dict[str, Any], table_name: str, region: str = "us-east-1") -> str:
    """The tasks table exactly as template.yaml defines it: keys, indexes (with their projections) and TTL."""
    strict_aws.install()
    dynamodb = _client("dynamodb", region)
    props = template["Resources"]["TasksTable"]["Properties"]
    table_args: dict[str, Any] = {
        "TableName": table_name,
        "KeySchema": props["KeySchema"],
        "AttributeDefinitions": props["AttributeDefinitions"],
        "BillingMode": props["BillingMode"],
    }
    if props.get("GlobalSecondaryIndexes"):
        table_args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    dynamodb.create_table(**table_args)
    ttl = props["TimeToLiveSpecification"]
    dynamodb.update_time_to_live(
        TableName=table_name, TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": True}
    )
    return table_name


def create_sample_table(bucket: str, table: str, region: str = "us-east-1") -> None:
    """The local stack's shared data: a CSV table in moto's S3 and its definition in moto's Glue catalog."""
    glue = _client("glue", region)
    if glue.get_databases()["DatabaseList"]:
        return  # a second local stack in the same moto shares the sample data
    s3 = _client("s3", region)
    s3.create_bucket(Bucket=bucket)
    body = "\n".join(",".join(row) for row in LOCAL_ATHENA_ROWS) + "\n"
    s3.put_object(Bucket=bucket, Key=f"{table}/{table}.csv", Body=body.encode())
    glue.create_database(DatabaseInput={"Name": LOCAL_ATHENA_DATABASE})
    glue.create_table(
        DatabaseName=LOCAL_ATHENA_DATABASE,
        TableInput={
            "Name": table,
            "TableType": "EXTERNAL_TABLE",
            "StorageDescriptor": {
                "Columns": [{"Name": name, "Type": kind} for name, kind in LOCAL_ATHENA_COLUMNS],
                "Location": f"s3://{bucket}/{table}/",
                "InputFormat": "org.apache.hadoop.mapred.TextInputFormat",
                "OutputFormat": "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                "SerdeInfo": {
                    "SerializationLibrary": "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
                    "Parameters": {"field.delim": ","},
                },
            },
        },
    )


def create_local_stack(stack_name: str = "longhaul-local", region: str = "us-east-1") -> LocalStack:
    """Create every resource the workflow needs from template.yaml's definitions and route its Lambdas here."""
    strict_aws.install()  # AgentCore's limits and clientToken, atomic DynamoDB conditional writes: as on AWS
    template = load_template()
    put_kinds_on_path(template)
    resources = template["Resources"]
    resolver = Resolver(template, region=region, stack_name=stack_name)
    account = resolver.account

    # Tables: the template's own key schema, indexes and TTL.
    table_name = f"{stack_name}-tasks"
    create_tasks_table(template, table_name, region)
    resolver.refs["TasksTable"] = table_name
    resolver.attrs["TasksTable.Arn"] = f"arn:aws:dynamodb:{region}:{account}:table/{table_name}"

    bucket = f"{stack_name}-results"
    _client("s3", region).create_bucket(Bucket=bucket)
    resolver.refs["ResultsBucket"] = bucket
    resolver.attrs["ResultsBucket.Arn"] = f"arn:aws:s3:::{bucket}"

    if not resolver.refs.get("AthenaDatabase"):
        resolver.refs["AthenaDatabase"] = LOCAL_ATHENA_DATABASE
        resolver.refs["AthenaDataLocation"] = f"{stack_name}-lake/{LOCAL_ATHENA_TABLE}"
        create_sample_table(f"{stack_name}-lake", LOCAL_ATHENA_TABLE, region)
    if resolver.condition("AthenaEnabled"):
        group = resources["AthenaWorkGroup"]["Properties"]
        config = resolver.resolve(group["WorkGroupConfiguration"])
        config["BytesScannedCutoffPerQuery"] = int(config["BytesScannedCutoffPerQuery"])
        name = resolver.resolve(group["Name"])
        _client("athena", region).create_work_group(
            Name=name, Configuration=config, Description=resolver.resolve(group["Description"])
        )
        resolver.refs["AthenaWorkGroup"] = name

    memory_id = None
    if resolver.condition("CreateMemory"):
        mem_props = resources["Memory"]["Properties"]
        memory = _client("bedrock-agentcore-control", region).create_memory(
            name=resolver.resolve(mem_props["Name"]),
            eventExpiryDuration=int(resolver.resolve(mem_props["EventExpiryDuration"])),
        )["memory"]
        memory_id = memory["id"]
        resolver.attrs["Memory.MemoryId"] = memory_id
    else:
        memory_id = resolver.refs["ExistingMemoryId"]

    # Functions: created in moto (so Step Functions can invoke them), run by the real handlers in-process.
    role = _client("iam", region).create_role(
        RoleName=f"{stack_name}-lambda",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]["Arn"]
    lambda_client = _client("lambda", region)
    functions: dict[str, str] = {}
    specs = function_specs(template)
    # The endpoint decides at import (as each handler is loaded below) whether it offers athena_query: like Lambda,
    # which sets a function's environment before its init, the stack's workgroup is in place by then.
    endpoint_env = specs["McpEndpointFunction"].environment
    if "ATHENA_WORKGROUP" in endpoint_env:
        os.environ["ATHENA_WORKGROUP"] = str(resolver.resolve(endpoint_env["ATHENA_WORKGROUP"]))
    for logical_id, spec in specs.items():
        name = f"{stack_name}-{logical_id}"
        arn = lambda_client.create_function(
            FunctionName=name,
            Runtime=template["Globals"]["Function"]["Runtime"],
            Role=role,
            Handler=spec.handler,
            Code={"ZipFile": _dummy_zip()},
            Timeout=int(resolver.resolve(spec.timeout)),
            MemorySize=spec.memory_size,
        )["FunctionArn"]
        functions[logical_id] = name
        resolver.refs[logical_id] = name
        resolver.attrs[f"{logical_id}.Arn"] = arn
        moto_lambda.register(name, _handler(spec.code_dir, spec.handler))

    sfn = _client("stepfunctions", region)
    state_machine_arn = sfn.create_state_machine(
        name=f"{stack_name}-TaskWorkflow",
        definition=substituted_definition(template, "TaskWorkflow", resolver),
        roleArn=role,
        type="STANDARD",
    )["stateMachineArn"]
    resolver.refs["TaskWorkflow"] = state_machine_arn

    function_environments = {
        logical_id: {k: str(resolver.resolve(v)) for k, v in spec.environment.items()}
        for logical_id, spec in specs.items()
    }
    # The functions share one set of resources, so one process environment serves them all.
    environment: dict[str, str] = {}
    for env in function_environments.values():
        environment.update(env)
    environment["STATE_MACHINE_ARN"] = state_machine_arn
    # No CloudWatch here, and Powertools' metric set is shared by every handler in the process: Lambda runs
    # concurrent invocations in separate environments, but in-process they would flush one shared dict while
    # another thread adds to it ("dictionary changed size during iteration").
    environment["POWERTOOLS_METRICS_DISABLED"] = "true"
    environment.setdefault("MEMORY_ID", memory_id or "")
    return LocalStack(
        resolver=resolver,
        table_name=table_name,
        bucket_name=bucket,
        memory_id=memory_id,
        state_machine_arn=state_machine_arn,
        functions=functions,
        environment=environment,
        function_environments=function_environments,
    )


def apply_environment(stack: LocalStack) -> None:
    """Put the stack's environment in this process and rebuild the cached services from it."""
    from longhaul import runtime

    os.environ.update(stack.environment)
    runtime.reset()


def wait_for_execution(execution_arn: str, timeout: float = 60.0, region: str = "us-east-1") -> dict[str, Any]:
    """Poll until the execution leaves RUNNING; returns DescribeExecution's answer."""
    sfn = _client("stepfunctions", region)
    deadline = time.monotonic() + timeout
    while True:
        execution = sfn.describe_execution(executionArn=execution_arn)
        if execution["status"] != "RUNNING":
            return dict(execution)
        if time.monotonic() > deadline:
            raise TimeoutError(f"execution {execution_arn} still RUNNING after {timeout} s")
        time.sleep(0.05)


def end_executions(stack: LocalStack, timeout: float = 60.0, region: str = "us-east-1") -> list[str]:
    """Stop every execution of the stack's workflow still running and wait until each has ended (ABORTED); returns
    their ARNs. moto ends a stopped execution once the state in flight returns, as its worker thread runs on."""
    sfn = _client("stepfunctions", region)
    paginator = sfn.get_paginator("list_executions")
    running = [
        execution["executionArn"]
        for page in paginator.paginate(stateMachineArn=stack.state_machine_arn, statusFilter="RUNNING")
        for execution in page["executions"]
    ]
    for arn in running:
        sfn.stop_execution(executionArn=arn, error="Stopped", cause="the local stack is shutting down")
    for arn in running:
        wait_for_execution(arn, timeout=timeout, region=region)
    return running

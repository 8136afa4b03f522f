"""``longhaul invoke``: run one function's real handler in this process, the Docker-free ``sam local invoke``.

Handler, CodeUri, Timeout, MemorySize and Environment come from template.yaml for the given logical id, as
``sam local invoke`` reads them. The return value is printed on stdout as JSON (an exception as the Lambda
runtime's error payload, exit status 1); the function's own logs go to stderr.

- Local (default): a fresh moto-backed stack built from template.yaml (``create_local_stack``), with Step
  Functions executing the real ASL and every Lambda dispatched in-process. A fresh stack holds no tasks, so when
  the event names one (``task_id``, an EventBridge execution's ``detail.name``, or ``arguments.task_id`` in an
  MCP request) a working task record is seeded first: the event's kind, owned by the caller the event carries
  (or the local developer), with a session id so that WriteResult writes its memory event. ``--no-seed`` skips
  that. Executions the handler starts run to the end before the stack is gone (at most ``--wait`` seconds).
- ``--aws``: the deployed stack, with your credentials (not the function's role). The function's environment is
  read from the deployed function itself (CloudFormation DescribeStackResource, Lambda GetFunctionConfiguration),
  so it is exactly what the function sees in AWS. The stack name and region default to samconfig.toml's.

``--env-vars`` takes sam local invoke's file format: ``{"Parameters": {...}, "<LogicalId>": {...}}``, where
only variables the function already has are overridden.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import sys
import time
import tomllib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from longhaul_dev.template import PROJECT_ROOT, FunctionSpec, Resolver, function_specs, load_template

SAMCONFIG = PROJECT_ROOT / "samconfig.toml"
LOCAL_SESSION_ID = "local-session"
# The result a seeded completed task holds (a WriteResult sample event names a task whose last step has finished).
SEEDED_RESULT = {"model_name": "demo-model", "epochs": 3, "final_loss": 1.230916, "final_accuracy": 0.5173}


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "invoke",
        help="run a function's handler in-process on a local stack or against AWS (sam local invoke, no Docker)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("function", metavar="LOGICAL_ID", help="the function's logical id in template.yaml")
    parser.add_argument("-e", "--event", required=True, help="event JSON file; - reads standard input")
    parser.add_argument("-n", "--env-vars", type=Path, help="JSON file of environment overrides (sam's format)")
    parser.add_argument("--aws", action="store_true", help="run against the deployed stack with your credentials")
    parser.add_argument("--stack-name", help="deployed stack (--aws); default: samconfig.toml's")
    parser.add_argument("--region", help="region of the deployed stack (--aws); default: samconfig.toml's")
    parser.add_argument("--config-env", default="default", help="samconfig.toml environment (default: default)")
    parser.add_argument("--no-seed", action="store_true", help="do not seed the event's task on the local stack")
    parser.add_argument("--wait", type=float, default=60.0, help="seconds to let started executions finish (local)")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    specs = function_specs(load_template())
    spec = specs.get(args.function)
    if spec is None:
        print(f"longhaul invoke: no function {args.function!r}; template.yaml has {', '.join(specs)}", file=sys.stderr)
        return 2
    event = json.load(sys.stdin) if args.event == "-" else json.loads(Path(args.event).read_text())
    overrides = read_env_vars(args.env_vars, spec) if args.env_vars else {}
    # Handlers log (and Powertools prints metrics) to stdout; as with sam local invoke, stdout keeps only the result.
    with contextlib.redirect_stdout(sys.stderr):
        if args.aws:
            payload, errored = invoke_aws(spec, event, overrides, *deployed_stack(args))
        else:
            payload, errored = invoke_local(spec, event, overrides, seed=not args.no_seed, wait=args.wait)
    print(payload)
    return 1 if errored else 0


def read_env_vars(path: Path, spec: FunctionSpec) -> dict[str, str]:
    """sam local invoke's --env-vars: "Parameters" for every function, then the function's own section."""
    data = json.loads(path.read_text())
    wanted = {**data.get("Parameters", {}), **data.get(spec.logical_id, {})}
    ignored = sorted(set(wanted) - set(spec.environment))
    if ignored:
        print(f"longhaul invoke: {', '.join(ignored)} not in {spec.logical_id}'s environment; ignored", file=sys.stderr)
    return {name: str(value) for name, value in wanted.items() if name in spec.environment}


@contextlib.contextmanager
def patched_environ(values: dict[str, str], drop: tuple[str, ...] = ()) -> Iterator[None]:
    """Set (and drop) environment variables for the duration, then restore the environment exactly."""
    saved = dict(os.environ)
    for name in drop:
        os.environ.pop(name, None)
    os.environ.update(values)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


# --- local: a fresh moto-backed stack -------------------------------------------------------------------------


def invoke_local(
    spec: FunctionSpec, event: Any, overrides: dict[str, str], *, seed: bool = True, wait: float = 60.0
) -> tuple[str, bool]:
    """Invoke the handler on a fresh local stack; returns (payload JSON, errored)."""
    import boto3
    from moto import mock_aws

    from longhaul_dev import moto_lambda
    from longhaul_dev.stack import FAKE_CREDENTIALS, MOTO_CONFIG, create_local_stack

    # Fake credentials and no endpoint override: nothing here can reach a real account.
    local_env = {**FAKE_CREDENTIALS, "POWERTOOLS_TRACE_DISABLED": "1"}
    moto_config: Any = MOTO_CONFIG  # moto types config as a TypedDict; the shared constant is a plain dict
    with patched_environ(local_env, drop=("AWS_PROFILE", "AWS_ENDPOINT_URL")), mock_aws(config=moto_config):
        from longhaul import runtime

        # Powertools reads its POWERTOOLS_* settings once, when the handlers' modules are imported (the stack
        # imports them): set what needs no resource first.
        os.environ.update({**static_environment(spec), **overrides})
        moto_lambda.install()
        try:
            stack = create_local_stack()
            os.environ.update({**stack.function_environments[spec.logical_id], **overrides})
            runtime.reset()
            if seed:
                seed_task(event, stack.table_name, completed=spec.logical_id == "WriteResultFunction")
            context = moto_lambda.LocalLambdaContext(
                function_name=stack.functions[spec.logical_id],
                timeout_seconds=int(stack.resolver.resolve(spec.timeout)),
                memory_limit_in_mb=spec.memory_size,
                invoked_function_arn=stack.resolver.attrs[f"{spec.logical_id}.Arn"],
            )
            handler = moto_lambda.load_handler(spec.code_dir, spec.handler)
            payload, errored, _ = moto_lambda.invoke_handler(handler, event, context)
            finish_executions(boto3.client("stepfunctions"), stack.state_machine_arn, wait)
            return payload, errored
        finally:
            moto_lambda.uninstall()
            runtime.reset()


def static_environment(spec: FunctionSpec) -> dict[str, str]:
    """The function's variables that refer to no resource (constants and parameter defaults)."""
    resolver = Resolver(load_template())
    values = {}
    for name, value in spec.environment.items():
        with contextlib.suppress(KeyError):
            values[name] = str(resolver.resolve(value))
    return values


def task_in_event(event: Any) -> tuple[str, str | None] | None:
    """(task id, kind or None) named by a RunStep/WriteResult request, an execution event or an MCP request."""
    if not isinstance(event, dict):
        return None
    if isinstance(event.get("task_id"), str):
        return event["task_id"], event.get("kind")
    detail = event.get("detail")
    if event.get("source") == "aws.states" and isinstance(detail, dict) and detail.get("name"):
        try:
            kind = json.loads(detail.get("input") or "{}").get("kind")
        except (ValueError, AttributeError):
            kind = None
        return detail["name"], kind
    if "requestContext" in event and isinstance(event.get("body"), str):
        body = base64.b64decode(event["body"]).decode() if event.get("isBase64Encoded") else event["body"]
        try:
            messages = json.loads(body)
        except ValueError:
            return None
        for message in messages if isinstance(messages, list) else [messages]:
            arguments = ((message or {}).get("params") or {}).get("arguments") or {}
            if isinstance(arguments.get("task_id"), str):
                return arguments["task_id"], None
    return None


def seed_task(event: Any, table_name: str, *, completed: bool = False) -> None:
    """Create the task the event refers to, as the MCP endpoint would have, unless it exists already. ``completed``
    seeds a task whose last step finished (what WriteResultFunction delivers)."""
    from longhaul.adapters.dynamodb import DynamoTaskStore
    from longhaul.errors import TaskAlreadyExists
    from longhaul.models import TaskRecord, TaskStatus, iso, utc_now
    from longhaul.settings import get_settings

    found = task_in_event(event)
    if found is None:
        return
    task_id, kind = found
    settings = get_settings()
    owner = settings.dev_principal
    if isinstance(event, dict) and "requestContext" in event:
        from longhaul.endpoint.identity import principal_from_event

        owner = principal_from_event(event, settings) or owner
    now = utc_now()
    record = TaskRecord(
        task_id=task_id,
        owner=owner,
        kind=kind or "model_training",
        params=event.get("params") or {},
        created_at=iso(now),
        updated_at=iso(now),
        expires_at=int((now + timedelta(days=settings.task_ttl_days)).timestamp()),
        session_id=LOCAL_SESSION_ID,
    )
    if completed:
        record = record.model_copy(
            update={"status": TaskStatus.COMPLETED, "progress": 1.0, "ended_at": iso(now), "result": SEEDED_RESULT}
        )
    with contextlib.suppress(TaskAlreadyExists):
        DynamoTaskStore(table_name).create(record)
        print(
            f"longhaul invoke: seeded task {task_id} ({record.kind}, {record.status.value}, owner {owner}) on the "
            "fresh local stack; --no-seed skips this",
            file=sys.stderr,
        )


def finish_executions(sfn: Any, state_machine_arn: str, wait: float) -> None:
    """Let executions the handler started finish (the local stack ends with this command); stop them after wait."""
    deadline = time.monotonic() + wait
    while True:
        running = sfn.list_executions(stateMachineArn=state_machine_arn, statusFilter="RUNNING")["executions"]
        if not running:
            break
        if time.monotonic() > deadline:
            for execution in running:
                sfn.stop_execution(executionArn=execution["executionArn"], cause="longhaul invoke is ending")
            break
        time.sleep(0.1)
    for execution in sfn.list_executions(stateMachineArn=state_machine_arn)["executions"]:
        print(f"longhaul invoke: execution {execution['name']} {execution['status']}", file=sys.stderr)


# --- --aws: the deployed stack ---------------------------------------------------------------------------------


def samconfig_value(config_env: str, name: str) -> str | None:
    """A deploy (or global) parameter from samconfig.toml's environment, as sam reads it."""
    if not SAMCONFIG.is_file():
        return None
    config = tomllib.loads(SAMCONFIG.read_text()).get(config_env, {})
    for command in ("deploy", "global"):
        value = config.get(command, {}).get("parameters", {}).get(name)
        if value:
            return str(value)
    return None


def deployed_stack(args: argparse.Namespace) -> tuple[str, str | None]:
    stack_name = args.stack_name or samconfig_value(args.config_env, "stack_name")
    if not stack_name:
        raise SystemExit("longhaul invoke --aws: give --stack-name (samconfig.toml names none)")
    return stack_name, args.region or samconfig_value(args.config_env, "region")


def invoke_aws(
    spec: FunctionSpec, event: Any, overrides: dict[str, str], stack_name: str, region: str | None
) -> tuple[str, bool]:
    """Invoke the handler here with the deployed function's environment and your credentials."""
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    from longhaul_dev import moto_lambda

    session = boto3.session.Session(region_name=region)
    try:
        resource = session.client("cloudformation").describe_stack_resource(
            StackName=stack_name, LogicalResourceId=spec.logical_id
        )["StackResourceDetail"]
        config = session.client("lambda").get_function_configuration(FunctionName=resource["PhysicalResourceId"])
    except (BotoCoreError, ClientError) as error:
        raise SystemExit(f"longhaul invoke --aws: {spec.logical_id} of stack {stack_name}: {error}") from None
    environment = {
        **config.get("Environment", {}).get("Variables", {}),
        **overrides,
        "AWS_REGION": session.region_name,
        "AWS_DEFAULT_REGION": session.region_name,
        "POWERTOOLS_TRACE_DISABLED": "1",  # no X-Ray daemon on this machine
    }
    from longhaul import runtime

    with patched_environ(environment):
        runtime.reset()
        try:
            context = moto_lambda.LocalLambdaContext(
                function_name=config["FunctionName"],
                timeout_seconds=int(config["Timeout"]),
                memory_limit_in_mb=int(config["MemorySize"]),
                invoked_function_arn=config["FunctionArn"],
            )
            handler = moto_lambda.load_handler(spec.code_dir, spec.handler)
            payload, errored, _ = moto_lambda.invoke_handler(handler, event, context)
            return payload, errored
        finally:
            runtime.reset()

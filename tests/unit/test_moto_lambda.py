"""The in-process Lambda dispatch patches a private moto API: these tests catch a moto upgrade that breaks it."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from longhaul_dev import moto_lambda
from longhaul_dev.stack import _dummy_zip


@pytest.fixture
def lambda_client():
    with mock_aws():
        moto_lambda.install()
        moto_lambda.install()  # idempotent
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        client = boto3.client("lambda")
        for name in ("echo", "boom", "unrouted"):
            client.create_function(
                FunctionName=name, Runtime="python3.13", Role=role, Handler="app.h", Code={"ZipFile": _dummy_zip()}
            )
        yield client
        moto_lambda.uninstall()


def test_a_registered_handler_runs_in_process_with_a_lambda_context(lambda_client):
    seen = {}

    def echo(event, context):
        seen["remaining"] = context.get_remaining_time_in_millis()
        return {"got": event, "function": context.function_name}

    moto_lambda.register("echo", echo)
    response = lambda_client.invoke(FunctionName="echo", Payload=json.dumps({"a": 1}))
    assert "FunctionError" not in response
    assert json.loads(response["Payload"].read()) == {"got": {"a": 1}, "function": "echo"}
    assert 0 < seen["remaining"] <= 3000  # moto's default timeout: 3 s


def test_an_exception_becomes_the_runtime_error_payload(lambda_client):
    class QuotaExceeded(Exception):
        pass

    def boom(event, context):
        raise QuotaExceeded("no more")

    moto_lambda.register("boom", boom)
    response = lambda_client.invoke(FunctionName="boom", Payload="{}")
    payload = json.loads(response["Payload"].read())
    assert response["FunctionError"] == "Handled"
    assert (payload["errorType"], payload["errorMessage"]) == ("QuotaExceeded", "no more")
    assert ("boom", "QuotaExceeded") in moto_lambda.invocations


def test_functions_without_a_handler_keep_moto_behaviour(lambda_client):
    response = lambda_client.invoke(FunctionName="unrouted", Payload="{}")
    assert "docker" in response["Payload"].read().decode().lower()  # moto's own (Docker) path answered
    assert not [name for name, _ in moto_lambda.invocations if name == "unrouted"]

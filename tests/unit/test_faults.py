"""The one retry classification: what is transient, and the state machine retrying exactly that."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from longhaul.faults import (
    ASL_CRASH_ERRORS,
    ASL_DYNAMODB_TRANSIENT_ERRORS,
    ASL_TRANSIENT_ERRORS,
    boto_config,
    is_transient,
)
from longhaul_dev.template import checked_definition, load_template


def client_error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (client_error("ThrottlingException", 400), True),
        (client_error("ProvisionedThroughputExceededException", 400), True),
        (client_error("RequestLimitExceeded", 400), True),
        (client_error("ThrottledException", 429), True),
        (client_error("SomethingNew", 503), True),  # any 5xx
        (client_error("SlowDown", 503), True),
        (EndpointConnectionError(endpoint_url="https://dynamodb"), True),
        (ReadTimeoutError(endpoint_url="https://dynamodb"), True),
        (client_error("ValidationException", 400), False),
        (client_error("AccessDeniedException", 403), False),
        (client_error("ResourceNotFoundException", 404), False),
        (client_error("ConditionalCheckFailedException", 400), False),
        (ValueError("a bug"), False),
    ],
)
def test_transient_means_throttling_5xx_and_timeouts(error, transient):
    assert is_transient(error) is transient


def test_clients_retry_with_standard_mode_and_bounded_timeouts():
    config = boto_config()
    assert config.retries == {"mode": "standard", "max_attempts": 4}
    assert config.connect_timeout == 5 and config.read_timeout == 30


def _retries(state: dict) -> list[list[str]]:
    return [rule["ErrorEquals"] for rule in state.get("Retry", [])]


def test_every_lambda_state_retries_the_transient_class_and_crashes_a_bounded_number_of_times():
    states = json.loads(checked_definition(load_template(), "TaskWorkflow"))["States"]
    lambda_states = [s for s in states.values() if s.get("Resource") == "arn:aws:states:::lambda:invoke"]
    assert len(lambda_states) == 3  # RunStep, DeliverOutcome, DeliverFailure
    for state in lambda_states:
        transient, crashes = state["Retry"]
        assert transient["ErrorEquals"] == list(ASL_TRANSIENT_ERRORS) and transient["JitterStrategy"] == "FULL"
        assert crashes["ErrorEquals"] == list(ASL_CRASH_ERRORS) and crashes["MaxAttempts"] <= 3


def test_every_dynamodb_state_retries_the_dynamodb_transient_class():
    states = json.loads(checked_definition(load_template(), "TaskWorkflow"))["States"]
    dynamodb_states = [s for s in states.values() if str(s.get("Resource", "")).endswith(":dynamodb:updateItem")]
    assert len(dynamodb_states) == 2  # MarkFailed, RecordDeliveryFailed
    for state in dynamodb_states:
        assert _retries(state) == [list(ASL_DYNAMODB_TRANSIENT_ERRORS)]

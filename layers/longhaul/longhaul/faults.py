"""The one classification of failures: transient (worth retrying) or permanent (ends the task).

Used in three places that must agree: the boto3 client config (retries inside one call), the worker (an AWS error
that outlasts those retries becomes ``TransientStepError``, so the workflow retries the step or the delivery), and
the state machine's Retry lists (``tests/unit/test_faults.py`` ties the ASL to the names here).
"""

from __future__ import annotations

from typing import Any

from botocore.config import Config
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

# Error codes AWS services answer when the same request may well succeed a little later.
TRANSIENT_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "InternalServerError",
        "InternalServerErrorException",
        "InternalFailure",
        "InternalError",
        "ServiceException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "RetryableConflictException",
        "TransactionInProgressException",
    }
)

# Network failures botocore raises without an AWS answer.
_TRANSIENT_EXCEPTIONS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)


def error_code(error: BaseException) -> str | None:
    if isinstance(error, ClientError):
        return str(error.response.get("Error", {}).get("Code") or "") or None
    return None


def is_transient(error: BaseException) -> bool:
    """True for throttling, 5xx and timeouts; False for validation, access and not-found errors (and anything that
    is not an AWS call failing)."""
    if isinstance(error, _TRANSIENT_EXCEPTIONS):
        return True
    if isinstance(error, ClientError):
        status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
        return error_code(error) in TRANSIENT_ERROR_CODES or status >= 500 or status == 429
    return False


def describe(error: BaseException) -> str:
    """A short, log- and client-safe description of an AWS failure (no request ids, no stack)."""
    code = error_code(error)
    if code is not None:
        message = str(error.response.get("Error", {}).get("Message") or "")  # type: ignore[attr-defined]
        return f"{code}: {message}"[:500] if message else code
    return f"{type(error).__name__}: {error}"[:500]


def boto_config(**overrides: Any) -> Config:
    """Every longhaul client: standard retry mode (exponential backoff with jitter, retry quota), bounded timeouts.
    A failure that outlasts these attempts reaches the worker, which hands it to the workflow's own Retry."""
    settings: dict[str, Any] = {
        "retries": {"mode": "standard", "max_attempts": 4},
        "connect_timeout": 5,
        "read_timeout": 30,
    }
    settings.update(overrides)
    return Config(**settings)


# --- the state machine's Retry lists -----------------------------------------------------------------------------

# Lambda invoke errors that say the invocation did not run or could not answer; retrying is always safe because a
# step resumes from its last checkpoint and delivery is idempotent.
ASL_LAMBDA_SERVICE_ERRORS = (
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "Lambda.Unknown",
    "Lambda.ClientExecutionTimeoutException",
)
# Raised by longhaul (the kind, or the worker for a transient AWS error) and matched by class name.
ASL_TRANSIENT_ERRORS = (*ASL_LAMBDA_SERVICE_ERRORS, "TransientStepError")
# The function itself hung or died: retried a bounded number of times, since the same chunk may hang again.
ASL_CRASH_ERRORS = ("Sandbox.Timedout", "Runtime.ExitError", "States.Timeout")
# Direct DynamoDB integrations (MarkFailed, RecordDeliveryFailed).
ASL_DYNAMODB_TRANSIENT_ERRORS = tuple(
    f"DynamoDB.{code}"
    for code in (
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "InternalServerErrorException",
        "AmazonDynamoDBException",
    )
)

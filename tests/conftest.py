"""Shared fixtures: a moto-backed local stack built from template.yaml, and short-lived task kinds."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

# Before any longhaul import: Powertools reads these once. No X-Ray daemon here, and no real credentials.
os.environ.update(
    {
        "POWERTOOLS_SERVICE_NAME": "longhaul",
        "POWERTOOLS_METRICS_NAMESPACE": "Longhaul",
        "POWERTOOLS_TRACE_DISABLED": "1",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        # Waits between retries (the workflow's Retry, botocore's backoff) 20x shorter: what is retried, how often
        # and in what order stays as on AWS (longhaul_dev.retry_waits); no test asserts a wait's length.
        "LONGHAUL_DEV_RETRY_WAIT_SCALE": "0.05",
    }
)
os.environ.pop("AWS_PROFILE", None)

# Your kinds (template.yaml's LONGHAUL_KINDS), as every function gets them, before the endpoint lists its tools.
from longhaul_dev.template import configured_kinds

os.environ.setdefault("LONGHAUL_KINDS", configured_kinds())
# The local stack sets up Athena (a sample database and workgroup), so athena_query is a tool, as the endpoint
# decides when it lists its tools on import.
os.environ.setdefault("ATHENA_WORKGROUP", "longhaul-local-queries")

from moto import mock_aws

from longhaul import kinds, runtime
from longhaul.kinds.base import TaskKind
from longhaul_dev import moto_lambda
from longhaul_dev.faults import AwsFaults
from longhaul_dev.stack import (
    MOTO_CONFIG,
    LocalStack,
    create_local_stack,
    create_tasks_table,
    end_executions,
    share_botocore_loader,
)
from longhaul_dev.template import load_template

# One botocore data loader for the whole test process (before any test makes a session): moto's mock_aws gives
# every test a new default boto3 session, which would otherwise read and parse the service models again.
share_botocore_loader()

EVENTS = Path(__file__).resolve().parents[1] / "events"


def load_event(relative: str) -> dict[str, Any]:
    return json.loads((EVENTS / relative).read_text())


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--reliability-report", help="write the fault matrix (tests/integration/test_faults.py) here")


@pytest.fixture
def stack(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalStack]:
    """template.yaml's resources in moto, Step Functions executing the real ASL, handlers run in-process."""
    with mock_aws(config=MOTO_CONFIG):
        moto_lambda.install()
        moto_lambda.invocations.clear()
        local = create_local_stack()
        for name, value in local.environment.items():
            monkeypatch.setenv(name, value)
        runtime.reset()
        try:
            yield local
        finally:
            try:
                # No execution outlives its test: one left running would go on in this process after the mock
                # ends (calling AWS's real endpoints) or under the next test's mock (same names, other state).
                end_executions(local)
            finally:
                moto_lambda.uninstall()
            runtime.reset()


@pytest.fixture
def tasks_table() -> Iterator[str]:
    """Only the tasks table (template.yaml's keys, indexes and TTL) in moto: for tests that need nothing else."""
    with mock_aws():
        yield create_tasks_table(load_template(), "longhaul-test-tasks")


@pytest.fixture
def register_kind() -> Iterator[Callable[[TaskKind], TaskKind]]:
    """Register task kinds for one test only."""
    added: list[str] = []

    def _register(kind: TaskKind) -> TaskKind:
        kinds.register(kind)
        added.append(kind.name)
        return kind

    yield _register
    for name in added:
        kinds.unregister(name)


@pytest.fixture
def aws_faults(stack: LocalStack) -> Iterator[AwsFaults]:
    """AWS errors injected at the boto3 call (and Lambda crashes at the Lambda service) for one test."""
    faults = AwsFaults()
    with faults.installed():
        runtime.reset()  # the handlers' clients are built from here on, with the faults hooked in
        try:
            yield faults
        finally:
            moto_lambda.faults.pending.clear()
            runtime.reset()

"""moto_activity tells the dev server's watcher of item writes and ended executions (private moto APIs, pinned), and
the watcher looks at the stack only then: an idle `longhaul dev` makes no calls."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import boto3
import pytest

from longhaul_dev import moto_activity
from longhaul_dev.dev_server import Watcher
from longhaul_dev.stack import LocalStack, wait_for_execution


@pytest.fixture
def heard() -> Iterator[list[str]]:
    events: list[str] = []
    moto_activity.subscribe(events.append)
    yield events
    moto_activity.uninstall()


def test_item_writes_and_ended_executions_are_told_and_reads_are_not(stack: LocalStack, heard: list[str]) -> None:
    dynamodb = boto3.client("dynamodb")
    dynamodb.get_item(TableName=stack.table_name, Key={"task_id": {"S": "t1"}})
    assert heard == []
    dynamodb.put_item(TableName=stack.table_name, Item={"task_id": {"S": "t1"}})
    assert heard == ["write"]

    sfn = boto3.client("stepfunctions")
    definition = {"StartAt": "Done", "States": {"Done": {"Type": "Pass", "End": True}}}
    machine = sfn.create_state_machine(
        name="pass", definition=json.dumps(definition), roleArn="arn:aws:iam::123456789012:role/x"
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=machine)["executionArn"]
    assert wait_for_execution(execution)["status"] == "SUCCEEDED"
    deadline = time.monotonic() + 5
    while "ended" not in heard and time.monotonic() < deadline:  # told on moto's thread, after the status is set
        time.sleep(0.01)
    assert "ended" in heard


def test_the_watcher_looks_only_when_told_something_happened(stack: LocalStack, heard: list[str]) -> None:
    lines: list[str] = []
    watcher = Watcher(stack, log=lines.append, interval=0.05, sweep_interval=3600)
    looks: list[float] = []
    tick = watcher.tick

    def counted_tick() -> None:
        looks.append(time.monotonic())
        tick()

    watcher.tick = counted_tick  # type: ignore[method-assign]
    moto_activity.subscribe(watcher.notify)
    watcher.start()
    try:
        deadline = time.monotonic() + 5
        while not looks and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.5)
        assert len(looks) == 1  # the first look (and sweep), then nothing while nothing happens

        item = {"task_id": "abcdef123456", "status": "working", "owner": "alice", "kind": "demo", "message": "go"}
        boto3.client("dynamodb").put_item(TableName=stack.table_name, Item={k: {"S": v} for k, v in item.items()})
        deadline = time.monotonic() + 5
        while not lines and time.monotonic() < deadline:
            time.sleep(0.01)
        assert lines == ["task abcdef12 demo (alice): working 0% go"]
        assert len(looks) == 2
    finally:
        watcher.stop()

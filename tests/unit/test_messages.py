"""The messages between the state machine and the functions: what the workflow sends each function is what it reads,
what RunStep answers is what the workflow reads, and an event of another shape fails naming what is wrong."""

from __future__ import annotations

import json

import pytest

from longhaul.errors import InvalidEvent
from longhaul.messages import DeliveryRequest, StepOutcome, StepRequest
from longhaul_dev.template import PROJECT_ROOT, checked_definition, load_template

STATES = json.loads(checked_definition(load_template(), "TaskWorkflow"))["States"]


def payload_keys(state: str) -> set[str]:
    return {key.removesuffix(".$") for key in STATES[state]["Parameters"]["Payload"]}


def test_runstep_reads_every_field_the_workflow_hands_it():
    fields = {"task_id", "owner", "kind", "params", "cursor", "step_count"}
    assert payload_keys("RunStep") == fields
    event = {name: f"<{name}>" for name in ("task_id", "owner", "kind")}
    request = StepRequest.from_event({**event, "params": {"epochs": 3}, "cursor": {"at": [1]}, "step_count": 4})
    assert request == StepRequest(
        task_id="<task_id>", owner="<owner>", kind="<kind>", params={"epochs": 3}, cursor={"at": [1]}, step_count=4
    )


@pytest.mark.parametrize("name", ["model_training_first_step", "model_training_last_step"])
def test_the_sample_events_are_step_requests(name):
    event = json.loads((PROJECT_ROOT / "events" / "run_step" / f"{name}.json").read_text())
    request = StepRequest.from_event(event)
    assert (request.task_id, request.kind, request.params, request.cursor) == (
        event["task_id"],
        "model_training",
        event["params"],
        event["cursor"],
    )


def test_the_first_step_may_come_without_params_cursor_or_count():
    request = StepRequest.from_event({"task_id": "t1", "owner": "alice", "kind": "k", "extra": "ignored"})
    assert (request.params, request.cursor, request.step_count) == ({}, None, 0)


def test_runstep_answers_every_field_the_workflow_selects_null_ones_included():
    selected = {value.removeprefix("$.Payload.") for value in STATES["RunStep"]["ResultSelector"].values()}
    answer = StepOutcome(outcome="continue", cursor={"epoch": 2}, step_count=2).to_dict()
    assert set(answer) == selected
    assert answer == {
        "outcome": "continue",
        "cursor": {"epoch": 2},
        "step_count": 2,
        "sleep_seconds": 0,
        "input_requests": None,
    }
    json.dumps(answer)  # what Lambda's runtime sends back


def test_the_outcomes_are_the_ones_the_workflow_chooses_on():
    chosen = {choice["StringEquals"] for choice in STATES["HasMoreWork"]["Choices"]}
    for outcome in chosen:
        assert StepOutcome(outcome=outcome, step_count=1).outcome == outcome
    with pytest.raises(ValueError, match="outcome 'later' is not one of"):
        StepOutcome(outcome="later", step_count=1)  # type: ignore[arg-type]


def test_writeresult_reads_the_task_id_the_workflow_hands_it():
    assert payload_keys("DeliverOutcome") == {"task_id"}
    assert DeliveryRequest.from_event({"task_id": "t1", "kind": "k"}) == DeliveryRequest(task_id="t1")
    with pytest.raises(InvalidEvent, match="WriteResult's event has no 'task_id'"):
        DeliveryRequest.from_event({})


GOOD = {"task_id": "t1", "owner": "alice", "kind": "model_training", "params": {}, "cursor": None, "step_count": 1}


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ([GOOD], "RunStep's event must be a JSON object, not an array"),
        ({k: v for k, v in GOOD.items() if k != "owner"}, "RunStep's event has no 'owner'"),
        ({**GOOD, "task_id": 7}, "RunStep's 'task_id' must be a string, not a number"),
        ({**GOOD, "params": ["epochs"]}, "RunStep's 'params' must be a JSON object, not an array"),
        ({**GOOD, "params": None}, "RunStep's 'params' must be a JSON object, not null"),
        ({**GOOD, "step_count": "2"}, "RunStep's 'step_count' must be a whole number, not a string"),
        ({**GOOD, "step_count": True}, "RunStep's 'step_count' must be a whole number, not a boolean"),
        ({**GOOD, "step_count": -1}, "RunStep's 'step_count' must not be negative \\(got -1\\)"),
    ],
)
def test_an_event_of_another_shape_fails_naming_what_is_wrong(event, message):
    with pytest.raises(InvalidEvent, match=f"^{message}$"):
        StepRequest.from_event(event)

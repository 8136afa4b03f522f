"""Task kinds: the registry, model_training's checkpoints, csv_profile's resumable chunks."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from longhaul import kinds
from longhaul.errors import InputNotFound, UnknownTaskKind
from longhaul.inputs import OwnerInputs, input_key
from longhaul.kinds import Continue, Done
from longhaul.kinds import csv_profile as csv_kind
from longhaul.kinds.model_training import model_training as TRAINING


class FakeContext:
    def __init__(self, seconds_left: float = 600.0, inputs: object = None):
        self.task_id = "t1"
        self.step_number = 1
        self.reports: list[tuple[float, str]] = []
        self.seconds_left = seconds_left
        self.inputs = inputs

    def progress(self, fraction: float, message: str = "") -> None:
        self.reports.append((fraction, message))

    def remaining_seconds(self) -> float:
        return self.seconds_left


def test_builtin_kinds_are_registered_and_unknown_kinds_name_the_known_ones():
    assert {"model_training", "csv_profile"} <= {k.name for k in kinds.all_kinds()}
    with pytest.raises(UnknownTaskKind, match="model_training"):
        kinds.get_kind("no_such_kind")


def test_a_second_kind_with_a_taken_name_is_refused():
    clash = kinds.TaskKind(
        name="model_training", title="x", description="x", params_model=TRAINING.params_model, step=TRAINING.step
    )
    with pytest.raises(ValueError, match="already registered"):
        kinds.register(clash)


def train(arguments: dict, ctx: FakeContext | None = None) -> tuple[list[int], Done, FakeContext]:
    """Every step of a model_training task: the epoch each checkpoint (Continue) left off at, and the outcome."""
    params = TRAINING.parse_params(arguments)
    ctx, cursor, checkpoints = ctx or FakeContext(), None, []
    while not isinstance(outcome := TRAINING.step(params, cursor, ctx), Done):
        assert isinstance(outcome, Continue)
        checkpoints.append(outcome.cursor["epoch"])
        cursor = outcome.cursor
    return checkpoints, outcome, ctx


def test_model_training_works_its_whole_time_budget_in_one_step_by_default():
    checkpoints, outcome, ctx = train({"epochs": 3, "epoch_seconds": 0})
    assert checkpoints == []  # one step: no checkpoint before the result
    assert [round(f, 3) for f, _ in ctx.reports] == [0.333, 0.667, 1.0]  # progress per epoch all the same
    assert outcome.result["epochs"] == 3 and outcome.result["final_loss"] < outcome.result["loss_history_tail"][0]


def test_model_training_checkpoints_every_epoch_with_checkpoint_seconds_zero_and_ends_alike():
    checkpoints, outcome, ctx = train({"epochs": 3, "epoch_seconds": 0, "checkpoint_seconds": 0})
    assert checkpoints == [1, 2]
    assert [round(f, 3) for f, _ in ctx.reports] == [0.333, 0.667, 1.0]
    assert outcome.result == train({"epochs": 3, "epoch_seconds": 0})[1].result


def test_model_training_checkpoints_once_it_worked_checkpoint_seconds():
    # 8 epochs of 0.05 s, a checkpoint after 0.18 s of work: about 4 epochs per step, never one per step.
    checkpoints, outcome, _ = train({"epochs": 8, "epoch_seconds": 0.05, "checkpoint_seconds": 0.18})
    steps = [b - a for a, b in zip([0, *checkpoints], [*checkpoints, 8], strict=True)]
    assert 1 <= len(checkpoints) <= 3 and min(steps) >= 1 and max(steps) >= 3, steps
    assert outcome.result["epochs"] == 8


class ShrinkingBudget(FakeContext):
    """A step whose time budget runs out: each look at the clock finds 10 ms less."""

    def remaining_seconds(self) -> float:
        self.seconds_left -= 0.01
        return self.seconds_left


def test_model_training_checkpoints_when_another_epoch_would_not_fit_the_time_budget():
    # 10 ms epochs: 25 and 15 ms left after the first two fit another, 5 ms after the third does not; from then
    # on each step trains one epoch (a step always does at least one), and the last needs no checkpoint.
    checkpoints, outcome, _ = train({"epochs": 5, "epoch_seconds": 0.01}, ShrinkingBudget(seconds_left=0.035))
    assert checkpoints == [3, 4]
    assert outcome.result["epochs"] == 5


def test_model_training_rejects_bad_params_with_field_names():
    with pytest.raises(ValidationError, match="epochs"):
        TRAINING.parse_params({"epochs": 0})


class FakeBucket:
    """The whole bucket, every owner's files, keyed like S3; OwnerInputs confines a kind to one owner's."""

    def __init__(self, objects: dict[str, bytes]):
        self.objects = objects
        self.reads: list[tuple[int, int]] = []

    def size(self, key: str) -> int:
        if key not in self.objects:
            raise InputNotFound(key)
        return len(self.objects[key])

    def read_range(self, key: str, start: int, end: int) -> bytes:
        self.reads.append((start, end))
        return self.objects[key][start : end + 1]


CSV = b"city,temp,note\n" + b"".join(f"c{i},{i % 7}.5,{'' if i % 3 else 'n'}\n".encode() for i in range(500))
ALICE_CSV = input_key("alice", "cities.csv")


def run_profile(
    seconds_left: float, owner: str = "alice", key: str = ALICE_CSV, **arguments: object
) -> tuple[dict, int, FakeBucket]:
    blobs = FakeBucket({ALICE_CSV: CSV})
    params = csv_kind.csv_profile.parse_params({"input_key": key, "chunk_bytes": 1024, **arguments})
    ctx, cursor, steps = FakeContext(seconds_left, OwnerInputs(blobs, owner)), None, 0
    while True:
        steps += 1
        outcome = csv_kind.csv_profile.step(params, cursor, ctx)
        if isinstance(outcome, Done):
            return outcome.result, steps, blobs
        cursor = outcome.cursor


def test_csv_profile_resumed_chunk_by_chunk_matches_one_pass():
    one_pass, one_steps, _ = run_profile(seconds_left=600)
    resumed, resumed_steps, blobs = run_profile(seconds_left=0)  # no time: checkpoint every chunk
    assert one_steps == 1 and resumed_steps == len(blobs.reads) >= 5
    assert resumed == one_pass
    assert one_pass["rows"] == 500
    temp = one_pass["columns"]["temp"]
    assert (temp["numeric"], temp["min"], temp["max"]) == (500, 0.5, 6.5)
    assert one_pass["columns"]["note"]["empty"] == 500 - 167


def test_csv_profile_checkpoints_every_chunk_with_checkpoint_seconds_zero():
    every_chunk, steps, blobs = run_profile(seconds_left=600, checkpoint_seconds=0)
    assert steps == len(blobs.reads) >= 5
    assert every_chunk == run_profile(seconds_left=600)[0]


def test_csv_profile_reads_only_its_owners_inputs_and_foreign_answers_like_missing():
    with pytest.raises(InputNotFound) as foreign:
        run_profile(seconds_left=600, owner="mallory")  # alice's real file, read as mallory
    missing_key = input_key("mallory", "cities.csv")
    with pytest.raises(InputNotFound) as missing:
        run_profile(seconds_left=600, owner="mallory", key=missing_key)
    assert str(foreign.value).replace(ALICE_CSV, "KEY") == str(missing.value).replace(missing_key, "KEY")


def test_csv_profile_imports_no_aws_sdk():
    source = Path(csv_kind.__file__).read_text()
    assert "boto" not in source and "lru_cache" not in source


def test_csv_profile_only_reads_inputs_in_its_own_bucket():
    with pytest.raises(ValidationError, match="inputs/"):
        csv_kind.csv_profile.parse_params({"input_key": "results/other-task.json"})
    with pytest.raises(ValidationError):
        csv_kind.csv_profile.parse_params({"input_key": "inputs/../results/x.json"})

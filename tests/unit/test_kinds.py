"""Task kinds: the registry, model_training's checkpoints, csv_profile's resumable chunks."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from longhaul import kinds
from longhaul.errors import UnknownTaskKind
from longhaul.kinds import Continue, Done
from longhaul.kinds import csv_profile as csv_kind
from longhaul.kinds.model_training import KIND as TRAINING


class FakeContext:
    def __init__(self, seconds_left: float = 600.0):
        self.task_id = "t1"
        self.step_number = 1
        self.reports: list[tuple[float, str]] = []
        self.seconds_left = seconds_left

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


def test_model_training_checkpoints_every_epoch_and_finishes_with_a_result():
    params = TRAINING.parse_params({"epochs": 3, "epoch_seconds": 0})
    ctx, cursor, outcomes = FakeContext(), None, []
    while not isinstance(outcome := TRAINING.step(params, cursor, ctx), Done):
        assert isinstance(outcome, Continue)
        outcomes.append(outcome)
        cursor = outcome.cursor
    assert [c.cursor["epoch"] for c in outcomes] == [1, 2]
    assert [round(f, 3) for f, _ in ctx.reports] == [0.333, 0.667, 1.0]
    assert outcome.result["epochs"] == 3 and outcome.result["final_loss"] < outcome.result["loss_history_tail"][0]


def test_model_training_rejects_bad_params_with_field_names():
    with pytest.raises(ValidationError, match="epochs"):
        TRAINING.parse_params({"epochs": 0})


class FakeBlobs:
    def __init__(self, data: bytes):
        self.data = data
        self.reads: list[tuple[int, int]] = []

    def size(self, key: str) -> int:
        return len(self.data)

    def read_range(self, key: str, start: int, end: int) -> bytes:
        self.reads.append((start, end))
        return self.data[start : end + 1]


CSV = b"city,temp,note\n" + b"".join(f"c{i},{i % 7}.5,{'' if i % 3 else 'n'}\n".encode() for i in range(500))


def run_profile(monkeypatch, seconds_left: float) -> tuple[dict, int, FakeBlobs]:
    blobs = FakeBlobs(CSV)
    monkeypatch.setattr(csv_kind, "_blobs", lambda: blobs)
    params = csv_kind.KIND.parse_params({"input_key": "inputs/cities.csv", "chunk_bytes": 1024})
    ctx, cursor, steps = FakeContext(seconds_left), None, 0
    while True:
        steps += 1
        outcome = csv_kind.KIND.step(params, cursor, ctx)
        if isinstance(outcome, Done):
            return outcome.result, steps, blobs
        cursor = outcome.cursor


def test_csv_profile_resumed_chunk_by_chunk_matches_one_pass(monkeypatch):
    one_pass, one_steps, _ = run_profile(monkeypatch, seconds_left=600)
    resumed, resumed_steps, blobs = run_profile(monkeypatch, seconds_left=0)  # no time: checkpoint every chunk
    assert one_steps == 1 and resumed_steps == len(blobs.reads) >= 5
    assert resumed == one_pass
    assert one_pass["rows"] == 500
    temp = one_pass["columns"]["temp"]
    assert (temp["numeric"], temp["min"], temp["max"]) == (500, 0.5, 6.5)
    assert one_pass["columns"]["note"]["empty"] == 500 - 167


def test_csv_profile_only_reads_inputs_in_its_own_bucket():
    with pytest.raises(ValidationError, match="inputs/"):
        csv_kind.KIND.parse_params({"input_key": "results/other-task.json"})
    with pytest.raises(ValidationError):
        csv_kind.KIND.parse_params({"input_key": "inputs/../results/x.json"})

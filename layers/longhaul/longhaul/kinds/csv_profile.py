"""``csv_profile``: profile a CSV file the caller uploaded, chunk by chunk, with a checkpointed cursor.

A step reads ``chunk_bytes`` at a time with ranged GETs, folds the complete lines into running per-column
statistics and carries the unfinished last line over, until ``checkpoint_seconds`` passed or its time budget runs
low; then it checkpoints that state as its cursor. A file of any size is profiled in steps that each fit the
Lambda's time budget; a retried or resumed step starts exactly where the last checkpoint left off. Records must
not contain line breaks inside quoted fields.

The file is read through ``ctx.inputs`` only: the task owner's own inputs, so a key of another owner (or
one that does not exist) fails the task with the same InputNotFound message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from longhaul.kinds.base import Continue, Done, StepContext, StepResult, task_kind
from longhaul.kinds.cadence import Cadence, checkpoint_seconds_field
from longhaul.kinds.params import param

MAX_COLUMNS = 100
# Time a step keeps for one more ranged read and fold (up to 64 MiB) before its budget ends.
READ_SECONDS = 5.0


def _inside_inputs(key: str) -> str:
    if not key.startswith("inputs/") or ".." in key:
        raise ValueError("must be the input_key create_upload_url returned (it starts with 'inputs/')")
    return key


@dataclass(frozen=True)
class CsvProfileParams:
    input_key: str = param(
        min_length=8,
        max_length=1024,
        description="From create_upload_url, once the file is PUT to its upload_url",
        check=_inside_inputs,
    )
    delimiter: str = param(",", min_length=1, max_length=1)
    chunk_bytes: int = param(8 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)  # per ranged read
    checkpoint_seconds: float = checkpoint_seconds_field()


def _new_column() -> dict[str, Any]:
    return {"count": 0, "empty": 0, "numeric": 0, "min": None, "max": None, "sum": 0.0}


def _fold(stats: dict[str, Any], value: str) -> None:
    stats["count"] += 1
    if value.strip() == "":
        stats["empty"] += 1
        return
    try:
        number = float(value)
    except ValueError:
        return
    stats["numeric"] += 1
    stats["sum"] += number
    stats["min"] = number if stats["min"] is None else min(stats["min"], number)
    stats["max"] = number if stats["max"] is None else max(stats["max"], number)


@task_kind(title="Profile a CSV dataset")
def csv_profile(params: CsvProfileParams, cursor: Any, ctx: StepContext) -> StepResult:
    """Profile a CSV file uploaded with create_upload_url: row count, and per column count, empty, numeric, min, max
    and mean."""
    import csv  # here, not at the top: the MCP endpoint imports this module only to list the kind
    import io

    inputs = ctx.inputs
    state: dict[str, Any] = cursor or {"offset": 0, "carry": "", "header": None, "rows": 0, "columns": []}
    size = inputs.size(params.input_key)  # InputNotFound (missing or not the owner's) fails the task, readably
    cadence = Cadence(params.checkpoint_seconds, ctx)
    while True:
        offset = state["offset"]
        if offset < size:
            end = min(size, offset + params.chunk_bytes) - 1
            text = state["carry"] + inputs.read_range(params.input_key, offset, end).decode("utf-8", errors="replace")
            state["offset"] = end + 1
        else:
            text = state["carry"]
        at_end = state["offset"] >= size
        lines = text.splitlines(keepends=True)
        state["carry"] = "" if at_end or not lines or lines[-1].endswith("\n") else lines.pop()
        for row in csv.reader(io.StringIO("".join(lines)), delimiter=params.delimiter):
            if not row:
                continue
            if state["header"] is None:
                header = [name.strip() or f"column_{i + 1}" for i, name in enumerate(row[:MAX_COLUMNS])]
                state["header"], state["columns"] = header, [_new_column() for _ in header]
                continue
            state["rows"] += 1
            for stats, value in zip(state["columns"], row, strict=False):
                _fold(stats, value)
        ctx.progress(state["offset"] / size if size else 1.0, f"{state['rows']} rows profiled")
        if at_end:
            return Done(_result(params, state, size))
        if cadence.due(READ_SECONDS):
            return Continue(state)


def _result(params: CsvProfileParams, state: dict[str, Any], size: int) -> dict[str, Any]:
    columns = {}
    for name, stats in zip(state["header"] or [], state["columns"], strict=False):
        numeric = stats["numeric"]
        columns[name] = {
            "count": stats["count"],
            "empty": stats["empty"],
            "numeric": numeric,
            "min": stats["min"],
            "max": stats["max"],
            "mean": round(stats["sum"] / numeric, 6) if numeric else None,
        }
    return {"input_key": params.input_key, "bytes": size, "rows": state["rows"], "columns": columns}

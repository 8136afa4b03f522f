"""``csv_profile``: profile a CSV file the caller uploaded, chunk by chunk, with a checkpointed cursor.

Each step reads the next ``chunk_bytes`` with a ranged GET, folds the complete lines into running
per-column statistics, and carries the unfinished last line over in the cursor. A file of any size is
profiled in steps that each fit the Lambda's time budget; a retried or resumed step starts exactly where
the last checkpoint left off. Records must not contain line breaks inside quoted fields.

The file is read through ``ctx.inputs`` only: the task owner's own inputs, so a key of another owner (or
one that does not exist) fails the task with the same InputNotFound message.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from pydantic import BaseModel, Field, field_validator

from longhaul.kinds.base import Continue, Done, StepContext, StepResult, task_kind

MAX_COLUMNS = 100


class CsvProfileParams(BaseModel):
    input_key: str = Field(
        min_length=8,
        max_length=1024,
        description=(
            "input_key returned by create_upload_url (upload the CSV file to its upload_url first); "
            "only your own uploads can be read."
        ),
    )
    delimiter: str = Field(default=",", min_length=1, max_length=1, description="Field delimiter.")
    chunk_bytes: int = Field(
        default=8 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="Bytes read per chunk (checkpoint)."
    )

    @field_validator("input_key")
    @classmethod
    def _inside_inputs(cls, key: str) -> str:
        if not key.startswith("inputs/") or ".." in key:
            raise ValueError("must be the input_key create_upload_url returned (it starts with 'inputs/')")
        return key


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
    """Profile a CSV file you uploaded (create_upload_url gives the upload URL and the input_key): row count and
    per-column count, empty, numeric, min, max and mean. Large files take minutes, so this tool returns a task id
    immediately."""
    inputs = ctx.inputs
    state: dict[str, Any] = cursor or {"offset": 0, "carry": "", "header": None, "rows": 0, "columns": []}
    size = inputs.size(params.input_key)  # InputNotFound (missing or not the owner's) fails the task, readably
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
        if ctx.remaining_seconds() < 5:
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

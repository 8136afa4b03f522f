"""What an agent recalls about its task: the AgentCore Memory messages, derived from the final task record only.

Derived from the record, the messages can never contradict it (a cancelled task is never remembered as completed),
and the same record always gives the same bytes, so a retried delivery repeats the very same request. Each message
is a Strands ``SessionMessage`` in JSON, and AgentCore's 100,000-character limit is checked on that encoded text
(quotes and backslashes in a result grow when encoded), so no result, however shaped, makes the write fail.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from longhaul.messages import TaskStatus

if TYPE_CHECKING:  # the type only: the record is built by whoever reads it (adapters/dynamodb.py)
    from longhaul.models import TaskRecord

# AgentCore Memory's limit on one message's text; the margin leaves room for nothing to be close.
MAX_MESSAGE_CHARS = 100_000
_BUDGET = MAX_MESSAGE_CHARS - 1_000


def session_message(role: str, text: str, at: datetime) -> str:
    """A Strands ``SessionMessage`` as JSON: what ``AgentCoreMemorySessionManager`` restores. Plain text there
    would not parse as a message and silently drops the restored history."""
    stamp = at.isoformat()
    return json.dumps(
        {
            "message": {"role": role, "content": [{"text": text}]},
            "message_id": 0,
            "redact_message": None,
            "created_at": stamp,
            "updated_at": stamp,
        }
    )


def event_time(record: TaskRecord) -> datetime:
    """When the task ended, from the record: the event's timestamp is the same on every retry."""
    stamp = record.ended_at or record.updated_at
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC)


def question(record: TaskRecord) -> str:
    return f"[longhaul] What was the outcome of the {record.kind} task {record.task_id}?"


def answer(record: TaskRecord) -> str:
    """The outcome in words, with the whole result when it fits one message, else a summary and where to get it."""
    at = event_time(record)
    head = f"The {record.kind} task {record.task_id} "
    if record.status == TaskStatus.COMPLETED:
        if record.result_ref is None:
            full = f"{head}completed. Result:\n{json.dumps(record.result, indent=1)}"
            if _fits(full, at):
                return full
            size = len(json.dumps(record.result, separators=(",", ":")).encode())
        else:
            size = record.result_ref.size_bytes
        fetch = f"Call the get_task_result tool with task_id {record.task_id!r} to read it in full."
        text = f"{head}completed. Its result is {size} bytes, too large to repeat here. {fetch}"
        summary = _summary(record.result)
        with_summary = f"{text} Summary: {summary}" if summary else text
        return with_summary if _fits(with_summary, at) else text
    if record.status == TaskStatus.FAILED:
        reason = f"{record.error_type or 'Error'}: {record.error_message or 'no message'}"
        return _bounded(f"{head}failed. ", reason, at)
    if record.status == TaskStatus.CANCELLED:
        return _bounded(f"{head}was cancelled. ", record.error_message or record.message or "", at)
    raise ValueError(f"task {record.task_id} is {record.status.value}: only an ended task is remembered")


def _fits(text: str, at: datetime) -> bool:
    return encoded_length(session_message("assistant", text, at)) <= _BUDGET


def encoded_length(text: str) -> int:
    """Characters as AgentCore counts them: UTF-16 code units (an emoji outside the BMP counts twice)."""
    return len(text.encode("utf-16-le")) // 2


def _bounded(head: str, detail: str, at: datetime) -> str:
    """``head`` plus as much of ``detail`` as fits once encoded (binary search: escaping is not linear)."""
    if _fits(head + detail, at):
        return head + detail
    low, high = 0, len(detail)
    while low < high:
        middle = (low + high + 1) // 2
        if _fits(head + detail[:middle] + "...", at):
            low = middle
        else:
            high = middle - 1
    return head + detail[:low] + "..."


def _summary(result: Any) -> str:
    """The top-level scalar fields of a dict result, at most 2,000 characters."""
    if not isinstance(result, dict):
        return ""
    scalars = {k: v for k, v in result.items() if isinstance(v, str | int | float | bool)}
    return json.dumps(scalars)[:2000] if scalars else ""

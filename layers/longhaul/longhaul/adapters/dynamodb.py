"""TaskStore on DynamoDB: every status write is conditional, so the record never lies."""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import Any

from botocore.exceptions import ClientError

from longhaul.adapters._aws import AwsAdapter
from longhaul.errors import (
    LonghaulError,
    ProgressWentBackwards,
    TaskAlreadyExists,
    TaskAlreadyTerminal,
    TaskNotFound,
)
from longhaul.models import ResultRef, TaskRecord, TaskStatus, error_message_from_cause, iso, utc_now

OWNER_INDEX = "by_owner"
_ACTIVE = {":working": {"S": TaskStatus.WORKING.value}, ":input_required": {"S": TaskStatus.INPUT_REQUIRED.value}}
_IS_ACTIVE = "#status IN (:working, :input_required)"


class InvalidCursor(LonghaulError):
    """A list cursor that this caller did not get from list_tasks."""


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float | int) -> dict[str, str]:
    return {"N": str(value)}


def to_item(record: TaskRecord) -> dict[str, Any]:
    item: dict[str, Any] = {
        "task_id": _s(record.task_id),
        "owner": _s(record.owner),
        "kind": _s(record.kind),
        "params_json": _s(json.dumps(record.params, separators=(",", ":"))),
        "status": _s(record.status.value),
        "progress": _n(record.progress),
        "message": _s(record.message),
        "step_count": _n(record.step_count),
        "created_at": _s(record.created_at),
        "updated_at": _s(record.updated_at),
        "expires_at": _n(record.expires_at),
    }
    optional = {
        "started_at": record.started_at,
        "ended_at": record.ended_at,
        "session_id": record.session_id,
        "idempotency_key": record.idempotency_key,
        "execution_arn": record.execution_arn,
        "error_type": record.error_type,
        "error_message": record.error_message,
        "memory_event_id": record.memory_event_id,
        "input_token": record.input_token,
    }
    for name in ("input_requests", "input_responses"):
        if getattr(record, name) is not None:
            item[f"{name}_json"] = _s(json.dumps(getattr(record, name), separators=(",", ":")))
    item.update({name: _s(value) for name, value in optional.items() if value is not None})
    if record.result is not None:
        item["result_json"] = _s(json.dumps(record.result, separators=(",", ":")))
    if record.result_ref is not None:
        item["result_ref"] = _ref_attr(record.result_ref)
    return item


def _ref_attr(ref: ResultRef) -> dict[str, Any]:
    return {"M": {"bucket": _s(ref.bucket), "key": _s(ref.key), "size_bytes": _n(ref.size_bytes)}}


def from_item(item: dict[str, Any]) -> TaskRecord:
    def s(name: str) -> str | None:
        return item[name]["S"] if name in item else None

    def n(name: str, default: float = 0) -> Decimal:
        return Decimal(item[name]["N"]) if name in item else Decimal(default)

    ref = None
    if "result_ref" in item:
        m = item["result_ref"]["M"]
        ref = ResultRef(bucket=m["bucket"]["S"], key=m["key"]["S"], size_bytes=int(m["size_bytes"]["N"]))
    return TaskRecord(
        task_id=item["task_id"]["S"],
        owner=item["owner"]["S"],
        kind=item["kind"]["S"],
        params=json.loads(s("params_json") or "{}"),
        status=TaskStatus(item["status"]["S"]),
        progress=float(n("progress")),
        message=s("message") or "",
        step_count=int(n("step_count")),
        created_at=item["created_at"]["S"],
        updated_at=s("updated_at") or item["created_at"]["S"],
        started_at=s("started_at"),
        ended_at=s("ended_at"),
        expires_at=int(n("expires_at")),
        session_id=s("session_id"),
        idempotency_key=s("idempotency_key"),
        execution_arn=s("execution_arn"),
        result=json.loads(item["result_json"]["S"]) if "result_json" in item else None,
        result_ref=ref,
        error_type=s("error_type"),
        error_message=error_message_from_cause(s("error_message")),
        memory_event_id=s("memory_event_id"),
        input_requests=json.loads(item["input_requests_json"]["S"]) if "input_requests_json" in item else None,
        input_responses=json.loads(item["input_responses_json"]["S"]) if "input_responses_json" in item else None,
        input_token=s("input_token"),
    )


def encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, owner: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = (
            isinstance(key, dict)
            and key.get("owner") == {"S": owner}
            and set(key)
            == {
                "owner",
                "created_at",
                "task_id",
            }
        )
    except (ValueError, binascii.Error):
        valid = False
    if not valid:
        raise InvalidCursor("Invalid cursor: pass the next_cursor value from a previous list_tasks call unchanged")
    return key


class DynamoTaskStore(AwsAdapter):
    """Tasks in one DynamoDB table keyed by ``task_id``, with a GSI ``by_owner`` (owner, created_at)."""

    service = "dynamodb"

    def __init__(self, table_name: str, client: Any = None):
        super().__init__(client)
        self.table_name = table_name

    # --- reads -------------------------------------------------------------------------------------

    def get(self, task_id: str, owner: str | None = None) -> TaskRecord:
        """The task; with ``owner``, another owner's task is reported exactly like a missing one."""
        item = self.client.get_item(TableName=self.table_name, Key={"task_id": _s(task_id)}, ConsistentRead=True).get(
            "Item"
        )
        if item is None or (owner is not None and item["owner"]["S"] != owner):
            raise TaskNotFound(task_id)
        return from_item(item)

    def list_for_owner(
        self, owner: str, status: TaskStatus | None = None, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[TaskRecord], str | None]:
        """The owner's tasks, newest first, at most ``limit``; the second value continues the listing."""
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": OWNER_INDEX,
            "KeyConditionExpression": "#owner = :owner",
            "ExpressionAttributeNames": {"#owner": "owner"},
            "ExpressionAttributeValues": {":owner": _s(owner)},
            "ScanIndexForward": False,
        }
        if status is not None:
            query["FilterExpression"] = "#status = :status"
            query["ExpressionAttributeNames"]["#status"] = "status"
            query["ExpressionAttributeValues"][":status"] = _s(status.value)
        start_key = decode_cursor(cursor, owner) if cursor else None
        records: list[TaskRecord] = []
        while True:
            page = dict(query, Limit=limit - len(records))
            if start_key:
                page["ExclusiveStartKey"] = start_key
            response = self.client.query(**page)
            records.extend(from_item(item) for item in response.get("Items", []))
            start_key = response.get("LastEvaluatedKey")
            if not start_key or len(records) >= limit:
                break
        return records, (encode_cursor(start_key) if start_key else None)

    # --- writes ------------------------------------------------------------------------------------

    def create(self, record: TaskRecord) -> None:
        try:
            self.client.put_item(
                TableName=self.table_name, Item=to_item(record), ConditionExpression="attribute_not_exists(task_id)"
            )
        except ClientError as error:
            if _conditional_failed(error):
                raise TaskAlreadyExists(record.task_id) from None
            raise

    def report_progress(self, task_id: str, fraction: float, message: str) -> None:
        """Move progress forward; raises ProgressWentBackwards or TaskAlreadyTerminal when the write is refused."""
        self._update(
            task_id,
            "SET progress = :p, message = :m, updated_at = :now",
            f"{_IS_ACTIVE} AND progress <= :p",
            {":p": _n(fraction), ":m": _s(message)},
            on_refused=lambda old: ProgressWentBackwards(f"progress {fraction} < {old.get('progress', {}).get('N')}"),
        )

    def record_step(self, task_id: str, step_count: int) -> None:
        self._update(task_id, "SET step_count = :n, updated_at = :now", _IS_ACTIVE, {":n": _n(step_count)})

    def complete(self, task_id: str, result: Any = None, result_ref: ResultRef | None = None) -> bool:
        """Mark completed with the result. False when it already was (a retried WriteResult)."""
        values: dict[str, Any] = {":completed": _s(TaskStatus.COMPLETED.value), ":one": _n(1)}
        sets = ["#status = :completed", "progress = :one", "updated_at = :now", "ended_at = :now"]
        if result_ref is not None:
            sets.append("result_ref = :ref")
            values[":ref"] = _ref_attr(result_ref)
        else:
            sets.append("result_json = :result")
            values[":result"] = _s(json.dumps(result, separators=(",", ":")))
        try:
            self._update(task_id, "SET " + ", ".join(sets), _IS_ACTIVE, values)
        except TaskAlreadyTerminal as error:
            if error.status == TaskStatus.COMPLETED:
                return False
            raise
        return True

    def finish(self, task_id: str, status: TaskStatus, error_type: str | None, error_message: str | None) -> bool:
        """Make an active task failed or cancelled. False when it was terminal already (terminal never changes)."""
        if not status.is_terminal or status == TaskStatus.COMPLETED:
            raise ValueError(f"finish() takes failed or cancelled, not {status}")
        values = {":status": _s(status.value)}
        sets = ["#status = :status", "updated_at = :now", "ended_at = :now"]
        for name, value in (("error_type", error_type), ("error_message", error_message)):
            if value is not None:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = _s(value)
        try:
            self._update(task_id, "SET " + ", ".join(sets), _IS_ACTIVE, values)
        except TaskAlreadyTerminal:
            return False
        return True

    def set_memory_event(self, task_id: str, event_id: str) -> None:
        """Remember the AgentCore event written for this task, once."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"task_id": _s(task_id)},
                UpdateExpression="SET memory_event_id = :e",
                ConditionExpression="attribute_exists(task_id) AND attribute_not_exists(memory_event_id)",
                ExpressionAttributeValues={":e": _s(event_id)},
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise

    def _update(
        self,
        task_id: str,
        update: str,
        condition: str,
        values: dict[str, Any],
        on_refused: Any = None,
    ) -> None:
        names = {"#status": "status"} if "#status" in update + condition else {}
        all_values = {**values, ":now": _s(iso(utc_now()))}
        if ":working" in condition:
            all_values.update(_ACTIVE)
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"task_id": _s(task_id)},
                UpdateExpression=update,
                ConditionExpression=f"attribute_exists(task_id) AND {condition}",
                ExpressionAttributeValues=all_values,
                **({"ExpressionAttributeNames": names} if names else {}),
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            old = error.response.get("Item") or self._raw(task_id)
            if not old:
                raise TaskNotFound(task_id) from None
            status = TaskStatus(old["status"]["S"])
            if status.is_terminal:
                raise TaskAlreadyTerminal(task_id, status.value) from None
            if on_refused is not None:
                raise on_refused(old) from None
            raise

    def _raw(self, task_id: str) -> dict[str, Any] | None:
        return self.client.get_item(TableName=self.table_name, Key={"task_id": _s(task_id)}, ConsistentRead=True).get(
            "Item"
        )

    def store_responses(
        self, record: TaskRecord, pending: dict[str, Any], responses: dict[str, Any], message: str
    ) -> bool:
        """Save the answers received so far and what is still pending; with nothing pending the task is working
        again and its callback token is dropped (the caller resumes the workflow with it). Optimistic: False when
        the record changed since ``record`` was read (another answer, a cancel), and nothing is written."""
        # Compare with the stored text itself: the workflow wrote it (States.JsonToString), not json.dumps.
        raw = self._raw(record.task_id) or {}
        seen = raw.get("input_requests_json", {}).get("S")
        if seen is None or json.loads(seen) != record.input_requests:
            return False
        values: dict[str, Any] = {
            ":input_required": _s(TaskStatus.INPUT_REQUIRED.value),
            ":token": _s(record.input_token or ""),
            ":seen": _s(seen),
            ":responses": _s(json.dumps(responses, separators=(",", ":"))),
            ":message": _s(message),
            ":now": _s(iso(utc_now())),
        }
        if pending:
            update = "SET input_requests_json = :pending, input_responses_json = :responses, message = :message"
            values[":pending"] = _s(json.dumps(pending, separators=(",", ":")))
        else:
            update = (
                "SET #status = :working, input_responses_json = :responses, message = :message "
                "REMOVE input_requests_json, input_token"
            )
            values[":working"] = _s(TaskStatus.WORKING.value)
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"task_id": _s(record.task_id)},
                UpdateExpression=update.replace("SET ", "SET updated_at = :now, ", 1),
                ConditionExpression=(
                    "#status = :input_required AND input_token = :token AND input_requests_json = :seen"
                ),
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues=values,
            )
        except ClientError as error:
            if _conditional_failed(error):
                return False
            raise
        return True


def _conditional_failed(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"

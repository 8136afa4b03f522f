"""TaskStore on DynamoDB: every status write is conditional, so the record never lies.

The item is derived from ``TaskRecord`` (``to_item``/``from_item``), never listed field by field: a new field is
stored as soon as the model has it. Free-form JSON fields (``params``, ``result``) are kept as JSON strings, so any
JSON value round-trips (DynamoDB numbers hold 38 digits and no floats). Three keys-only indexes serve the queries:

- ``by_owner`` (owner, created_at): an owner's tasks, newest first;
- ``by_owner_status`` (owner_status = "<owner>#<status>", created_at): the same, one status only, so a filtered
  listing costs what it returns, whatever the owner's history;
- ``active_tasks`` (active = "1", created_at): sparse, only tasks still working or waiting for input; the sweeper
  reads it instead of scanning the table.

Progress writes change no index key, so they never write to an index.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from longhaul.adapters._aws import AwsAdapter
from longhaul.errors import (
    InvalidCursor,
    ProgressWentBackwards,
    TaskAlreadyExists,
    TaskAlreadyTerminal,
    TaskNotFound,
)
from longhaul.messages import ACTIVE_STATUSES, MemoryDelivery, TaskStatus, iso, utc_now

if TYPE_CHECKING:  # the types only: a worker's step writes its facts without loading pydantic (from_item does)
    from longhaul.models import ResultRef, TaskRecord

OWNER_INDEX = "by_owner"
OWNER_STATUS_INDEX = "by_owner_status"
ACTIVE_INDEX = "active_tasks"
ACTIVE_MARK = "1"
JSON_SUFFIX = "_json"

# Fields of free-form JSON: stored as "<name>_json" strings.
JSON_FIELDS = frozenset({"params", "result", "input_requests", "input_responses"})
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

# The one "task is active" condition; the state machine's conditions are tied to it by tests/unit/test_store.py.
ACTIVE_VALUES = {f":{status.value}": {"S": status.value} for status in sorted(ACTIVE_STATUSES)}
IS_ACTIVE = "#status IN (" + ", ".join(sorted(ACTIVE_VALUES)) + ")"


def owner_status(owner: str, status: TaskStatus) -> str:
    """The ``by_owner_status`` key. Injective: statuses contain no '#', so the last '#' splits it unambiguously."""
    return f"{owner}#{status.value}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: float | int) -> dict[str, str]:
    return {"N": str(value)}


def _dynamo_value(value: Any) -> Any:
    """JSON-mode values with floats as Decimal, as TypeSerializer wants them."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def to_item(record: TaskRecord) -> dict[str, Any]:
    """The DynamoDB item of a record: every set field, plus the index keys its status implies."""
    item: dict[str, Any] = {}
    for name, value in record.model_dump(mode="json", exclude_none=True).items():
        if name in JSON_FIELDS:
            item[name + JSON_SUFFIX] = _s(json.dumps(value, separators=(",", ":")))
        else:
            item[name] = _serializer.serialize(_dynamo_value(value))
    item["owner_status"] = _s(owner_status(record.owner, record.status))
    if record.status in ACTIVE_STATUSES:
        item["active"] = _s(ACTIVE_MARK)
    return item


def from_item(item: dict[str, Any]) -> TaskRecord:
    from longhaul.models import TaskRecord  # a step that never reads its record never loads pydantic

    data: dict[str, Any] = {}
    for name, attribute in item.items():
        if name.endswith(JSON_SUFFIX) and name[: -len(JSON_SUFFIX)] in JSON_FIELDS:
            data[name[: -len(JSON_SUFFIX)]] = json.loads(attribute["S"])
        elif name in TaskRecord.model_fields:
            data[name] = _deserializer.deserialize(attribute)
    data.setdefault("updated_at", data.get("created_at"))
    return TaskRecord.model_validate(data)


def encode_cursor(last_key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(last_key, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, owner: str, index_key: str, index_value: str) -> dict[str, Any]:
    """A listing cursor back into DynamoDB's start key, accepted only for the same owner and listing."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        valid = (
            isinstance(key, dict)
            and set(key) == {index_key, "created_at", "task_id"}
            and key.get(index_key) == {"S": index_value}
            and all(isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values())
        )
    except (ValueError, binascii.Error):
        valid = False
    if not valid or owner == "":
        raise InvalidCursor("Invalid cursor: pass the next_cursor value from a previous list_tasks call unchanged")
    return key


class DynamoTaskStore(AwsAdapter):
    """Tasks in one DynamoDB table keyed by ``task_id``."""

    service = "dynamodb"

    def __init__(self, table_name: str, client: Any = None):
        super().__init__(client)
        self.table_name = table_name

    # --- reads -------------------------------------------------------------------------------------

    def get(self, task_id: str, *, owner: str) -> TaskRecord:
        """The owner's task; another owner's task is reported exactly like a missing one."""
        item = self._raw(task_id)
        if item is None or item.get("owner") != {"S": owner}:
            raise TaskNotFound(task_id)
        return from_item(item)

    def get_unscoped(self, task_id: str) -> TaskRecord:
        """Any owner's task: for the workflow's own functions, which act on the task they were started for."""
        item = self._raw(task_id)
        if item is None:
            raise TaskNotFound(task_id)
        return from_item(item)

    def list_for_owner(
        self, owner: str, status: TaskStatus | None = None, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[TaskRecord], str | None]:
        """The owner's tasks, newest first, at most ``limit``; the second value continues the listing.

        One keys-only Query (on the status index when filtering, so the cost never depends on the owner's other
        tasks) and one BatchGetItem for the page.
        """
        if status is None:
            index, key_name, key_value = OWNER_INDEX, "owner", owner
        else:
            index, key_name, key_value = OWNER_STATUS_INDEX, "owner_status", owner_status(owner, status)
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": index,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": {"#k": key_name},
            "ExpressionAttributeValues": {":k": _s(key_value)},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = decode_cursor(cursor, owner, key_name, key_value)
        response = self.client.query(**query)
        ids = [item["task_id"]["S"] for item in response.get("Items", [])]
        records = [r for r in self._batch_get(ids) if r.owner == owner]
        if status is not None:
            records = [r for r in records if r.status == status]  # the index is eventually consistent
        last = response.get("LastEvaluatedKey")
        return records, (encode_cursor(last) if last else None)

    def count_active(self, owner: str, *, up_to: int) -> int:
        """How many of the owner's tasks are active, counting no further than ``up_to`` (a bounded cost)."""
        total = 0
        for status in sorted(ACTIVE_STATUSES):
            response = self.client.query(
                TableName=self.table_name,
                IndexName=OWNER_STATUS_INDEX,
                KeyConditionExpression="owner_status = :k",
                ExpressionAttributeValues={":k": _s(owner_status(owner, status))},
                Select="COUNT",
                Limit=up_to,
            )
            total += int(response.get("Count", 0))
            if total >= up_to:
                break
        return total

    def list_active(self, *, created_before: str, limit: int = 500) -> list[str]:
        """Ids of active tasks created before ``created_before`` (ISO 8601), oldest first: the sweeper's worklist."""
        ids: list[str] = []
        query: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": ACTIVE_INDEX,
            "KeyConditionExpression": "active = :a AND created_at < :t",
            "ExpressionAttributeValues": {":a": _s(ACTIVE_MARK), ":t": _s(created_before)},
        }
        while len(ids) < limit:
            response = self.client.query(**query, Limit=limit - len(ids))
            ids.extend(item["task_id"]["S"] for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            query["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return ids

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
            f"{IS_ACTIVE} AND progress <= :p",
            {":p": _n(fraction), ":m": _s(message)},
            on_refused=lambda old: ProgressWentBackwards(f"progress {fraction} < {old.get('progress', {}).get('N')}"),
        )

    def mark_started(self, task_id: str) -> None:
        """The first step begins: ``started_at`` once. TaskAlreadyTerminal when it was cancelled before it started."""
        self._update(
            task_id,
            "SET started_at = if_not_exists(started_at, :now), message = :m, updated_at = :now",
            IS_ACTIVE,
            {":m": _s("started")},
        )

    def record_step(
        self,
        task_id: str,
        step_count: int,
        progress: tuple[float, str] | None = None,
        external_job: str | None = None,
    ) -> None:
        """Count a finished step, with the step's last progress and the external job it started (if any) in the
        same write. The count only moves forward (a retried step does not count twice), and so does progress."""
        update, condition = (
            "SET step_count = :n, updated_at = :now",
            f"{IS_ACTIVE} AND (attribute_not_exists(step_count) OR step_count < :n)",
        )
        values: dict[str, Any] = {":n": _n(step_count)}
        if external_job is not None:
            update += ", external_job = :job"
            values[":job"] = _s(external_job)
        if progress is not None:
            update += ", progress = :p, message = :m"
            condition += " AND progress <= :p"
            values.update({":p": _n(progress[0]), ":m": _s(progress[1])})
        try:
            self._update(task_id, update, condition, values)
        except ClientError as error:
            if not _conditional_failed(error):
                raise
            if progress is not None:  # progress went backwards, or a retried step: count it without the progress
                self.record_step(task_id, step_count, external_job=external_job)

    def complete(
        self,
        task_id: str,
        *,
        owner: str,
        step_count: int,
        result: Any = None,
        result_ref: ResultRef | None = None,
        message: str | None = None,
    ) -> bool:
        """Mark completed with the result (and the last step's message): the one moment a task succeeds. False when
        it already was (a retried step); TaskAlreadyTerminal when it failed or was cancelled first."""
        values: dict[str, Any] = {":one": _n(1), ":steps": _n(step_count)}
        sets = ["progress = :one", "step_count = :steps"]
        if message is not None:
            sets.append("message = :message")
            values[":message"] = _s(message)
        if result_ref is not None:
            sets.append("result_ref = :ref")
            values[":ref"] = _serializer.serialize(_dynamo_value(result_ref.model_dump(mode="json")))
        else:
            sets.append("result_json = :result")
            values[":result"] = _s(json.dumps(result, separators=(",", ":")))
        try:
            self._end(task_id, owner, TaskStatus.COMPLETED, sets, values)
        except TaskAlreadyTerminal as error:
            if error.status == TaskStatus.COMPLETED:
                return False
            raise
        return True

    def mark_failed(self, task_id: str, *, owner: str, error_type: str, error_message: str) -> bool:
        """Make an active task failed. False when it was terminal already (terminal never changes)."""
        return self._finish(task_id, owner, TaskStatus.FAILED, error_type, error_message)

    def mark_cancelled(self, task_id: str, *, owner: str, message: str = "Cancelled by the caller") -> bool:
        """Make an active task cancelled. False when it was terminal already."""
        return self._finish(task_id, owner, TaskStatus.CANCELLED, None, message)

    def set_memory_delivery(
        self, task_id: str, outcome: MemoryDelivery, *, event_id: str | None = None, error: str | None = None
    ) -> None:
        """Record what became of the memory delivery. Never touches status or result; a delivered outcome is final."""
        sets, values = ["memory_delivery = :d"], {":d": _s(outcome.value), ":delivered": _s(MemoryDelivery.DELIVERED)}
        for name, value in (("memory_event_id", event_id), ("memory_error", error)):
            if value is not None:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = _s(value)
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"task_id": _s(task_id)},
                UpdateExpression="SET " + ", ".join(sets),
                ConditionExpression="attribute_exists(task_id) AND "
                "(attribute_not_exists(memory_delivery) OR memory_delivery <> :delivered)",
                ExpressionAttributeValues=values,
            )
        except ClientError as error_:
            if not _conditional_failed(error_):
                raise

    # --- helpers -----------------------------------------------------------------------------------

    def _finish(
        self, task_id: str, owner: str, status: TaskStatus, error_type: str | None, error_message: str | None
    ) -> bool:
        sets, values = [], {}
        for name, value in (("error_type", error_type), ("error_message", error_message)):
            if value is not None:
                sets.append(f"{name} = :{name}")
                values[f":{name}"] = _s(value)
        try:
            self._end(task_id, owner, status, sets, values)
        except TaskAlreadyTerminal:
            return False
        return True

    def _end(self, task_id: str, owner: str, status: TaskStatus, sets: list[str], values: dict[str, Any]) -> None:
        """The conditional write that ends an active task: status, its index key, and out of the active index."""
        sets = ["#status = :status", "owner_status = :owner_status", "updated_at = :now", "ended_at = :now", *sets]
        values = {**values, ":status": _s(status.value), ":owner_status": _s(owner_status(owner, status))}
        self._update(task_id, "SET " + ", ".join(sets) + " REMOVE active", IS_ACTIVE, values)

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
        if IS_ACTIVE in condition:
            all_values.update(ACTIVE_VALUES)
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
        item = self.client.get_item(TableName=self.table_name, Key={"task_id": _s(task_id)}, ConsistentRead=True)
        return item.get("Item")

    def _batch_get(self, task_ids: list[str]) -> list[TaskRecord]:
        """Records for ``task_ids`` in the given order (BatchGetItem returns them unordered, maybe in parts)."""
        found: dict[str, dict[str, Any]] = {}
        keys = [{"task_id": _s(task_id)} for task_id in dict.fromkeys(task_ids)]
        while keys:
            response = self.client.batch_get_item(
                RequestItems={self.table_name: {"Keys": keys[:100], "ConsistentRead": True}}
            )
            for item in response.get("Responses", {}).get(self.table_name, []):
                found[item["task_id"]["S"]] = item
            keys = keys[100:] + response.get("UnprocessedKeys", {}).get(self.table_name, {}).get("Keys", [])
        return [from_item(found[task_id]) for task_id in task_ids if task_id in found]

    def clear_input_token(self, task_id: str, token: str) -> None:
        """The workflow was resumed with ``token``: forget it (a later wait writes a new one)."""
        try:
            self.client.update_item(
                TableName=self.table_name,
                Key={"task_id": _s(task_id)},
                UpdateExpression="REMOVE input_token",
                ConditionExpression="input_token = :token",
                ExpressionAttributeValues={":token": _s(token)},
            )
        except ClientError as error:
            if not _conditional_failed(error):
                raise

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
            # The token stays until the workflow has been resumed with it (clear_input_token): a resume that failed
            # is retried by the next respond, not lost.
            update = (
                "SET #status = :working, owner_status = :owner_status, input_responses_json = :responses, "
                "message = :message REMOVE input_requests_json"
            )
            values[":working"] = _s(TaskStatus.WORKING.value)
            values[":owner_status"] = _s(owner_status(record.owner, TaskStatus.WORKING))
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

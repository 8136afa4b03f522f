"""What a client can do with tasks: start, read, cancel, list. Used by the MCP endpoint; no worker code here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from longhaul.errors import (
    InvalidTaskParams,
    TaskAlreadyExists,
    TaskAlreadyTerminal,
    TaskNotFound,
    TaskStartFailed,
    TooManyActiveTasks,
)
from longhaul.inputs import input_key
from longhaul.kinds import get_kind
from longhaul.kinds.validation import validated_params
from longhaul.models import ResultRef, TaskRecord, TaskStatus, is_valid_session_id, iso, utc_now
from longhaul.observability import logger, metrics
from longhaul.settings import Settings

# Namespace for idempotency keys: uuid5(owner, kind, key) is the task id, so a repeated start finds its task.
_IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c1d2e-3b1a-4c55-9a8e-6c0f0b9f4d21")
MAX_PARAMS_BYTES = 32 * 1024
# A result is returned inline only when the whole response carrying it fits (the endpoint measures it; Lambda
# answers at most 6 MB). A response holds the result at least twice (structured content and its text copy), so
# a stored result over half that budget cannot fit and is not even read: it gets a short-lived download URL.
MAX_INLINE_CANDIDATE_BYTES = 5 * 1024 * 1024 // 2
# Without a measure from the caller: the worst a stored byte grows to in a response (a backslash, escaped in the
# text copy and again in the Lambda payload) is 6x, so this much is inline whatever its content.
UNMEASURED_INLINE_BYTES = 5 * 1024 * 1024 // 6
RESULT_URL_SECONDS = 900
UPLOAD_URL_SECONDS = 900


class TaskStore(Protocol):
    def create(self, record: TaskRecord) -> None: ...
    def get(self, task_id: str, *, owner: str) -> TaskRecord: ...
    def list_for_owner(
        self, owner: str, status: TaskStatus | None = None, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[TaskRecord], str | None]: ...
    def count_active(self, owner: str, *, up_to: int) -> int: ...
    def mark_failed(self, task_id: str, *, owner: str, error_type: str, error_message: str) -> bool: ...
    def mark_cancelled(self, task_id: str, *, owner: str, message: str = ...) -> bool: ...
    def store_responses(
        self, record: TaskRecord, pending: dict[str, Any], responses: dict[str, Any], message: str
    ) -> bool: ...
    def clear_input_token(self, task_id: str, token: str) -> None: ...


class Workflow(Protocol):
    def execution_arn(self, name: str) -> str: ...
    def start(self, name: str, payload: dict[str, Any]) -> str: ...
    def stop(self, arn: str, cause: str) -> None: ...
    def resume(self, token: str) -> None: ...


class ResultBlobs(Protocol):
    def get(self, ref: ResultRef) -> bytes: ...
    def download_url(self, ref: ResultRef, expires_seconds: int) -> str: ...
    def upload_url(self, key: str, content_type: str | None, expires_seconds: int) -> str: ...


class IdempotencyConflict(InvalidTaskParams):
    """The idempotency key was used before for a different kind or different parameters."""


def task_id_for(owner: str, kind: str, idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return uuid.uuid4().hex
    return uuid.uuid5(_IDEMPOTENCY_NAMESPACE, f"{owner}\x00{kind}\x00{idempotency_key}").hex


class TaskService:
    def __init__(self, store: TaskStore, workflow: Workflow, blobs: ResultBlobs, settings: Settings):
        self.store = store
        self.workflow = workflow
        self.blobs = blobs
        self.settings = settings

    def start(
        self,
        owner: str,
        kind_name: str,
        raw_params: dict[str, Any],
        *,
        session_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> TaskRecord:
        """Write the task record, then start its execution. The id is returned only once the record exists."""
        kind = get_kind(kind_name)
        try:
            # What the worker's kind.load_params rebuilds the params from: the validated values, as JSON.
            params = validated_params(kind.params_model, raw_params).model_dump(mode="json")
        except ValidationError as error:
            raise InvalidTaskParams(_describe(error)) from None
        if len(json.dumps(params)) > MAX_PARAMS_BYTES:
            raise InvalidTaskParams(f"Parameters exceed {MAX_PARAMS_BYTES} bytes; put large inputs in S3")
        if session_id is not None and not (isinstance(session_id, str) and is_valid_session_id(session_id)):
            raise InvalidTaskParams(
                "session_id must be 1-100 characters: letters, digits, '-' and '_', starting with a letter or digit"
            )
        now = utc_now()
        task_id = task_id_for(owner, kind.name, idempotency_key)
        cap = self.settings.max_active_tasks_per_owner
        if self.store.count_active(owner, up_to=cap) >= cap and not self._exists(task_id, owner):
            raise TooManyActiveTasks(
                f"You already have {cap} active tasks, the most one caller may run at once; wait for one to finish "
                "or cancel one (list_tasks with status=working shows them)"
            )
        record = TaskRecord(
            task_id=task_id,
            owner=owner,
            kind=kind.name,
            params=params,
            message="queued",
            created_at=iso(now),
            updated_at=iso(now),
            expires_at=int((now + timedelta(days=self.settings.task_ttl_days)).timestamp()),
            session_id=session_id,
            idempotency_key=idempotency_key,
            # A new incarnation name: a task id reused after its record expired must start real work again.
            execution_arn=self.workflow.execution_arn(f"{task_id}-{uuid.uuid4().hex[:12]}"),
        )
        created = True
        try:
            self.store.create(record)
        except TaskAlreadyExists:
            created = False
            existing = self.store.get(task_id, owner=owner)
            if existing.kind != kind.name or existing.params != params or existing.session_id != session_id:
                raise IdempotencyConflict(
                    f"idempotency_key {idempotency_key!r} was already used for a different request"
                ) from None
            if existing.status.is_terminal:
                return existing
            record = existing  # same request again: make sure its execution runs (the first start may have died)
        payload = {
            "task_id": task_id,
            "owner": owner,
            "kind": kind.name,
            "params": params,
            "step": {"cursor": None, "step_count": 0},
        }
        assert record.execution_name is not None
        try:
            arn = self.workflow.start(record.execution_name, payload)
        except Exception as error:
            logger.exception("StartExecution failed", extra={"task_id": task_id})
            if not created:
                # A repeated start of a task that may well be running: leave its record alone, let the caller retry.
                raise TaskStartFailed(f"Task {task_id!r} could not be confirmed as started; try again") from error
            # The record must not claim "working" for work that never started (if this write fails too, the
            # sweeper marks it failed within minutes).
            try:
                self.store.mark_failed(
                    task_id, owner=owner, error_type="StartFailed", error_message="The workflow could not be started"
                )
            except Exception:
                logger.exception("the failed start could not be recorded; the sweeper will", extra={"task_id": task_id})
            raise TaskStartFailed(
                f"Task {task_id!r} could not be started and is marked failed; try again in a moment"
            ) from error
        metrics.add_metric(name="TaskStarted", unit="Count", value=1)
        logger.info("task started", extra={"task_id": task_id, "kind": kind.name})
        logger.debug("execution", extra={"execution_arn": arn})
        return record

    def _exists(self, task_id: str, owner: str) -> bool:
        """A repeated start of an existing task is never refused by the cap: it starts nothing new."""
        try:
            self.store.get(task_id, owner=owner)
        except TaskNotFound:
            return False
        return True

    def get(self, owner: str, task_id: str) -> TaskRecord:
        return self.store.get(task_id, owner=owner)

    def result(
        self, owner: str, task_id: str, fits: Callable[[TaskRecord, Any], bool] | None = None
    ) -> tuple[TaskRecord, Any, str | None]:
        """The task, its result value, and a download URL instead of the value when the result does not fit one
        response. ``fits(record, value)`` is the caller's measure of its real response (all of it, as sent); a result
        stored in S3 is read back whole only when it could fit at all. Without ``fits``, the worst case decides."""
        record = self.store.get(task_id, owner=owner)
        ref = record.result_ref
        if ref is None:
            return record, record.result, None  # inline results are small (INLINE_RESULT_MAX_BYTES)
        limit = MAX_INLINE_CANDIDATE_BYTES if fits is not None else UNMEASURED_INLINE_BYTES
        if ref.size_bytes <= limit:
            value = json.loads(self.blobs.get(ref))
            if fits is None or fits(record, value):
                return record, value, None
        return record, None, self.blobs.download_url(ref, RESULT_URL_SECONDS)

    def upload_url(self, owner: str, filename: str, content_type: str | None = None) -> tuple[str, str, int]:
        """Where the caller may put one input file: (input_key, presigned PUT URL, seconds it stays valid). The
        key is under the caller's own prefix, the only place their tasks read from."""
        key = input_key(owner, filename)
        return key, self.blobs.upload_url(key, content_type, UPLOAD_URL_SECONDS), UPLOAD_URL_SECONDS

    def cancel(self, owner: str, task_id: str) -> TaskRecord:
        """Mark the task cancelled, then stop its execution. Raises TaskAlreadyTerminal for a finished task."""
        record = self.store.get(task_id, owner=owner)
        if record.status.is_terminal:
            raise TaskAlreadyTerminal(task_id, record.status.value)
        if not self.store.mark_cancelled(task_id, owner=owner):
            raise TaskAlreadyTerminal(task_id, self.store.get(task_id, owner=owner).status.value)
        if record.execution_arn:
            try:
                self.workflow.stop(record.execution_arn, cause="Cancelled by the caller")
            except Exception:
                # The record already says cancelled, and every later status write of the workflow is conditional
                # on an active task: the work stops at its next checkpoint even if StopExecution did not land.
                logger.exception("StopExecution failed; the task stays cancelled", extra={"task_id": task_id})
        metrics.add_metric(name="TaskCancelled", unit="Count", value=1)
        return self.store.get(task_id, owner=owner)

    def list(
        self, owner: str, status: TaskStatus | None = None, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[TaskRecord], str | None]:
        return self.store.list_for_owner(owner, status=status, limit=max(1, min(limit, 100)), cursor=cursor)

    def respond(self, owner: str, task_id: str, responses: Any) -> TaskRecord:
        """Answer some or all of a task's pending input requests (``{id: {"action", "content"}}``).

        Answers to ids that are not pending (never asked, already answered, or the task is not waiting) are
        ignored, as the tasks extension says; an answer that does not fit its request is an InvalidTaskParams.
        With every request answered the task is working again and its workflow resumes; with some still
        pending it keeps waiting for the rest."""
        if not isinstance(responses, dict):
            raise InvalidTaskParams("responses must be an object mapping input request ids to answers")
        for _ in range(3):  # optimistic: another answer or a cancel may land between the read and the write
            record = self.store.get(task_id, owner=owner)
            if record.status == TaskStatus.WORKING and record.input_token:
                # Every answer is stored but the workflow was not resumed (SendTaskSuccess failed): resume it now.
                self._resume(record)
                return self.store.get(task_id, owner=owner)
            pending = dict(record.input_requests or {})
            if record.status != TaskStatus.INPUT_REQUIRED or not record.input_token:
                return record
            answered = {
                key: _checked_response(key, pending[key], value) for key, value in responses.items() if key in pending
            }
            if not answered:
                return record
            for key in answered:
                pending.pop(key)
            merged = {**(record.input_responses or {}), **answered}
            message = f"waiting for {len(pending)} more answer(s)" if pending else "input received; resuming"
            if self.store.store_responses(record, pending, merged, message):
                if not pending:
                    self._resume(record)
                return self.store.get(task_id, owner=owner)
        raise TaskStartFailed(f"Task {task_id!r} changed while answering; send the answers again")

    def _resume(self, record: TaskRecord) -> None:
        assert record.input_token is not None
        try:
            self.workflow.resume(record.input_token)
        except Exception as error:
            logger.exception("SendTaskSuccess failed", extra={"task_id": record.task_id})
            raise TaskStartFailed(
                f"Task {record.task_id!r} has its answers but could not be resumed; send them again in a moment"
            ) from error
        self.store.clear_input_token(record.task_id, record.input_token)
        metrics.add_metric(name="TaskResumed", unit="Count", value=1)


def _describe(error: ValidationError) -> str:
    parts = []
    for issue in error.errors():
        where = ".".join(str(p) for p in issue["loc"]) or "params"
        parts.append(f"{where}: {issue['msg']}")
    return "Invalid parameters: " + "; ".join(parts)


_ACTIONS = ("accept", "decline", "cancel")


def _checked_response(key: str, request: dict[str, Any], response: Any) -> dict[str, Any]:
    """An elicitation answer as MCP shapes it; accepted content must satisfy the request's schema."""
    if not isinstance(response, dict) or response.get("action") not in _ACTIONS:
        raise InvalidTaskParams(f"Answer to {key!r} must be an object with action accept, decline or cancel")
    if response["action"] != "accept":
        return {"action": response["action"]}
    content = response.get("content", {})
    if not isinstance(content, dict):
        raise InvalidTaskParams(f"Answer to {key!r}: content must be an object")
    schema = request.get("params", {}).get("requestedSchema")
    if schema:
        import jsonschema  # only the respond path needs it (the endpoint's import budget)

        error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(content))
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path) or "content"
            raise InvalidTaskParams(f"Answer to {key!r} does not fit the request: {where}: {error.message}")
    return {"action": "accept", "content": content}

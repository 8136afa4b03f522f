"""What a client can do with tasks: start, read, cancel, list. Used by the MCP endpoint; no worker code here."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from longhaul.errors import InvalidTaskParams, TaskAlreadyExists, TaskAlreadyTerminal, TaskStartFailed
from longhaul.kinds import get_kind
from longhaul.models import ResultRef, TaskRecord, TaskStatus, is_valid_session_id, iso, utc_now
from longhaul.observability import logger, metrics
from longhaul.settings import Settings

# Namespace for idempotency keys: uuid5(owner, kind, key) is the task id, so a repeated start finds its task.
_IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1c1d2e-3b1a-4c55-9a8e-6c0f0b9f4d21")
MAX_PARAMS_BYTES = 32 * 1024
# Larger results are handed out as a short-lived download URL: Lambda's response limit is 6 MB.
MAX_RESULT_RESPONSE_BYTES = 4 * 1024 * 1024
RESULT_URL_SECONDS = 900


class TaskStore(Protocol):
    def create(self, record: TaskRecord) -> None: ...
    def get(self, task_id: str, owner: str | None = None) -> TaskRecord: ...
    def list_for_owner(
        self, owner: str, status: TaskStatus | None = None, limit: int = 20, cursor: str | None = None
    ) -> tuple[list[TaskRecord], str | None]: ...
    def finish(self, task_id: str, status: TaskStatus, error_type: str | None, error_message: str | None) -> bool: ...
    def store_responses(
        self, record: TaskRecord, pending: dict[str, Any], responses: dict[str, Any], message: str
    ) -> bool: ...


class Workflow(Protocol):
    def execution_arn(self, task_id: str) -> str: ...
    def start(self, task_id: str, payload: dict[str, Any]) -> str: ...
    def stop(self, arn: str, cause: str) -> None: ...
    def resume(self, token: str) -> None: ...


class ResultBlobs(Protocol):
    def get(self, ref: ResultRef) -> bytes: ...
    def download_url(self, ref: ResultRef, expires_seconds: int) -> str: ...


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
            params = kind.parse_params(raw_params).model_dump(mode="json")
        except ValidationError as error:
            raise InvalidTaskParams(_describe(error)) from None
        if len(json.dumps(params)) > MAX_PARAMS_BYTES:
            raise InvalidTaskParams(f"Parameters exceed {MAX_PARAMS_BYTES} bytes; put large inputs in S3")
        if session_id is not None and not is_valid_session_id(session_id):
            raise InvalidTaskParams(
                "session_id must be 1-100 characters: letters, digits, '-' and '_', starting with a letter or digit"
            )
        now = utc_now()
        task_id = task_id_for(owner, kind.name, idempotency_key)
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
            execution_arn=self.workflow.execution_arn(task_id),
        )
        created = True
        try:
            self.store.create(record)
        except TaskAlreadyExists:
            created = False
            existing = self.store.get(task_id)
            if existing.kind != kind.name or existing.params != params or existing.session_id != session_id:
                raise IdempotencyConflict(
                    f"idempotency_key {idempotency_key!r} was already used for a different request"
                ) from None
            if existing.status.is_terminal:
                return existing
            record = existing  # same request again: make sure its execution runs (the first start may have died)
        payload = {
            "task_id": task_id,
            "kind": kind.name,
            "params": params,
            "step": {"cursor": None, "step_count": 0},
        }
        try:
            arn = self.workflow.start(task_id, payload)
        except Exception as error:
            logger.exception("StartExecution failed", extra={"task_id": task_id})
            if not created:
                # A repeated start of a task that may well be running: leave its record alone, let the caller retry.
                raise TaskStartFailed(f"Task {task_id!r} could not be confirmed as started; try again") from error
            # The record must not claim "working" for work that never started.
            self.store.finish(task_id, TaskStatus.FAILED, "StartFailed", "The workflow could not be started")
            raise TaskStartFailed(
                f"Task {task_id!r} could not be started and is marked failed; try again in a moment"
            ) from error
        metrics.add_metric(name="TaskStarted", unit="Count", value=1)
        logger.info("task started", extra={"task_id": task_id, "kind": kind.name})
        logger.debug("execution", extra={"execution_arn": arn})
        return record

    def get(self, owner: str, task_id: str) -> TaskRecord:
        return self.store.get(task_id, owner)

    def result(self, owner: str, task_id: str) -> tuple[TaskRecord, Any, str | None]:
        """The task, its result value, and a download URL instead of the value when the result is too large
        for one response (Lambda answers at most 6 MB). Results stored in S3 are read back whole."""
        record = self.store.get(task_id, owner)
        ref = record.result_ref
        if ref is None:
            return record, record.result, None
        if ref.size_bytes > MAX_RESULT_RESPONSE_BYTES:
            return record, None, self.blobs.download_url(ref, RESULT_URL_SECONDS)
        return record, json.loads(self.blobs.get(ref)), None

    def cancel(self, owner: str, task_id: str) -> TaskRecord:
        """Mark the task cancelled, then stop its execution. Raises TaskAlreadyTerminal for a finished task."""
        record = self.store.get(task_id, owner)
        if record.status.is_terminal:
            raise TaskAlreadyTerminal(task_id, record.status.value)
        if not self.store.finish(task_id, TaskStatus.CANCELLED, None, "Cancelled by the caller"):
            raise TaskAlreadyTerminal(task_id, self.store.get(task_id).status.value)
        if record.execution_arn:
            try:
                self.workflow.stop(record.execution_arn, cause="Cancelled by the caller")
            except Exception:
                # The record already says cancelled, and every later status write of the workflow is conditional
                # on an active task: the work stops at its next checkpoint even if StopExecution did not land.
                logger.exception("StopExecution failed; the task stays cancelled", extra={"task_id": task_id})
        metrics.add_metric(name="TaskCancelled", unit="Count", value=1)
        return self.store.get(task_id, owner)

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
            record = self.store.get(task_id, owner)
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
                    try:
                        self.workflow.resume(record.input_token)
                    except Exception as error:
                        logger.exception("SendTaskSuccess failed", extra={"task_id": task_id})
                        raise TaskStartFailed(
                            f"Task {task_id!r} has its answers but could not be resumed; try again in a moment"
                        ) from error
                    metrics.add_metric(name="TaskResumed", unit="Count", value=1)
                return self.store.get(task_id, owner)
        raise TaskStartFailed(f"Task {task_id!r} changed while answering; send the answers again")


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

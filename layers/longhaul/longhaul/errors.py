"""The package's own exceptions. Adapters translate AWS errors into these; the MCP layer maps them to
messages a user can act on, and the state machine matches their class names in Retry/Catch."""


class LonghaulError(Exception):
    """Base class for every error longhaul raises on purpose."""


class TaskNotFound(LonghaulError):
    """No such task for this caller. Another owner's task raises this too, with the same message."""

    def __init__(self, task_id: str):
        super().__init__(f"Task {task_id!r} not found")
        self.task_id = task_id


class TaskAlreadyTerminal(LonghaulError):
    """The task already completed, failed or was cancelled; terminal states never change."""

    def __init__(self, task_id: str, status: str):
        super().__init__(f"Task {task_id!r} is already {status}")
        self.task_id = task_id
        self.status = status


class TaskAlreadyExists(LonghaulError):
    """A record with this task id exists already (a conditional create lost)."""


class TaskStartFailed(LonghaulError):
    """The task record was written but its workflow could not be started; the record says failed."""


class ProgressWentBackwards(LonghaulError):
    """A progress update lower than the stored progress; the stored value is kept."""


class InvalidTaskParams(LonghaulError):
    """The parameters do not match the task kind's schema."""


class UnknownTaskKind(LonghaulError):
    """No task kind is registered under this name."""


class ResultTooLarge(LonghaulError):
    """A result exceeds what longhaul stores, even out of line in S3."""


class TransientStepError(LonghaulError):
    """A failure worth retrying (a throttled dependency, a flaky network call).

    Task kinds raise it for errors that may pass; the state machine retries it with backoff and
    jitter (its Retry names this class). Anything else fails the task on the first attempt.
    """


class StepLimitExceeded(LonghaulError):
    """The task ran more steps than one execution may hold (Step Functions' 25,000-event history)."""


class InvalidEvent(LonghaulError, ValueError):
    """A function's event does not have the shape the state machine sends (statemachines/task_workflow.asl.json)."""


class InvalidCursor(LonghaulError):
    """A list cursor that this caller did not get from list_tasks."""


class TooManyActiveTasks(LonghaulError):
    """The caller already has as many active tasks as one owner may (MAX_ACTIVE_TASKS_PER_OWNER)."""


class InputNotFound(LonghaulError):
    """No such input file for this caller. A key outside the caller's own prefix, or one S3 refuses (403),
    raises this with the same message as a missing key, so an input's existence never leaks across owners."""

    def __init__(self, key: str):
        super().__init__(f"Input {key!r} not found: upload it with create_upload_url and pass the input_key it returns")
        self.key = key


class QueryFailed(LonghaulError):
    """An Athena query ended FAILED or CANCELLED, or Athena refused to run it; the message is Athena's reason."""


class QueriesUnavailable(LonghaulError):
    """This deployment has no Athena workgroup configured (ATHENA_WORKGROUP), so no query can run."""

"""`longhaul tasks --protocol tools`: test_tasks_cli.py's protocol tests, through longhaul's task tools instead of the
native tasks extension. The same test functions, collected here with the `cli` fixture below: a module of their own
so that pytest-xdist (which keeps a module in one process) runs the two protocols side by side."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.integration.test_tasks_cli import (  # noqa: F401 - collected here, with this module's `cli`
    Run,
    cli_over,
    dev,
    test_a_failed_task_exits_failed_with_its_error,
    test_a_working_task_has_no_result_yet_and_watch_can_time_out,
    test_declining_ends_the_task_early_and_a_question_can_be_answered_by_its_id,
    test_not_found_is_the_same_for_unknown_and_other_callers_tasks,
    test_result_saved_to_a_file,
    test_start_watch_json_is_one_document_per_line_ending_with_the_result,
    test_start_watch_shows_progress_and_ends_with_the_result,
    test_status_list_cancel_and_result_of_a_cancelled_task,
    test_status_shows_the_questions_and_respond_answers_them_to_the_end,
    test_usage_errors_exit_2_with_a_clear_message,
)


@pytest.fixture(params=["tools"])
def cli(request, dev) -> Callable[..., Run]:  # noqa: F811 - the imported `dev` fixture
    """Through the task tools (start tool, get_task_status, get_task_result, cancel_task, respond_to_task)."""
    return cli_over(request.param, dev)

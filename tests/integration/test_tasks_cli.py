"""`longhaul tasks` as a user runs it, against `longhaul dev` on a free port (mostly in-process, for speed)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from longhaul_dev import cli as longhaul_cli
from longhaul_dev.tasks_cli import (
    CANCELLED,
    CONNECTION,
    FAILED,
    NOT_FOUND,
    OK,
    PENDING,
    USAGE,
    CliError,
    Output,
    _unwrap,
    build_answers,
    parse_pairs,
)
from longhaul_dev.template import PROJECT_ROOT
from tests.integration.shared_dev import dev_token_server
from tests.integration.test_dev_server import DevServer


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def tasks(url: str, *args: str, token: str | None = None, process: bool = False, protocol: str | None = None) -> Run:
    """Run `longhaul tasks ARGS` against ``url``: in this process (fast), or as its own process like a user does."""
    options = ["--url", url] + (["--token", token] if token else []) + (["--protocol", protocol] if protocol else [])
    argv = ["tasks", *args, *options] if args else ["tasks"]
    if process:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LONGHAUL_"))}
        done = subprocess.run(
            [sys.executable, "-m", "longhaul_dev.cli", *argv],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        return Run(done.returncode, done.stdout, done.stderr)
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        try:
            code = longhaul_cli.main(argv)
        except SystemExit as exit:  # argparse's usage errors
            code = int(exit.code or 0)
    return Run(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(scope="module")
def dev() -> DevServer:
    return dev_token_server()


def cli_over(protocol: str, dev: DevServer) -> Callable[..., Run]:
    """`longhaul tasks --protocol PROTOCOL` on `longhaul dev`, as callers of the protocol's own (`alice-native`,
    `alice-tools`), so each protocol's runs list only their own tasks."""

    def run(*args: str, token: str | None = None, process: bool = False) -> Run:
        caller = f"{token}-{protocol}" if token else None
        return tasks(dev.url, *args, token=caller, process=process, protocol=protocol)

    return run


@pytest.fixture(params=["native"])
def cli(request, dev) -> Callable[..., Run]:
    """Through the native tasks extension. test_tasks_cli_tools.py runs the same tests through the task tools: a
    module of its own, so that the two halves run side by side (pytest-xdist keeps a module in one process)."""
    return cli_over(request.param, dev)


def test_start_watch_shows_progress_and_ends_with_the_result(dev, cli):
    run = cli("start", "model_training", "--param", "epochs=3", "-p", "epoch_seconds=0.3", "--watch",
                token="alice", process=True)  # fmt: skip
    assert run.code == OK, run.stderr
    assert "started" in run.stdout and "model_training" in run.stdout
    assert "100%" in run.stdout  # the bar's final state
    assert "completed" in run.stdout and '"final_loss"' in run.stdout and '"epochs": 3' in run.stdout


def test_start_watch_json_is_one_document_per_line_ending_with_the_result(dev, cli):
    run = cli("start", "model_training", "-p", "epochs=2", "-p", "epoch_seconds=0.3",
                "-p", "model_name=resnet", "--watch", "--json", token="alice")  # fmt: skip
    assert run.code == OK, run.stderr
    lines = run.json_lines()
    handle, updates, result = lines[0], lines[1:-1], lines[-1]
    assert handle["kind"] == "model_training" and handle["status"] == "working"
    assert updates and all(u["task_id"] == handle["task_id"] for u in updates)
    progress = [u["progress"] for u in updates]
    assert progress == sorted(progress) and updates[-1]["status"] == "completed"
    # JSON values parse ("2" became the integer 2), anything else stays text
    assert result["status"] == "completed" and result["result"]["epochs"] == 2
    assert result["result"]["model_name"] == "resnet"


def test_status_list_cancel_and_result_of_a_cancelled_task(dev, cli, tmp_path):
    started = cli("start", "model_training", "-p", "epochs=200", "-p", "epoch_seconds=0.2", "--json",
                    token="bob")  # fmt: skip
    task_id = started.json_lines()[0]["task_id"]

    status = cli("status", task_id, "--json", token="bob")
    assert status.code == OK and status.json_lines()[0]["status"] == "working"
    working = cli("list", "--status", "working", "--json", token="bob")
    assert task_id in [t["task_id"] for t in working.json_lines()[0]["tasks"]]
    human = cli("list", token="bob")
    assert human.code == OK and task_id in human.stdout and "working" in human.stdout

    cancel = cli("cancel", task_id, "--json", token="bob")
    assert cancel.code == OK and cancel.json_lines()[0]["status"] == "cancelled"
    again = cli("cancel", task_id, token="bob")
    assert again.code == USAGE and "already cancelled" in again.stderr

    assert cli("status", task_id, token="bob").code == CANCELLED
    assert cli("watch", task_id, token="bob").code == CANCELLED
    result = cli("result", task_id, "--json", token="bob")
    assert result.code == CANCELLED and result.json_lines()[0]["status"] == "cancelled"
    cancelled = cli("list", "--status", "cancelled", "--json", token="bob").json_lines()[0]["tasks"]
    assert [t["task_id"] for t in cancelled] == [task_id]


def test_a_working_task_has_no_result_yet_and_watch_can_time_out(dev, cli):
    started = cli("start", "model_training", "-p", "epochs=1000", "-p", "epoch_seconds=1", "--json",
                    token="carol")  # fmt: skip
    task_id = started.json_lines()[0]["task_id"]
    early = cli("result", task_id, token="carol")
    timed_out = cli("watch", task_id, "--timeout", "0.5", "--json", token="carol")
    cli("cancel", task_id, token="carol")
    assert early.code == PENDING and "no result yet" in early.stderr
    assert timed_out.code == PENDING and "still working" in timed_out.json_lines()[-1]["error"]


def test_result_saved_to_a_file(dev, cli, tmp_path):
    run = cli("start", "model_training", "-p", "epochs=4", "-p", "epoch_seconds=0", "--watch", "--json",
                token="carol")  # fmt: skip
    task_id = run.json_lines()[0]["task_id"]
    target = tmp_path / "result.json"
    saved = cli("result", task_id, "-o", str(target), "--json", token="carol")
    assert saved.code == OK and saved.json_lines()[0]["saved_to"] == str(target)
    assert json.loads(target.read_text())["epochs"] == 4


def test_a_failed_task_exits_failed_with_its_error(dev, cli):
    run = cli("start", "csv_profile", "-p", "input_key=inputs/missing.csv", "--watch", token="dave")
    assert run.code == FAILED, run.stdout + run.stderr
    assert "failed" in run.stderr


def test_not_found_is_the_same_for_unknown_and_other_callers_tasks(dev, cli):
    mine = cli("start", "model_training", "-p", "epochs=1", "-p", "epoch_seconds=0", "--json",
                 token="erin").json_lines()[0]["task_id"]  # fmt: skip
    unknown = cli("status", "no-such-task", "--json", token="erin")
    foreign = cli("result", mine, "--json", token="mallory")
    assert unknown.code == foreign.code == NOT_FOUND
    assert "not found" in unknown.json_lines()[0]["error"] and "not found" in foreign.json_lines()[0]["error"]
    assert cli("cancel", mine, token="mallory").code == NOT_FOUND


def test_usage_errors_exit_2_with_a_clear_message(dev, cli):
    missing_equals = cli("start", "model_training", "-p", "epochs", token="erin")
    assert missing_equals.code == USAGE and "key=value" in missing_equals.stderr
    unknown_kind = cli("start", "no_such_kind", token="erin")
    assert unknown_kind.code == USAGE and "model_training" in unknown_kind.stderr  # lists the kinds there are
    bad_params = cli("start", "model_training", "-p", "epochs=0", token="erin")
    assert bad_params.code == USAGE and "epochs" in bad_params.stderr
    no_command = cli()
    assert no_command.code == USAGE


def waiting_for_approval(cli: Callable[..., Run], token: str) -> str:
    """A model_training task that trained 1 of 3 epochs and waits (input_required) for approve-full-run."""
    run = cli("start", "model_training", "-p", "epochs=3", "-p", "epoch_seconds=0.2", "-p", "approve_after_epochs=1",
              "--watch", "--json", token=token)  # fmt: skip
    lines = run.json_lines()
    assert run.code == PENDING and "respond" in lines[-1]["error"], run.stdout + run.stderr
    assert lines[-2]["status"] == "input_required" and lines[-2]["progress"] == pytest.approx(1 / 3, abs=0.001)
    return str(lines[0]["task_id"])


def test_status_shows_the_questions_and_respond_answers_them_to_the_end(dev, cli):
    task_id = waiting_for_approval(cli, "fay")

    human = cli("status", task_id, token="fay")
    assert human.code == OK, human.stderr
    shown = " ".join(human.stdout.split())  # rich wraps at the terminal's width
    assert "input_required" in shown and "waiting for approve-full-run: The first epochs are done." in shown
    assert "fields: approve (boolean): true to train the remaining epochs" in shown
    assert f"respond {task_id} FIELD=VALUE" in shown
    status = cli("status", task_id, "--json", token="fay").json_lines()[0]
    assert list(status["input_requests"]) == ["approve-full-run"]
    assert cli("result", task_id, token="fay").code == PENDING

    unknown_field = cli("respond", task_id, "approved=yes", token="fay")
    assert unknown_field.code == USAGE and "fields: approve" in unknown_field.stderr
    wrong_type = cli("respond", task_id, "approve=maybe", token="fay")  # the question's schema wants a boolean
    assert wrong_type.code == USAGE and "approve" in wrong_type.stderr
    answered = cli("respond", task_id, "approve=true", "--json", token="fay")
    assert answered.code == OK, answered.stderr
    assert answered.json_lines()[0]["status"] == "working" and answered.json_lines()[0]["pending_input_requests"] == {}

    done = cli("watch", task_id, "--json", token="fay")
    assert done.code == OK and done.json_lines()[-1]["result"]["epochs"] == 3
    assert "stopped_early" not in done.json_lines()[-1]["result"]
    again = cli("respond", task_id, "approve=true", token="fay")
    assert again.code == USAGE and "not waiting for input" in again.stderr


def test_declining_ends_the_task_early_and_a_question_can_be_answered_by_its_id(dev, cli):
    declined = waiting_for_approval(cli, "gus")
    assert cli("respond", declined, "--decline", token="gus").code == OK
    result = cli("watch", declined, "--json", token="gus").json_lines()[-1]["result"]
    assert result["epochs"] == 1 and result["stopped_early"] == "not approved after the first epochs"

    by_id = waiting_for_approval(cli, "gus")
    run = cli("respond", by_id, 'approve-full-run={"approve": true}', token="gus")
    assert run.code == OK and "answered approve-full-run; now working" in run.stdout
    assert cli("watch", by_id, "--json", token="gus").json_lines()[-1]["result"]["epochs"] == 3


def test_both_protocols_print_the_same_documents_and_auto_picks_the_native_extension(dev):
    def watched(protocol: str | None) -> list[dict]:
        run = tasks(dev.url, "start", "model_training", "-p", "epochs=2", "-p", "epoch_seconds=0.2", "--watch",
                    "--json", token="hal", protocol=protocol)  # fmt: skip
        assert run.code == OK, run.stderr
        return run.json_lines()

    native, tools, auto = watched("native"), watched("tools"), watched(None)
    # The same documents (the number of status lines depends on how often each watch polled, not the protocol).
    assert {tuple(sorted(line)) for line in native} == {tuple(sorted(line)) for line in tools}
    assert sorted(native[-1]) == sorted(tools[-1])
    assert native[-1]["result"].keys() == tools[-1]["result"].keys() and native[-1]["result"]["epochs"] == 2
    # The start handle says which protocol started the task: auto chose the extension `longhaul dev` advertises.
    assert "tasks/get" in native[0]["message"] and "tasks/get" in auto[0]["message"]
    assert "get_task_status" in tools[0]["message"]
    failed = [tasks(dev.url, "start", "csv_profile", "-p", "input_key=inputs/missing.csv", "--watch", "--json",
                    token="hal", protocol=p) for p in ("native", "tools")]  # fmt: skip
    assert failed[0].code == failed[1].code == FAILED
    (native_error, tools_error) = (run.json_lines()[-1] for run in failed)
    assert native_error["error_type"] == tools_error["error_type"] and native_error["error_type"]
    assert native_error["error_message"] == tools_error["error_message"]


def test_answers_are_built_from_fields_of_the_question_that_has_them():
    form = {"type": "object", "properties": {"approve": {"type": "boolean"}, "note": {"type": "string"}}}
    other = {"type": "object", "properties": {"budget": {"type": "number"}}}
    requests = {
        "approve-full-run": {"method": "elicitation/create", "params": {"requestedSchema": form}},
        "budget": {"method": "elicitation/create", "params": {"requestedSchema": other}},
    }
    assert build_answers(requests, {"approve": True, "note": "go", "budget": {"budget": 5}}, "accept") == {
        "approve-full-run": {"action": "accept", "content": {"approve": True, "note": "go"}},
        "budget": {"action": "accept", "content": {"budget": 5}},
    }
    assert build_answers(requests, {}, "decline") == {
        "approve-full-run": {"action": "decline"},
        "budget": {"action": "decline"},
    }
    for pairs, action in (
        ({"nope": 1}, "accept"),
        ({"budget": 5}, "accept"),
        ({}, "accept"),
        ({"approve": 1}, "cancel"),
    ):
        with pytest.raises(CliError) as error:
            build_answers(requests, pairs, action)
        assert error.value.code == USAGE


def test_native_results_read_back_as_the_task_tools_report_them():
    structured = {"content": [{"type": "text", "text": "{}"}], "structuredContent": {"a": 1}, "isError": False}
    listed = {"content": [{"type": "text", "text": "[1, 2]"}], "isError": False}
    too_large = "The result is 7340032 bytes, too large to return inline; download it."
    download = {"type": "resource_link", "uri": "https://x/r.json", "name": "result.json"}
    link = {"content": [{"type": "text", "text": too_large}, download], "isError": False}
    own = {"content": [{"type": "text", "text": "Deleted report.csv"}], "isError": False}
    assert _unwrap(structured) == {"result": {"a": 1}}
    assert _unwrap(listed) == {"result": [1, 2]}
    assert _unwrap(link) == {"result_url": "https://x/r.json", "result_size_bytes": 7340032}
    assert _unwrap(own) == {"result": own}  # a kind that returns a CallToolResult: as it is


def test_no_server_and_no_token_are_connection_errors(dev):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        free = sock.getsockname()[1]  # nothing listens there once the socket closes
    nobody = tasks(f"http://127.0.0.1:{free}/mcp", "list", "--json", process=True)
    assert nobody.code == CONNECTION and "cannot connect" in nobody.json_lines()[0]["error"]
    no_token = tasks(dev.url, "list")
    assert no_token.code == CONNECTION and "Unauthorized" in no_token.stderr and "--token" in no_token.stderr


def test_parameter_values_parse_as_json_when_they_are_json():
    assert parse_pairs(["epochs=3", "rate=0.5", "name=resnet", "on=true", "tags=[1,2]", "x=NaN", "e="], "p") == {
        "epochs": 3,
        "rate": 0.5,
        "name": "resnet",
        "on": True,
        "tags": [1, 2],
        "x": "NaN",
        "e": "",
    }


def test_a_large_result_is_downloaded_from_its_url(dev, tmp_path):
    # Results over 4 MB come back as a presigned S3 URL instead of inline: -o streams it to the file.
    s3 = dev.aws("s3")
    bucket = s3.list_buckets()["Buckets"][0]["Name"]
    body = json.dumps({"rows": list(range(200_000))}).encode()
    s3.put_object(Bucket=bucket, Key="results/big.json", Body=body)
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "results/big.json"})
    view = {"task_id": "t1", "status": "completed", "ready": True, "result": None, "result_url": url,
            "result_size_bytes": len(body)}  # fmt: skip
    out = Output(as_json=True)
    target = tmp_path / "big.json"
    assert out.show_result(view, str(target)) == OK
    assert target.read_bytes() == body

    human = io.StringIO()
    with contextlib.redirect_stdout(human):
        assert Output(as_json=False).show_result(view, None) == OK
    assert "-o FILE" in human.getvalue()  # too large to print: says how to save it
    missing = {**view, "result_url": url.replace("big.json", "gone.json")}
    with pytest.raises(CliError) as error:
        out.show_result(missing, str(tmp_path / "gone.json"))
    assert error.value.code == CONNECTION

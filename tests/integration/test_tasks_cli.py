"""`longhaul tasks` as a user runs it, against `longhaul dev` on a free port (mostly in-process, for speed)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
import subprocess
import sys
from dataclasses import dataclass

import pytest

from longhaul_dev import cli
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


def tasks(url: str, *args: str, token: str | None = None, process: bool = False) -> Run:
    """Run `longhaul tasks ARGS` against ``url``: in this process (fast), or as its own process like a user does."""
    options = ["--url", url] + (["--token", token] if token else [])
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
            code = cli.main(argv)
        except SystemExit as exit:  # argparse's usage errors
            code = int(exit.code or 0)
    return Run(code, stdout.getvalue(), stderr.getvalue())


@pytest.fixture(scope="module")
def dev() -> DevServer:
    return dev_token_server()


def test_start_watch_shows_progress_and_ends_with_the_result(dev):
    run = tasks(dev.url, "start", "model_training", "--param", "epochs=3", "-p", "epoch_seconds=0.3", "--watch",
                token="alice", process=True)  # fmt: skip
    assert run.code == OK, run.stderr
    assert "started" in run.stdout and "model_training" in run.stdout
    assert "100%" in run.stdout  # the bar's final state
    assert "completed" in run.stdout and '"final_loss"' in run.stdout and '"epochs": 3' in run.stdout


def test_start_watch_json_is_one_document_per_line_ending_with_the_result(dev):
    run = tasks(dev.url, "start", "model_training", "-p", "epochs=2", "-p", "epoch_seconds=0.3",
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


def test_status_list_cancel_and_result_of_a_cancelled_task(dev, tmp_path):
    started = tasks(dev.url, "start", "model_training", "-p", "epochs=200", "-p", "epoch_seconds=0.2", "--json",
                    token="bob")  # fmt: skip
    task_id = started.json_lines()[0]["task_id"]

    status = tasks(dev.url, "status", task_id, "--json", token="bob")
    assert status.code == OK and status.json_lines()[0]["status"] == "working"
    working = tasks(dev.url, "list", "--status", "working", "--json", token="bob")
    assert task_id in [t["task_id"] for t in working.json_lines()[0]["tasks"]]
    human = tasks(dev.url, "list", token="bob")
    assert human.code == OK and task_id in human.stdout and "working" in human.stdout

    cancel = tasks(dev.url, "cancel", task_id, "--json", token="bob")
    assert cancel.code == OK and cancel.json_lines()[0]["status"] == "cancelled"
    again = tasks(dev.url, "cancel", task_id, token="bob")
    assert again.code == USAGE and "already cancelled" in again.stderr

    assert tasks(dev.url, "status", task_id, token="bob").code == CANCELLED
    assert tasks(dev.url, "watch", task_id, token="bob").code == CANCELLED
    result = tasks(dev.url, "result", task_id, "--json", token="bob")
    assert result.code == CANCELLED and result.json_lines()[0]["status"] == "cancelled"
    cancelled = tasks(dev.url, "list", "--status", "cancelled", "--json", token="bob").json_lines()[0]["tasks"]
    assert [t["task_id"] for t in cancelled] == [task_id]


def test_a_working_task_has_no_result_yet_and_watch_can_time_out(dev):
    started = tasks(dev.url, "start", "model_training", "-p", "epochs=1000", "-p", "epoch_seconds=1", "--json",
                    token="carol")  # fmt: skip
    task_id = started.json_lines()[0]["task_id"]
    early = tasks(dev.url, "result", task_id, token="carol")
    timed_out = tasks(dev.url, "watch", task_id, "--timeout", "0.5", "--json", token="carol")
    tasks(dev.url, "cancel", task_id, token="carol")
    assert early.code == PENDING and "no result yet" in early.stderr
    assert timed_out.code == PENDING and "still working" in timed_out.json_lines()[-1]["error"]


def test_result_saved_to_a_file(dev, tmp_path):
    run = tasks(dev.url, "start", "model_training", "-p", "epochs=4", "-p", "epoch_seconds=0", "--watch", "--json",
                token="carol")  # fmt: skip
    task_id = run.json_lines()[0]["task_id"]
    target = tmp_path / "result.json"
    saved = tasks(dev.url, "result", task_id, "-o", str(target), "--json", token="carol")
    assert saved.code == OK and saved.json_lines()[0]["saved_to"] == str(target)
    assert json.loads(target.read_text())["epochs"] == 4


def test_a_failed_task_exits_failed_with_its_error(dev):
    run = tasks(dev.url, "start", "csv_profile", "-p", "input_key=inputs/missing.csv", "--watch", token="dave")
    assert run.code == FAILED, run.stdout + run.stderr
    assert "failed" in run.stderr


def test_not_found_is_the_same_for_unknown_and_other_callers_tasks(dev):
    mine = tasks(dev.url, "start", "model_training", "-p", "epochs=1", "-p", "epoch_seconds=0", "--json",
                 token="erin").json_lines()[0]["task_id"]  # fmt: skip
    unknown = tasks(dev.url, "status", "no-such-task", "--json", token="erin")
    foreign = tasks(dev.url, "result", mine, "--json", token="mallory")
    assert unknown.code == foreign.code == NOT_FOUND
    assert "not found" in unknown.json_lines()[0]["error"] and "not found" in foreign.json_lines()[0]["error"]
    assert tasks(dev.url, "cancel", mine, token="mallory").code == NOT_FOUND


def test_usage_errors_exit_2_with_a_clear_message(dev):
    missing_equals = tasks(dev.url, "start", "model_training", "-p", "epochs", token="erin")
    assert missing_equals.code == USAGE and "key=value" in missing_equals.stderr
    unknown_kind = tasks(dev.url, "start", "no_such_kind", token="erin")
    assert unknown_kind.code == USAGE and "model_training" in unknown_kind.stderr  # lists the kinds there are
    bad_params = tasks(dev.url, "start", "model_training", "-p", "epochs=0", token="erin")
    assert bad_params.code == USAGE and "epochs" in bad_params.stderr
    no_command = tasks(dev.url)
    assert no_command.code == USAGE


def test_respond_says_clearly_when_the_server_cannot_take_answers(dev):
    run = tasks(dev.url, "respond", "some-task", "approve=true", "--json", token="erin")
    lines = run.json_lines()
    assert run.code == USAGE and "respond_to_task" in lines[0]["error"]


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

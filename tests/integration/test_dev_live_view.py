"""`longhaul dev --watch`: a live table of active tasks under the transition log."""

from __future__ import annotations

import re
import time

import anyio
from rich.console import Console

from longhaul_dev.dev_server import active_tasks_table
from tests.integration.test_dev_server import call, start_dev_server, stop, wait_until_done


def item(task_id: str, status: str, progress: float, message: str = "") -> dict:
    return {
        "task_id": {"S": task_id},
        "kind": {"S": "model_training"},
        "owner": {"S": "alice"},
        "status": {"S": status},
        "progress": {"N": str(progress)},
        "message": {"S": message},
        "created_at": {"S": "2026-11-27T12:00:00.000Z"},
        "started_at": {"S": "2026-11-27T12:00:05.000Z"},
    }


def render(items: list[dict], width: int) -> str:
    console = Console(width=width, record=True, force_terminal=False)
    from datetime import UTC, datetime

    console.print(active_tasks_table(items, now=datetime(2026, 11, 27, 12, 1, 5, tzinfo=UTC)))
    return console.export_text()


def test_the_table_shows_active_tasks_only_with_progress_and_elapsed_time():
    items = [
        item("aaaaaaaa1111", "working", 0.5, "epoch 3/6"),
        item("bbbbbbbb2222", "input_required", 0.25),
        item("cccccccc3333", "completed", 1.0),
        item("dddddddd4444", "cancelled", 0.1),
    ]
    text = render(items, 120)
    assert "active tasks: 2" in text
    assert "aaaaaaaa" in text and "bbbbbbbb" in text
    assert "cccccccc" not in text and "dddddddd" not in text
    row = next(line for line in text.splitlines() if "aaaaaaaa" in line)
    assert "50%" in row and "0:01:00" in row and "epoch 3/6" in row  # elapsed since started_at
    # on a narrow terminal the id, status, percentage and time stay readable
    narrow = next(line for line in render(items, 80).splitlines() if "bbbbbbbb" in line)
    assert "input_required" in narrow and "25%" in narrow and "0:01:00" in narrow


async def test_dev_watch_draws_the_live_table_and_keeps_the_transition_log(monkeypatch):
    # rich draws live only on a terminal; these make the pipe count as one.
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("TTY_INTERACTIVE", "1")
    monkeypatch.setenv("COLUMNS", "160")
    server = start_dev_server("--watch")
    try:
        async with server.client() as client:
            handle = await call(client, "model_training", {"epochs": 6, "epoch_seconds": 0.5})
            short = handle["task_id"][:8]
            deadline = time.monotonic() + 30
            while not re.search(
                rf"{short}\s+model_training\s+local-developer\s+working\s.*\d+%", "".join(server.lines)
            ):
                assert time.monotonic() < deadline, "".join(server.lines)
                await anyio.sleep(0.2)
            status, _ = await wait_until_done(client, handle["task_id"])
        assert status["status"] == "completed"
        deadline = time.monotonic() + 10
        while f"task {short} model_training (local-developer): completed" not in "".join(server.lines):
            assert time.monotonic() < deadline, "".join(server.lines)
            await anyio.sleep(0.2)
        output = "".join(server.lines)
        assert "active tasks: 1" in output
        assert "\x1b[" in output  # drawn live (cursor movement), not printed as plain lines
    finally:
        stop(server)
    assert server.process.returncode == 0

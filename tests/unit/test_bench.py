"""make bench's arithmetic and report: the cost formula, prices x counts, DynamoDB capacity units, the table.

The counts themselves are checked against real runs by tests/integration/test_costs.py and by the bench."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from benchmarks import costs, run
from benchmarks.figures import Figure
from benchmarks.prices import PRICES
from longhaul_dev.metering import Index, index_write_units, item_size, read_units, write_units


def test_the_formula_counts_a_k_step_task_with_sleeps_and_polls():
    counts = costs.formula(steps=5, sleeps=2, polls=10)
    assert counts.transitions == 2 * 5 + 1 + 2
    assert (counts.run_step, counts.write_result, counts.endpoint) == (5, 1, 12)
    assert (counts.put_item, counts.update_item) == (1, 5 + 2)
    assert counts.wru == 5 + 9
    assert counts.rru == 10 + 3
    assert counts.memory_events == 1
    assert costs.formula(steps=5, memory=False).wru == 5 + 8


def test_each_line_item_is_its_count_times_its_list_price():
    counts = costs.Counts(
        transitions=1000,
        run_step=400_000,
        write_result=100_000,
        endpoint=500_000,
        wru=2_000_000,
        rru=8_000_000,
        memory_events=4,
        s3_put=1000,
        s3_get=1000,
    )
    priced = costs.dollars(counts, gb_seconds=3.0)
    assert priced["Step Functions transitions"] == pytest.approx(0.025)
    assert priced["Lambda requests"] == pytest.approx(0.20)
    assert priced["Lambda GB-s"] == pytest.approx(3 * 0.0000133334)
    assert priced["HTTP API requests"] == pytest.approx(0.50)
    assert priced["DynamoDB writes"] == pytest.approx(1.25)
    assert priced["DynamoDB reads"] == pytest.approx(1.00)
    assert priced["AgentCore Memory events"] == pytest.approx(0.001)
    assert priced["S3 requests"] == pytest.approx(0.005 + 0.0004)
    assert all(price.source and price.per > 0 for price in PRICES.values())


def test_lambda_time_is_memory_times_billed_milliseconds_with_polls_at_their_median():
    time = costs.LambdaTime(
        memory_mb={"RunStepFunction": 1024, "WriteResultFunction": 512, "McpEndpointFunction": 1024},
        run_step_ms=[100, 300],
        write_result_ms=[200],
        start_ms=50,
        poll_ms=[10, 20, 90],
        result_ms=30,
    )
    assert time.gb_seconds(polls=100) == pytest.approx(
        {"RunStepFunction": 0.4, "WriteResultFunction": 0.1, "McpEndpointFunction": (50 + 100 * 20 + 30) / 1000}
    )


def test_a_difference_between_formula_and_run_is_named():
    assert costs.formula(3).differences(costs.formula(3)) == {}
    assert costs.formula(3).differences(costs.formula(4)) == {
        "transitions": (7, 9),
        "run_step": (3, 4),
        "update_item": (5, 6),
        "wru": (12, 13),
    }


def test_wait_rate_leaves_out_the_read_any_status_call_makes():
    assert costs.wait_rate(reads=7, seconds=18.0) == pytest.approx(20.0)


def test_item_sizes_follow_dynamodbs_rules():
    # names + values: strings by UTF-8 bytes, numbers by significant digits (2 a byte, plus 1), maps 3 + 1 an entry
    assert item_size({"task_id": {"S": "abc"}}) == 7 + 3
    assert item_size({"n": {"N": "12345"}, "z": {"N": "1000"}}) == 1 + 4 + 1 + 2
    assert item_size({"m": {"M": {"k": {"BOOL": True}}}}) == 1 + 3 + 1 + 1 + 1
    assert item_size({"é": {"S": "é"}}) == 4
    assert (write_units(1024), write_units(1025)) == (1, 2)
    assert (read_units(4096, consistent=True), read_units(10, consistent=False), read_units(4097, True)) == (1, 0.5, 2)


def test_a_keys_only_index_is_written_only_when_its_key_changes():
    index, key = Index("by_owner_status", ("owner_status",)), ("task_id",)
    working = {"task_id": {"S": "t"}, "owner_status": {"S": "a#working"}, "progress": {"N": "0.1"}}
    assert index_write_units(index, key, working, {**working, "progress": {"N": "0.5"}}) == 0
    assert index_write_units(index, key, working, {**working, "owner_status": {"S": "a#completed"}}) == 2
    assert index_write_units(index, key, None, working) == 1
    assert index_write_units(index, key, working, {"task_id": {"S": "t"}}) == 1


def outcomes() -> list[run.Outcome]:
    return [
        run.Outcome(
            "benchmarks.costs",
            "cost",
            figures=[
                Figure("cost", "transitions per 5-step task", 11, "count", "<= 11", True, "history"),
                Figure("warm path", "reads per minute", 24.0, "count", "<= 20", False, "8 in 20 s"),
                Figure("cost", "$ per 1,000 tasks, K=5", 0.65, "$", anchor="no polls $0.54"),
            ],
            details="### Cost per task\n\nthe formula",
        ),
        run.Outcome("benchmarks.tools_list", "tools/list size", missing="not measured: not in this checkout"),
        run.Outcome("benchmarks.cold_start", "cold starts", error="failed (exit 1)"),
    ]


def test_the_console_table_shows_each_figure_with_its_verdict_and_what_was_not_measured():
    table = run.render_table(outcomes())
    rows = table.splitlines()
    assert rows[0].split() == ["area", "figure", "value", "anchor", "target", "result"]
    assert any("transitions per 5-step task" in r and r.endswith("met") and "NOT" not in r for r in rows)
    assert any("reads per minute" in r and r.endswith("NOT met") for r in rows)
    assert any("$0.65" in r and r.rstrip().endswith("no polls $0.54") for r in rows)
    assert "benchmarks.tools_list (tools/list size): not measured" in table
    assert "benchmarks.cold_start (cold starts): failed (exit 1)" in table


def test_the_report_says_when_where_how_and_which_targets_were_missed():
    text = run.render_markdown(
        outcomes(),
        command="python -m benchmarks.run --suite",
        when=datetime(2026, 11, 27, 16, 5, tzinfo=UTC),
        machine="Linux x86_64, 2 cores, Python 3.11.7 (CPython)",
    )
    assert "- date: 2026-11-27 16:05 UTC" in text
    assert "- machine: Linux x86_64, 2 cores, Python 3.11.7" in text
    assert "- command: `python -m benchmarks.run --suite`" in text
    assert "1 of 2 targets met; NOT met: reads per minute; failed: benchmarks.cold_start" in text
    assert "| warm path | reads per minute | 24 | 8 in 20 s | <= 20 | **NOT met** |" in text
    targets, others = text.split("## Targets")[1].split("## Other figures")
    assert "$0.65" in others and "$0.65" not in targets
    assert "- tools/list size (`benchmarks.tools_list`): not measured: not in this checkout" in text
    assert "## Details: cost (`benchmarks.costs`)\n\n### Cost per task" in text


def test_a_missed_target_or_a_failed_benchmark_fails_the_run_and_a_missing_one_does_not():
    met, missed, missing, failed = (
        run.Outcome("a", "a", figures=[Figure("x", "y", 1, "count", "<= 1", True)]),
        run.Outcome("b", "b", figures=[Figure("x", "y", 2, "count", "<= 1", False)]),
        run.Outcome("c", "c", missing="not measured"),
        run.Outcome("d", "d", error="failed"),
    )
    assert [o.failed for o in (met, missed, missing, failed)] == [False, True, False, True]


def test_a_benchmark_module_not_in_the_checkout_is_reported_not_measured():
    outcome = run.run_module("benchmarks.no_such_benchmark", "nothing", quick=True)
    assert outcome.missing.startswith("not measured: benchmarks/no_such_benchmark.py")
    assert not outcome.failed


def test_layers_that_were_not_built_are_a_missed_target_not_a_missing_line(tmp_path, monkeypatch):
    from benchmarks import cold_start

    monkeypatch.setattr(cold_start, "BUILD", tmp_path / "build")  # a clone nobody ran make build in
    worker, endpoint = cold_start.size_figures()
    assert (worker.target, worker.met, endpoint.met) == ("<= 10 MB", False, None)
    assert "NOT BUILT" in worker.note
    assert run.Outcome("c", "c", figures=[worker, endpoint]).failed

"""The MCP conformance suite's tasks scenarios (and the basic server scenarios) against `longhaul dev --conformance`.

Given the pinned suite and Node 22 from node_modules, when every required scenario runs against the real local
stack, then none of its checks fails. docs/conformance.md holds the full table (`make conformance`).
"""

from __future__ import annotations

import pytest

from longhaul_dev import conformance_report
from tests.integration.shared_dev import conformance_server


@pytest.fixture(scope="module")
def results() -> dict[str, conformance_report.ScenarioResult]:
    scenarios = conformance_report.TASKS_SCENARIOS + conformance_report.BASIC_SCENARIOS
    return {r.name: r for r in conformance_report.run_all(scenarios, url=conformance_server().url)}


@pytest.mark.timeout(900)
@pytest.mark.parametrize("scenario", conformance_report.TASKS_SCENARIOS + conformance_report.BASIC_SCENARIOS)
def test_scenario_passes(results, scenario):
    result = results[scenario]
    failed = [(c["id"], c.get("errorMessage")) for c in result.checks if c.get("status") == "FAILURE"]
    assert not result.error and not failed, (result.error, failed)
    if scenario != "tasks-status-notifications":  # the suite itself skips that one for now
        assert result.count("SUCCESS") > 0

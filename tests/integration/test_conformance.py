"""The MCP conformance suite's tasks scenarios (and the basic server scenarios) against `longhaul dev --conformance`.

Given the pinned suite and Node 22 from node_modules, when every required scenario runs against the real local
stack, then none of its checks fails. docs/conformance.md holds the full table (`make conformance`).
"""

from __future__ import annotations

import warnings

import pytest

from longhaul_dev import conformance_report
from tests.integration.shared_dev import conformance_server


@pytest.fixture(scope="module")
def results() -> dict[str, conformance_report.ScenarioResult]:
    scenarios = conformance_report.TASKS_SCENARIOS + conformance_report.BASIC_SCENARIOS
    url = conformance_server().url
    results = {r.name: r for r in conformance_report.run_all(scenarios, url=url)}
    # Some checks give the server 500 ms to answer (e.g. server-stateless' no-log-without-logLevel). On two cores
    # shared with the rest of the suite that deadline is missed now and then, so a scenario that failed runs once
    # more, alone; a real gap fails both times. The first failure stays visible in the warnings summary.
    for name in [name for name, result in results.items() if not result.passed]:
        first = results[name]
        results[name] = conformance_report.run_scenario(url, name)
        if results[name].passed:
            failed = [(c["id"], c.get("errorMessage")) for c in first.checks if c.get("status") == "FAILURE"]
            warnings.warn(
                f"conformance {name} failed under load, passed when rerun alone: {first.error or failed}", stacklevel=1
            )
    return results


@pytest.mark.timeout(900)
@pytest.mark.parametrize("scenario", conformance_report.TASKS_SCENARIOS + conformance_report.BASIC_SCENARIOS)
def test_scenario_passes(results, scenario):
    result = results[scenario]
    failed = [(c["id"], c.get("errorMessage")) for c in result.checks if c.get("status") == "FAILURE"]
    assert not result.error and not failed, (result.error, failed)
    if scenario != "tasks-status-notifications":  # the suite itself skips that one for now
        assert result.count("SUCCESS") > 0

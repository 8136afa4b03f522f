"""Integration-tier hooks: the reliability matrix report (see reliability.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration import reliability
from tests.integration.reliability import scenario

__all__ = ["scenario"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "reliability(fault, expected): a fault-matrix scenario (docs/reliability.md)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Any:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" or (report.when == "setup" and report.failed):
        reliability.record_outcome(item.name, report.passed)


def pytest_sessionfinish(session: pytest.Session) -> None:
    target = session.config.getoption("--reliability-report", default=None)
    if target:
        reliability.write_report(Path(target))

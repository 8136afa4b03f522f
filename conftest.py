"""The order pytest-xdist hands out test modules in (`make suite`: ``-n N --dist loadscope --no-loadscope-reorder``).

loadscope keeps a module in one worker, and by default hands out the modules with the most tests first, so a slow
module with one or two tests (a dev server, a client process, a copy of the project) starts last and ends the
run alone. Here the modules that take longest start first (longest-first scheduling), then the rest, most tests
first as xdist would. Only the order changes: every test runs, within its module in its own order.
"""

from __future__ import annotations

from collections import Counter

import pytest

# Slowest first: seconds each module takes alone on the 2-core development machine (pytest MODULE, wall). Re-measure
# when a module gets much slower or faster; a module missing here only starts later.
SLOW_MODULES = [
    "tests/integration/test_faults.py",  # 50
    "tests/integration/test_strands_agent.py",  # 30
    "tests/integration/test_tasks_cli.py",  # 28
    "tests/integration/test_endpoint_auth.py",  # 25
    "tests/integration/test_tasks_2025_clients.py",  # 24
    "tests/integration/test_tasks_cli_tools.py",  # 22
    "tests/integration/test_conformance.py",  # 15 (22 CPU-s: 18 Node processes)
    "tests/integration/test_dev_server.py",  # 15
    "tests/integration/test_clients.py",  # 15
    "tests/integration/test_invoke.py",  # 14
    "tests/integration/test_workflow.py",  # 14
    "tests/integration/test_athena_query.py",  # 12
    "tests/integration/test_dev_live_view.py",  # 11
    "tests/integration/test_strands_tasks.py",  # 11
    "tests/integration/test_tasks_2025.py",  # 11
    "tests/integration/test_mcp_endpoint.py",  # 10
    "tests/integration/test_tasks_extension.py",  # 10
    "tests/integration/test_scaffold.py",  # 8 (3 interpreters that build the stack)
]


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # only in xdist workers: a plain run keeps pytest's own order
        return
    rank = {module: i for i, module in enumerate(SLOW_MODULES)}
    counts = Counter(_module(item) for item in items)

    def key(item: pytest.Item) -> tuple[int, int, str]:
        module = _module(item)
        return rank.get(module, len(rank)), -counts[module], module

    items.sort(key=key)  # stable: a module's own tests keep their order


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]

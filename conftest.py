"""The order pytest-xdist hands out test modules in (`make suite`: ``-n N --dist loadscope --no-loadscope-reorder``).

loadscope keeps a module in one worker, and by default hands out the modules with the most tests first, so a slow
module with one or two tests (a dev server, a client process, a copy of the project) starts last and ends the
run alone. Here the modules that take longest start first (longest-first scheduling), then the rest, most tests
first as xdist would. Only the order changes: every test runs, within its module in its own order.
"""

from __future__ import annotations

import shutil
import uuid
from collections import Counter
from typing import Any

import pytest

# Seconds each module costs under `make suite` (four workers on the 2-core development machine): the sum of its
# tests' durations, setup included, in one run (`PYTEST_ADDOPTS=--junitxml=... make suite`). Re-measure when a
# module gets much slower or faster; a module missing here starts after these.
WEIGHTS = {
    "tests/integration/test_tasks_cli.py": 41,
    "tests/integration/test_faults.py": 33,
    "tests/integration/test_strands_agent.py": 27,
    # 18 Node processes, then test_tasks_extension and test_strands_tasks on the same server (GROUPS): one chain
    "tests/integration/test_conformance.py": 38,
    "tests/integration/test_tasks_cli_tools.py": 24,
    "tests/integration/test_tenant_isolation.py": 21,
    "tests/integration/test_dev_server.py": 19,
    "tests/integration/test_tasks_2025_clients.py": 19,
    "tests/integration/test_endpoint_fuzz.py": 16,
    "tests/integration/test_clients.py": 15,
    "tests/integration/test_dev_live_view.py": 13,
    "tests/integration/test_workflow.py": 12,
    "tests/integration/test_tasks_2025.py": 11,
    "tests/integration/test_invoke.py": 11,
    "tests/integration/test_wheel.py": 11,
    "tests/integration/test_endpoint_auth.py": 11,
    "tests/integration/test_scaffold.py": 10,  # three interpreters that import everything
    "tests/integration/test_athena_query.py": 10,
    "tests/integration/test_dry_run.py": 9,
    "tests/unit/test_cold_path.py": 8,
    "tests/integration/test_client_surface.py": 8,
    "tests/integration/test_mcp_endpoint.py": 7,
    "tests/integration/test_strands_tasks.py": 7,
    "tests/integration/test_tasks_extension.py": 6,
    "tests/unit/test_strict_aws.py": 5,
    "tests/unit/test_strict_athena.py": 4,
    "tests/integration/test_input_required.py": 4,
    "tests/unit/test_store.py": 4,
    "tests/integration/test_step_cadence.py": 4,
    "tests/unit/test_handlers.py": 4,
    "tests/unit/test_moto_stop.py": 4,
    "tests/integration/test_tasks_extension_lambda.py": 3,
}


# Modules that use a `longhaul dev` no two test processes can share (shared_dev.conformance_server: every caller
# there is the same local developer) run in one process, one after the other, so that one such server serves them
# all. xdist hands out the group where its heaviest module stands in the order below.
GROUPS = {
    "tests/integration/test_conformance.py": "conformance server",
    "tests/integration/test_tasks_extension.py": "conformance server",
    "tests/integration/test_strands_tasks.py": "conformance server",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    if config.getoption("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class GroupedScopes(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return GROUPS.get(_module_id(nodeid)) or super()._split_scope(nodeid)

    return GroupedScopes(config, log)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # only in xdist workers: a plain run keeps pytest's own order
        return
    counts = Counter(_module(item) for item in items)

    def key(item: pytest.Item) -> tuple[int, int, str]:
        module = _module(item)
        return -WEIGHTS.get(module, 0), -counts[module], module

    items.sort(key=key)  # stable: a module's own tests keep their order


def _module(item: pytest.Item) -> str:
    return _module_id(item.nodeid)


def _module_id(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


# The test processes of one xdist run share dev servers through a folder named after the run's id
# (tests/integration/shared_dev.py). The last process to leave a server stops it; the folder (and its lock files,
# which no worker can safely delete while another may still open them) goes once every worker has exited.
def pytest_configure(config: pytest.Config) -> None:
    controller = getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput")
    if controller and config.getoption("testrunuid", None) is None:
        config.option.testrunuid = uuid.uuid4().hex  # what xdist would pick, known here too


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    run = getattr(config.option, "testrunuid", None)
    if run and not hasattr(config, "workerinput"):
        from longhaul_dev.dev_process import shared_folder  # light: no test module, no MCP client

        shutil.rmtree(shared_folder(run), ignore_errors=True)

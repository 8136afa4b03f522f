"""``make bench``: run every benchmark, print each figure beside its anchor and target, write docs/performance.md.

    .venv/bin/python -m benchmarks.run [--quick] [--suite] [--output docs/performance.md]

Each benchmark module (MODULES) exposes ``measure(quick) -> list[Figure]`` and may expose ``details() -> str``
(markdown for the report, from its last ``measure``). Each runs in its own interpreter, so one module's moto
mocks, environment or registered kinds never reach another's measurement. A module that is not in this checkout
is reported as not measured; one that fails is reported with its error. ``--suite`` also times ``make test``
(``--suite-runs`` times, the median reported).
Exits 1 when a target is not met or a benchmark failed.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.figures import Figure

ROOT = Path(__file__).resolve().parents[1]
# (module, what it measures): in report order.
MODULES = [
    ("benchmarks.costs", "cost per task, DynamoDB capacity, wait_for_task reads"),
    ("benchmarks.tools_list", "tools/list size"),
    ("benchmarks.cold_start", "cold starts, SnapStart restore, layer sizes"),
]
SUITE_TARGET_SECONDS = 120.0


@dataclass
class Outcome:
    """What one benchmark module gave: figures, or why there are none."""

    module: str
    what: str
    figures: list[Figure] = field(default_factory=list)
    details: str = ""
    missing: str = ""  # not measured, and why
    error: str = ""  # the module failed

    @property
    def failed(self) -> bool:
        return bool(self.error) or any(f.met is False for f in self.figures)


def verdict(figure: Figure) -> str:
    return "" if figure.met is None else ("met" if figure.met else "NOT met")


# --------------------------------------------------------------------------------------- running


def run_module(module: str, what: str, quick: bool) -> Outcome:
    """``module.measure(quick)`` in a fresh interpreter (see the module docstring)."""
    if not (ROOT / (module.replace(".", "/") + ".py")).exists():
        return Outcome(module, what, missing=f"not measured: {module.replace('.', '/')}.py is not in this checkout")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "figures.json"
        command = [sys.executable, "-m", "benchmarks.run", "--child", module, "--child-output", str(out)]
        completed = subprocess.run([*command, *(["--quick"] if quick else [])], cwd=ROOT, check=False)
        if completed.returncode != 0 or not out.exists():
            return Outcome(module, what, error=f"failed (exit {completed.returncode}; its output is above)")
        data = json.loads(out.read_text())
    return Outcome(module, what, figures=[Figure(**f) for f in data["figures"]], details=data["details"])


def child(module: str, output: Path, quick: bool) -> None:
    loaded = importlib.import_module(module)
    figures = loaded.measure(quick)
    details = loaded.details() if hasattr(loaded, "details") else ""
    output.write_text(json.dumps({"figures": [dataclasses.asdict(f) for f in figures], "details": details}))


def time_suite(runs: int = 3) -> Outcome:
    """``make test`` on this checkout, ``runs`` times one after the other, its installs done first (untimed): the
    suite as a developer reruns it. The figure is the median wall time (one run on a shared 2-core machine moves by
    a quarter either way); the note gives every run and its CPU seconds, which the machine's load moves less."""
    what = "make test wall time"
    deps = subprocess.run(["make", "--no-print-directory", "deps"], cwd=ROOT, check=False)
    if deps.returncode != 0:
        return Outcome("make test", what, error=f"make deps failed (exit {deps.returncode})")
    walls, cpus = [], []
    for _ in range(runs):
        before = os.times()
        started = time.perf_counter()
        suite = subprocess.run(["make", "--no-print-directory", "test"], cwd=ROOT, check=False)
        seconds = time.perf_counter() - started
        after = os.times()
        if suite.returncode != 0:
            return Outcome("make test", what, error=f"make test failed (exit {suite.returncode}) after {seconds:.0f} s")
        walls.append(seconds)
        cpus.append(after.children_user + after.children_system - before.children_user - before.children_system)
    median = statistics.median(walls)
    figure = Figure(
        "suite",
        "`make test` wall time (lint, validate, the whole suite)",
        median,
        "s",
        target=f"<= {SUITE_TARGET_SECONDS:.0f} s",
        met=median <= SUITE_TARGET_SECONDS,
        anchor=f"{os.cpu_count()} cores, shared",
        note=f"median of {runs} runs, installs done beforehand: "
        + ", ".join(f"{w:.0f} s ({c:.0f} CPU-s)" for w, c in zip(walls, cpus, strict=True)),
    )
    return Outcome("make test", what, figures=[figure])


# --------------------------------------------------------------------------------------- rendering


def _cells(figure: Figure) -> list[str]:
    return [figure.area, figure.name, figure.formatted_value(), figure.anchor, figure.target, verdict(figure)]


def render_table(outcomes: Sequence[Outcome]) -> str:
    """The console table: every figure with its anchor, target and verdict; then what was not measured."""
    header = ["area", "figure", "value", "anchor", "target", "result"]
    rows = [_cells(f) for o in outcomes for f in o.figures]
    widths = [min(60, max([len(h)] + [len(r[i]) for r in rows])) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c[:w].ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    lines = [line(header), line(["-" * w for w in widths]), *(line(r) for r in rows)]
    for o in outcomes:
        if o.missing or o.error:
            lines.append(f"{o.module} ({o.what}): {o.missing or o.error}")
    return "\n".join(lines)


def summary(outcomes: Sequence[Outcome]) -> str:
    targets = [f for o in outcomes for f in o.figures if f.met is not None]
    missed = [f for f in targets if f.met is False]
    failed = [o for o in outcomes if o.error]
    missing = [o for o in outcomes if o.missing]
    parts = [f"{len(targets) - len(missed)} of {len(targets)} targets met"]
    if missed:
        parts.append("NOT met: " + "; ".join(f.name for f in missed))
    if failed:
        parts.append("failed: " + ", ".join(o.module for o in failed))
    if missing:
        parts.append("not measured: " + ", ".join(o.module for o in missing))
    return "; ".join(parts)


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(outcomes: Sequence[Outcome], *, command: str, when: datetime, machine: str) -> str:
    """docs/performance.md."""
    lines = [
        "# Performance and cost",
        "",
        "Generated by `make bench` (benchmarks/run.py; it also times `make test`); do not edit by hand, rerun it. "
        "`make bench-quick` prints a shorter run without writing this file. Every figure comes from one run on one "
        "machine: timings are ratios against an anchor measured in the same run, counts are counted.",
        "",
        f"- date: {when:%Y-%m-%d %H:%M} UTC",
        f"- machine: {machine}",
        f"- command: `{command}`",
        f"- result: {summary(outcomes)}",
        "",
    ]
    with_target = [f for o in outcomes for f in o.figures if f.met is not None]
    informational = [f for o in outcomes for f in o.figures if f.met is None]
    for title, figures in (("Targets", with_target), ("Other figures", informational)):
        if not figures:
            continue
        lines += [f"## {title}", "", "| area | figure | value | anchor | target | result | how |", "| --- " * 7 + "|"]
        for f in figures:
            result = f"**{verdict(f)}**" if f.met is False else verdict(f)
            cells = [f.area, f.name, f.formatted_value(), f.anchor, f.target, result, f.note]
            lines.append("| " + " | ".join(_md(c) for c in cells) + " |")
        lines.append("")
    absent = [o for o in outcomes if o.missing or o.error]
    if absent:
        lines += ["## Not measured", ""]
        lines += [f"- {o.what} (`{o.module}`): {o.missing or o.error}" for o in absent]
        lines.append("")
    for o in outcomes:
        if o.details.strip():
            lines += [f"## Details: {o.what} (`{o.module}`)", "", o.details.strip(), ""]
    return "\n".join(lines)


def machine() -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )


# --------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions and shorter runs")
    parser.add_argument("--suite", action="store_true", help="also time `make test` (slow); otherwise not measured")
    parser.add_argument("--suite-runs", type=int, default=3, help="how many times --suite runs `make test` (median)")
    parser.add_argument("--output", default="docs/performance.md", help="the report to write ('' for none)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-output", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, Path(args.child_output), args.quick)
        return 0

    outcomes = []
    for module, what in MODULES:
        print(f"== {module}: {what}", flush=True)
        outcomes.append(run_module(module, what, args.quick))
    if args.suite:
        print("== make test", flush=True)
        outcomes.append(time_suite(max(1, args.suite_runs)))
    else:
        outcomes.append(Outcome("make test", "make test wall time", missing="not measured (run with --suite)"))

    print()
    print(render_table(outcomes))
    print()
    print(summary(outcomes))
    if args.output:
        command = "python -m benchmarks.run " + shlex.join(a for a in (argv or sys.argv[1:]))
        text = render_markdown(outcomes, command=command.strip(), when=datetime.now(UTC), machine=machine())
        (ROOT / args.output).write_text(text)
        print(f"wrote {args.output}")
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())

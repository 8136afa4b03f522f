"""``longhaul new-kind NAME``: a new task kind, ready to run, without touching the longhaul package.

Writes ``kinds/NAME.py`` (the kind), ``tests/unit/test_kind_NAME.py`` (its unit test with a plain fake context) and
``events/run_step/NAME_first_step.json`` (a sample RunStep event for ``longhaul invoke`` and ``sam local invoke``),
and registers the module in template.yaml's LONGHAUL_KINDS. ``make test`` then covers it, ``make dev`` serves it as
an MCP tool, and ``sam deploy`` ships it in the KindsLayer.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from longhaul_dev.template import PROJECT_ROOT

NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")

KIND_MODULE = '''"""``{name}``: what this task does, in a line. (Written by `longhaul new-kind`; make it yours.)"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from longhaul.kinds import Continue, Done, StepContext, StepResult, param, task_kind


# A plain dataclass, not a pydantic model: every step (a cold start after each Sleep or NeedInput) rebuilds the params
# without importing pydantic. The MCP endpoint publishes and checks what param() declares (docs/kinds.md).
@dataclass(frozen=True)
class {model}:
    items: int = param(10, ge=1, le=100_000, description="How many items to process.")
    seconds_per_item: float = param(0.2, ge=0, le=60, description="Simulated work per item.")


@task_kind(title="{title}")
def {name}(params: {model}, cursor: Any, ctx: StepContext) -> StepResult:
    """Process a number of items, one at a time. Takes a while, so this tool returns a task id immediately."""
    done = int(cursor or 0)
    while done < params.items and ctx.remaining_seconds() > params.seconds_per_item + 1:
        time.sleep(params.seconds_per_item)  # your work goes here; raise TransientStepError to have it retried
        done += 1
        ctx.progress(done / params.items, f"item {{done}}/{{params.items}}")
    if done < params.items:
        return Continue(done)  # out of time for this step: checkpoint, the next step resumes here
    return Done({{"items": done}})
'''

KIND_TEST = '''"""``{name}``: runs to completion step by step, with a plain fake context (no AWS)."""

from __future__ import annotations

from kinds.{name} import {name} as kind
from longhaul.kinds import Continue, Done


class FakeContext:
    task_id, step_number = "t1", 1

    def __init__(self, seconds_left: float = 600.0):
        self.seconds_left = seconds_left
        self.reports: list[tuple[float, str]] = []

    def progress(self, fraction: float, message: str = "") -> None:
        self.reports.append((fraction, message))

    def remaining_seconds(self) -> float:
        return self.seconds_left


def test_{name}_runs_to_completion_and_reports_progress():
    params = kind.parse_params({{"items": 3, "seconds_per_item": 0}})
    ctx, cursor = FakeContext(), None
    while not isinstance(outcome := kind.step(params, cursor, ctx), Done):
        assert isinstance(outcome, Continue)
        cursor = outcome.cursor
    assert outcome.result == {{"items": 3}}
    assert ctx.reports[-1] == (1.0, "item 3/3")


def test_{name}_checkpoints_when_its_step_runs_out_of_time():
    params = kind.parse_params({{"items": 3, "seconds_per_item": 0}})
    assert kind.step(params, None, FakeContext(seconds_left=0)) == Continue(0)
'''

IAM_HINT = """\
If {name} calls AWS, give RunStepFunction exactly what it needs in template.yaml, e.g.:

  RunStepFunction:
    Properties:
      Policies:
        - Statement:
            - Sid: {sid}
              Effect: Allow
              Action: [s3:GetObject]                      # only the actions the kind calls
              Resource: !Sub "arn:${{AWS::Partition}}:s3:::my-bucket/{name}/*"   # only its resources

and reach AWS through the step context where it offers what you need (ctx.inputs reads the caller's inputs)."""


def add_parser(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "new-kind",
        help="write a new task kind (module, unit test, sample event) and register it",
        description="Write kinds/NAME.py, its unit test and a sample RunStep event, and add it to LONGHAUL_KINDS.",
    )
    parser.add_argument("name", help="the kind's name (becomes the MCP tool name): lower_snake_case")
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        written = new_kind(args.name, args.root)
    except ValueError as error:
        print(f"longhaul new-kind: {error}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path.relative_to(args.root)}")
    print(f"registered kinds.{args.name} in template.yaml (LONGHAUL_KINDS)\n")
    print(IAM_HINT.format(name=args.name, sid="".join(p.capitalize() for p in args.name.split("_")) + "Access"))
    print(f"\nNext: make test; make dev, then call the {args.name} tool.")
    return 0


def new_kind(name: str, root: Path = PROJECT_ROOT) -> list[Path]:
    """Write the kind's files and register it; refuses a bad or taken name and never overwrites a file."""
    if not NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a kind name: lower_snake_case, starting with a letter, at most 63")
    from longhaul import kinds

    if name in kinds.RESERVED_NAMES or name in {k.name for k in kinds.all_kinds()}:
        raise ValueError(f"{name!r} is taken: pick another name")
    model = "".join(part.capitalize() for part in name.split("_")) + "Params"
    files = {
        root / "kinds" / f"{name}.py": KIND_MODULE.format(name=name, model=model, title=name.replace("_", " ").title()),
        root / "tests" / "unit" / f"test_kind_{name}.py": KIND_TEST.format(name=name),
        root / "events" / "run_step" / f"{name}_first_step.json": json.dumps(
            {
                "task_id": "0a1b2c3d4e5f40718293a4b5c6d7e8f9",
                "owner": "local-developer",
                "kind": name,
                "params": {"items": 3, "seconds_per_item": 0.1},
                "cursor": None,
                "step_count": 0,
            },
            indent=2,
        )
        + "\n",
    }
    taken = [path for path in files if path.exists()]
    if taken:
        raise ValueError(f"{taken[0].relative_to(root)} exists already; not overwriting it")
    register_in_template(root / "template.yaml", f"kinds.{name}")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return list(files)


_KINDS_LINE = re.compile(r'^(?P<indent>\s+)LONGHAUL_KINDS: "(?P<value>[^"]*)"\s*$', re.MULTILINE)


def register_in_template(template: Path, module: str) -> None:
    """Append ``module`` to the Globals' LONGHAUL_KINDS, editing that one line (comments and layout stay)."""
    text = template.read_text()
    match = _KINDS_LINE.search(text)
    if match is None:
        raise ValueError(f'{template.name} has no `LONGHAUL_KINDS: "..."` line under Globals to register the kind in')
    modules = [m for m in match["value"].split(",") if m.strip()]
    if module not in modules:
        modules.append(module)
    line = f'{match["indent"]}LONGHAUL_KINDS: "{",".join(modules)}"'
    template.write_text(text[: match.start()] + line + text[match.end() :])

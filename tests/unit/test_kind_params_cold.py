"""A step's kind never imports pydantic: in a fresh interpreter, as Lambda starts one, loading a built-in kind (or one
``longhaul new-kind`` wrote), rebuilding its params from what a start stored, and running a step leaves ``pydantic``
out of ``sys.modules``. Every step after a Sleep or NeedInput is such a cold start; pydantic's import is ~100 ms."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from longhaul import kinds
from longhaul.kinds.validation import validated_params
from longhaul_dev.scaffold import KIND_MODULE
from longhaul_dev.template import PROJECT_ROOT

# A step context with what each built-in kind asks of it, and nothing that imports anything.
FAKES = """
    from types import SimpleNamespace

    class Inputs:
        data = b"city,fare\\nLima,3.5\\nOslo,7\\n"

        def size(self, key):
            return len(self.data)

        def read_range(self, key, start, end):
            return self.data[start : end + 1]

    class Queries:
        database = "samples"

        def start(self, sql, token):
            return "q-1"

        def get(self, query_id):
            return SimpleNamespace(
                running=False, state="SUCCEEDED", reason=None, data_scanned_bytes=10, engine_execution_ms=5,
                total_execution_ms=7, output_location="s3://results/q-1.csv",
            )

        def rows(self, query_id, max_rows):
            return SimpleNamespace(columns=[{"name": "n", "type": "integer"}], rows=[["1"]], truncated=False)

    class Context:
        task_id, step_number, client_token, input_responses = "t1", 1, "run-1", {}
        inputs, queries = Inputs(), Queries()

        def progress(self, fraction, message=""):
            pass

        def remaining_seconds(self):
            return 600.0

        def track_external_job(self, job_id):
            pass
"""


def step_in_a_fresh_interpreter(load: str, stored: dict[str, Any], cursor: Any, *path: Path) -> dict[str, Any]:
    """Runs ``load`` (which binds ``kind``), then ``kind.load_params(stored)`` and one step, in a new interpreter."""
    program = "\n".join(
        [
            "import json, sys",
            *(f"sys.path.insert(0, {str(p)!r})" for p in path),
            textwrap.dedent(FAKES),
            textwrap.dedent(load),
            f"params = kind.load_params(json.loads({json.dumps(stored)!r}))",
            f"outcome = kind.step(params, json.loads({json.dumps(cursor)!r}), Context())",
            "print(json.dumps({'outcome': type(outcome).__name__, 'params': type(params).__name__,",
            "                  'pydantic': sorted(m for m in sys.modules if m.split('.')[0] == 'pydantic')}))",
        ]
    )
    done = subprocess.run(
        [sys.executable, "-c", program],
        capture_output=True,
        text=True,
        env={"LONGHAUL_KINDS": "", "PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


STARTS = {
    "model_training": ({"epochs": 2, "epoch_seconds": 0, "learning_rate": 1}, None, "Done"),
    "csv_profile": ({"input_key": "inputs/abc/trips.csv"}, None, "Done"),
    "athena_query": ({"sql": "SELECT 1"}, None, "Sleep"),
    "athena_query polled": ({"sql": "SELECT 1", "max_rows": 5}, {"query_id": "q-1", "polls": 0}, "Done"),
}


@pytest.mark.parametrize("start", STARTS)
def test_a_builtin_kinds_step_imports_no_pydantic(start):
    name = start.split()[0]
    arguments, cursor, expected = STARTS[start]
    kind = kinds.get_kind(name)
    # What the endpoint stores for the worker: the validated params as JSON (tasks.TaskService.start).
    stored = validated_params(kind.params_model, arguments).model_dump(mode="json")

    found = step_in_a_fresh_interpreter(
        f"from longhaul import kinds\nkind = kinds.get_kind({name!r})", stored, cursor, PROJECT_ROOT / "layers/longhaul"
    )

    assert (found["outcome"], found["params"]) == (expected, kind.params_model.__name__)
    assert found["pydantic"] == []


def test_a_scaffolded_kinds_step_imports_no_pydantic(tmp_path):
    (tmp_path / "lh_scaffolded.py").write_text(KIND_MODULE.format(name="hello", model="HelloParams", title="Hello"))
    found = step_in_a_fresh_interpreter(
        "from lh_scaffolded import hello as kind",
        {"items": 2, "seconds_per_item": 0},
        None,
        PROJECT_ROOT / "layers/longhaul",
        tmp_path,
    )
    assert (found["outcome"], found["params"], found["pydantic"]) == ("Done", "HelloParams", [])

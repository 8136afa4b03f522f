"""Every function's Handler in template.yaml names a callable Lambda can call: sam deploy cannot tell."""

from __future__ import annotations

import inspect
import subprocess
import sys

import pytest

from longhaul_dev.moto_lambda import load_handler
from longhaul_dev.template import function_specs, load_template

SPECS = function_specs(load_template())


def test_there_are_functions():
    assert {"RunStepFunction", "WriteResultFunction", "ReconcileFunction"} <= set(SPECS)


@pytest.mark.parametrize("logical_id", sorted(SPECS))
def test_handler_resolves_to_a_callable_taking_event_and_context(logical_id):
    spec = SPECS[logical_id]
    handler = load_handler(spec.code_dir, spec.handler)

    assert callable(handler)
    assert list(inspect.signature(handler).parameters)[:2] == ["event", "context"]


@pytest.mark.parametrize("logical_id", sorted(SPECS))
def test_no_function_imports_the_xray_sdk_at_cold_start(logical_id):
    """The X-Ray SDK costs about 0.2 s of every cold start (and a worker is cold after every long Wait); active
    tracing on the function records invocations without it."""
    spec = SPECS[logical_id]
    code = (
        f"import sys; sys.path.insert(0, {str(spec.code_dir)!r}); import app; "
        "print(sorted(m for m in sys.modules if m.startswith('aws_xray_sdk')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert run.stdout.strip() == "[]"

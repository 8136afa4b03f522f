"""Every function's Handler in template.yaml names a callable Lambda can call: sam deploy cannot tell."""

from __future__ import annotations

import inspect

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

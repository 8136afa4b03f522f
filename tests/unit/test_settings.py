"""Each function gets, from template.yaml, every variable its role needs; one started without them fails at cold
start naming them. (The local stack runs every function in one process, which would hide a missing variable.)"""

from __future__ import annotations

import pytest

from longhaul.settings import ROLE_VARIABLES, MissingSettings, get_settings, settings_for
from longhaul_dev.template import function_specs, load_template

ROLE_OF = {
    "McpEndpointFunction": "endpoint",
    "RunStepFunction": "run_step",
    "WriteResultFunction": "write_result",
    "ReconcileFunction": "reconcile",
    "SweepFunction": "sweep",
}


def test_every_function_has_a_role():
    assert set(function_specs(load_template())) == set(ROLE_OF)


@pytest.mark.parametrize("logical_id", sorted(ROLE_OF))
def test_template_gives_each_function_what_its_role_needs(logical_id):
    environment = function_specs(load_template())[logical_id].environment
    assert set(ROLE_VARIABLES[ROLE_OF[logical_id]]) <= set(environment)


def test_a_missing_variable_fails_naming_it(monkeypatch):
    monkeypatch.setenv("TASKS_TABLE_NAME", "tasks")
    monkeypatch.delenv("STATE_MACHINE_ARN", raising=False)
    get_settings.cache_clear()
    try:
        with pytest.raises(MissingSettings, match="sweep needs the environment variable\\(s\\) STATE_MACHINE_ARN"):
            settings_for("sweep")
        assert settings_for("reconcile").tasks_table_name == "tasks"
    finally:
        get_settings.cache_clear()

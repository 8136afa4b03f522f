"""Each function gets, from template.yaml, every variable its role needs; one started without them fails at cold
start naming them. (The local stack runs every function in one process, which would hide a missing variable.) A
malformed or out-of-range variable fails the same way, naming it and what it accepts."""

from __future__ import annotations

import dataclasses

import pytest

from longhaul.settings import ROLE_VARIABLES, InvalidSettings, MissingSettings, Settings, get_settings, settings_for
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


def test_unset_variables_keep_the_documented_defaults():
    settings = Settings.from_environ({"UNRELATED": "x"})
    assert settings == Settings()
    assert (settings.task_ttl_days, settings.inline_result_max_bytes, settings.max_steps_per_task) == (30, 65536, 2000)
    assert (settings.progress_min_interval_seconds, settings.wait_poll_seconds, settings.auth_mode) == (5.0, 3.0, "jwt")


def test_variables_are_read_as_their_settings_types():
    settings = Settings.from_environ(
        {"TASK_TTL_DAYS": " 7 ", "MAX_STEPS_PER_TASK": "5.0", "MAX_WAIT_SECONDS": "2.5", "AUTH_MODE": "iam"}
    )
    assert (settings.task_ttl_days, settings.max_steps_per_task) == (7, 5)
    assert settings.max_wait_seconds == 2.5 and settings.auth_mode == "iam"
    assert isinstance(settings.progress_min_interval_seconds, float)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TASK_TTL_DAYS", "0", "TASK_TTL_DAYS must be an integer from 1 to 3650 (got '0')"),
        ("MAX_STEPS_PER_TASK", "3001", "MAX_STEPS_PER_TASK must be an integer from 1 to 3000 (got '3001')"),
        ("MAX_STEPS_PER_TASK", "lots", "MAX_STEPS_PER_TASK must be an integer from 1 to 3000 (got 'lots')"),
        ("SWEEP_GRACE_SECONDS", "90.5", "SWEEP_GRACE_SECONDS must be an integer from 30 to 3600 (got '90.5')"),
        ("TASK_TTL_DAYS", "", "TASK_TTL_DAYS must be an integer from 1 to 3650 (got '')"),
        ("WAIT_POLL_SECONDS", "0", "WAIT_POLL_SECONDS must be a number above 0 and at most 60 (got '0')"),
        ("MAX_WAIT_SECONDS", "nan", "MAX_WAIT_SECONDS must be a number from 0 to 900 (got 'nan')"),
        ("AUTH_MODE", "basic", "AUTH_MODE must be one of jwt, iam, none (got 'basic')"),
    ],
)
def test_a_malformed_or_out_of_range_variable_fails_naming_it_and_its_range(monkeypatch, variable, value, message):
    monkeypatch.setenv(variable, value)
    get_settings.cache_clear()
    try:
        with pytest.raises(InvalidSettings) as raised:
            get_settings()
        assert str(raised.value) == message
    finally:
        get_settings.cache_clear()


def test_values_given_directly_are_held_to_the_same_rules():
    assert Settings(progress_min_interval_seconds=60).progress_min_interval_seconds == 60.0
    with pytest.raises(InvalidSettings, match="MAX_ACTIVE_TASKS_PER_OWNER must be an integer from 1 to 10000"):
        Settings(max_active_tasks_per_owner=0)
    with pytest.raises(InvalidSettings, match="TASK_TTL_DAYS must be an integer"):
        Settings(task_ttl_days=True)
    with pytest.raises(InvalidSettings, match="AUTH_MODE must be one of jwt, iam, none"):
        dataclasses.replace(Settings(), auth_mode="basic")  # type: ignore[arg-type]

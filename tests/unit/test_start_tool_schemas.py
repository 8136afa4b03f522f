"""The built-in kinds' start tools as clients see them: the input schema tools/list publishes, byte for byte, and
what a bad argument is answered with. Pinned when the kinds' params moved from pydantic models to dataclasses
(docs/kinds.md): a change here changes what every agent reads, so it is deliberate or it is a bug."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from mcp.server.mcpserver.exceptions import ToolError

from longhaul import kinds
from longhaul.endpoint.server import mcp

SCHEMAS = {
    "model_training": {
        "properties": {
            "session_id": {"type": ["string", "null"], "description": "Agent memory session to receive the result"},
            "idempotency_key": {
                "maxLength": 128,
                "minLength": 1,
                "type": ["string", "null"],
                "description": "Retry-safe: the same key returns the same task",
            },
            "model_name": {"default": "demo-model", "maxLength": 128, "minLength": 1, "type": "string"},
            "epochs": {"default": 5, "maximum": 1000, "minimum": 1, "type": "integer"},
            "learning_rate": {"default": 0.01, "exclusiveMinimum": 0, "maximum": 1, "type": "number"},
            "epoch_seconds": {
                "default": 2.0,
                "description": "Simulated seconds per epoch",
                "maximum": 600,
                "minimum": 0,
                "type": "number",
            },
            "checkpoint_seconds": {"default": 900, "maximum": 900, "minimum": 0, "type": "number"},
            "approve_after_epochs": {
                "maximum": 1000,
                "minimum": 1,
                "type": ["integer", "null"],
                "description": "Pause for approval (input_required) after this many epochs, then train the rest",
            },
        },
        "type": "object",
        "additionalProperties": False,
    },
    "csv_profile": {
        "properties": {
            "session_id": {"type": ["string", "null"], "description": "Agent memory session to receive the result"},
            "idempotency_key": {
                "maxLength": 128,
                "minLength": 1,
                "type": ["string", "null"],
                "description": "Retry-safe: the same key returns the same task",
            },
            "input_key": {
                "description": "From create_upload_url, once the file is PUT to its upload_url",
                "maxLength": 1024,
                "minLength": 8,
                "type": "string",
            },
            "delimiter": {"default": ",", "maxLength": 1, "minLength": 1, "type": "string"},
            "chunk_bytes": {"default": 8388608, "maximum": 67108864, "minimum": 1024, "type": "integer"},
            "checkpoint_seconds": {"default": 900, "maximum": 900, "minimum": 0, "type": "number"},
        },
        "required": ["input_key"],
        "type": "object",
        "additionalProperties": False,
    },
    "athena_query": {
        "properties": {
            "session_id": {"type": ["string", "null"], "description": "Agent memory session to receive the result"},
            "idempotency_key": {
                "maxLength": 128,
                "minLength": 1,
                "type": ["string", "null"],
                "description": "Retry-safe: the same key returns the same task",
            },
            "sql": {"maxLength": 20000, "minLength": 1, "type": "string"},
            "max_rows": {"default": 100, "maximum": 1000, "minimum": 1, "type": "integer"},
        },
        "required": ["sql"],
        "type": "object",
        "additionalProperties": False,
    },
}
NOT_AN_INPUT_KEY = (
    "Invalid arguments: input_key: Value error, must be the input_key create_upload_url returned (it starts with "
    "'inputs/')"
)


def tools() -> dict[str, Any]:
    return {tool.name: tool for tool in mcp._tool_manager.list_tools()}


@pytest.mark.parametrize("name", SCHEMAS)
def test_a_builtin_start_tool_publishes_its_pinned_input_schema(name):
    assert name in kinds.BUILTIN_KINDS
    # json.dumps keeps the keys' order: the bytes tools/list sends, not just an equal schema.
    assert json.dumps(tools()[name].parameters) == json.dumps(SCHEMAS[name])


@pytest.mark.parametrize(
    ("name", "arguments", "answer"),
    [
        ("model_training", {"epochs": 0}, "Invalid arguments: epochs: Input should be greater than or equal to 1"),
        ("model_training", {"epochs": "3"}, "Invalid arguments: epochs: Input should be a valid integer"),
        ("model_training", {"epochs": True}, "Invalid arguments: epochs: Input should be a valid integer"),
        ("model_training", {"epochs": 3.0}, "Invalid arguments: epochs: Input should be a valid integer"),
        ("model_training", {"bogus": 1}, "Invalid arguments: bogus: unknown argument"),
        ("model_training", {"learning_rate": 0}, "Invalid arguments: learning_rate: Input should be greater than 0"),
        (
            "model_training",
            {"approve_after_epochs": 0},
            "Invalid arguments: approve_after_epochs: Input should be greater than or equal to 1",
        ),
        (
            "model_training",
            {"model_name": ""},
            "Invalid arguments: model_name: String should have at least 1 character",
        ),
        (
            "model_training",
            {"epoch_seconds": "x", "checkpoint_seconds": -1},
            "Invalid arguments: epoch_seconds: Input should be a valid number; "
            "checkpoint_seconds: Input should be greater than or equal to 0",
        ),
        ("model_training", {"session_id": 3}, "Invalid arguments: session_id: Input should be a valid string"),
        (
            "model_training",
            {"idempotency_key": ""},
            "Invalid arguments: idempotency_key: String should have at least 1 character",
        ),
        (
            "model_training",
            {"checkpoint_seconds": 901},
            "Invalid arguments: checkpoint_seconds: Input should be less than or equal to 900",
        ),
        ("csv_profile", {}, "Invalid arguments: input_key: Field required"),
        (
            "csv_profile",
            {"input_key": "results/x.json-long"},
            NOT_AN_INPUT_KEY,
        ),
        (
            "csv_profile",
            {"input_key": "inputs/../x"},
            NOT_AN_INPUT_KEY,
        ),
        (
            "csv_profile",
            {"input_key": "short"},
            "Invalid arguments: input_key: String should have at least 8 characters",
        ),
        (
            "csv_profile",
            {"input_key": "inputs/abc.csv", "delimiter": ";;"},
            "Invalid arguments: delimiter: String should have at most 1 character",
        ),
        (
            "csv_profile",
            {"input_key": "inputs/abc.csv", "chunk_bytes": 10},
            "Invalid arguments: chunk_bytes: Input should be greater than or equal to 1024",
        ),
        ("csv_profile", {"input_key": 5}, "Invalid arguments: input_key: Input should be a valid string"),
        ("athena_query", {}, "Invalid arguments: sql: Field required"),
        ("athena_query", {"sql": ""}, "Invalid arguments: sql: String should have at least 1 character"),
        (
            "athena_query",
            {"sql": "DROP TABLE x"},
            "Invalid arguments: sql: Value error, must be one read-only statement starting with SELECT or WITH",
        ),
        (
            "athena_query",
            {"sql": "SELECT 1", "max_rows": 0},
            "Invalid arguments: max_rows: Input should be greater than or equal to 1",
        ),
        (
            "athena_query",
            {"sql": "select 1", "max_rows": 1001, "x": 2},
            "Invalid arguments: x: unknown argument; max_rows: Input should be less than or equal to 1000",
        ),
    ],
)
async def test_a_bad_argument_is_answered_naming_the_field(name, arguments, answer):
    caller = SimpleNamespace(
        request_context=SimpleNamespace(request=SimpleNamespace(scope={"state": {"principal": "a"}}))
    )
    with pytest.raises(ToolError) as refused:
        await tools()[name].fn(arguments, caller)
    assert str(refused.value) == answer

"""What tools/list publishes: compact schemas that accept and refuse exactly what pydantic's full ones do."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel, Field

from longhaul.endpoint.listing import compact_schema, one_line
from longhaul.endpoint.server import mcp


class Colour(StrEnum):
    """Described once in $defs; the property's own description wins when it is inlined."""

    RED = "red"
    BLUE = "blue"


class Inner(BaseModel):
    title: str = Field(description="a property named like the keyword")
    default: int | None = None


class Everything(BaseModel):
    name: str = Field(min_length=1, max_length=5)
    nickname: str | None = Field(default=None, max_length=3, description="optional, nullable, bounded")
    colour: Colour | None = Field(default=None, description="an optional enum")
    count: int = 2
    inner: Inner | None = None


INSTANCES: list[Any] = [
    {"name": "ann"},
    {},
    {"name": ""},
    {"name": "ann", "nickname": None},
    {"name": "ann", "nickname": "abcd"},
    {"name": "ann", "nickname": 3},
    {"name": "ann", "colour": "red"},
    {"name": "ann", "colour": None},
    {"name": "ann", "colour": "green"},
    {"name": "ann", "count": "2"},
    {"name": "ann", "inner": {"title": "t"}},
    {"name": "ann", "inner": {"title": 1}},
    {"name": "ann", "inner": {"title": "t", "default": None}},
    {"name": "ann", "inner": None},
    {"name": "ann", "inner": {}},
]


def test_a_compact_schema_accepts_and_refuses_exactly_what_the_full_one_does():
    full = Everything.model_json_schema()
    compact = compact_schema(full)
    verdicts = [
        (Draft202012Validator(full).is_valid(instance), Draft202012Validator(compact).is_valid(instance))
        for instance in INSTANCES
    ]
    assert all(before == after for before, after in verdicts), list(zip(INSTANCES, verdicts, strict=True))
    assert {True, False} == {before for before, _ in verdicts}  # the instances exercise both answers

    text = json.dumps(compact)
    assert '"anyOf"' not in text and "$defs" not in text and "$ref" not in text
    assert '"default": null' not in text
    assert compact["properties"]["inner"]["properties"]["title"]["type"] == "string"  # a property, kept
    assert "title" not in compact and "title" not in compact["properties"]["name"]  # pydantic's titles, gone
    assert compact["properties"]["colour"]["description"] == "an optional enum"
    assert len(text) < len(json.dumps(full)) * 0.7


def test_a_recursive_definition_stays_a_reference():
    class Node(BaseModel):
        children: list[Node] = []

    compact = compact_schema(Node.model_json_schema())
    assert Draft202012Validator(compact).is_valid({"children": [{"children": []}]})
    assert not Draft202012Validator(compact).is_valid({"children": [{"children": 3}]})


@pytest.mark.parametrize("text", ["Line one\n    continues.\n\n    Second paragraph.", "One line."])
def test_descriptions_lose_their_source_wrapping_but_keep_paragraphs(text):
    assert "\n " not in one_line(text) and one_line(text).count("\n\n") == text.count("\n\n")


def test_every_listed_tool_is_published_compact():
    for tool in mcp._tool_manager.list_tools():
        assert tool.parameters == compact_schema(tool.parameters), tool.name
        assert tool.description == one_line(tool.description), tool.name
        assert tool.output_schema is None, tool.name  # results carry structuredContent without one

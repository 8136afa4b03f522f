"""What ``tools/list`` publishes: each tool's schema as a client needs it, once, at import.

The listing lands in every agent's context on every session, so it carries what steers a model or lets a client
validate, and nothing pydantic adds for humans reading a schema: per-property titles (the property name again),
``"default": null``, ``anyOf: [X, {"type": "null"}]`` (spelled ``type: [X, "null"]``) and ``$defs`` used once.
Tools publish no output schema (see ``views.tool_result``): their results still carry ``structuredContent``.
"""

from __future__ import annotations

import json
from typing import Any

from mcp.server.mcpserver.tools import Tool

# Keywords whose value maps names (of properties or definitions) to schemas: a name there is not a keyword.
_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions")
_NULL = {"type": "null"}


def one_line(text: str) -> str:
    """A docstring's paragraphs, each on one line (its source wrapping and indentation cost bytes, not meaning)."""
    return "\n\n".join(" ".join(part.split()) for part in text.split("\n\n") if part.strip())


def compact_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the same meaning for a validator, in fewer bytes (see the module docstring)."""
    compact = _compact(schema, schema.get("$defs", {}))
    if "$ref" not in json.dumps({k: v for k, v in compact.items() if k != "$defs"}):
        compact.pop("$defs", None)  # every reference was inlined
    return compact


def _compact(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_compact(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    target = definitions.get(ref.removeprefix("#/$defs/")) if isinstance(ref, str) else None
    if isinstance(target, dict) and "$ref" not in json.dumps(target):
        # A definition that refers to nothing else is inlined: the reference and the $defs entry cost more.
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _compact(sub, definitions) for name, sub in value.items()}
        elif (key == "title" and isinstance(value, str)) or (key == "default" and value is None):
            continue
        else:
            out[key] = _compact(value, definitions)
    options = out.get("anyOf")
    if isinstance(options, list) and len(options) == 2 and _NULL in options:
        other = options[1 - options.index(_NULL)]
        if isinstance(other, dict) and isinstance(other.get("type"), str):
            nullable = {**other, "type": [other["type"], "null"]}
            if "enum" in other:
                nullable["enum"] = [*other["enum"], None]
            out = {**nullable, **{k: v for k, v in out.items() if k != "anyOf"}}
    return out


def published(tool: Tool) -> Tool:
    """``tool`` as tools/list shows it: a one-line-per-paragraph description and a compact input schema."""
    tool.description = one_line(tool.description)
    # The SDK reads ``parameters`` live when it lists tools; arguments are validated by the tool's own model.
    tool.parameters = compact_schema(tool.parameters)
    return tool

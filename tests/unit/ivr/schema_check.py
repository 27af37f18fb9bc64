"""A tiny JSON Schema (2020-12) checker: the subset dialplans/schema.json uses.

jsonschema is not a dependency; this is enough to prove the example flows match the
published schema and that the schema rejects what it should."""

from __future__ import annotations

import re
from typing import Any

_TYPES: dict[str, Any] = {
    "object": dict,
    "array": list,
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
}


def errors(schema: dict[str, Any], value: Any, root: dict[str, Any] | None = None) -> list[str]:
    root = root or schema
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        found = errors(root["$defs"][name], value, root)
        if found:
            return found
    out: list[str] = []
    if "type" in schema:
        kinds = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        ok = any(
            isinstance(value, _TYPES[k]) and not (k != "boolean" and isinstance(value, bool))
            for k in kinds
        )
        if not ok:
            return [f"{value!r} is not {kinds}"]
    if "const" in schema and value != schema["const"]:
        out.append(f"{value!r} != {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{value!r} not in {schema['enum']}")
    if "not" in schema and not errors(schema["not"], value, root):
        out.append(f"{value!r} matches a forbidden schema")
    if isinstance(value, str) and "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(f"{value!r} does not match {schema['pattern']}")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and not schema.get("minimum", value) <= value <= schema.get("maximum", value):
        out.append(f"{value} out of range")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            out.append("too few items")
        for item in value:
            out += errors(schema.get("items", {}), item, root)
    if isinstance(value, dict):
        out += _object(schema, value, root)
    if "oneOf" in schema:
        matching = [s for s in schema["oneOf"] if not errors(s, value, root)]
        if len(matching) != 1:
            out.append(f"{value!r} matches {len(matching)} of oneOf")
    return out


def _object(schema: dict[str, Any], value: dict[str, Any], root: dict[str, Any]) -> list[str]:
    out = [f"missing {k}" for k in schema.get("required", []) if k not in value]
    if len(value) < schema.get("minProperties", 0):
        out.append("too few properties")
    props = schema.get("properties", {})
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        out += errors(schema.get("propertyNames", {}), key, root)
        if key in props:
            out += errors(props[key], item, root)
        elif extra is False:
            out.append(f"unknown property {key!r}")
        elif isinstance(extra, dict):
            out += errors(extra, item, root)
    return out

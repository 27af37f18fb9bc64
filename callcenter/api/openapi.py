"""The OpenAPI 3.1 document, built from the route table and the pydantic models."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from callcenter import __version__
from callcenter.api.problems import PROBLEM_JSON, Problem
from callcenter.api.routing import Operation

REF = "#/components/schemas/{model}"
_PARAM = re.compile(r"{(\w+)}")
_SCOPES = (
    "Bearer token (`callcenter token create NAME --scope read|operate|admin`). "
    "Scopes: read < operate < admin; each operation names the one it needs."
)


def document(
    operations: Iterable[Operation],
    path_params: Mapping[str, dict[str, Any]],
    *,
    server: str = "/api/v1",
    more: Mapping[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """``more``: paths served beside the route table (the event stream), as written."""
    ops = list(operations)
    schemas, refs = _schemas(ops)
    paths: dict[str, dict[str, Any]] = {}
    for op in ops:
        paths.setdefault(op.path, {})[op.method.lower()] = _operation(op, refs, path_params)
    paths.update(more or {})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "callcenter",
            "version": __version__,
            "description": "Operate a running callcenter engine: agents, queues, routes, IVR "
            "flows, live calls, CDRs, webhooks. Errors are application/problem+json (RFC 9457) "
            "with the CLI's stable `code`. Lists take ?limit= and ?cursor= and answer `next`.",
        },
        "servers": [{"url": server}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": _SCOPES}
            },
        },
    }


def _schemas(ops: list[Operation]) -> tuple[dict[str, Any], dict[tuple[Any, str], str]]:
    wanted: list[tuple[type[BaseModel], JsonSchemaMode]] = [(Problem, "serialization")]
    for op in ops:
        if op.body is not None:
            wanted.append((op.body, "validation"))
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    unique = list(dict.fromkeys(wanted))
    keys, top = models_json_schema(unique, ref_template=REF)
    refs: dict[tuple[Any, str], str] = {
        (model, mode): str(schema["$ref"]) for (model, mode), schema in keys.items()
    }
    return dict(top.get("$defs", {})), refs


def _operation(
    op: Operation, refs: Mapping[tuple[Any, str], str], path_params: Mapping[str, dict[str, Any]]
) -> dict[str, Any]:
    parameters = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(path_params.get(name, {"type": "string"})),
        }
        for name in _PARAM.findall(op.path)
    ]
    if op.query is not None:
        parameters += _query_parameters(op.query)
    responses: dict[str, Any] = {}
    if op.response is None and "responses" in op.extra:  # a file (routing.File): as described
        responses.update(op.extra["responses"])
    elif op.response is None:
        responses["204"] = {"description": "Done."}
    else:
        content = {"application/json": {"schema": {"$ref": refs[(op.response, "serialization")]}}}
        responses[str(op.status)] = {"description": "OK.", "content": content}
    problem = {"$ref": refs[(Problem, "serialization")]}
    always = {401, 403, 503} | ({413, 415} if op.body is not None else set())
    for status in sorted({*op.errors, *always}):
        responses[str(status)] = {
            "description": _ERRORS.get(status, "Refused."),
            "content": {PROBLEM_JSON: {"schema": problem}},
        }
    spec: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "parameters": parameters,
        "responses": responses,
        "x-scope": str(op.scope),
        "description": (op.description + "\n\n" if op.description else "")
        + f"Needs a token with scope `{op.scope}` (or higher).",
    }
    if op.body is not None:
        spec["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": refs[(op.body, "validation")]}}},
        }
    return spec


def events_operation() -> dict[str, Any]:
    """``GET /events``, the Server-Sent Events stream (``events.sse``), served beside the
    route table."""
    problem = {PROBLEM_JSON: {"schema": {"$ref": REF.format(model="Problem")}}}
    refusals = {
        "400": "An unknown event type in `types`.",
        "401": _ERRORS[401],
        "403": _ERRORS[403],
        "503": "Too many stream clients, or the database is unreachable.",
    }
    text = {"type": "string", "description": "id:, event: and data: (JSON) lines per event."}
    stream = {"description": "The stream.", "content": {"text/event-stream": {"schema": text}}}
    return {
        "operationId": "stream_events",
        "summary": "Stream events (Server-Sent Events)",
        "tags": ["events"],
        "parameters": [
            {"name": "types", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "Comma-separated event types; without it, every type.",
             "example": "call.created,call.ended"},
            {"name": "queue", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "Only the events of this queue."},
            {"name": "Last-Event-ID", "in": "header", "required": False,
             "schema": {"type": "string"},
             "description": "Resume after this event (from the engine's last 1000)."},
        ],
        "responses": {
            "200": stream,
            **{code: {"description": what, "content": problem} for code, what in refusals.items()},
        },
        "x-scope": "read",
        "description": "Events as they happen; a heartbeat comment when nothing happens; the "
        "stream ends with `event: closed` once its token is revoked (docs/api.md).\n\n"
        "Needs a token with scope `read` (or higher).",
    }  # fmt: skip


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template=REF)
    out = []
    for name, prop in schema.get("properties", {}).items():
        prop = _not_null(dict(prop))
        description = prop.pop("description", None)
        prop.pop("title", None)
        param: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", ()),
            "schema": prop,
        }
        if description:
            param["description"] = description
        out.append(param)
    return out


def _not_null(prop: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is left out rather than null: drop the null branch."""
    branches = prop.get("anyOf")
    if isinstance(branches, list):
        kept = [b for b in branches if b != {"type": "null"}]
        if len(kept) == 1:
            del prop["anyOf"]
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept
    if prop.get("default", 0) is None:
        del prop["default"]
    return prop


_ERRORS = {
    400: "Malformed request (JSON, cursor).",
    401: "No token, or an unknown or revoked one.",
    403: "The token's scope does not allow this.",
    404: "No such resource.",
    409: "Refused in the current state (already exists, already paused, ...).",
    413: "Body too large.",
    415: "Body is not JSON.",
    422: "A field is invalid; `errors` lists each one.",
    503: "The database or FreeSWITCH is unreachable.",
}

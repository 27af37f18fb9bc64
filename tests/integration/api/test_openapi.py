"""The OpenAPI document is built from the route table: every operation, its scope, its
models and its problem answers."""

from __future__ import annotations

from typing import Any

from callcenter.api.app import PATH_PARAMS, PREFIX, Api, operations
from callcenter.api.env import ApiEnv
from callcenter.api.openapi import document
from callcenter.store.database import Database


def _doc() -> dict[str, Any]:
    ops = operations(ApiEnv(Database("sqlite://")))
    return document(ops, PATH_PARAMS, server=PREFIX)


def test_every_operation_is_documented_with_its_scope_and_problems() -> None:
    ops = operations(ApiEnv(Database("sqlite://")))
    doc = _doc()
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "/api/v1"}]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    documented = {(m.upper(), p) for p, item in doc["paths"].items() for m in item}
    assert documented == {(op.method, op.path) for op in ops}
    ids = [op.operation_id for op in ops]
    assert len(ids) == len(set(ids))
    for path, item in doc["paths"].items():
        for method, spec in item.items():
            assert spec["x-scope"] in ("read", "operate", "admin"), (method, path)
            assert {"401", "403"} <= set(spec["responses"]), (method, path)
            problem = spec["responses"]["401"]["content"]["application/problem+json"]
            assert problem["schema"]["$ref"] == "#/components/schemas/Problem"
            for name in [p["name"] for p in spec["parameters"] if p["in"] == "path"]:
                assert "{" + name + "}" in path


def test_models_give_the_schemas() -> None:
    doc = _doc()
    schemas = doc["components"]["schemas"]
    assert schemas["AgentCreate"]["required"] == ["extension"]
    pause = doc["paths"]["/agents/{extension}/pause"]["post"]
    assert pause["x-scope"] == "operate"
    assert (
        pause["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        == "#/components/schemas/Pause"
    )
    cdrs = {p["name"]: p for p in doc["paths"]["/cdrs"]["get"]["parameters"]}
    assert {"limit", "cursor", "since", "until", "queue", "agent", "did", "disposition"} == set(
        cdrs
    )
    assert cdrs["limit"]["schema"]["maximum"] == 500
    assert "null" not in str(cdrs["queue"]["schema"])  # a query parameter is left out, not null


def test_the_api_serves_the_same_document() -> None:
    api = Api(ApiEnv(Database("sqlite://")))
    seen: list[str] = []
    body = b"".join(
        api({"PATH_INFO": "/openapi.json", "REQUEST_METHOD": "GET"}, lambda s, h: seen.append(s))
    )
    assert seen == ["200 OK"]
    import json

    assert json.loads(body) == json.loads(json.dumps(_doc()))

"""Request bodies: fields the API does not know are refused, JSON types are not coerced,
the engine's limits are the models' and a refusal names one field path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from callcenter.services import agents, webhooks
from callcenter.services.checks import AGENT_NAME_MAX, PAUSE_REASON_MAX
from callcenter.store.database import Database
from tests.integration.api.conftest import ROOT, Client


@pytest.mark.parametrize(
    ("method", "path", "body", "fields"),
    [
        ("POST", "/queues", {"name": "q-typo", "max_wait": 300, "stratgey": "ring_all"},
         ["body.max_wait", "body.stratgey"]),
        ("POST", "/queues", {"name": "q-typo", "routing": {"relx": "after 30s: any"}},
         ["body.routing.relx"]),
        ("POST", "/agents", {"extension": "7705", "skils": {"en": 5}}, ["body.skils"]),
        ("PATCH", "/agents/7706", {"wrapup": 5}, ["body.wrapup"]),
    ],
)  # fmt: skip
def test_a_field_the_api_does_not_know_is_refused(
    api: Client, db: Database, method: str, path: str, body: dict[str, Any], fields: list[str]
) -> None:
    agents.add(db, ROOT, "7706", domain="callcenter")
    answer = api(method, path, body=body)
    assert (answer.status_code, answer.json["code"]) == (422, "invalid_argument"), answer.text
    assert [e["field"] for e in answer.json["errors"]] == fields
    assert "not permitted" in answer.json["errors"][0]["message"]
    assert api("GET", "/queues/q-typo").status_code == 404  # nothing made with defaults


def test_request_schemas_refuse_unknown_fields(api: Client) -> None:
    doc = api("GET", "/openapi.json", token=None).json
    schemas = doc["components"]["schemas"]
    bodies = {
        spec["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for item in doc["paths"].values()
        for spec in item.values()
        if "requestBody" in spec
    }
    seen: set[str] = set()
    while bodies:  # every body model and every model nested in one
        name = bodies.pop()
        seen.add(name)
        if schemas[name].get("type") == "object":  # not an enum's
            assert schemas[name].get("additionalProperties") is False, name
        nested = set(_refs(schemas[name])) - seen
        bodies |= nested
    assert {"QueueCreate", "Routing", "AgentCreate", "ReplayIn"} <= seen


def _refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            yield ref.rsplit("/", 1)[1]
        for value in schema.values():
            yield from _refs(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _refs(value)


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("PATCH", "/agents/7707", {"wrapup_seconds": True}, "body.wrapup_seconds"),
        ("PATCH", "/agents/7707", {"wrapup_seconds": "30"}, "body.wrapup_seconds"),
        ("PATCH", "/agents/7707", {"wrapup_seconds": 30.0}, "body.wrapup_seconds"),
        ("PATCH", "/agents/7707", {"auto_answer": "yes"}, "body.auto_answer"),
        ("PATCH", "/agents/7707", {"auto_answer": 1}, "body.auto_answer"),
        ("PUT", "/agents/7707/skills/en", {"level": "5"}, "body.level"),
        ("PATCH", "/webhooks/{hook}", {"enabled": "no"}, "body.enabled"),
        ("PATCH", "/webhooks/{hook}", {"enabled": 0}, "body.enabled"),
    ],
)
def test_booleans_and_integers_are_not_coerced(
    api: Client, db: Database, method: str, path: str, body: dict[str, Any], field: str
) -> None:
    agents.add(db, ROOT, "7707", domain="callcenter")
    hook = webhooks.add(db, ROOT, "https://crm.example.com/strict", ["call.created"]).webhook.id
    answer = api(method, path.format(hook=hook), body=body)
    assert (answer.status_code, answer.json["code"]) == (422, "invalid_argument"), answer.text
    assert [e["field"] for e in answer.json["errors"]] == [field]
    assert api("GET", "/agents/7707").json["wrapup_seconds"] == 10
    assert api("GET", f"/webhooks/{hook}").json["enabled"] is True


def test_enums_and_times_still_come_as_json_strings(api: Client) -> None:
    made = api("POST", "/queues", body={"name": "q-strict", "strategy": "ring_all"})
    assert (made.status_code, made.json["strategy"]) == (201, "ring_all"), made.text


@pytest.mark.parametrize(
    ("path", "body", "field", "most"),
    [
        ("/agents/7708/pause", {"reason": "r" * (PAUSE_REASON_MAX + 1)}, "body.reason", 64),
        ("/agents/7708/pause", {"reason": "r" * 201}, "body.reason", 64),
        ("/agents/7708/pause", {"reason": "tab\there"}, "body.reason", None),
        ("/agents", {"extension": "7709", "name": "n" * (AGENT_NAME_MAX + 1)}, "body.name", 64),
    ],
)
def test_the_engine_limits_are_the_models_and_one_field_path_comes_back(
    api: Client, db: Database, path: str, body: dict[str, Any], field: str, most: int | None
) -> None:
    agents.add(db, ROOT, "7708", domain="callcenter")
    api("POST", "/agents/7708/login", token="operate")
    answer = api("POST", path, body=body)
    assert (answer.status_code, answer.json["code"]) == (422, "invalid_argument"), answer.text
    assert [e["field"] for e in answer.json["errors"]] == [field]
    schemas = api("GET", "/openapi.json", token=None).json["components"]["schemas"]
    assert schemas["Pause"]["properties"]["reason"]["anyOf"][0]["maxLength"] == PAUSE_REASON_MAX
    assert schemas["AgentCreate"]["properties"]["name"]["maxLength"] == AGENT_NAME_MAX
    assert schemas["AgentUpdate"]["properties"]["name"]["anyOf"][0]["maxLength"] == AGENT_NAME_MAX
    if most is not None:
        assert f"at most {most} characters" in answer.json["errors"][0]["message"]

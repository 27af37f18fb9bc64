"""/events through the API: refusals with their code, its place in the OpenAPI document,
and a stream that ends once its token is revoked."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from falcon import testing

from callcenter.api.app import Api
from callcenter.api.env import ApiEnv
from callcenter.events.bus import EventBus
from callcenter.events.sse import EventStream
from callcenter.events.types import CallCreated
from callcenter.services import tokens
from callcenter.store.database import Database
from tests.integration.api.conftest import ROOT


def _api(db: Database, bus: EventBus) -> Api:
    stream = EventStream(bus, lambda environ: True, heartbeat=0.02, recheck=0.05)
    return Api(ApiEnv(db), events=stream)


def test_refusals_carry_a_code(db: Database) -> None:
    read = tokens.create(db, ROOT, "ev-codes", "read").secret
    client = testing.TestClient(_api(db, EventBus()))
    auth = {"Authorization": f"Bearer {read}"}
    bogus = client.simulate_get("/events", query_string="types=bogus", headers=auth)
    assert bogus.status_code == 400
    assert (bogus.json["code"], bogus.json["title"]) == ("event_type_unknown", "Bad Request")
    assert "bogus" in bogus.json["detail"]
    posted = client.simulate_post("/events", headers=auth)
    assert (posted.status_code, posted.json["code"]) == (405, "method_not_allowed")


def test_the_document_lists_the_stream(db: Database) -> None:
    doc = testing.TestClient(_api(db, EventBus())).simulate_get("/openapi.json").json
    spec = doc["paths"]["/events"]["get"]
    assert spec["x-scope"] == "read"
    assert "text/event-stream" in spec["responses"]["200"]["content"]
    assert {p["name"] for p in spec["parameters"]} == {"types", "queue", "Last-Event-ID"}
    problem = spec["responses"]["400"]["content"]["application/problem+json"]
    assert problem["schema"]["$ref"] == "#/components/schemas/Problem"
    without = testing.TestClient(Api(ApiEnv(db))).simulate_get("/openapi.json").json
    assert "/events" not in without["paths"]  # no stream in this build: not listed


def _open(api: Api, secret: str) -> tuple[list[str], Iterator[bytes]]:
    environ: dict[str, Any] = testing.create_environ(
        "/events", headers={"Authorization": f"Bearer {secret}"}
    )
    seen: list[str] = []
    body = api(environ, lambda status, headers: seen.append(status))
    return seen, iter(body)


def test_a_revoked_token_ends_its_open_stream(db: Database) -> None:
    bus = EventBus()
    api = _api(db, bus)
    kept = tokens.create(db, ROOT, "ev-kept", "read").secret
    gone = tokens.create(db, ROOT, "ev-gone", "read").secret
    (status,), stream = _open(api, gone)
    _, other = _open(api, kept)
    assert status == "200 OK"
    assert next(stream).startswith(b"retry:") and next(other).startswith(b"retry:")
    bus.publish(CallCreated(call_uuid="ev-1"))
    assert b"ev-1" in next(stream)
    tokens.revoke(db, ROOT, "ev-gone")
    rest = list(stream)  # it ends (a hang would be the test's timeout)
    closing = rest[-1].decode()
    assert closing.startswith("event: closed\n")
    ending = json.loads(closing.split("data: ", 1)[1])
    assert ending["code"] == "token_revoked"
    assert all(chunk == b": heartbeat\n\n" for chunk in rest[:-1])
    bus.publish(CallCreated(call_uuid="ev-2"))  # the other token's stream goes on
    for _ in range(100):
        chunk = next(other)
        if b"ev-2" in chunk:
            break
    else:
        raise AssertionError("the live token's stream stopped")

"""/webhooks and /dead-letters: admin only, a secret answered once and never again,
enable/disable, dead letters listed by page and replayed (all or some)."""

from __future__ import annotations

import pytest

from callcenter.store.database import Database
from tests.integration.api.conftest import Client, dead_letters

SECRET = "a-webhook-secret-of-some-length"
URL = "https://crm.example.com/hooks/cc"


def test_add_answers_a_generated_secret_once_and_never_again(api: Client) -> None:
    made = api("POST", "/webhooks", body={"url": URL, "events": ["call.ended", "agent.offered"]})
    assert made.status_code == 201, made.text
    secret, hook = made.json["secret"], made.json["id"]
    assert isinstance(secret, str) and len(secret) >= 16
    assert made.json["events"] == ["call.ended", "agent.offered"]
    assert (made.json["status"], made.json["created_by"]) == ("ok", "api:t-admin")
    shown = api("GET", f"/webhooks/{hook}")
    listed = api("GET", "/webhooks")
    for answer in (shown, listed):
        assert answer.status_code == 200 and secret not in answer.text
        assert "secret" not in answer.text
    assert listed.json["items"][0]["url"] == URL
    given = api("POST", "/webhooks", body={"url": URL, "secret": SECRET})
    assert given.status_code == 201 and given.json["secret"] is None
    assert given.json["events"] == []  # every type
    assert SECRET not in given.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "ftp://crm.example.com/x"}, "url"),
        ({"url": "https://user:pw@crm.example.com/x"}, "url"),
        ({"url": URL, "events": ["call.exploded"]}, "events"),
        ({"url": URL, "secret": "short"}, "secret"),
    ],
)
def test_bad_input_is_a_422_saying_where(api: Client, body: dict[str, object], field: str) -> None:
    answer = api("POST", "/webhooks", body=body)
    assert answer.status_code == 422
    assert answer.json["code"] == "webhook_invalid"
    assert answer.json["detail"].startswith(f"{field}:")
    missing = api("POST", "/webhooks", body={"events": []})
    assert (missing.json["code"], missing.json["errors"][0]["field"]) == (
        "invalid_argument",
        "body.url",
    )


def test_pages_enable_disable_remove(api: Client) -> None:
    ids = [
        api("POST", "/webhooks", body={"url": f"{URL}/{i}", "secret": SECRET}).json["id"]
        for i in range(3)
    ]
    first = api("GET", "/webhooks", query_string="limit=2")
    assert [h["id"] for h in first.json["items"]] == ids[:2]
    assert 'rel="next"' in first.headers["link"]
    cursor = first.json["next"]
    rest = api("GET", "/webhooks", query_string=f"limit=2&cursor={cursor}").json
    assert ([h["id"] for h in rest["items"]], rest["next"]) == (ids[2:], None)
    off = api("PATCH", f"/webhooks/{ids[0]}", body={"enabled": False})
    assert (off.json["enabled"], off.json["status"]) == (False, "disabled")
    on = api("PATCH", f"/webhooks/{ids[0]}", body={"enabled": True})
    assert (on.json["enabled"], on.json["status"]) == (True, "ok")
    assert api("DELETE", f"/webhooks/{ids[0]}").status_code == 204
    for method, body in (("GET", None), ("DELETE", None), ("PATCH", {"enabled": True})):
        gone = api(method, f"/webhooks/{ids[0]}", body=body)
        assert (gone.status_code, gone.json["code"]) == (404, "webhook_not_found")
    for bad in ("abc", "0", "99999999999"):
        assert api("GET", f"/webhooks/{bad}").json["code"] == "webhook_not_found"


def test_dead_letters_are_listed_and_replayed(api: Client, db: Database) -> None:
    hook = api("POST", "/webhooks", body={"url": URL, "secret": SECRET}).json["id"]
    other = api("POST", "/webhooks", body={"url": URL + "/2", "secret": SECRET}).json["id"]
    dead = dead_letters(db, hook, 3)
    assert api("GET", f"/webhooks/{hook}").json["dead_letters"] == 3
    listed = api("GET", "/dead-letters", query_string="limit=2").json
    assert [d["id"] for d in listed["items"]] == dead[:2] and listed["next"]
    item = listed["items"][0]
    assert (item["webhook_id"], item["state"], item["attempts"]) == (hook, "dead", 30)
    assert item["payload"]["call_uuid"] == "dead0" and item["event_type"] == "call.created"
    mine = api("GET", "/dead-letters", query_string=f"webhook_id={other}").json
    assert mine == {"items": [], "next": None}
    unknown = api("GET", "/dead-letters", query_string="webhook_id=424242")
    assert (unknown.status_code, unknown.json["code"]) == (404, "webhook_not_found")

    some = api("POST", f"/webhooks/{hook}/replay", body={"ids": dead[1:]})
    assert some.json == {"webhook_id": hook, "replaying": dead[1:]}
    states = [d["state"] for d in api("GET", "/dead-letters").json["items"]]
    assert states == ["dead", "replay_pending", "replay_pending"]
    wrong = api("POST", f"/webhooks/{other}/replay", body={"ids": dead[:1]})
    assert (wrong.status_code, wrong.json["code"]) == (404, "dead_letter_not_found")
    assert api("POST", f"/webhooks/{hook}/replay", body={"ids": [0]}).status_code == 422
    every = api("POST", f"/webhooks/{hook}/replay", body={})
    assert every.json["replaying"] == dead


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/webhooks", None),
        ("POST", "/webhooks", {"url": URL}),
        ("GET", "/webhooks/1", None),
        ("PATCH", "/webhooks/1", {"enabled": False}),
        ("DELETE", "/webhooks/1", None),
        ("GET", "/dead-letters", None),
        ("POST", "/webhooks/1/replay", {}),
    ],
)
def test_every_operation_needs_admin(api: Client, method: str, path: str, body: object) -> None:
    assert api(method, path, token=None, body=body).json["code"] == "token_missing"
    for scope in ("read", "operate"):
        answer = api(method, path, token=scope, body=body)
        assert (answer.status_code, answer.json["code"]) == (403, "scope_insufficient")
    assert api("GET", "/webhooks").json["items"] == []  # nothing was made


def test_the_openapi_document_describes_them(api: Client) -> None:
    paths = api("GET", "/openapi.json", token=None).json["paths"]
    assert paths["/webhooks/{webhook_id}"]["patch"]["x-scope"] == "admin"
    assert {"/webhooks", "/webhooks/{webhook_id}/replay", "/dead-letters"} <= set(paths)
    assert all(op["x-scope"] == "admin" for op in paths["/webhooks"].values())

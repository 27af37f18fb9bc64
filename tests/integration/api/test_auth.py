"""Bearer tokens: none, unknown, wrong scope, revoked; the audit log names the token."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from callcenter.services import agents, tokens
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.models.tokens import ApiToken
from callcenter.store.repos import AuditLog
from tests.integration.api.conftest import ROOT, Client


@pytest.fixture
def agent(db: Database) -> str:
    agents.add(db, ROOT, "1001", domain="callcenter", name="Ann")
    agents.login(db, ROOT, "1001")
    return "1001"


def test_no_token_is_401_with_a_challenge(api: Client) -> None:
    answer = api("GET", "/agents", token=None)
    assert answer.status_code == 401
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.headers["www-authenticate"].startswith("Bearer")
    assert answer.json["code"] == "token_missing"
    assert answer.json["status"] == 401


@pytest.mark.parametrize(
    "header", ["Basic dXNlcjpwdw==", "Bearer", "Bearer ", "cc_nothing", "Bearer cc_unknown"]
)
def test_a_malformed_or_unknown_token_is_401(api: Client, header: str) -> None:
    answer = api("GET", "/agents", token=None, headers={"Authorization": header})
    assert answer.status_code == 401
    assert answer.json["code"] in ("token_missing", "token_invalid")


@pytest.mark.parametrize(
    ("token", "method", "path", "body"),
    [
        ("read", "POST", "/agents/1001/pause", {"reason": "lunch"}),
        ("read", "POST", "/calls/x/hangup", {}),
        ("read", "POST", "/flows/reload", None),
        ("operate", "POST", "/agents", {"extension": "1002"}),
        ("operate", "DELETE", "/queues/sales", None),
        ("operate", "PATCH", "/routes/100", {"enabled": False}),
    ],
)
def test_a_scope_too_low_is_403_before_anything_is_done(
    api: Client, agent: str, token: str, method: str, path: str, body: object
) -> None:
    answer = api(method, path, token=token, body=body)
    assert answer.status_code == 403
    assert answer.json["code"] == "scope_insufficient"
    assert f"this needs {'operate' if token == 'read' else 'admin'}" in answer.json["detail"]


def test_higher_scopes_include_the_lower_ones(api: Client, agent: str) -> None:
    assert api("GET", "/agents", token="read").status_code == 200
    assert api("GET", "/agents", token="admin").status_code == 200
    assert api("POST", "/agents/1001/pause", token="admin", body={}).status_code == 200


def test_a_revoked_token_is_refused_at_once(api: Client, db: Database) -> None:
    assert api("GET", "/agents", token="read").status_code == 200
    tokens.revoke(db, ROOT, "t-read")
    answer = api("GET", "/agents", token="read")
    assert answer.status_code == 401
    assert answer.json["code"] == "token_revoked"


def test_the_openapi_document_needs_no_token(api: Client) -> None:
    answer = api("GET", "/openapi.json", token=None)
    assert answer.status_code == 200
    assert answer.json["openapi"].startswith("3.1")


def test_the_audit_log_names_the_token(api: Client, db: Database, agent: str) -> None:
    assert (
        api("POST", "/agents/1001/pause", token="operate", body={"reason": "lunch"}).status_code
        == 200
    )
    with db.session_scope() as session:
        entry = AuditLog(session).recent(1)[0]
    assert (entry.actor, entry.action, entry.target) == ("api:t-operate", "agent.pause", "1001")


def test_a_token_is_stored_as_its_hash_only(db: Database) -> None:
    made = tokens.create(db, Actor("cli", "ops"), "crm", "read")
    assert made.secret.startswith("cc_") and len(made.secret) > 40
    with db.session_scope() as session:
        row = session.scalar(select(ApiToken).where(ApiToken.name == "crm"))
        assert row is not None
        assert row.token_hash == tokens.digest(made.secret) != made.secret
        assert row.created_by == "cli:ops"
    assert tokens.authenticate(db, made.secret).scope == "read"


def test_token_names_scopes_and_reuse(db: Database) -> None:
    from callcenter.errors import AlreadyExists, DomainError, NotFound

    tokens.create(db, ROOT, "crm", "read")
    with pytest.raises(AlreadyExists):
        tokens.create(db, ROOT, "crm", "admin")
    with pytest.raises(DomainError) as bad:
        tokens.create(db, ROOT, "other", "root")
    assert bad.value.code == "invalid_argument"
    with pytest.raises(DomainError):
        tokens.create(db, ROOT, "Bad Name", "read")
    with pytest.raises(NotFound):
        tokens.revoke(db, ROOT, "nobody")
    tokens.revoke(db, ROOT, "crm")
    with pytest.raises(DomainError) as again:
        tokens.revoke(db, ROOT, "crm")
    assert again.value.code == "token_revoked"
    renewed = tokens.create(db, ROOT, "crm", "operate")  # a revoked name may be used again
    assert tokens.authenticate(db, renewed.secret).scope == "operate"
    listed = {t.name: t for t in tokens.list_tokens(db)}
    assert listed["crm"].revoked_at is None


def test_the_event_stream_is_mounted_behind_the_read_scope(db: Database) -> None:
    from falcon import testing

    from callcenter.api.app import Api
    from callcenter.api.env import ApiEnv

    def events(environ: dict[str, object], start_response: object) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/event-stream")])  # type: ignore[operator]
        return [b": hello\n\n"]

    read = tokens.create(db, ROOT, "sse-read", "read").secret
    client = testing.TestClient(Api(ApiEnv(db), events=events))
    refused = client.simulate_get("/events")
    assert (refused.status_code, refused.json["code"]) == (401, "token_missing")
    assert refused.headers["content-type"] == "application/problem+json"
    streamed = client.simulate_get("/events", headers={"Authorization": f"Bearer {read}"})
    assert (streamed.status_code, streamed.text) == (200, ": hello\n\n")
    tokens.revoke(db, ROOT, "sse-read")
    gone = client.simulate_get("/events", headers={"Authorization": f"Bearer {read}"})
    assert gone.json["code"] == "token_revoked"
    without = testing.TestClient(Api(ApiEnv(db)))  # no stream in this build: 404
    answer = without.simulate_get("/events", headers={"Authorization": f"Bearer {read}"})
    assert answer.status_code == 404

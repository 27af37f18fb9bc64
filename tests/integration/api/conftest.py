"""The API over a test database: a Falcon test client and one token per scope."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from falcon import testing

from callcenter.api.app import Api
from callcenter.api.env import ApiEnv
from callcenter.api.live import LiveState
from callcenter.events import outbox
from callcenter.events.types import CallCreated
from callcenter.services import tokens
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.repos.webhooks import WebhookRepository
from tests.integration.calls.conftest import calls_db_url, engine, sim  # noqa: F401  (fixtures)

ROOT = Actor("cli", "test")


@dataclass
class Client:
    client: testing.TestClient
    secrets: dict[str, str]

    def __call__(
        self, method: str, path: str, token: str | None = "admin", body: Any = None, **kw: Any
    ) -> testing.Result:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {self.secrets.get(token, token)}"
        raw = kw.pop("raw", None)
        if raw is not None:
            return self.client.simulate_request(method, path, headers=headers, body=raw, **kw)
        return self.client.simulate_request(method, path, headers=headers, json=body, **kw)


@pytest.fixture
def make_client(db: Database) -> Iterator[Callable[..., Client]]:
    def make(live: LiveState | None = None, **env: Any) -> Client:
        secrets = {
            scope: tokens.create(db, ROOT, f"t-{scope}", scope).secret
            for scope in ("read", "operate", "admin")
        } if not made else made[0].secrets  # fmt: skip
        client = Client(testing.TestClient(Api(ApiEnv(db, live=live, **env))), secrets)
        made.append(client)
        return client

    made: list[Client] = []
    yield make


@pytest.fixture
def api(make_client: Callable[..., Client]) -> Client:
    return make_client()


def dead_letters(db: Database, webhook_id: int, n: int) -> list[int]:
    """``n`` events given up by the webhook, as its delivery would after 24 h of failures."""
    with db.session_scope() as session:
        for i in range(n):
            outbox.append(session, CallCreated(call_uuid=f"dead{i}"))
    with db.session_scope() as session:
        repo = WebhookRepository(session)
        for event in repo.next_events(0, (), 100)[-n:]:
            repo.give_up(webhook_id, event, 30, "HTTP 500")
    with db.session_scope() as session:
        return [d.id for d in WebhookRepository(session).dead_letters(webhook_id)]

"""schemathesis against the OpenAPI document: for every operation, generated requests
never get a 5xx, and every answer matches its documented status, content type and schema.

Bounded (a few examples per operation) so the whole run stays well under a minute.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from prometheus_client import CollectorRegistry
from schemathesis import checks

from callcenter.api.app import PREFIX, Api
from callcenter.api.env import ApiEnv
from callcenter.api.live import AgentLive, CallerLive
from callcenter.kpi.live import LiveKpis
from callcenter.services import agents, queues, routes, webhooks
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from tests.integration.api.conftest import Client, dead_letters

ROOT = Actor("cli", "test")


class Mounted:
    """The API under /api/v1, as MetricsServer mounts it in the engine; ``app`` is the
    current test's (the schema is loaded once, from an app over no database)."""

    def __init__(self) -> None:
        self.app: Any = Api(ApiEnv(Database("sqlite://")))

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX):
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        environ["SCRIPT_NAME"], environ["PATH_INFO"] = PREFIX, path[len(PREFIX) :]
        return self.app(environ, start_response)


class QuietFloor:
    """The live state of an engine with nobody logged in and nobody waiting (``LiveState``):
    the live endpoints answer instead of 503."""

    def agents(self) -> dict[str, AgentLive]:
        return {}

    def callers(self, queue: str) -> list[CallerLive]:
        return []


class NoCampaigns:
    """An engine's dialer with no campaign running (``api.dialer_live.LiveReader``)."""

    def live(self) -> list[Any]:
        return []


MOUNTED = Mounted()
schema = schemathesis.openapi.from_wsgi(f"{PREFIX}/openapi.json", MOUNTED)


@pytest.fixture
def admin(db: Database, make_client: Callable[..., Client]) -> Iterator[str]:
    """The test's API over seeded data, and an admin token."""
    agents.add(db, ROOT, "1001", domain="callcenter", name="Ann")
    queues.add(db, ROOT, "sales")
    queues.add_member(db, ROOT, "sales", "1001")
    routes.add(db, ROOT, "+15550001", "queue:sales")
    hook = webhooks.add(db, ROOT, "https://crm.example.com/cc", ["call.created"])
    dead_letters(db, hook.webhook.id, 2)
    # as in the engine: live KPIs, a floor with nobody on it, a dialer dialling nothing
    client = make_client(
        kpis=LiveKpis(CollectorRegistry()), live=QuietFloor(), dialer=NoCampaigns()
    )
    MOUNTED.app = client.client.app
    try:
        yield client.secrets["admin"]
    finally:
        MOUNTED.app = Api(ApiEnv(Database("sqlite://")))


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_every_operation_answers_as_documented(case: Any, admin: str) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {admin}"},
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
            checks.response_headers_conformance,
        ],
    )

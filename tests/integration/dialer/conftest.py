"""A queue with an agent and a campaign on it, for the dialer's service tests; and the
engine over the simulator and PostgreSQL, as the calls tests have it, for the runtime's."""

from __future__ import annotations

import pytest

from callcenter.dialer.campaign import CampaignSpec
from callcenter.services import campaigns
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.repos import AgentRepository, QueueRepository
from tests.integration.calls.conftest import calls_db_url, engine, sim

__all__ = ["calls_db_url", "engine", "sim"]

WHO = Actor("cli", "tester")


@pytest.fixture
def campaign(db: Database) -> str:
    with db.session_scope() as session:
        QueueRepository(session).add("outbound")
        AgentRepository(session).add("1001")
    spec = CampaignSpec(
        name="spring", queue="outbound", caller_id="+12125550199", report_zone="America/New_York"
    )
    campaigns.create(db, WHO, spec)
    return "spring"

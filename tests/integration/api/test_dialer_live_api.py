"""``/dialer/live``: the running campaigns from the engine's dialer, their leads from the
database; 503 without an engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from callcenter.dialer.compliance import Outcome
from callcenter.dialer.runner import CampaignLive
from callcenter.dialer.vocabulary import CampaignMode
from callcenter.store.database import Database
from callcenter.store.models import AuditEntry, Campaign, CampaignDisposition, Lead, LeadAttempt
from tests.integration.api.conftest import Client

LIVE = CampaignLive(
    campaign="live1", mode="predictive", dialling=5, answered=1, agents_free=1, agents_busy=3,
    agents_wrapping=0, dial_level=1.5, answer_rate=0.24, paced_as="predictive",
    last_decision=2, limited_by="target", abandon_rate_30m=0.01,
    abandon_rate_us_30_days=0.012, abandon_rate_uk_today=None, fallback=False,
)  # fmt: skip


class Running:
    def live(self) -> list[CampaignLive]:
        return [LIVE]


def test_the_live_view_comes_from_the_engines_dialer(
    db: Database, make_client: Callable[..., Client]
) -> None:
    assert make_client()("GET", "/dialer/live", token="read").status_code == 503
    with db.session_scope() as session:
        campaign = Campaign(name="live1", mode=CampaignMode.PREDICTIVE)
        session.add(campaign)
        session.flush()
        for n in range(3):
            session.add(Lead(campaign_id=campaign.id, phone=f"+1555800000{n}", zones="UTC"))
    found = make_client(dialer=Running())("GET", "/dialer/live", token="read")
    assert found.status_code == 200, found.text
    [row] = found.json["items"]
    assert row == {
        **dataclasses.asdict(LIVE),
        "leads": {"pending": 3, "dialing": 0, "done": 0},
    }


def test_an_agent_disposes_of_their_last_campaign_call_through_the_api(
    db: Database, api: Client
) -> None:
    now = datetime.now(UTC)
    with db.session_scope() as session:
        campaign = Campaign(name="dispo1", mode=CampaignMode.PROGRESSIVE)
        session.add(campaign)
        session.flush()
        session.add(CampaignDisposition(campaign_id=campaign.id, code="later", key=2,
                                        retry_after=3600))  # fmt: skip
        lead = Lead(campaign_id=campaign.id, phone="+15558100001", zones="UTC")
        session.add(lead)
        session.flush()
        session.add(LeadAttempt(lead_id=lead.id, campaign_id=campaign.id, phone=lead.phone,
                                at=now, outcome=Outcome.ANSWERED, agent="5101"))  # fmt: skip
        lead_id = lead.id
    path = "/agents/5101/disposition"
    assert api("POST", path, token="read", body={"key": 2}).status_code == 403
    assert api("POST", path, token="operate", body={"key": 100}).status_code == 422
    missing = api("POST", path, token="operate", body={"key": 7})
    assert missing.status_code == 404 and "disposition_not_found" in missing.text
    nobody = api("POST", "/agents/5102/disposition", token="operate", body={"key": 2})
    assert nobody.status_code == 404 and "no_recent_campaign_call" in nobody.text
    done = api("POST", path, token="operate", body={"key": 2})
    assert done.status_code == 200, done.text
    assert done.json == {"campaign": "dispo1", "lead_id": lead_id, "code": "later",
                         "state": "pending"}  # fmt: skip
    with db.session_scope() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "campaign.dispose"))
        assert entry is not None and entry.target == "dispo1"
        assert (entry.actor, entry.details["lead"]) == ("api:t-operate", lead_id)

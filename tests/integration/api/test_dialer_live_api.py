"""``/dialer/live``: the running campaigns from the engine's dialer, their leads from the
database; 503 without an engine."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from callcenter.dialer.runner import CampaignLive
from callcenter.dialer.vocabulary import CampaignMode
from callcenter.store.database import Database
from callcenter.store.models import Campaign, Lead
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

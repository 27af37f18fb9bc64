"""Issue 17's audit: a callback kept for an agent, an agent whose phone is unreachable, the
hard limit in progressive mode, a skipped preview, and ``campaign.call_ended`` at the call's
end. The engine, the simulator over TCP and PostgreSQL, as test_campaign_run has them."""

from __future__ import annotations

from callcenter.events import types as events
from callcenter.sim import AgentBehaviour, Simulator
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import wait_cdr
from tests.integration.dialer.test_campaign_run import PERSON, _attempts, _one_lead
from tests.support import until


def test_call_ended_is_published_when_the_agents_call_ends_not_at_its_bridge(
    sim: Simulator, engine: EngineFactory
) -> None:
    number = "+15557800001"
    app = engine()
    seen: list[events.Event] = []
    app.events.subscribe(seen.append)
    person = AgentBehaviour(answer_delay=1.0, talk_time=3.0, voice=PERSON)
    _one_lead(app, sim, "camp81", "4781", number, person)
    until(lambda: number in _attempts(app, "camp81"), timeout=30)
    call = _attempts(app, "camp81")[number].call_uuid
    assert call is not None
    cdr = wait_cdr(app, call, timeout=30)
    told = (events.CampaignCallConnected, events.CampaignCallEnded, events.CallEnded)

    def ended_told() -> list[events.Event] | None:
        found = [e for e in seen if e.call_uuid == call and isinstance(e, told)]
        return found if found and isinstance(found[-1], events.CampaignCallEnded) else None

    mine = until(ended_told, timeout=20)
    kinds = [type(e).__name__ for e in mine]
    # it came at the bridge, before the call's end (it said "answered" while they talked)
    assert kinds == ["CampaignCallConnected", "CallEnded", "CampaignCallEnded"], kinds
    ended = mine[-1]
    assert isinstance(ended, events.CampaignCallEnded)
    assert (ended.outcome, ended.amd, ended.agent_extension) == ("answered", "human", "4781")
    assert (
        ended.duration_seconds == cdr.total_ms / 1000 and ended.talk_seconds == cdr.talk_ms / 1000
    )
    assert ended.talk_seconds is not None and ended.talk_seconds > 0
    assert ended.disposition is None  # none entered during the call

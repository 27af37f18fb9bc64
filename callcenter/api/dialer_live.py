"""``/dialer/live``: the running campaigns as their runners see them now (lines, agents,
dial level, answer rate, abandon rates per window) and their leads left (docs/dialer.md)."""

from __future__ import annotations

import dataclasses
from typing import Any, Protocol

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.problems import ApiProblem
from callcenter.api.routing import Ask, Operation
from callcenter.dialer import store
from callcenter.store.models.tokens import TokenScope

TAG = "dialer"


class LiveReader(Protocol):
    def live(self) -> list[Any]: ...


class CampaignLive(BaseModel):
    campaign: str
    mode: str
    dialling: int = Field(description="Lines not answered yet.")
    answered: int = Field(description="Answered lines not yet ended (detection, agent, message).")
    agents_free: int
    agents_busy: int
    agents_wrapping: int
    dial_level: float = Field(description="Lines in flight / staffed agents.")
    answer_rate: float = Field(description="Live answers / dials (a prior of 20 dials at 20%).")
    paced_as: str = Field(description="preview, progressive (warming up, fallen back), predictive")
    last_decision: int = Field(description="Calls placed (or leads offered) at the last tick.")
    limited_by: str
    abandon_rate_30m: float = Field(description="Abandoned / live answered, last 30 minutes.")
    abandon_rate_us_30_days: float | None = Field(description="TSR: rolling 30 days.")
    abandon_rate_uk_today: float | None = Field(description="Ofcom: the calendar day.")
    fallback: bool = Field(description="At the hard limit: dialling progressive.")
    leads: dict[str, int] = Field(description="Leads by state (pending, dialing, done).")


class CampaignsLive(BaseModel):
    items: list[CampaignLive]


def operations(env: ApiEnv) -> list[Operation]:
    def live(_ask: Ask) -> CampaignsLive:
        if env.dialer is None:
            raise ApiProblem(503, "engine_not_running", "no dialer in this process")
        reader: LiveReader = env.dialer
        items = []
        with env.database.session_scope() as session:
            for running in reader.live():
                leads = store.lead_counts(session, running.campaign)
                items.append(CampaignLive(**dataclasses.asdict(running), leads=leads))
        return CampaignsLive(items=items)

    return [
        Operation("GET", "/dialer/live", TokenScope.READ, live,
                  "The running campaigns now: lines, agents, dial level, rates", TAG,
                  CampaignsLive, errors=(503,)),
    ]  # fmt: skip

"""``/kpis``: the live KPIs since the engine started, per queue and per agent (the figures
``/metrics`` exports, as JSON for wallboards; formulas in docs/kpis.md)."""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.problems import ApiProblem
from callcenter.api.routing import Ask, Operation
from callcenter.kpi.formulas import FORMULAS, SL_FORMULAS
from callcenter.store.models.tokens import TokenScope

READ = TokenScope.READ
TAG = "kpis"


class KpiReader(Protocol):
    def queue_figures(self) -> list[dict[str, Any]]: ...

    def agent_figures(self) -> list[dict[str, Any]]: ...


class QueueKpi(BaseModel):
    queue: str
    sl_formula: str = Field(description="; ".join(f"{k}: {v}" for k, v in SL_FORMULAS.items()))
    service_level_seconds: int
    offered: int = Field(description=FORMULAS["offered"])
    answered: int
    abandoned: int
    short_abandoned: int = Field(description=FORMULAS["short_abandoned"])
    callbacks: int
    exits: dict[str, int] = Field(description="Callers sent elsewhere, by exit reason.")
    service_level: float | None = Field(description="null: no call to measure yet.")
    abandon_rate: float | None = Field(description=FORMULAS["abandon_rate"])
    asa_seconds: float | None = Field(description=FORMULAS["asa"])
    average_wait_seconds: float | None = Field(description=FORMULAS["average_wait"])
    wait_p90_seconds: float | None = Field(description="Of the queue's last 1000 stays.")
    handled: int
    aht_seconds: float | None = Field(description=FORMULAS["aht"])
    occupancy: float | None = Field(description=FORMULAS["occupancy"])
    agents: dict[str, int] = Field(description="The members by 'status/state'.")


class AgentKpi(BaseModel):
    agent: str
    status: str
    state: str
    calls: float
    talk_seconds: float
    hold_seconds: float
    wrapup_seconds: float
    ring_no_answer: float
    logged_in_seconds: float
    handling_seconds: float
    available_idle_seconds: float
    occupancy: float | None = Field(description=FORMULAS["occupancy"])
    pause_seconds: dict[str, float] = Field(description="Paused time by reason code.")


class QueueKpis(BaseModel):
    items: list[QueueKpi]


class AgentKpis(BaseModel):
    items: list[AgentKpi]


def operations(env: ApiEnv) -> list[Operation]:
    def reader() -> KpiReader:
        if env.kpis is None:
            raise ApiProblem(503, "engine_not_running", "no engine in this process: no live KPIs")
        return env.kpis  # type: ignore[no-any-return]

    def live_queues(_ask: Ask) -> QueueKpis:
        return QueueKpis(items=[QueueKpi(**row) for row in reader().queue_figures()])

    def live_agents(_ask: Ask) -> AgentKpis:
        return AgentKpis(items=[AgentKpi(**row) for row in reader().agent_figures()])

    return [
        Operation("GET", "/kpis/queues", READ, live_queues, "Live KPIs per queue since the start",
                  TAG, QueueKpis, errors=(503,)),
        Operation("GET", "/kpis/agents", READ, live_agents, "Live KPIs per agent since the start",
                  TAG, AgentKpis, errors=(503,)),
    ]  # fmt: skip

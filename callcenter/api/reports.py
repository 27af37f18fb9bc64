"""``/reports``: figures over a period per queue, per agent, per interval (docs/kpis.md)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.env import ApiEnv
from callcenter.api.routing import Ask, Operation
from callcenter.kpi.formulas import DEFAULT_FCR_HOURS, FORMULAS, SL_FORMULAS
from callcenter.services import reports
from callcenter.services.reports import Interval, Period
from callcenter.store.models.tokens import TokenScope

READ = TokenScope.READ
TAG = "reports"
_SL = "; ".join(f"{k}: {v}" for k, v in SL_FORMULAS.items())


class ReportQuery(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    since: datetime = Field(
        alias="from", description="Start (ISO 8601; without a zone: the engine's time_zone)."
    )
    until: datetime = Field(alias="to", description="End, excluded.")
    queue: str | None = Field(
        None,
        max_length=64,
        description="Only this queue (queues, intervals); agents: only its members.",
    )
    agent: str | None = Field(
        None, max_length=64, description="Only this agent, by extension (agents only)."
    )
    by: Interval | None = Field(
        None, description="Interval length (intervals only): 15m, hour (default) or day."
    )
    fcr_hours: int | None = Field(
        None, ge=1, le=720, examples=[DEFAULT_FCR_HOURS],
        description="Compute first-contact resolution (approximate) with this window "
        "(queues only).",
    )  # fmt: skip

    def period(self, zone: str) -> Period:
        return Period(since=reports.aware(self.since, zone),
                      until=reports.aware(self.until, zone), queue=self.queue,
                      agent=self.agent, by=self.by, fcr_hours=self.fcr_hours)  # fmt: skip


class QueueRow(BaseModel):
    queue: str = Field(description=f"A queue, or {reports.ALL!r}: the centre, calls once.")
    interval: str | None = Field(description="Local start of the interval (intervals only).")
    sl_formula: str = Field(description=_SL)
    service_level_seconds: int
    offered: int = Field(description=FORMULAS["offered"])
    answered: int
    abandoned: int
    short_abandoned: int = Field(description=FORMULAS["short_abandoned"])
    callbacks: int
    exits: dict[str, int] = Field(description="Callers sent elsewhere, by exit reason.")
    service_level: float | None
    abandon_rate: float | None = Field(description=FORMULAS["abandon_rate"])
    asa_seconds: float | None = Field(description=FORMULAS["asa"])
    average_wait_seconds: float | None = Field(description=FORMULAS["average_wait"])
    wait_p90_seconds: float | None = Field(description=FORMULAS["wait_p90"])
    handled: int
    aht_seconds: float | None = Field(description=FORMULAS["aht"])
    occupancy: float | None = Field(None, description=FORMULAS["occupancy"])
    fcr_approx: float | None = Field(None, description=FORMULAS["fcr"])


class AgentRow(BaseModel):
    agent: str
    calls: int
    talk_seconds: float
    hold_seconds: float
    wrapup_seconds: float
    ring_no_answer: int = Field(description="Offers that rang and did not become a call.")
    logged_in_seconds: float
    available_idle_seconds: float
    handling_seconds: float = Field(description="In a call or wrapping up.")
    occupancy: float | None = Field(description=FORMULAS["occupancy"])
    pause_seconds: dict[str, float] = Field(description="Paused time by reason code.")


class QueueReport(BaseModel):
    items: list[QueueRow]


class AgentReport(BaseModel):
    items: list[AgentRow]


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def report_queues(ask: Ask) -> QueueReport:
        rows = reports.queues_report(db, ask.query.period(env.time_zone), env.time_zone)
        return QueueReport(items=[QueueRow(**r.as_dict()) for r in rows])

    def report_intervals(ask: Ask) -> QueueReport:
        rows = reports.intervals_report(db, ask.query.period(env.time_zone), env.time_zone)
        return QueueReport(items=[QueueRow(**r.as_dict()) for r in rows])

    def report_agents(ask: Ask) -> AgentReport:
        rows = reports.agents_report(db, ask.query.period(env.time_zone))
        return AgentReport(items=[AgentRow(**r.as_dict()) for r in rows])

    return [
        Operation("GET", "/reports/queues", READ, report_queues, "Per queue over a period", TAG,
                  QueueReport, query=ReportQuery, errors=(404, 422)),
        Operation("GET", "/reports/agents", READ, report_agents, "Per agent over a period", TAG,
                  AgentReport, query=ReportQuery, errors=(404, 422)),
        Operation("GET", "/reports/intervals", READ, report_intervals,
                  "Per queue and interval (15m, hour, day in the queue's zone)", TAG,
                  QueueReport, query=ReportQuery, errors=(404, 422)),
    ]  # fmt: skip

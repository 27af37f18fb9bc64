"""``/queues/{name}/staffing``: agents needed per interval of the queue's last days, from its
stored CDRs (``services.staffing``; ``callcenter plan --from-history`` remote)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from callcenter.acd.staffing import Plan
from callcenter.api.env import ApiEnv
from callcenter.api.routing import Ask, Operation
from callcenter.services import staffing
from callcenter.services.staffing import IntervalLoad
from callcenter.store.models.tokens import TokenScope

TAG = "queues"


class StaffingQuery(BaseModel):
    days: int = Field(7, ge=1, le=7, description="The last N days (7: a week).")
    interval: int = Field(
        60, description="Interval length, minutes.", json_schema_extra={"enum": [15, 30, 60]}
    )
    target: str = Field("80/20", max_length=16, description="PERCENT/SECONDS answered within.")
    patience: float | None = Field(
        None, gt=0, le=86400, description="Callers' mean patience, s: Erlang A instead of C."
    )
    tz: str = Field("UTC", max_length=64, description="Time zone of the intervals.")


class StaffingInterval(BaseModel):
    load: IntervalLoad
    plan: Plan | None = Field(description="Null: no call, or none answered, in the interval.")


class StaffingHistory(BaseModel):
    queue: str
    model: str = Field(examples=["Erlang C"])
    intervals: list[StaffingInterval]


def history_out(result: staffing.HistoryPlan) -> StaffingHistory:
    return StaffingHistory(
        queue=result.queue,
        model="Erlang C" if result.patience is None else "Erlang A",
        intervals=[StaffingInterval(load=i.load, plan=i.plan) for i in result.intervals],
    )


def operations(env: ApiEnv) -> list[Operation]:
    def queue_staffing(ask: Ask) -> StaffingHistory:
        q: StaffingQuery = ask.query
        return history_out(staffing.plan_history(
            env.database, ask.path["name"], days=q.days, minutes=q.interval, target=q.target,
            patience=q.patience, zone=q.tz,
        ))  # fmt: skip

    return [
        Operation("GET", "/queues/{name}/staffing", TokenScope.READ, queue_staffing,
                  "Agents needed per interval of the queue's last days (Erlang C or A)", TAG,
                  StaffingHistory, query=StaffingQuery, errors=(400, 404, 422)),
    ]  # fmt: skip

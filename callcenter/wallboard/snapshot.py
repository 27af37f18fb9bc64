"""The wallboard's snapshot: every queue's and agent's live figures at one moment, as
``GET /api/v1/wallboard`` serves it and both wallboards read it. Built by a pure function
from the live board's views, the queues' settings and the tally's counts."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from callcenter.api.live import AgentLive, CallerLive
from callcenter.kpi import formulas as f
from callcenter.kpi.formulas import QueueTally
from callcenter.store.records import QueueRecord
from callcenter.vocabulary import AgentState, AgentStatus
from callcenter.wallboard.tally import OnCall

SL_FORMULA = "by the queue's sl_formula (docs/kpis.md): " + "; ".join(
    f"{name}: {text}" for name, text in f.SL_FORMULAS.items()
)
ABANDON_FORMULA = f.FORMULAS["abandon_rate"]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True)


class AgentCounts(_Value):
    staffed: int = Field(0, description="Members logged in (available or paused).")
    free: int = Field(0, description="Available, idle and ready: would be offered a call now.")
    busy: int = Field(0, description="Available and ringing, on a call or in wrap-up.")
    paused: int = 0


class QueueBoard(_Value):
    name: str
    waiting: int
    longest_wait_seconds: float
    service_level_seconds: int = Field(description="T: answered within it is in time.")
    short_abandon_seconds: int = Field(description="Abandoned under it: a short abandon.")
    sl_formula: f.SlFormula = Field(description="The queue's service-level definition.")
    service_level_formula: str = Field(description="That definition written out.")
    offered: int = Field(description="Callers who left the queue in the window.")
    answered: int
    answered_in_time: int
    abandoned: int
    short_abandoned: int
    service_level: float | None = Field(description=f"{SL_FORMULA}. null: no call yet.")
    abandon_rate: float | None = Field(description=f"{ABANDON_FORMULA}; null: no call yet.")
    agents: AgentCounts


class AgentBoard(_Value):
    extension: str
    name: str
    status: AgentStatus
    state: AgentState
    state_seconds: float
    queues: list[str]
    call_uuid: str | None = None
    caller_number: str | None = Field(None, description="As the caller's phone sent it.")
    caller_name: str | None = None


class Wallboard(_Value):
    at: datetime
    window_seconds: float = Field(description="Offered, answered, abandoned: in this window.")
    abandon_rate_formula: str = ABANDON_FORMULA
    queues: list[QueueBoard]
    agents: list[AgentBoard]


Counts = Callable[[QueueRecord], QueueTally]


def build(
    at: datetime,
    queues: Sequence[QueueRecord],
    agents: Mapping[str, AgentLive],
    callers: Mapping[str, Sequence[CallerLive]],
    names: Mapping[str, str],
    counts: Counts,
    on_call: Callable[[str], OnCall | None],
    window: float,
) -> Wallboard:
    """``window``: the seconds the counts were taken over."""
    member_of: dict[str, list[str]] = {}
    for queue in queues:
        for member in queue.members:
            member_of.setdefault(member.extension, []).append(queue.name)
    return Wallboard(
        at=at,
        window_seconds=window,
        queues=[_queue(q, agents, callers.get(q.name, ()), counts(q)) for q in queues],
        agents=[
            _agent(live, names.get(ext, ""), member_of.get(ext, []), on_call(ext))
            for ext, live in sorted(agents.items())
        ],
    )


def _queue(
    queue: QueueRecord,
    agents: Mapping[str, AgentLive],
    waiting: Sequence[CallerLive],
    counts: QueueTally,
) -> QueueBoard:
    formula = f.SlFormula(queue.sl_formula)
    return QueueBoard(
        name=queue.name,
        waiting=len(waiting),
        longest_wait_seconds=max((c.waited_seconds for c in waiting), default=0.0),
        service_level_seconds=queue.service_level_seconds,
        short_abandon_seconds=queue.short_abandon_seconds,
        sl_formula=formula,
        service_level_formula=f.SL_FORMULAS[formula],
        offered=counts.offered,
        answered=counts.answered,
        answered_in_time=counts.answered_within,
        abandoned=counts.abandoned,
        short_abandoned=counts.short_abandoned,
        service_level=f.service_level(counts, formula),
        abandon_rate=f.abandon_rate(counts),
        agents=_members(agents.get(m.extension) for m in queue.members),
    )


def _members(members: Iterable[AgentLive | None]) -> AgentCounts:
    staffed = free = busy = paused = 0
    for live in members:
        if live is None or live.status is AgentStatus.LOGGED_OUT:
            continue
        staffed += 1
        if live.status is AgentStatus.PAUSED:
            paused += 1
        elif live.state is AgentState.IDLE and live.ready_in_seconds <= 0:
            free += 1
        elif live.state is not AgentState.IDLE:
            busy += 1
    return AgentCounts(staffed=staffed, free=free, busy=busy, paused=paused)


def _agent(live: AgentLive, name: str, queues: list[str], call: OnCall | None) -> AgentBoard:
    return AgentBoard(
        extension=live.extension,
        name=name,
        status=live.status,
        state=live.state,
        state_seconds=live.state_seconds,
        queues=queues,
        call_uuid=call.call_uuid if call else None,
        caller_number=call.number if call else None,
        caller_name=call.name if call else None,
    )

"""A fixed set of stays, CDRs and agent status history, with the figures it must give
(worked out by hand in the comments): the reports' SQL is checked against them on
PostgreSQL and SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from callcenter.store.database import Database
from callcenter.store.models import Agent, AgentStatusChange, Cdr, Queue, QueueEntry, QueueMember
from callcenter.vocabulary import (
    AgentState,
    AgentStatus,
    Direction,
    Disposition,
    HangupBy,
    QueueOutcome,
)

T0 = datetime(2026, 7, 1, 22, 10, tzinfo=UTC)  # 00:10 on 2 July in Paris
SINCE = T0 - timedelta(hours=1)
UNTIL = T0 + timedelta(hours=1)

# sales (T = 20 s, short abandon < 5 s): (outcome, wait seconds, call, caller)
SALES = [
    ("answered", 10, "c1", "+331"),
    ("answered", 20, "c2", "331"),  # exactly T: within; same caller as c1, 1 h later
    ("answered", 25, "c3", "332"),
    ("abandoned", 3, "c4", ""),  # short, within T
    ("abandoned", 5, "c5", ""),  # exactly the short threshold: not short; within T
    ("abandoned", 20, "c6", ""),  # exactly T: within
    ("abandoned", 40, "c7", ""),
    ("callback_answered", 30, "c8", ""),  # called back (c8-cb): a callback, not an exit
    ("overflow", 60, "cx", "339"),  # then answered in support after 5 s
]
SUPPORT = [("answered", 5, "cx", "339")]
# (call, queue, agent, talk, hold, started after T0 (s)); no CDR has wrap-up (it follows
# the call's end: the status history has it)
CDRS = [
    ("c1", "sales", "1001", 100, 10, 0),
    ("c2", "sales", "1001", 200, 0, 3600 - 1),  # 1 h after c1 (within 24 h)
    ("c3", "sales", "1001", 300, 20, 2),
    ("cx", "support", "1002", 60, 0, 8),
    *((c, "sales", None, 0, 0, 60 * i) for i, c in enumerate(("c4", "c5", "c6", "c7"))),
    ("c8", "sales", None, 0, 0, 900),  # asked to be called back
]
# c8's callback, answered by 1001: an outbound CDR of sales (call, agent, talk, hold,
# started after T0 (s)): handled work of sales, not a call it was offered
CALLBACK_CDR = ("c8-cb", "1001", 50, 0, 1000)
# agent 1001: (seconds after T0, status, state, reason); logged out before the window; its
# one wrap-up (20 s) is after a call of sales
HISTORY = [
    (-7200, "logged_out", "idle", None),
    (0, "available", "idle", "login"),
    (100, "available", "in_call", None),
    (400, "available", "wrap_up", "sales"),
    (420, "available", "idle", None),
    (500, "paused", "idle", "lunch"),
    (550, "paused", "idle", None),  # a state write while paused: still lunch
    (600, "available", "idle", None),
    (650, "available", "offering", None),
    (660, "available", "idle", "missed"),  # rang, not answered (its row marked missed)
    (700, "logged_out", "idle", None),
]
EXPECTED_SALES = {
    "offered": 9, "answered": 3, "abandoned": 4, "short_abandoned": 1, "callbacks": 1,
    "exits": {"overflow": 1},
    "abandon_rate": 3 / 8, "asa_seconds": 55 / 3, "average_wait_seconds": 213 / 9,
    "wait_p90_seconds": 60.0, "handled": 4, "aht_seconds": (680 + 20) / 4,  # c8-cb too
    "fcr_approx": 2 / 3,  # c1's caller called again within 24 h (as c2)
    "occupancy": 320 / 600,  # 1001: handling 320 s, available idle 280 s
}  # fmt: skip
SL = {"offered": 2 / 8, "answered": 2 / 3, "abandons_met": 5 / 9}
EXPECTED_1001 = {
    "calls": 4, "talk_seconds": 650.0, "hold_seconds": 30.0, "wrapup_seconds": 20.0,
    "ring_no_answer": 1, "logged_in_seconds": 700.0, "handling_seconds": 320.0,
    "available_idle_seconds": 280.0, "occupancy": 320 / 600, "pause_seconds": {"lunch": 100.0},
}  # fmt: skip


def _stays(queue: Queue, rows: list[tuple[str, int, str, str]], start: int) -> list[QueueEntry]:
    out = []
    for i, (outcome, wait, call, _) in enumerate(rows):
        joined = T0 + timedelta(minutes=start + i)
        left = joined + timedelta(seconds=wait)
        answered = left if outcome == "answered" else None
        out.append(QueueEntry(queue_id=queue.id, call_uuid=call, ticket=f"{queue.name}-{call}",
                              joined_at=joined, answered_at=answered, left_at=left,
                              outcome=QueueOutcome(outcome)))  # fmt: skip
    return out


def load(db: Database, formula: str = "offered") -> None:
    with db.session_scope() as s:
        a1, a2 = Agent(extension="1001"), Agent(extension="1002")
        sales = Queue(name="sales", service_level_seconds=20, sl_formula=formula,
                      time_zone="Europe/Paris")  # fmt: skip
        support = Queue(name="support", service_level_seconds=30)
        s.add_all([a1, a2, sales, support])
        s.flush()
        s.add_all([QueueMember(queue_id=sales.id, agent_id=a1.id),
                   QueueMember(queue_id=support.id, agent_id=a2.id)])  # fmt: skip
        s.add_all(_stays(sales, SALES, 0) + _stays(support, SUPPORT, 9))
        callers = {call: number for _, _, call, number in SALES}
        for call, queue, agent, talk, hold, after in CDRS:
            start = T0 + timedelta(seconds=after)
            s.add(
                Cdr(
                    call_uuid=call,
                    direction=Direction.INBOUND,
                    node="fs1",
                    from_number=callers[call],
                    queue=queue,
                    agent_extension=agent,
                    started_at=start,
                    answered_at=start,
                    ended_at=start + timedelta(seconds=talk),
                    talk_ms=talk * 1000,
                    hold_ms=hold * 1000,
                    hangup_cause="NORMAL_CLEARING",
                    hangup_by=HangupBy.CALLER,
                    disposition=Disposition.ANSWERED
                    if agent
                    else Disposition.ABANDONED
                    if call != "c8"
                    else Disposition.IVR_COMPLETED,
                )
            )
        call, agent, talk, hold, after = CALLBACK_CDR
        start = T0 + timedelta(seconds=after)
        s.add(Cdr(call_uuid=call, direction=Direction.OUTBOUND, node="fs1", from_number=agent,
                  to_number="15550008", queue="sales", agent_extension=agent,
                  started_at=start, answered_at=start, ended_at=start + timedelta(seconds=talk),
                  talk_ms=talk * 1000, hold_ms=hold * 1000,
                  hangup_cause="NORMAL_CLEARING", hangup_by=HangupBy.CALLER,
                  disposition=Disposition.ANSWERED))  # fmt: skip
        for after, status, state, reason in HISTORY:
            missed = reason == "missed"
            queue = reason if state == "wrap_up" else None
            s.add(AgentStatusChange(agent_id=a1.id, status=AgentStatus(status),
                                    state=AgentState(state),
                                    reason=None if missed or queue else reason,
                                    at=T0 + timedelta(seconds=after), missed=missed,
                                    queue=queue))  # fmt: skip

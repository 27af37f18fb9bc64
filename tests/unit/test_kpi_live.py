"""The live KPIs (callcenter.kpi.live) from the ACD's hooks and the event bus's events."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from callcenter.events.types import AgentStateChanged, AgentStatusChanged, CallEnded
from callcenter.kpi.live import Floor, LiveKpis, QueueKpiSpec
from callcenter.store.records import CdrRecord
from callcenter.vocabulary import Direction, Disposition, HangupBy


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def made() -> tuple[LiveKpis, CollectorRegistry, Clock]:
    registry, clock = CollectorRegistry(), Clock()
    kpis = LiveKpis(registry, pause_reasons={"lunch"}, clock=clock)
    kpis.queues_loaded({"sales": QueueKpiSpec(20, 5, "offered"), "idle": QueueKpiSpec()})
    kpis.floor = lambda: Floor(
        (("1001", "available", "idle", None), ("1002", "logged_out", "idle", None)),
        {"sales": ("1001",)},
    )
    return kpis, registry, clock


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_every_known_queue_and_agent_series_exists_at_zero_before_the_first_call() -> None:
    _kpis, registry, _ = made()
    assert value(registry, "callcenter_queue_offered_total", queue="idle") == 0
    assert value(registry, "callcenter_queue_exits_total", queue="idle", reason="timeout") == 0
    sl = value(registry, "callcenter_queue_service_level_ratio", queue="idle")
    assert sl is not None and math.isnan(sl)  # the series is there: no call to measure yet
    assert value(registry, "callcenter_queue_sl_formula_info", queue="sales",
                 formula="offered") == 1  # fmt: skip
    assert value(registry, "callcenter_agent_calls_total", agent="1002") == 0
    assert value(registry, "callcenter_agent_talk_seconds_total", agent="1001") == 0


def test_stays_give_service_level_abandons_and_exits() -> None:
    kpis, registry, _ = made()
    for outcome, wait in [("answered", 10), ("answered", 20), ("answered", 30),
                          ("abandoned", 2), ("abandoned", 20), ("overflow", 60),
                          ("callback", 5)]:  # fmt: skip
        kpis.stay_closed("sales", outcome, wait)
    kpis.stay_closed("gone", "answered", 1)  # a queue not (or no longer) known: not shown
    # offered 7, short 1: SL = 2 answered within T / (7 - 1)
    assert value(registry, "callcenter_queue_service_level_ratio", queue="sales") == \
        pytest.approx(2 / 6)  # fmt: skip
    assert value(registry, "callcenter_queue_short_abandoned_total", queue="sales") == 1
    assert value(registry, "callcenter_queue_exits_total", queue="sales", reason="overflow") == 1
    assert value(registry, "callcenter_queue_callbacks_total", queue="sales") == 1
    assert value(registry, "callcenter_queue_asa_seconds", queue="sales") == pytest.approx(20)
    assert value(registry, "callcenter_queue_wait_p90_seconds", queue="sales") == 60
    assert value(registry, "callcenter_queue_abandon_rate_ratio", queue="sales") == \
        pytest.approx(1 / 6)  # fmt: skip
    assert value(registry, "callcenter_queue_offered_total", queue="gone") is None


def test_a_callbacks_stay_counts_as_a_callback_not_an_exit() -> None:
    # a stay that kept its place ends with its callback: it was counted an exit by reason
    # "callback_answered" (docs/kpis.md lists no such reason), and callbacks stayed at 0
    kpis, registry, _ = made()
    for outcome in ("callback_answered", "callback_failed"):
        kpis.stay_closed("sales", outcome, 600)
    assert value(registry, "callcenter_queue_callbacks_total", queue="sales") == 2
    for reason in ("callback_answered", "callback_failed"):
        assert value(registry, "callcenter_queue_exits_total", queue="sales",
                     reason=reason) in (None, 0)  # fmt: skip


def _cdr(agent: str | None, queue: str | None = "sales") -> CdrRecord:
    start = at(0)
    return CdrRecord(call_uuid="c1", direction=Direction.INBOUND, node="fs1", started_at=start,
                     ended_at=start, hangup_cause="NORMAL_CLEARING", hangup_by=HangupBy.CALLER,
                     disposition=Disposition.ANSWERED, queue=queue, agent_extension=agent,
                     talk_ms=100_000, hold_ms=10_000, wrapup_ms=20_000)  # fmt: skip


def test_call_ends_give_aht_and_the_agent_counters() -> None:
    kpis, registry, clock = made()
    kpis.floor = lambda: Floor(  # the board as told
        tuple((x, a.status, a.state, a.reason) for x, a in kpis.agents.items()),
        {"sales": ("1001",)},
    )
    end = {"disposition": "answered", "hangup_cause": "NORMAL_CLEARING", "hangup_by": "caller"}

    def moved(seconds: float, status: str, state: str, queue: str | None = None) -> None:
        kpis.on_event(AgentStateChanged(agent_extension="1001", status=status, state=state,
                                        at=at(seconds), queue=queue))  # fmt: skip

    moved(0, "available", "in_call")
    kpis.on_event(CallEnded(**end, cdr=_cdr("1001")))  # its wrapup_ms is not read: it follows
    kpis.on_event(CallEnded(**end, cdr=_cdr(None)))  # nobody answered: not handled
    moved(100, "available", "wrap_up", "sales")
    moved(112, "paused", "wrap_up", "sales")  # paused in the wrap-up: still the queue's
    clock.now = 115
    kpis.sync()  # a look in the wrap-up: counted so far
    assert value(registry, "callcenter_agent_wrapup_seconds_total", agent="1001") == 15
    moved(120, "paused", "idle")
    assert value(registry, "callcenter_queue_aht_seconds", queue="sales") == pytest.approx(130)
    assert value(registry, "callcenter_queue_handle_seconds_total", queue="sales") == 130
    assert value(registry, "callcenter_agent_calls_total", agent="1001") == 1
    assert value(registry, "callcenter_agent_talk_seconds_total", agent="1001") == 100
    assert value(registry, "callcenter_agent_wrapup_seconds_total", agent="1001") == 20
    moved(200, "available", "wrap_up")  # after a call of no queue (a campaign's): the agent's
    moved(205, "logged_out", "wrap_up")  # a logout ends it
    moved(300, "logged_out", "idle")
    assert value(registry, "callcenter_agent_wrapup_seconds_total", agent="1001") == 25
    assert value(registry, "callcenter_queue_handle_seconds_total", queue="sales") == 130


def test_agent_time_occupancy_ring_no_answer_and_pauses_by_reason() -> None:
    kpis, registry, clock = made()

    def moved(seconds: float, status: str, state: str, missed: bool = False) -> None:
        kpis.on_event(AgentStateChanged(agent_extension="1001", status=status, state=state,
                                        at=at(seconds), missed=missed))  # fmt: skip

    moved(1000, "available", "idle")
    moved(1100, "available", "offering")
    moved(1110, "available", "idle", missed=True)  # rang, not answered
    moved(1115, "available", "offering")
    moved(1116, "available", "idle")  # the caller hung up while it rang: not the agent's
    moved(1120, "available", "offering")
    moved(1125, "available", "in_call")
    moved(1425, "available", "wrap_up")
    moved(1445, "paused", "idle")
    kpis.on_event(AgentStatusChanged(agent_extension="1001", status="paused", reason="lunch"))
    clock.now = 1545  # paused 100 s so far
    assert value(registry, "callcenter_agent_ring_no_answer_total", agent="1001") == 1
    # handling 320 s (in call 300 + wrap-up 20); available idle 125 s (ringing included)
    assert value(registry, "callcenter_agent_occupancy_ratio", agent="1001") == \
        pytest.approx(320 / 445)  # fmt: skip
    assert value(registry, "callcenter_queue_occupancy_ratio", queue="sales") == \
        pytest.approx(320 / 445)  # fmt: skip
    assert value(registry, "callcenter_agent_pause_seconds_total", agent="1001",
                 reason="lunch") == pytest.approx(100)  # fmt: skip
    assert value(registry, "callcenter_agent_logged_in_seconds_total", agent="1001") == \
        pytest.approx(545)  # fmt: skip
    # the board is the truth: it says available (an operator's change sends no event)
    found = value(registry, "callcenter_queue_agents", queue="sales", status="available",
                  state="idle")  # fmt: skip
    assert found == 1
    row = kpis.agent_figures()[0]
    assert row["agent"] == "1001" and row["pause_seconds"] == {"lunch": pytest.approx(100)}

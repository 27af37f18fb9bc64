"""A campaign's runner decides again at once when one of its agents frees or one of its lines
ends, as the bench's pacer does, at most once per ``REDECIDE`` (its own inbox and clock; the
decision itself is recorded, not made)."""

from __future__ import annotations

import time
from dataclasses import replace
from types import SimpleNamespace
from typing import cast

import gevent

from callcenter.dialer import pacing
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.runner import (
    BROADCAST_LINES,
    REDECIDE,
    AgentFreed,
    AgentsView,
    CampaignRunner,
    Dialer,
    DialerClock,
    Line,
    LineDone,
    LineUp,
)
from callcenter.dialer.vocabulary import CampaignMode
from callcenter.events.types import AgentStateChanged, CallCreated
from tests.unit.dialer.test_runtime import spec

SCALE = 1.0  # the runner's clock: the wall's (REDECIDE: 0.5 s)


def _runner(agents: tuple[str, ...] = ("a",)) -> tuple[Dialer, CampaignRunner, list[float]]:
    dialer = cast(Dialer, SimpleNamespace(clock=DialerClock(SCALE), runners={}))
    runner = CampaignRunner("c1", dialer)
    runner.spec = spec(agents=agents, queue=None)
    dialer.runners["c1"] = runner
    decided: list[float] = []

    def between() -> None:
        runner._decided = time.monotonic()
        decided.append(runner._decided)

    runner._between = between  # type: ignore[method-assign]
    return dialer, runner, decided


def _freed(agent: str, state: str = "idle", status: str = "available") -> AgentStateChanged:
    return AgentStateChanged(agent_extension=agent, state=state, status=status)


def test_only_its_agents_becoming_free_wake_a_runner() -> None:
    dialer, runner, _ = _runner()
    Dialer.on_event(dialer, _freed("b"))  # not the campaign's
    Dialer.on_event(dialer, _freed("a", state="in_call"))
    Dialer.on_event(dialer, _freed("a", state="wrap_up"))
    Dialer.on_event(dialer, _freed("a", status="paused"))
    Dialer.on_event(dialer, CallCreated(agent_extension="a"))
    assert runner.inbox.empty()
    Dialer.on_event(dialer, _freed("a"))
    assert runner.inbox.get_nowait() == AgentFreed("a")
    _, by_queue, _ = _runner(agents=())
    Dialer.on_event(cast(Dialer, SimpleNamespace(runners={"q": by_queue})), _freed("z"))
    assert by_queue.inbox.get_nowait() == AgentFreed("z")  # a queue's members: any agent


def test_an_agent_freed_or_a_line_ended_decides_at_once_then_at_most_every_redecide() -> None:
    _, runner, decided = _runner()
    wall = DialerClock(SCALE).wall(REDECIDE)
    runner._decided = time.monotonic() - 1.0  # the tick's decision, a while ago
    runner.inbox.put(LineUp("x"))  # an answer places nothing
    gevent.spawn_later(0.02, runner.inbox.put, AgentFreed("a"))
    gevent.spawn_later(0.03, runner.inbox.put, LineDone("y", Outcome.BUSY))
    gevent.spawn_later(0.04, runner.inbox.put, AgentFreed("a"))
    started = time.monotonic()
    runner._drain(1.0)
    assert len(decided) == 2, decided
    assert decided[0] - started < 0.02 + wall / 2  # at once, not after REDECIDE
    assert decided[1] - decided[0] >= wall  # the two later news: one decision, REDECIDE on
    assert runner.measuring.dials == 1  # the line's end counted


def test_no_news_no_decision_between_ticks() -> None:
    _, runner, decided = _runner()
    runner.inbox.put(LineUp("x"))
    started = time.monotonic()
    runner._drain(0.1)
    assert decided == [] and time.monotonic() - started >= 0.1


def test_a_preview_offers_no_more_leads_at_once_than_the_campaigns_max_lines() -> None:
    # a preview offered one lead per free agent whatever the campaign's cap
    view = AgentsView(free=("a", "b", "c"), busy_by=(), wrapping_by=())
    runner = _deciding(view)
    capped = spec(agents=view.free, queue=None, mode=CampaignMode.PREVIEW,
                  limits=pacing.Limits(3.0, 2))  # fmt: skip
    assert runner._decide(capped, whole=False)[0] == 2
    runner.lines["x"] = Line(1, "+12125550100", 0.0, agent="a")  # an offer out, to a
    assert runner._decide(capped, whole=False) == (1, ["b", "c"])
    uncapped = replace(capped, limits=pacing.Limits(3.0, None))
    assert runner._decide(uncapped, whole=False) == (2, ["b", "c"])  # one per free agent


def test_a_broadcast_without_max_lines_places_broadcast_lines_at_a_time() -> None:
    # it placed one line at a time: max_lines or 1
    runner = _deciding(AgentsView(free=(), busy_by=(), wrapping_by=()))
    broadcast = spec(queue=None, mode=CampaignMode.BROADCAST, flow="f")
    assert runner._decide(broadcast, whole=False)[0] == BROADCAST_LINES == 10
    runner.lines["x"] = Line(1, "+12125550100", 0.0)
    assert runner._decide(broadcast, whole=False)[0] == 9
    capped = replace(broadcast, limits=pacing.Limits(3.0, 2))
    assert runner._decide(capped, whole=False)[0] == 1


def _deciding(view: AgentsView) -> CampaignRunner:
    """A runner whose dispatcher reads ``view`` (its ``_decide`` called directly)."""
    dispatcher = SimpleNamespace(read=lambda _: view)
    dialer = SimpleNamespace(clock=DialerClock(SCALE), runners={}, dispatcher=dispatcher)
    return CampaignRunner("c1", cast(Dialer, dialer))

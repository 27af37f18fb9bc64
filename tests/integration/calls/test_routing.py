"""Routing on the simulator over real TCP and PostgreSQL: each strategy picks its agent for a
real call, and each exit sends the caller to the overflow target with its own outcome."""

from __future__ import annotations

from typing import Any

import pytest

from callcenter.app import App
from callcenter.services import queues as queue_service
from callcenter.services.actor import Actor
from callcenter.services.queues import QueueSettings
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.repos import AgentRepository, QueueRepository
from callcenter.store.repos.acd_state import AcdStateRepository
from callcenter.vocabulary import AgentStatus, QueueOutcome, QueueStrategy, RouteTarget
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import add_route, apps_sent, settled, wait_cdr
from tests.integration.calls.test_queues import MOH, entries, originates
from tests.support import until

S = QueueStrategy
OVERFLOW = "playback:tone_stream://%(500,0,620)"
WHO = Actor("cli", "test")


def setup(
    app: App,
    name: str,
    members: list[tuple[str, int, int]],
    *,
    did: str,
    status: AgentStatus = AgentStatus.AVAILABLE,
    routing: dict[str, Any] | None = None,
    **settings: Any,
) -> None:
    """A queue with members (extension, tier, position), its routing rules set through the
    service as an operator would, and a DID routed to it."""
    with app.database.session_scope() as session:
        agents, queues = AgentRepository(session), QueueRepository(session)
        queues.add(name, music_on_hold=MOH, agent_ring_seconds=3)
        known = {a.extension for a in agents.all()}
        for ext, tier, position in members:
            if ext not in known:
                agents.add(ext, f"Agent {ext}", wrapup_seconds=0, skills={"en": 5})
            agents.set_status(ext, status)
            queues.add_member(name, ext, tier=tier, position=position)
    if routing or settings:
        queue_service.update(app.database, WHO, name, QueueSettings(routing=routing, **settings))
    add_route(app, did, RouteTarget.QUEUE, name)
    app.dispatcher.request_reload()
    exts = {ext for ext, _, _ in members}
    until(lambda: name in app.dispatcher.board.queues and exts <= set(app.dispatcher.board.agents))
    until(lambda: app.connections["fs1"].connected)


def first_rung(sim: Simulator, exts: set[str]) -> list[str]:
    return [e for line in originates(sim) for e in sorted(exts) if f"user/{e}@" in line]


# each: strategy, the members' (tier, position, board attributes), who is rung first
CASES = [
    (S.RING_ALL, {"a": (1, 1, {}), "b": (1, 2, {}), "c": (2, 1, {})}, {"a", "b"}),
    (S.LONGEST_IDLE, {"a": (1, 1, {"idle_since": 5.0}), "b": (1, 2, {"idle_since": 1.0})}, {"b"}),
    (S.ROUND_ROBIN, {"a": (1, 1, {}), "b": (1, 2, {})}, {"b"}),
    (S.TOP_DOWN, {"a": (1, 1, {}), "b": (1, 2, {})}, {"a"}),
    (S.LEAST_TALK_TIME, {"a": (1, 1, {"talk_seconds": 50.0}), "b": (1, 2, {})}, {"b"}),
    (S.FEWEST_CALLS, {"a": (1, 1, {"calls_answered": 4}), "b": (1, 2, {})}, {"b"}),
    (S.SEQUENTIALLY_BY_AGENT_ORDER, {"a": (1, 2, {}), "b": (1, 1, {})}, {"b"}),
    (S.RANDOM, {"a": (1, 1, {}), "b": (1, 2, {}), "c": (2, 1, {})}, {"a", "b"}),
    (S.RING_PROGRESSIVELY, {"a": (1, 2, {}), "b": (1, 1, {})}, {"b"}),
    (S.RRMEMORY, {"a": (1, 1, {}), "b": (1, 2, {}), "c": (1, 3, {})}, {"c"}),
    (S.LINEAR, {"a": (1, 2, {}), "b": (1, 1, {})}, {"b"}),
    (S.WRANDOM, {"a": (1, 1, {}), "b": (1, 2, {})}, {"a", "b"}),
    (S.SKILLS_BASED, {"a": (1, 1, {"skills": {"en": 2}}), "b": (1, 2, {"skills": {"en": 9}})},
     {"b"}),
]  # fmt: skip


@pytest.mark.parametrize(("strategy", "members", "first"), CASES, ids=[c[0].value for c in CASES])
def test_each_strategy_rings_its_agent_first(
    sim: Simulator,
    engine: EngineFactory,
    strategy: QueueStrategy,
    members: dict[str, tuple[int, int, dict[str, Any]]],
    first: set[str],
) -> None:
    app = engine()
    n = list(QueueStrategy).index(strategy)
    exts = {name: f"3{n:02d}{i}" for i, name in enumerate(members)}
    for name, ext in exts.items():
        sim.register_agent(ext, AgentBehaviour(answer_delay=0.3 if name in first else 5.0))
    layout = [(exts[k], tier, pos) for k, (tier, pos, _) in members.items()]
    setup(app, f"s{n}", layout, did=f"83{n:02d}", strategy=str(strategy))
    board = app.dispatcher.board
    for name, (_, _, attributes) in members.items():
        for key, value in attributes.items():
            setattr(board.agents[exts[name]], key, value)
    if strategy in (S.ROUND_ROBIN, S.RRMEMORY):
        board.last_offered[f"s{n}"] = exts["a"] if strategy is S.ROUND_ROBIN else exts["b"]
    uuid = sim.place_call(f"83{n:02d}", "15550300", behaviour=CallerBehaviour(talk_time=0.5))
    cdr = wait_cdr(app, uuid, 20)
    wanted = {exts[k] for k in first}
    rung = first_rung(sim, set(exts.values()))
    assert rung and rung[0] in wanted, (rung, wanted)
    if strategy is S.RING_ALL:
        assert set(rung) == wanted  # tier 2 is not rung with tier 1
    assert cdr.agent_extension in wanted
    [entry] = entries(app, f"s{n}")
    assert entry.outcome is QueueOutcome.ANSWERED
    until(lambda: settled(app))


def test_round_robin_place_and_call_counters_survive_a_restart(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    for ext in ("3501", "3502", "3503"):
        sim.register_agent(ext, AgentBehaviour(answer_delay=0.2))
    layout = [("3501", 1, 1), ("3502", 1, 2), ("3503", 1, 3)]
    setup(first, "rr", layout, did="8350", strategy="round-robin")  # mod_callcenter's name
    uuid = sim.place_call("8350", "15550350", behaviour=CallerBehaviour(talk_time=0.3))
    assert wait_cdr(first, uuid).agent_extension == "3501"
    until(lambda: settled(first))
    first.stop("restart")
    with first.database.session_scope() as session:
        counters = {(c.scope, c.name): c.data for c in AcdStateRepository(session).counters()}
    assert counters[("queue", "rr")] == {"last_offered": "3501"}
    assert counters[("agent", "3501")]["calls_answered"] == 1
    second = engine()
    until(lambda: "rr" in second.dispatcher.board.queues)
    until(lambda: second.dispatcher.board.agents["3501"].calls_answered == 1)
    uuid = sim.place_call("8350", "15550351", behaviour=CallerBehaviour(talk_time=0.3))
    assert wait_cdr(second, uuid).agent_extension == "3502"  # not 3501 again
    until(lambda: settled(second))


def _overflowed(sim: Simulator, uuid: str) -> bool:
    return "playback tone_stream://%(500,0,620)" in apps_sent(sim, uuid)


def test_max_wait_with_no_agent_logged_in_exits_as_no_agent(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    setup(
        app, "empty", [("3601", 1, 1)], did="8360", status=AgentStatus.LOGGED_OUT,
        routing={"max_wait_no_agent_seconds": 1, "no_agent_grace_seconds": 1},
        overflow_target=OVERFLOW,
    )  # fmt: skip
    uuid = sim.place_call("8360", "15550360")
    wait_cdr(app, uuid)
    assert _overflowed(sim, uuid)
    [entry] = entries(app, "empty")
    assert entry.outcome is QueueOutcome.NO_AGENT and entry.reason == "max_wait_no_agent"
    until(lambda: settled(app))


def test_leave_when_empty_sends_waiting_callers_away(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup(
        app, "leaving", [("3611", 1, 1)], did="8361", status=AgentStatus.PAUSED,
        routing={"leave_empty": "unavailable"}, overflow_target=OVERFLOW,
    )  # fmt: skip
    uuid = sim.place_call("8361", "15550361", behaviour=CallerBehaviour(patience=60))
    until(lambda: len(app.dispatcher.board.waiting("leaving")) == 1)
    with app.database.session_scope() as session:
        AgentRepository(session).set_status("3611", AgentStatus.LOGGED_OUT)
    app.dispatcher.agent_changed("3611")
    wait_cdr(app, uuid)
    assert _overflowed(sim, uuid)
    [entry] = entries(app, "leaving")
    assert entry.outcome is QueueOutcome.NO_AGENT and entry.reason == "leave_empty"
    until(lambda: settled(app))


def test_join_empty_refuses_and_records_no_agent(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup(
        app, "closed", [("3621", 1, 1)], did="8362", status=AgentStatus.PAUSED,
        routing={"join_empty": "paused,unavailable"}, overflow_target=OVERFLOW,
    )  # fmt: skip
    uuid = sim.place_call("8362", "15550362")
    wait_cdr(app, uuid)
    assert _overflowed(sim, uuid)
    [entry] = entries(app, "closed")
    assert entry.outcome is QueueOutcome.NO_AGENT and entry.reason == "join_empty"
    until(lambda: settled(app))


def test_full_queue_records_full_and_overflows(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup(
        app, "small", [("3631", 1, 1)], did="8363", status=AgentStatus.PAUSED,
        max_callers=1, overflow_target=OVERFLOW,
    )  # fmt: skip
    waiting = sim.place_call("8363", "15550363", behaviour=CallerBehaviour(patience=60))
    until(lambda: len(app.dispatcher.board.waiting("small")) == 1)
    refused = sim.place_call("8363", "15550364")
    wait_cdr(app, refused)
    assert _overflowed(sim, refused)
    sim.hangup(waiting)
    wait_cdr(app, waiting)
    outcomes = sorted(str(e.outcome) for e in entries(app, "small"))
    assert outcomes == ["abandoned", "full"]
    until(lambda: settled(app))


def test_max_wait_times_out_to_the_overflow(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup(
        app, "slow", [("3641", 1, 1)], did="8364", status=AgentStatus.PAUSED,
        max_wait_seconds=1, overflow_target=OVERFLOW,
    )  # fmt: skip
    uuid = sim.place_call("8364", "15550365")
    wait_cdr(app, uuid)
    assert _overflowed(sim, uuid)
    [entry] = entries(app, "slow")
    assert entry.outcome is QueueOutcome.TIMEOUT
    until(lambda: settled(app))


def test_relaxation_gives_the_caller_a_weaker_agent_after_a_while(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("3651", AgentBehaviour(answer_delay=0.2))
    setup(
        app, "relaxed", [("3651", 1, 1)], did="8365",
        routing={"relax": "after 2s: en >= 5"},
    )  # fmt: skip
    with app.database.session_scope() as session:
        QueueRepository(session).require_skill("relaxed", "en", 9)  # 3651 has en 5
    app.dispatcher.queue_changed("relaxed")
    until(lambda: app.dispatcher.board.queues["relaxed"].required_skills == {"en": 9})
    uuid = sim.place_call("8365", "15550366", behaviour=CallerBehaviour(talk_time=0.3))
    cdr = wait_cdr(app, uuid, 20)
    assert cdr.agent_extension == "3651" and cdr.queue_wait_ms >= 2000
    until(lambda: settled(app))


def test_an_agent_override_of_the_failure_policy_pauses_it_sooner(
    sim: Simulator, engine: EngineFactory
) -> None:
    from callcenter.services import agents as agent_service

    app = engine()
    sim.register_agent("3661", AgentBehaviour(no_answer=True))
    setup(app, "strict", [("3661", 1, 1)], did="8366", routing={"pause_reason": "missed"})
    agent_service.set_failure_policy(app.database, WHO, "3661", {"max_no_answer": 1})
    app.dispatcher.agent_changed("3661")
    until(lambda: app.dispatcher.board.agents["3661"].failure == {"max_no_answer": 1})
    uuid = sim.place_call("8366", "15550367", behaviour=CallerBehaviour(patience=30))
    until(lambda: app.dispatcher.board.agents["3661"].status is AgentStatus.PAUSED, timeout=15)
    sim.hangup(uuid)
    wait_cdr(app, uuid)
    app.writer.flush()
    with app.database.session_scope() as session:
        record = AgentRepository(session).get("3661")
    assert (record.status, record.pause_reason) == (AgentStatus.PAUSED, "missed")
    until(lambda: settled(app))


def test_the_exit_key_sends_the_caller_to_its_target(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup(
        app, "keyed", [("3671", 1, 1)], did="8367", status=AgentStatus.PAUSED,
        routing={"exit_key": "0", "exit_target": OVERFLOW}, overflow_target="hangup:USER_BUSY",
    )  # fmt: skip
    uuid = sim.place_call("8367", "15550368", behaviour=CallerBehaviour(patience=60))
    until(lambda: len(app.dispatcher.board.waiting("keyed")) == 1)
    sim.send_dtmf(uuid, "5")  # not the exit key: the caller stays
    sim.send_dtmf(uuid, "0")
    cdr = wait_cdr(app, uuid)
    assert _overflowed(sim, uuid), (apps_sent(sim, uuid), entries(app, "keyed"), cdr)
    assert cdr.hangup_cause == "NORMAL_CLEARING"
    [entry] = entries(app, "keyed")
    assert entry.outcome is QueueOutcome.EXIT_KEY and entry.reason == "exit_key"
    until(lambda: settled(app))


def test_an_overflowed_caller_keeps_its_place_from_the_first_queue(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    setup(app, "second", [("3681", 1, 1)], did="8369", status=AgentStatus.PAUSED)
    setup(
        app, "first", [("3682", 1, 1)], did="8368", status=AgentStatus.PAUSED,
        max_wait_seconds=2, overflow_target="queue:second",
    )  # fmt: skip
    patient = CallerBehaviour(patience=60)
    moved = sim.place_call("8368", "15550369", behaviour=patient)  # enters "first"
    until(lambda: len(app.dispatcher.board.waiting("first")) == 1)
    direct = sim.place_call("8369", "15550370", behaviour=patient)  # enters "second" later
    until(lambda: len(app.dispatcher.board.waiting("second")) == 1)
    until(lambda: len(app.dispatcher.board.waiting("second")) == 2, timeout=10)
    order = [t.call_uuid for t in app.dispatcher.board.waiting("second")]
    assert order == [moved, direct]  # time counts from the first queue it entered
    sim.hangup(moved)
    sim.hangup(direct)
    wait_cdr(app, moved)
    wait_cdr(app, direct)
    outcomes = {str(e.outcome) for e in entries(app, "first")}
    assert outcomes == {"timeout"}
    until(lambda: settled(app))

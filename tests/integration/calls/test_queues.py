"""Calls through ACD queues: the simulator over real TCP, the dispatcher, PostgreSQL."""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gevent
import pytest
from sqlalchemy.engine import make_url

from callcenter.acd.board import Member
from callcenter.acd.dispatcher import RETRY_LOAD_SECONDS
from callcenter.acd.music import MUSIC_FALLBACK, MUSIC_FALLBACK_AFTER
from callcenter.acd.on_call import PARK_MARGIN
from callcenter.app import App
from callcenter.services import queues as queue_service
from callcenter.services.actor import Actor
from callcenter.sim import apps as sim_apps
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.sim.tcpcut import TcpCut
from callcenter.store.records import QueueEntryRecord, QueueStayRecord
from callcenter.store.repos import AgentRepository, QueueRepository
from callcenter.vocabulary import (
    AgentState,
    AgentStatus,
    Disposition,
    HangupBy,
    QueueOutcome,
    QueueStrategy,
    RouteTarget,
)
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import (
    add_route,
    apps_sent,
    caller_leaves_before_the_bridge,
    settled,
    wait_cdr,
)
from tests.support import until

MOH = "tone_stream://%(1000,4000,350);loops=-1"


def setup_queue(
    app: App,
    name: str,
    agents: dict[str, dict[str, int]],
    *,
    did: str,
    status: AgentStatus = AgentStatus.AVAILABLE,
    **fields: Any,
) -> None:
    """A queue with these agents (extension -> skills), logged in, and a DID routed to it."""
    fields = {"music_on_hold": MOH, "agent_ring_seconds": 5, **fields}
    with app.database.session_scope() as session:
        agent_repo, queues = AgentRepository(session), QueueRepository(session)
        queues.add(name, **fields)
        for ext, skills in agents.items():
            if ext not in {a.extension for a in agent_repo.all()}:
                agent_repo.add(ext, f"Agent {ext}", wrapup_seconds=1, skills=skills)
            agent_repo.set_status(ext, status)
            queues.add_member(name, ext)
    add_route(app, did, RouteTarget.QUEUE, name)
    app.dispatcher.request_reload()
    until(
        lambda: (
            name in app.dispatcher.board.queues and set(agents) <= set(app.dispatcher.board.agents)
        )
    )
    until(lambda: app.connections["fs1"].connected)


def entries(app: App, queue: str) -> list[QueueEntryRecord]:
    app.writer.flush()
    with app.database.session_scope() as session:
        return QueueRepository(session).entries(queue)


def first_stay(app: App, queue: str) -> QueueEntryRecord | None:
    """The queue's first stay as stored, or None before its writer batch (an ``until``
    reading ``entries(...)[0]`` raised IndexError at once instead of waiting)."""
    rows = entries(app, queue)
    return rows[0] if rows else None


def agent_state(app: App, ext: str) -> tuple[AgentStatus, AgentState]:
    app.writer.flush()
    with app.database.session_scope() as session:
        record = AgentRepository(session).get(ext)
    return record.status, record.state


def originates(sim: Simulator) -> list[str]:
    return [c.line for c in sim.core.commands if "originate" in c.line]


def test_caller_waits_with_music_then_an_agent_answers(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("2001", AgentBehaviour(answer_delay=1.0))
    setup_queue(app, "sales", {"2001": {}}, did="8001")
    uuid = sim.place_call("8001", "15550001", behaviour=CallerBehaviour(talk_time=2.0))
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.ANSWERED
    assert (cdr.queue, cdr.agent_extension) == ("sales", "2001")
    assert cdr.queue_wait_ms > 0
    sent = apps_sent(sim, uuid)
    assert sent[:2] == ["answer ", f"playback {MOH}"]
    assert any("cc_queue=sales" in line and "user/2001@" in line for line in originates(sim))
    [entry] = entries(app, "sales")
    assert entry.outcome is QueueOutcome.ANSWERED and entry.agent_extension == "2001"
    assert entry.offers == 1 and entry.answered_at is not None and entry.left_at is not None
    # wrap-up (1 s), then the agent is idle and available again
    until(lambda: agent_state(app, "2001") == (AgentStatus.AVAILABLE, AgentState.IDLE))
    with app.database.session_scope() as session:
        states = [h.state for h in AgentRepository(session).history("2001")]
    assert {AgentState.OFFERING, AgentState.IN_CALL, AgentState.WRAP_UP} <= set(states)
    until(lambda: settled(app))


def test_the_music_and_the_ring_go_out_behind_the_answer_not_after_it(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A queued caller's answer is not waited for: its place on the channel, the music and
    the agent's ring are written right behind it (their replies come back in one read), and
    FreeSWITCH runs the music after the answer. An answer that takes half a second: the
    agent is rung before the caller is answered, and the call goes on as any other."""
    answer, answered = sim_apps.APPS["answer"], []

    def slow_answer(session: Any, arg: str) -> str:
        gevent.sleep(0.5)
        answered.append(time.time())
        return answer(session, arg)

    monkeypatch.setitem(sim_apps.APPS, "answer", slow_answer)
    app = engine()
    sim.register_agent("2291", AgentBehaviour(answer_delay=1.0))
    setup_queue(app, "overlap", {"2291": {}}, did="8091")
    uuid = sim.place_call("8091", "15550091", behaviour=CallerBehaviour(talk_time=1.0))
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.ANSWERED and cdr.agent_extension == "2291"
    assert apps_sent(sim, uuid)[:2] == ["answer ", f"playback {MOH}"]
    [rung] = [c.at for c in sim.core.commands if "user/2291@" in c.line]
    assert rung < answered[0]
    until(lambda: settled(app))


def test_no_answer_goes_to_the_next_agent_and_rests_the_first(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("2011", AgentBehaviour(no_answer=True))
    sim.register_agent("2012", AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "support", {"2011": {}, "2012": {}}, did="8002", agent_ring_seconds=2)
    board = app.dispatcher.board
    board.agents["2011"].idle_since = -1e9  # longest idle: offered first
    uuid = sim.place_call("8002", "15550002", behaviour=CallerBehaviour(talk_time=1.0))
    cdr = wait_cdr(app, uuid)
    assert cdr.agent_extension == "2012" and cdr.disposition is Disposition.ANSWERED
    dialled = [line for line in originates(sim) if "user/201" in line]
    assert ["user/2011@" in dialled[0], "user/2012@" in dialled[1]] == [True, True]
    assert board.agents["2011"].failed_offers == 1
    assert board.agents["2011"].ready_at > board.agents["2012"].ready_at - 1  # resting
    [entry] = entries(app, "support")
    assert entry.offers == 2
    until(lambda: settled(app))


def test_caller_hangs_up_while_waiting_is_abandoned(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup_queue(app, "empty", {"2021": {}}, did="8003", status=AgentStatus.PAUSED)
    uuid = sim.place_call("8003", "15550003", behaviour=CallerBehaviour(patience=20.0))
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.ABANDONED and cdr.hangup_by is HangupBy.CALLER
    assert cdr.queue == "empty" and cdr.queue_wait_ms > 0
    [entry] = entries(app, "empty")
    assert entry.outcome is QueueOutcome.ABANDONED and entry.offers == 0
    assert not [c for c in sim.core.commands if c.line.startswith("originate")]
    until(lambda: settled(app))


def test_caller_hangs_up_while_the_agent_rings(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("2031", AgentBehaviour(no_answer=True))
    setup_queue(app, "ringing", {"2031": {}}, did="8004", agent_ring_seconds=30)
    uuid = sim.place_call("8004", "15550004", behaviour=CallerBehaviour(patience=20.0))
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.ABANDONED
    slot = app.dispatcher.board.agents["2031"]
    until(lambda: slot.state is AgentState.IDLE)
    assert slot.failed_offers == 0  # the caller left: not the agent's fault
    until(lambda: not [s for s in sim.core.sessions.values() if not s.chan.gone])
    until(lambda: settled(app))


def test_max_wait_sends_the_caller_to_the_overflow_target(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    overflow = "playback:tone_stream://%(500,0,620)"
    setup_queue(
        app, "night", {"2041": {}}, did="8005", status=AgentStatus.LOGGED_OUT,
        max_wait_seconds=1, overflow_target=overflow,
    )  # fmt: skip
    uuid = sim.place_call("8005", "15550005")
    cdr = wait_cdr(app, uuid)
    assert cdr.hangup_by is HangupBy.SYSTEM
    assert apps_sent(sim, uuid)[-2:] == [
        "playback tone_stream://%(500,0,620)",
        "hangup NORMAL_CLEARING",
    ]
    [entry] = entries(app, "night")
    assert entry.outcome is QueueOutcome.TIMEOUT and entry.reason == "max_wait_seconds"
    until(lambda: settled(app))


def test_full_queue_overflows_at_once(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup_queue(
        app, "tiny", {"2051": {}}, did="8006", status=AgentStatus.PAUSED, max_callers=1,
        overflow_target="hangup:USER_BUSY",
    )  # fmt: skip
    first = sim.place_call("8006", "15550061", behaviour=CallerBehaviour(patience=200.0))
    until(lambda: len(app.dispatcher.board.waiting("tiny")) == 1)
    second = sim.place_call("8006", "15550062")
    cdr = wait_cdr(app, second)
    assert cdr.hangup_cause == "USER_BUSY" and cdr.answered_at is None
    sim.hangup(first)
    wait_cdr(app, first)
    until(lambda: settled(app))


def test_higher_priority_and_skills_are_served_first(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("2061", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "vip", {"2061": {"fr": 5}}, did="8007", status=AgentStatus.PAUSED)
    board = app.dispatcher.board
    talk = CallerBehaviour(talk_time=0.5, patience=60)
    plain = sim.place_call("8007", "15550071", behaviour=talk)
    until(lambda: len(board.waiting("vip")) == 1)
    # the same queue entered with a higher priority, as an IVR queue node does
    vip_uuid = _enter_queue(app, sim, "vip", priority=9, behaviour=talk)
    until(lambda: len(board.waiting("vip")) == 2)
    assert [t.call_uuid for t in board.waiting("vip")] == [vip_uuid, plain]
    _set_status(app, "2061", AgentStatus.AVAILABLE)
    vip_cdr, plain_cdr = wait_cdr(app, vip_uuid, 20), wait_cdr(app, plain, 20)
    assert vip_cdr.agent_extension == plain_cdr.agent_extension == "2061"
    assert vip_cdr.queue_wait_ms < plain_cdr.queue_wait_ms
    until(lambda: settled(app))


def test_ring_all_rings_every_free_agent_and_cancels_the_losers(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("2071", AgentBehaviour(answer_delay=0.3))
    sim.register_agent("2072", AgentBehaviour(answer_delay=5.0))
    setup_queue(app, "all", {"2071": {}, "2072": {}}, did="8008", strategy=QueueStrategy.RING_ALL)
    uuid = sim.place_call("8008", "15550008", behaviour=CallerBehaviour(talk_time=1.0))
    cdr = wait_cdr(app, uuid)
    assert cdr.agent_extension == "2071"
    lines = originates(sim)
    assert any("user/2071@" in line for line in lines) and any(
        "user/2072@" in line for line in lines
    )
    loser = [leg for leg in cdr.legs if leg.agent_extension == "2072"]
    assert loser and loser[0].hangup_cause in ("LOSE_RACE", "ORIGINATOR_CANCEL")
    until(lambda: app.dispatcher.board.agents["2072"].state is AgentState.IDLE)
    assert app.dispatcher.board.agents["2072"].failed_offers == 0
    until(lambda: settled(app))


def test_unregistered_phone_is_skipped(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    sim.register_agent("2081", AgentBehaviour(registered=False))
    sim.register_agent("2082", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "reg", {"2081": {}, "2082": {}}, did="8009")
    app.dispatcher.board.agents["2081"].idle_since = -1e9
    uuid = sim.place_call("8009", "15550009", behaviour=CallerBehaviour(talk_time=0.5))
    cdr = wait_cdr(app, uuid)
    assert cdr.agent_extension == "2082"
    assert app.dispatcher.board.agents["2081"].failed_offers == 1
    until(lambda: settled(app))


def test_a_tier_changed_by_the_operator_reaches_the_running_acd(
    sim: Simulator, engine: EngineFactory
) -> None:
    # `PUT /queues/q1/members/1001` again answered 409: a tier could not be changed
    app = engine()
    sim.register_agent("6481", AgentBehaviour(answer_delay=0.2))
    sim.register_agent("6482", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "iu-tiered", {"6481": {}, "6482": {}}, did="6480")
    board = app.dispatcher.board
    board.agents["6481"].idle_since = -1e9  # longest idle: its call, in one tier
    done = queue_service.set_member(
        app.database, Actor("cli", "ops"), "iu-tiered", "6481", tier=2, create=False
    )
    assert not done.created
    until(lambda: Member("6481", tier=2) in board.queues["iu-tiered"].members)
    uuid = sim.place_call("6480", "15556480", behaviour=CallerBehaviour(talk_time=0.5))
    assert wait_cdr(app, uuid).agent_extension == "6482"  # tier 1 first
    until(lambda: settled(app))


def _set_status(app: App, ext: str, status: AgentStatus) -> None:
    with app.database.session_scope() as session:
        AgentRepository(session).set_status(ext, status)
    app.dispatcher.request_reload()


def _enter_queue(
    app: App,
    sim: Simulator,
    queue: str,
    *,
    priority: int,
    behaviour: CallerBehaviour,
    skills: dict[str, int] | None = None,
    language: str = "en",
) -> str:
    """A call that enters ``queue`` with a priority, as an IVR queue node does."""
    did = f"9{priority:03d}"
    add_route(app, did, RouteTarget.QUEUE, queue)
    manager = app.managers["fs1"]
    plain = manager.run_target

    def run_target(control: Any, target: Any) -> None:
        if control.call.did == did:
            app.queues(control, queue, priority=priority, skills=skills, language=language)
        else:
            plain(control, target)

    manager.run_target = run_target
    return sim.place_call(did, "15550099", behaviour=behaviour)


def test_after_a_restart_an_agent_on_an_adopted_call_is_not_offered(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    sim.register_agent("2091", AgentBehaviour(answer_delay=0.2))
    sim.register_agent("2092", AgentBehaviour(answer_delay=0.2))
    setup_queue(first, "restart", {"2091": {}, "2092": {}}, did="8010")
    first.dispatcher.board.agents["2091"].idle_since = -1e9  # 2091 takes the first call
    talking = sim.place_call("8010", "15550101")
    until(lambda: any(c.uuid == talking and c.partner for c in sim.channels))
    first.stop("restart")  # the call stays up in FreeSWITCH
    second = engine()
    until(lambda: talking in second.managers["fs1"].actors)
    board = second.dispatcher.board
    until(lambda: board.agents.get("2091") is not None and board.agents["2091"].state == "in_call")
    board.agents["2091"].idle_since = -1e9  # longest idle, yet on the adopted call
    waiting = sim.place_call("8010", "15550102", behaviour=CallerBehaviour(talk_time=0.5))
    cdr = wait_cdr(second, waiting)
    assert cdr.agent_extension == "2092"
    sim.hangup(talking)
    wait_cdr(second, talking)
    until(lambda: board.agents["2091"].state is AgentState.IDLE)
    until(lambda: settled(second))


def test_an_agent_on_a_direct_extension_call_is_not_offered(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("2101", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "direct", {"2101": {}}, did="8011")
    add_route(app, "8012", RouteTarget.EXTENSION, "2101")
    direct = sim.place_call("8012", "15550111")
    board = app.dispatcher.board
    until(lambda: board.agents["2101"].state is AgentState.IN_CALL)
    queued = sim.place_call("8011", "15550112", behaviour=CallerBehaviour(talk_time=0.5))
    until(lambda: len(board.waiting("direct")) == 1)
    assert not [line for line in originates(sim) if "cc_queue=direct" in line]
    sim.hangup(direct)
    cdr = wait_cdr(app, queued)
    assert cdr.agent_extension == "2101" and cdr.disposition is Disposition.ANSWERED
    until(lambda: settled(app))


def test_a_caller_leaving_between_the_agents_answer_and_the_bridge_frees_the_agent(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the caller's BYE read after the agent answered, before the bridge: the agent's leg,
    # answered and parked, was left up and the agent held in a call
    app = engine()
    sim.register_agent("2199", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "lateq", {"2199": {}}, did="8099")
    caller_leaves_before_the_bridge(sim, monkeypatch)
    uuid = sim.place_call("8099", "15550199", behaviour=CallerBehaviour(talk_time=600.0))
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.ABANDONED
    until(lambda: not sim.channels)  # the agent's answered leg hung up too
    until(lambda: app.dispatcher.board.agents["2199"].state is AgentState.IDLE)
    until(lambda: settled(app))


def test_queues_load_once_the_database_answers_after_a_start_without_it(
    sim: Simulator, engine: EngineFactory, calls_db_url: str, tmp_path: Path
) -> None:
    setup = engine()
    setup_queue(setup, "late", {"2111": {}}, did="8013")
    shutil.rmtree(tmp_path / "cache")  # no local cache of them either
    url = make_url(calls_db_url)
    proxy = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        proxy.cut()
        app = engine(database_url=url.set(port=proxy.port).render_as_string(hide_password=False))
        assert "late" not in app.dispatcher.board.queues
        proxy.restore()
        until(lambda: "late" in app.dispatcher.board.queues, timeout=RETRY_LOAD_SECONDS * 3)
        assert app.dispatcher.board.agents["2111"].status is AgentStatus.AVAILABLE
    finally:
        proxy.stop()


def test_music_that_fails_at_once_backs_off_then_falls_back_to_silence(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    broken = "silence_stream://5"  # ends at once, as a missing file or stream would
    setup_queue(app, "quiet", {"2121": {}}, did="8014", status=AgentStatus.PAUSED)
    with app.database.session_scope() as session:
        QueueRepository(session).update("quiet", music_on_hold=broken)
    app.dispatcher.request_reload()
    until(lambda: app.dispatcher.board.queues["quiet"].music_on_hold == broken)
    uuid = sim.place_call("8014", "15550141")
    until(lambda: f"playback {MUSIC_FALLBACK}" in apps_sent(sim, uuid), timeout=15)
    tries = [line for line in apps_sent(sim, uuid) if line == f"playback {broken}"]
    assert len(tries) == MUSIC_FALLBACK_AFTER  # not a tight loop of sendmsg
    sim.hangup(uuid)
    wait_cdr(app, uuid)
    until(lambda: settled(app))


def test_a_caller_moves_on_before_freeswitchs_park_timeout(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine(CALLCENTER_PARK_TIMEOUT=str(int(PARK_MARGIN) + 1))
    setup_queue(
        app, "parked", {"2131": {}}, did="8015", status=AgentStatus.PAUSED,
        max_wait_seconds=0, overflow_target="hangup:NORMAL_CLEARING",
    )  # fmt: skip
    uuid = sim.place_call("8015", "15550151")
    cdr = wait_cdr(app, uuid)
    assert cdr.hangup_by is HangupBy.SYSTEM
    [entry] = entries(app, "parked")
    assert entry.outcome is QueueOutcome.TIMEOUT and entry.reason == "park_timeout"
    until(lambda: settled(app))


def test_callers_of_a_deleted_queue_move_on(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup_queue(app, "doomed", {"2141": {}}, did="8016", status=AgentStatus.PAUSED)
    uuid = sim.place_call("8016", "15550161")
    until(lambda: len(app.dispatcher.board.waiting("doomed")) == 1)
    with app.database.session_scope() as session:
        QueueRepository(session).delete("doomed")
    app.dispatcher.request_reload()
    cdr = wait_cdr(app, uuid)
    assert cdr.hangup_by is HangupBy.SYSTEM and cdr.queue == "doomed"
    until(lambda: settled(app))
    assert app.dispatcher.board.tickets == {}


def test_stays_left_open_by_a_previous_run_are_closed_at_start(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    setup_queue(first, "crashed", {"2151": {}}, did="8017")
    joined = datetime.now(UTC) - timedelta(minutes=3)
    first.writer.write_acd(
        QueueStayRecord("t-crash", "crashed", "call-crash", 0, 1, joined)
    )  # as a process killed mid-wait leaves it
    first.writer.flush()
    first.stop("crash")
    second = engine()
    second.writer.flush()
    until(lambda: (s := first_stay(second, "crashed")) and s.left_at is not None)
    [entry] = entries(second, "crashed")
    assert entry.reason == "engine restarted" and entry.outcome is None


def test_waiting_callers_hear_the_announcement_and_their_position(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    setup_queue(
        app, "told", {"2161": {}}, did="8018", status=AgentStatus.PAUSED,
        announce_position_seconds=1,
        announcements={"periodic": "custom/all-busy.wav", "position": "custom/you-are.wav"},
    )  # fmt: skip
    sim.register_agent("2161", AgentBehaviour(answer_delay=0.2))
    first = sim.place_call("8018", "15550181", behaviour=CallerBehaviour(talk_time=0.5))
    until(lambda: len(app.dispatcher.board.waiting("told")) == 1)
    second = sim.place_call("8018", "15550182", behaviour=CallerBehaviour(talk_time=0.5))
    told = ["playback custom/all-busy.wav", "playback custom/you-are.wav"]
    until(lambda: apps_sent(sim, second)[-3:] == [*told, "say en NUMBER pronounced 2"], timeout=10)
    assert apps_sent(sim, first)[2:5] == [*told, "say en NUMBER pronounced 1"]
    until(lambda: apps_sent(sim, first)[5:6] == [f"playback {MOH}"])  # the music again
    _set_status(app, "2161", AgentStatus.AVAILABLE)
    assert wait_cdr(app, first, 20).agent_extension == "2161"
    assert wait_cdr(app, second, 20).agent_extension == "2161"
    until(lambda: settled(app))


def test_callers_waiting_through_an_engine_restart_keep_their_place(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    sim.register_agent("2171", AgentBehaviour(answer_delay=0.2))
    setup_queue(first, "kept", {"2171": {"french": 5}}, did="8019", status=AgentStatus.PAUSED)
    talk = CallerBehaviour(talk_time=0.5)
    early = sim.place_call("8019", "15550191", behaviour=talk)
    until(lambda: len(first.dispatcher.board.waiting("kept")) == 1)
    vip = _enter_queue(
        first, sim, "kept", priority=7, behaviour=talk, skills={"french": 2}, language="fr/ca/june"
    )
    until(lambda: len(first.dispatcher.board.waiting("kept")) == 2)
    before = {e.call_uuid: e for e in entries(first, "kept")}
    first.stop("restart")  # both callers stay on the line in FreeSWITCH
    second = engine()
    board = second.dispatcher.board
    until(lambda: len(board.waiting("kept")) == 2, timeout=10)
    assert [(t.call_uuid, t.priority) for t in board.waiting("kept")] == [(vip, 7), (early, 0)]
    assert board.waiting("kept")[0].skills == {"french": 2}  # the IVR's skills came back too
    _set_status(second, "2171", AgentStatus.AVAILABLE)
    vip_cdr, early_cdr = wait_cdr(second, vip, 20), wait_cdr(second, early, 20)
    assert vip_cdr.agent_extension == early_cdr.agent_extension == "2171"
    assert vip_cdr.answered_at is not None and early_cdr.answered_at is not None
    rows = entries(second, "kept")
    after = {e.call_uuid: e for e in rows}
    assert len(rows) == 2 and set(after) == {early, vip}  # one stay each, resumed
    for uuid in (early, vip):
        assert after[uuid].joined_at == before[uuid].joined_at
        assert after[uuid].outcome is QueueOutcome.ANSWERED
    # the route was not run again: no second answer before the queue's music
    assert [line.split()[0] for line in apps_sent(sim, early)].count("answer") == 2
    until(lambda: settled(second))


def test_announcements_come_on_time_with_music_shorter_than_their_period(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.core.files["hold.wav"] = 24.0  # simulated seconds: 1.2 s of real time per play
    setup_queue(
        app, "short", {"2181": {}}, did="8020", status=AgentStatus.PAUSED,
        music_on_hold="hold.wav", announce_position_seconds=2,
        announcements={"periodic": "custom/still-busy.wav"},
    )  # fmt: skip
    uuid = sim.place_call("8020", "15550201")
    until(lambda: "playback custom/still-busy.wav" in apps_sent(sim, uuid), timeout=10)
    sim.hangup(uuid)
    wait_cdr(app, uuid)
    until(lambda: settled(app))


def test_a_caller_hanging_up_while_its_join_waits_for_the_queues_leaves_at_once(
    sim: Simulator, engine: EngineFactory, calls_db_url: str, tmp_path: Path
) -> None:
    setup = engine()
    setup_queue(setup, "held", {"2191": {}}, did="8021")
    shutil.rmtree(tmp_path / "cache")  # no local cache of them either
    url = make_url(calls_db_url)
    proxy = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        proxy.cut()
        app = engine(database_url=url.set(port=proxy.port).render_as_string(hide_password=False))
        manager = app.managers["fs1"]
        manager.run_target = lambda control, target: app.queues(control, "held")
        uuid = sim.place_call("8021", "15550211", behaviour=CallerBehaviour(patience=20.0))
        until(lambda: app.dispatcher._held)  # the queues are not loaded: the join waits
        until(lambda: uuid not in manager.actors, timeout=5)  # hung up: the call is over
        assert app.dispatcher._held == [] and app.dispatcher.board.tickets == {}
        proxy.restore()
        until(lambda: "held" in app.dispatcher.board.queues, timeout=RETRY_LOAD_SECONDS * 3)
        assert app.dispatcher.board.waiting("held") == []  # it was not joined after it left
    finally:
        proxy.stop()


def test_an_agent_leg_given_up_on_while_esl_is_down_is_hung_up_after_reconnect(
    sim: Simulator, engine: EngineFactory
) -> None:
    proxy = TcpCut(("127.0.0.1", sim.port))
    try:
        app = engine(CALLCENTER_ESL_NODES=f"fs1=esl://:s3cret-test@127.0.0.1:{proxy.port}")
        sim.register_agent("2041", AgentBehaviour(answer_delay=3.0))
        setup_queue(
            app, "cutring", {"2041": {}}, did="8041", agent_ring_seconds=30,
            max_wait_seconds=2, overflow_target="hangup:NORMAL_CLEARING",
        )  # fmt: skip
        uuid = sim.place_call("8041", "15550041", behaviour=CallerBehaviour(patience=60.0))
        until(lambda: any(c.uuid != uuid for c in sim.channels))
        agent_leg = next(c.uuid for c in sim.channels if c.uuid != uuid)
        proxy.cut()
        call = app.managers["fs1"].actors[uuid].call
        # the caller's max wait passes while FreeSWITCH cannot be told: the uuid_kill of
        # the ringing agent leg is refused, and the agent answers meanwhile
        until(lambda: agent_leg in call.cancelled_legs, timeout=10)
        until(lambda: (sim.channel(agent_leg) or sim.channels[0]).answer_state == "answered")
        proxy.restore()
        until(lambda: sim.channel(agent_leg) is None, timeout=15)
        wait_cdr(app, uuid)
        until(lambda: settled(app))
    finally:
        proxy.stop()


def test_an_agent_in_wrap_up_when_the_engine_stops_is_written_idle(
    sim: Simulator, engine: EngineFactory
) -> None:
    # issue 13: the database showed agents in wrap-up after a stopped demo until next start
    app = engine()
    sim.register_agent("2051", AgentBehaviour(answer_delay=0.2))
    setup_queue(app, "stopping", {"2051": {}}, did="8051")
    with app.database.session_scope() as session:
        AgentRepository(session).update("2051", wrapup_seconds=600)
    app.dispatcher.agent_changed("2051")
    until(lambda: app.dispatcher.board.agents["2051"].wrapup_seconds == 600)
    uuid = sim.place_call("8051", "15550051", behaviour=CallerBehaviour(talk_time=1.0))
    wait_cdr(app, uuid)
    until(lambda: agent_state(app, "2051")[1] is AgentState.WRAP_UP)
    app.stop("test: the engine stops")
    with app.database.session_scope() as session:
        assert AgentRepository(session).get("2051").state is AgentState.IDLE

"""Agents on their phones: feature codes, calls agents dial, offers as agents expect.

The simulator places the call a real phone's ``*21`` produces (sessions-3/s18); the engine
runs on real TCP and PostgreSQL; every change goes through the services and the change feed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from callcenter.app import App
from callcenter.services import agents as agent_service
from callcenter.services.actor import Actor
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.records import AuditRecord
from callcenter.store.repos import AgentRepository, OutboundRouteRepository
from callcenter.store.repos.audit import AuditLog
from callcenter.vocabulary import AgentState, AgentStatus, Direction, Disposition
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import apps_sent, settled, wait_cdr
from tests.integration.calls.test_queues import agent_state, setup_queue
from tests.support import until

OK = "tone_stream://%(300,0,880)"
ERROR = "tone_stream://%(150,100,480);loops=3"
OPS = Actor("cli", "test")


@pytest.fixture
def app(engine: EngineFactory) -> Iterator[App]:
    application = engine(CALLCENTER_PIN_LOCKOUT_SECONDS="2")
    application.phones.ttl = 0.0  # tests change agents and expect it at once
    until(lambda: application.connections["fs1"].connected)
    yield application


def add_agent(app: App, ext: str, *, pin: str | None = "1234", **status: AgentStatus) -> None:
    with app.database.session_scope() as session:
        repo = AgentRepository(session)
        repo.add(ext, f"Agent {ext}", pin=pin, wrapup_seconds=1)
        if "status" in status:
            repo.set_status(ext, status["status"])
    app.dispatcher.agent_changed(ext)
    until(lambda: ext in app.dispatcher.board.agents)


def dial(sim: Simulator, ext: str, code: str, *digits: str, **kw: object) -> str:
    behaviour = CallerBehaviour(digits=digits, first_digit_delay=0.2, digit_gap=0.1)
    return sim.phone_call(ext, code, behaviour=behaviour, **kw)  # type: ignore[arg-type]


def audit_of(app: App, ext: str) -> list[AuditRecord]:
    with app.database.session_scope() as session:
        return [e for e in AuditLog(session).recent(500) if e.target == ext]


def status_of(app: App, ext: str) -> AgentStatus:
    return agent_state(app, ext)[0]


def board_status(app: App, ext: str) -> AgentStatus:
    return app.dispatcher.board.agents[ext].status


def played(sim: Simulator, uuid: str) -> list[str]:
    return [line.split(" ", 1)[1] for line in apps_sent(sim, uuid) if line.startswith("playback")]


def test_login_with_pin_then_pause_ready_logout(sim: Simulator, app: App) -> None:
    add_agent(app, "3101")
    uuid = dial(sim, "3101", "*21", "1234#")
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.FEATURE and cdr.direction is Direction.INTERNAL
    assert played(sim, uuid) == [OK]
    assert [line.split()[0] for line in apps_sent(sim, uuid)] == [
        "answer", "play_and_get_digits", "playback", "hangup",
    ]  # fmt: skip
    assert status_of(app, "3101") is AgentStatus.AVAILABLE
    until(lambda: board_status(app, "3101") is AgentStatus.AVAILABLE)  # the engine knows
    assert any(e.actor == "phone:3101" and e.action == "agent.login" for e in audit_of(app, "3101"))

    wait_cdr(app, dial(sim, "3101", "*232"))
    assert agent_state(app, "3101")[0] is AgentStatus.PAUSED
    with app.database.session_scope() as session:
        assert AgentRepository(session).get("3101").pause_reason == "lunch"
    until(lambda: board_status(app, "3101") is AgentStatus.PAUSED)
    wait_cdr(app, dial(sim, "3101", "*24"))
    assert status_of(app, "3101") is AgentStatus.AVAILABLE
    wait_cdr(app, dial(sim, "3101", "*23"))
    with app.database.session_scope() as session:
        assert AgentRepository(session).get("3101").pause_reason == "phone"  # the default
    wait_cdr(app, dial(sim, "3101", "*22"))
    assert status_of(app, "3101") is AgentStatus.LOGGED_OUT
    until(lambda: board_status(app, "3101") is AgentStatus.LOGGED_OUT)
    until(lambda: settled(app))


def test_refused_codes_answer_with_the_error_tone(sim: Simulator, app: App) -> None:
    add_agent(app, "3102")
    for code in ("*22", "*239", "*27", "*25"):  # not logged in, no reason 9, no code, no wrap-up
        uuid = dial(sim, "3102", code)
        assert wait_cdr(app, uuid).disposition is Disposition.FEATURE
        assert played(sim, uuid) == [ERROR], code
    assert status_of(app, "3102") is AgentStatus.LOGGED_OUT


def test_five_wrong_pins_lock_phone_login_until_the_lockout_ends(sim: Simulator, app: App) -> None:
    add_agent(app, "3103")
    for _ in range(5):
        uuid = dial(sim, "3103", "*21", "9999#")
        wait_cdr(app, uuid)
        assert played(sim, uuid) == [ERROR]
    uuid = dial(sim, "3103", "*21", "1234#")  # the right PIN, but locked
    wait_cdr(app, uuid)
    assert played(sim, uuid) == [ERROR]
    assert status_of(app, "3103") is AgentStatus.LOGGED_OUT
    assert sum(e.action == "agent.pin_refused" for e in audit_of(app, "3103")) == 5

    def logged_in_after_lockout() -> bool:
        done = dial(sim, "3103", "*21", "1234#")
        wait_cdr(app, done)
        return status_of(app, "3103") is AgentStatus.AVAILABLE

    until(logged_in_after_lockout, timeout=15)  # the lockout is 2 s in this test


def test_a_phone_that_did_not_authenticate_is_nobody(sim: Simulator, app: App) -> None:
    add_agent(app, "3104")
    uuid = dial(sim, "3104", "*21", "1234#", authenticated=False)  # caller ID says 3104
    cdr = wait_cdr(app, uuid)
    assert cdr.hangup_cause == "CALL_REJECTED"
    assert [line.split()[0] for line in apps_sent(sim, uuid)] == ["hangup"]
    assert status_of(app, "3104") is AgentStatus.LOGGED_OUT


def test_status_is_said_and_on_demand_pauses_after_one_call(sim: Simulator, app: App) -> None:
    sim.register_agent("3105", AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "support", {"3105": {}}, did="8105", status=AgentStatus.PAUSED)
    app.phones.ttl = 0.0
    uuid = dial(sim, "3105", "*29")
    wait_cdr(app, uuid)
    assert played(sim, uuid) == ["say:paused"]
    uuid = dial(sim, "3105", "*26")  # on demand: available for one call
    wait_cdr(app, uuid)
    assert played(sim, uuid) == [OK]
    assert status_of(app, "3105") is AgentStatus.AVAILABLE
    until(lambda: board_status(app, "3105") is AgentStatus.AVAILABLE)
    caller = sim.place_call("8105", "15550105", behaviour=CallerBehaviour(talk_time=1.0))
    assert wait_cdr(app, caller).disposition is Disposition.ANSWERED
    until(lambda: status_of(app, "3105") is AgentStatus.PAUSED)  # after that one call
    uuid = dial(sim, "3105", "*29")
    wait_cdr(app, uuid)
    assert played(sim, uuid)[0].startswith("say:paused, on demand call taken")
    uuid = dial(sim, "3105", "*26")  # off again: two tones
    wait_cdr(app, uuid)
    assert played(sim, uuid) == [f"file_string://{OK}!{OK}"]


def test_end_wrapup_now(sim: Simulator, app: App) -> None:
    sim.register_agent("3106", AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "billing", {"3106": {}}, did="8106")
    with app.database.session_scope() as session:
        AgentRepository(session).update("3106", wrapup_seconds=600)
    app.dispatcher.agent_changed("3106")
    until(lambda: app.dispatcher.board.agents["3106"].wrapup_seconds == 600)
    caller = sim.place_call("8106", "15550106", behaviour=CallerBehaviour(talk_time=1.0))
    wait_cdr(app, caller)
    until(lambda: agent_state(app, "3106")[1] is AgentState.WRAP_UP)
    uuid = dial(sim, "3106", "*25")
    wait_cdr(app, uuid)
    assert played(sim, uuid) == [OK]
    until(lambda: app.dispatcher.board.agents["3106"].state is AgentState.IDLE)
    until(lambda: agent_state(app, "3106")[1] is AgentState.IDLE)


def test_agent_calls_an_idle_agent_then_a_busy_one(sim: Simulator, app: App) -> None:
    # talks 20 simulated seconds (1 s here): both agents are seen on the call meanwhile
    sim.register_agent("3108", AgentBehaviour(answer_delay=0.5, talk_time=20.0))
    sim.register_agent("3109", AgentBehaviour(answer_delay=0.5))
    setup_queue(app, "desk", {"3109": {}}, did="8109")
    add_agent(app, "3107", status=AgentStatus.AVAILABLE)
    add_agent(app, "3108")
    uuid = sim.phone_call("3107", "3108")
    until(lambda: app.dispatcher.board.agents["3107"].state is AgentState.IN_CALL)
    # the callee's state comes with its own answer, a moment later on a loaded machine
    until(lambda: app.dispatcher.board.agents["3108"].state is AgentState.IN_CALL)
    cdr = wait_cdr(app, uuid)
    assert (cdr.direction, cdr.disposition) == (Direction.INTERNAL, Disposition.ANSWERED)
    assert cdr.agent_extension == "3108" and cdr.from_number == "3107"
    dialled = [c.line for c in sim.core.commands if "user/3108@" in c.line]
    assert "origination_caller_id_name='Agent 3107'" in dialled[0]
    until(lambda: app.dispatcher.board.agents["3107"].state is AgentState.IDLE)
    until(lambda: app.dispatcher.board.agents["3108"].state is AgentState.IDLE)

    # 3109 is on a queue call: another agent calling it gets busy, its phone never rings
    caller = sim.place_call("8109", "15550109", behaviour=CallerBehaviour(talk_time=3.0))
    until(lambda: app.dispatcher.board.agents["3109"].state is AgentState.IN_CALL)
    busy = sim.phone_call("3107", "3109")
    cdr = wait_cdr(app, busy)
    assert (cdr.disposition, cdr.hangup_cause) == (Disposition.BUSY, "USER_BUSY")
    assert sum("user/3109@" in c.line for c in sim.core.commands) == 1  # the queue's only
    wait_cdr(app, caller)
    until(lambda: settled(app))


def test_agent_on_an_outgoing_call_gets_no_queue_call(sim: Simulator, app: App) -> None:
    sim.register_agent("3110", AgentBehaviour(answer_delay=0.3))
    setup_queue(app, "sales2", {"3110": {}}, did="8110")
    with app.database.session_scope() as session:
        OutboundRouteRepository(session).add("all", r"^[0-9]{6,15}$", "carrier1")
    app.outbound.reload()
    agent_service.update(app.database, OPS, "3110", caller_id="+33100000000")
    sim.set_far_end(lambda target: AgentBehaviour(answer_delay=0.3, talk_time=2.0))
    out = sim.phone_call("3110", "15557770000")
    until(lambda: app.dispatcher.board.agents["3110"].state is AgentState.IN_CALL)
    caller = sim.place_call("8110", "15550110", behaviour=CallerBehaviour(talk_time=0.5))
    cdr = wait_cdr(app, out)
    assert (cdr.direction, cdr.disposition) == (Direction.OUTBOUND, Disposition.ANSWERED)
    line = next(c.line for c in sim.core.commands if "carrier1/15557770000" in c.line)
    assert "origination_caller_id_number=+33100000000" in line
    assert wait_cdr(app, caller, timeout=20).disposition is Disposition.ANSWERED  # after
    stays = [c.line for c in sim.core.commands if "user/3110@" in c.line]
    assert len(stays) == 1  # offered once, only when the outgoing call was over


def test_offer_shows_queue_and_caller_whispers_and_asks_auto_answer(
    sim: Simulator, app: App
) -> None:
    sim.register_agent("3111", AgentBehaviour(answer_delay=0.3))
    setup_queue(app, "sales3", {"3111": {}}, did="8111")
    agent_service.update(app.database, OPS, "3111", auto_answer=True, whisper="queue")
    hostile = "Al'ice, {x} ${y}"
    caller = sim.place_call("8111", "15550111", hostile, behaviour=CallerBehaviour(talk_time=0.5))
    assert wait_cdr(app, caller).disposition is Disposition.ANSWERED
    line = next(c.line for c in sim.core.commands if "user/3111@" in c.line)
    assert "origination_caller_id_name='sales3: Al ice\\, x y'" in line
    assert "origination_caller_id_number=15550111" in line
    assert "sip_h_Call-Info=answer-after=0" in line
    leg = next(c.line.split()[1] for c in sim.core.commands if c.line.startswith("sendmsg ")
               and dict(c.headers).get("execute-app-arg") == "say:sales3")  # fmt: skip
    assert leg != caller  # the agent's leg hears it, not the caller
    sent = apps_sent(sim, leg)
    assert sent[-1] == "playback say:sales3" and "set tts_engine=flite" in sent

    agent_service.update(app.database, OPS, "3111", auto_answer=False, whisper="")
    caller = sim.place_call("8111", "15550112", behaviour=CallerBehaviour(talk_time=0.5))
    wait_cdr(app, caller)
    line = [c.line for c in sim.core.commands if "user/3111@" in c.line][-1]
    assert "Call-Info" not in line and "origination_caller_id_name=sales3:15550112" in line.replace(
        "'", ""
    ).replace(" ", "")


def test_a_phone_that_rejects_the_offer_counts_as_a_rejection(sim: Simulator, app: App) -> None:
    sim.register_agent("3112", AgentBehaviour(fail_cause="CALL_REJECTED"))
    setup_queue(app, "sales4", {"3112": {}}, did="8112", max_wait_seconds=2)
    caller = sim.place_call("8112", "15550113")
    wait_cdr(app, caller)
    # a rejection: its own result, and by the queues' failure policy (as mod_callcenter's
    # reject_delay_time) the agent rests without it counting toward a pause (docs/routing.md)
    assert app.dispatcher.board.agents["3112"].failed_offers == 0
    offers = app.registry.get_sample_value(
        "callcenter_queue_offers_total", {"queue": "sales4", "result": "rejected"}
    )
    no_answer = app.registry.get_sample_value(
        "callcenter_queue_offers_total", {"queue": "sales4", "result": "no_answer"}
    )
    assert offers is not None and offers >= 1 and no_answer is None


def test_a_number_no_route_takes_and_an_agent_whose_phone_is_away(sim: Simulator, app: App) -> None:
    add_agent(app, "3113", status=AgentStatus.AVAILABLE)
    add_agent(app, "3114")  # no phone registered in the simulator
    cdr = wait_cdr(app, sim.phone_call("3113", "12345"))
    assert (cdr.direction, cdr.disposition, cdr.hangup_cause) == (
        Direction.OUTBOUND, Disposition.REJECTED, "NO_ROUTE_DESTINATION",
    )  # fmt: skip
    cdr = wait_cdr(app, sim.phone_call("3113", "3114"))
    assert (cdr.direction, cdr.disposition, cdr.hangup_cause) == (
        Direction.INTERNAL, Disposition.FAILED, "SUBSCRIBER_ABSENT",
    )  # fmt: skip
    until(lambda: app.dispatcher.board.agents["3113"].state is AgentState.IDLE)
    until(lambda: app.dispatcher.board.agents["3114"].state is AgentState.IDLE)
    until(lambda: settled(app))


def test_a_waiting_caller_is_offered_only_once_the_feature_call_is_over(
    sim: Simulator, app: App
) -> None:
    sim.register_agent("3115", AgentBehaviour(answer_delay=0.3))
    setup_queue(app, "sales5", {"3115": {}}, did="8115", status=AgentStatus.PAUSED)
    caller = sim.place_call("8115", "15550115", behaviour=CallerBehaviour(talk_time=0.5))
    until(lambda: any(t.call_uuid == caller for t in app.dispatcher.board.tickets.values()))
    feature = dial(sim, "3115", "*24")
    assert wait_cdr(app, caller, timeout=20).disposition is Disposition.ANSWERED
    lines = [c.line for c in sim.core.commands]
    hung_up = max(
        i for i, c in enumerate(sim.core.commands)
        if c.line == f"sendmsg {feature}" and "hangup" in dict(c.headers).values()
    )  # fmt: skip
    offered = next(i for i, line in enumerate(lines) if "user/3115@" in line)
    assert offered > hung_up

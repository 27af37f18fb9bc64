"""While waiting: the estimated wait said with the position, and the place kept for a caller
who hangs up and calls again. The simulator over real TCP, the dispatcher, PostgreSQL."""

from __future__ import annotations

from callcenter.api.live import BoardReader
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.vocabulary import AgentState, AgentStatus, QueueOutcome
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import apps_sent, settled, wait_cdr
from tests.integration.calls.test_queues import _set_status, entries, setup_queue
from tests.support import until

PROMPTS = {
    "position": "custom/you-are.wav",
    "wait_about": "custom/wait-about.wav",
    "wait_less": "custom/wait-less.wav",
    "wait_more": "custom/wait-more.wav",
}


def _told(sim: Simulator, uuid: str) -> list[str]:
    return [line for line in apps_sent(sim, uuid) if line.startswith(("say", "playback custom"))]


def test_the_expected_wait_is_said_after_the_position_rounded(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("2301", AgentBehaviour(answer_delay=0.2))
    sim.register_agent("2302", AgentBehaviour(answer_delay=0.2))
    setup_queue(
        app, "ewt", {"2301": {}, "2302": {}}, did="8301", announce_position_seconds=1,
        announcements=PROMPTS,
    )  # fmt: skip
    talking = [
        sim.place_call("8301", f"1555030{n}", behaviour=CallerBehaviour(talk_time=None))
        for n in range(2)
    ]
    agents = app.dispatcher.board.agents
    until(lambda: all(agents[e].state is AgentState.IN_CALL for e in ("2301", "2302")))
    app.dispatcher.handle_times.record("ewt", 240.0)  # two agents busy, 240 s a call
    first = sim.place_call("8301", "15550311", behaviour=CallerBehaviour(talk_time=0.5))
    until(lambda: len(app.dispatcher.board.waiting("ewt")) == 1)
    second = sim.place_call("8301", "15550312", behaviour=CallerBehaviour(talk_time=0.5))
    # first: (1 - 0.5) * 240 / 2 = 60 s, "about 1 minute"; second: 180 s, "about 3 minutes"
    about = "playback custom/wait-about.wav"
    one = ["playback custom/you-are.wav", "say en NUMBER pronounced 1", about,
           "say en TIME_MEASUREMENT pronounced 60"]  # fmt: skip
    two = ["playback custom/you-are.wav", "say en NUMBER pronounced 2", about,
           "say en TIME_MEASUREMENT pronounced 180"]  # fmt: skip
    until(lambda: _told(sim, first)[:4] == one, timeout=10)
    until(lambda: _told(sim, second)[:4] == two, timeout=10)
    # the API's live view shows the same figures
    live = BoardReader(app.dispatcher.read, handle_times=app.dispatcher.handle_times).callers("ewt")
    assert [(c.call_uuid, c.expected_wait_seconds) for c in live] == [
        (first, 60.0),
        (second, 180.0),
    ]
    for uuid in talking:
        sim.hangup(uuid)
    assert wait_cdr(app, first, 20).agent_extension in {"2301", "2302"}
    assert wait_cdr(app, second, 20).agent_extension in {"2301", "2302"}
    until(lambda: settled(app), timeout=10)


def test_no_wait_said_while_it_cannot_be_told(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup_queue(
        app, "unknown", {"2311": {}}, did="8311", status=AgentStatus.PAUSED,
        announce_position_seconds=1, announcements=PROMPTS,
    )  # fmt: skip
    sim.register_agent("2311", AgentBehaviour(answer_delay=0.2))
    caller = sim.place_call("8311", "15550321", behaviour=CallerBehaviour(talk_time=0.5))
    until(lambda: "say en NUMBER pronounced 1" in _told(sim, caller), timeout=10)
    assert not any("TIME_MEASUREMENT" in line for line in _told(sim, caller))  # nobody staffed
    _set_status(app, "2311", AgentStatus.AVAILABLE)
    assert wait_cdr(app, caller, 20).agent_extension == "2311"
    until(lambda: settled(app), timeout=10)


def test_a_caller_calling_again_within_the_window_gets_its_place_back(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    sim.register_agent("2321", AgentBehaviour(answer_delay=0.2))
    setup_queue(
        app, "again", {"2321": {}}, did="8321", status=AgentStatus.PAUSED,
        rejoin_window_seconds=120,
    )  # fmt: skip
    talk = CallerBehaviour(talk_time=0.5)
    leaver = sim.place_call("8321", "+15550321000", behaviour=talk)
    until(lambda: len(app.dispatcher.board.waiting("again")) == 1)
    later = sim.place_call("8321", "15550329999", behaviour=talk)
    until(lambda: len(app.dispatcher.board.waiting("again")) == 2)
    sim.hangup(leaver)
    until(lambda: len(app.dispatcher.board.waiting("again")) == 1)
    back = sim.place_call("8321", "0015550321000", behaviour=talk)  # the same number, dialled
    until(lambda: len(app.dispatcher.board.waiting("again")) == 2)
    waiting = app.dispatcher.board.waiting("again")
    assert [t.call_uuid for t in waiting] == [back, later]  # ahead of the later caller
    rows = {e.call_uuid: e for e in entries(app, "again")}
    assert rows[leaver].outcome is QueueOutcome.ABANDONED
    assert rows[back].joined_at == rows[leaver].joined_at
    # a second call again gets no place: it was given back once
    _set_status(app, "2321", AgentStatus.AVAILABLE)
    assert wait_cdr(app, back, 20).agent_extension == "2321"
    assert wait_cdr(app, later, 20).agent_extension == "2321"
    answered = {e.call_uuid: e.answered_at for e in entries(app, "again")}
    assert answered[back] < answered[later]
    until(lambda: settled(app), timeout=10)


def test_no_place_back_after_the_window(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    setup_queue(
        app, "late", {"2331": {}}, did="8331", status=AgentStatus.PAUSED,
        rejoin_window_seconds=1,
    )  # fmt: skip
    sim.register_agent("2331", AgentBehaviour(answer_delay=0.2))
    talk = CallerBehaviour(talk_time=0.5)
    leaver = sim.place_call("8331", "15550331000", behaviour=talk)
    until(lambda: len(app.dispatcher.board.waiting("late")) == 1)
    later = sim.place_call("8331", "15550339999", behaviour=talk)
    until(lambda: len(app.dispatcher.board.waiting("late")) == 2)
    sim.hangup(leaver)
    until(lambda: len(app.dispatcher.board.waiting("late")) == 1)
    hung_up = app.dispatcher.clock()
    until(lambda: app.dispatcher.clock() - hung_up > 1.2, timeout=5)  # the window passes
    back = sim.place_call("8331", "15550331000", behaviour=talk)
    until(lambda: len(app.dispatcher.board.waiting("late")) == 2)
    assert [t.call_uuid for t in app.dispatcher.board.waiting("late")] == [later, back]
    _set_status(app, "2331", AgentStatus.AVAILABLE)
    assert wait_cdr(app, later, 20).agent_extension == "2331"
    assert wait_cdr(app, back, 20).agent_extension == "2331"
    until(lambda: settled(app), timeout=10)

"""What happens when things break mid-call: ESL drops, the controller restarts, PostgreSQL
goes away, the caller hangs up during each kind of step."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.engine import make_url

from callcenter.calls.control import CallControl
from callcenter.calls.routing import Target
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.sim.tcpcut import TcpCut
from callcenter.store.database import Database
from callcenter.store.repos import CdrRepository
from callcenter.vocabulary import Disposition, HangupBy, RouteTarget
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import add_route, cdr_of, settled, wait_cdr
from tests.support import until

LONG_TONE = "tone_stream://%(30000,0,440)"  # 30 s simulated = 1.5 s real


def cdr_count(database_url: str, uuids: list[str]) -> int:
    database = Database(database_url)
    try:
        with database.session_scope() as session:
            repo = CdrRepository(session)
            return sum(1 for c in repo.all(limit=10_000) if c.call_uuid in uuids)
    finally:
        database.dispose()


def in_app(sim: Simulator, uuid: str, app: str) -> bool:
    return any(c.uuid == uuid and c.application == app for c in sim.channels)


def test_esl_dropped_mid_call_reconnects_and_finishes_once(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    app = engine()
    add_route(app, "7101", RouteTarget.PLAYBACK, LONG_TONE)
    connection = app.connections["fs1"]
    until(lambda: connection.connected)
    uuid = sim.place_call("7101", "100")
    until(lambda: in_app(sim, uuid, "playback"))
    sim.drop_clients()
    until(lambda: connection.reconnects == 1, timeout=10)
    cdr = wait_cdr(app, uuid, timeout=20)
    assert cdr.disposition is Disposition.PLAYED
    until(lambda: settled(app))
    assert cdr_count(calls_db_url, [uuid]) == 1


def test_call_that_ended_while_disconnected_is_closed(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    proxy = TcpCut(("127.0.0.1", sim.port))
    try:
        app = engine(CALLCENTER_ESL_NODES=f"fs1=esl://:s3cret-test@127.0.0.1:{proxy.port}")
        add_route(app, "7102", RouteTarget.PLAYBACK, LONG_TONE)
        until(lambda: app.connections["fs1"].connected)
        uuid = sim.place_call("7102", "100")
        until(lambda: in_app(sim, uuid, "playback"))
        proxy.cut()
        until(lambda: not app.connections["fs1"].connected)
        sim.hangup(uuid)  # the caller leaves while the engine cannot see it
        until(lambda: not sim.channels)
        proxy.restore()
        cdr = wait_cdr(app, uuid, timeout=20)
        assert cdr.hangup_by is HangupBy.UNKNOWN
        assert app.call_metrics.closed_on_resync._value.get() >= 1
        until(lambda: settled(app))
        assert cdr_count(calls_db_url, [uuid]) == 1
    finally:
        proxy.stop()


def test_controller_restart_adopts_live_calls_and_closes_ended_ones(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    first = engine()
    add_route(first, "7103", RouteTarget.EXTENSION, "1101")
    add_route(first, "7104", RouteTarget.PLAYBACK, "tone_stream://%(600000,0,440)")
    sim.register_agent("1101", AgentBehaviour(answer_delay=0.5))
    until(lambda: first.connections["fs1"].connected)
    bridged = sim.place_call("7103", "200")
    playing = sim.place_call("7104", "300")
    until(lambda: any(c.uuid == bridged and c.partner for c in sim.channels))
    until(lambda: in_app(sim, playing, "playback"))
    first.stop("restart")  # calls stay up in FreeSWITCH; the database says they are live
    sim.hangup(playing)  # ends while no controller is running
    until(lambda: all(c.uuid != playing for c in sim.channels))
    second = engine()
    closed = wait_cdr(second, playing, timeout=20)
    assert closed.hangup_by is HangupBy.UNKNOWN
    until(lambda: bridged in second.managers["fs1"].actors)
    assert cdr_of(second, bridged) is None  # adopted, still up
    sim.hangup(bridged)
    cdr = wait_cdr(second, bridged, timeout=20)
    assert cdr.disposition is Disposition.ANSWERED
    assert cdr.agent_extension == "1101"
    until(lambda: settled(second))
    assert not sim.channels
    assert cdr_count(calls_db_url, [bridged, playing]) == 2


def test_postgres_down_during_calls_spools_then_replays_once(
    sim: Simulator, engine: EngineFactory, calls_db_url: str
) -> None:
    url = make_url(calls_db_url)
    proxy = TcpCut((url.host or "127.0.0.1", url.port or 5432))
    try:
        via_proxy = url.set(port=proxy.port).render_as_string(hide_password=False)
        app = engine(database_url=via_proxy)
        app.writer.retry_min, app.writer.retry_max = 0.05, 0.2
        add_route(app, "7105", RouteTarget.PLAYBACK, "tone_stream://%(1000,0,440)")
        until(lambda: app.connections["fs1"].connected)
        app.routes.resolve("7105")  # the route table is cached before the outage
        proxy.cut()
        uuids = [sim.place_call("7105", str(400 + i)) for i in range(5)]
        until(lambda: app.writer.spool.pending() >= 5 * 2, timeout=20)  # call state + CDR each
        assert cdr_count(calls_db_url, uuids) == 0
        proxy.restore()
        until(lambda: cdr_count(calls_db_url, uuids) == 5, timeout=20)
        until(lambda: settled(app))
        assert app.writer.spool.pending() == 0
    finally:
        proxy.stop()


Step = Callable[[CallControl], None]

STEPS: dict[str, tuple[str, Step]] = {
    "answer": ("answer", lambda c: c.answer()),
    "playback": ("playback", lambda c: (c.answer(), c.play(LONG_TONE))),
    "collect": (
        "play_and_get_digits",
        lambda c: (c.answer(), c.collect_digits(LONG_TONE, max_digits=4, timeout=60)),
    ),
    "say": ("say", lambda c: (c.answer(), c.say("12345678901234567890"))),
    "ring agent": (
        "originate",
        lambda c: c.originate(c.agent_dial_string("1199"), extension="1199"),
    ),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_caller_hangs_up_during_each_step(sim: Simulator, engine: EngineFactory, step: str) -> None:
    app_name, run = STEPS[step]
    sim.register_agent("1199", AgentBehaviour(no_answer=True))
    app = engine()
    outcomes: list[str] = []

    def target(control: CallControl, _target: Target) -> None:
        try:
            run(control)
            outcomes.append("returned")
        except BaseException as exc:
            outcomes.append(type(exc).__name__)
            raise

    app.managers["fs1"].run_target = target
    until(lambda: app.connections["fs1"].connected)
    if app_name == "originate":
        behaviour = CallerBehaviour(patience=1.0)
    else:
        behaviour = CallerBehaviour(hangup_at_app=app_name, hangup_at_app_delay=0.5)
    uuid = sim.place_call("7199", "500", behaviour=behaviour)
    cdr = wait_cdr(app, uuid, timeout=20)
    assert cdr.hangup_by is HangupBy.CALLER
    if app_name != "answer":  # answer completes before the hang-up can land
        assert outcomes == ["CallGone"]
    until(lambda: settled(app))
    until(lambda: not sim.channels)

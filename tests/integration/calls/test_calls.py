"""Calls end to end: the simulator over real TCP, the engine, CDRs in PostgreSQL."""

from __future__ import annotations

import pytest

from callcenter.app import App
from callcenter.calls.control import CallControl
from callcenter.calls.digits import Digits
from callcenter.calls.routing import Target
from callcenter.errors import NotFound
from callcenter.sim.behaviour import AgentBehaviour, CallerBehaviour
from callcenter.sim.simulator import Simulator
from callcenter.store.records import CdrRecord
from callcenter.store.repos import (
    CallRepository,
    CdrRepository,
    RecordingRepository,
    RouteRepository,
)
from callcenter.vocabulary import CallState, Disposition, HangupBy, LegRole, RouteTarget
from tests.integration.calls.conftest import EngineFactory
from tests.support import until

TONE = "tone_stream://%(2000,0,440)"


def add_route(app: App, did: str, kind: RouteTarget, target: str = "") -> None:
    with app.database.session_scope() as session:
        RouteRepository(session).add(did, kind, target)


def cdr_of(app: App, uuid: str) -> CdrRecord | None:
    with app.database.session_scope() as session:
        try:
            return CdrRepository(session).get(uuid)
        except NotFound:
            return None


def wait_cdr(app: App, uuid: str, timeout: float = 10.0) -> CdrRecord:
    return until(lambda: cdr_of(app, uuid), timeout=timeout)


def settled(app: App) -> bool:
    """Nothing left behind: no actor, no mailbox, no spooled write."""
    manager = app.managers["fs1"]
    return not manager.actors and app.router.calls == 0 and not app.writer.spooling


def apps_sent(sim: Simulator, uuid: str) -> list[str]:
    """``app arg`` of every sendmsg execute sent to ``uuid`` (``hangup CAUSE`` for hangups)."""
    out = []
    for command in sim.core.commands:
        if command.line == f"sendmsg {uuid}":
            h = dict(command.headers)
            if h.get("call-command") == "hangup":
                out.append(f"hangup {h.get('hangup-cause', '')}")
            else:
                out.append(f"{h.get('execute-app-name')} {h.get('execute-app-arg', '')}")
    return out


def test_parked_call_answered_played_hung_up(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    add_route(app, "7001", RouteTarget.PLAYBACK, TONE)
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7001", "15551234567", "Alice Caller")
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.PLAYED
    assert cdr.hangup_by is HangupBy.SYSTEM
    assert cdr.hangup_cause == "NORMAL_CLEARING"
    assert (cdr.from_number, cdr.from_name, cdr.did) == ("15551234567", "Alice Caller", "7001")
    assert cdr.answered_at is not None
    assert cdr.total_ms - cdr.ring_ms >= 1900  # the 2 s tone (simulated clock; load only adds)
    with app.database.session_scope() as session:
        call = CallRepository(session).get(uuid)
    assert call.state is CallState.ENDED and call.disposition is Disposition.PLAYED
    assert [line.split()[0] for line in apps_sent(sim, uuid)] == ["answer", "playback", "hangup"]
    until(lambda: settled(app))


def test_caller_hangs_up_during_playback(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    add_route(app, "7002", RouteTarget.PLAYBACK, "tone_stream://%(20000,0,440)")
    until(lambda: app.connections["fs1"].connected)
    behaviour = CallerBehaviour(hangup_at_app="playback", hangup_at_app_delay=1.0)
    uuid = sim.place_call("7002", "100", behaviour=behaviour)
    cdr = wait_cdr(app, uuid)
    assert cdr.hangup_by is HangupBy.CALLER
    assert cdr.disposition is Disposition.PLAYED
    until(lambda: settled(app))


def test_unknown_did_goes_to_the_default_route(sim: Simulator, engine: EngineFactory) -> None:
    app = engine(CALLCENTER_DEFAULT_ROUTE="hangup:UNALLOCATED_NUMBER")
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("0000", "100")
    cdr = wait_cdr(app, uuid)
    assert cdr.hangup_cause == "UNALLOCATED_NUMBER"
    assert cdr.disposition is Disposition.REJECTED and cdr.answered_at is None


def test_extension_answered_bridged_then_caller_hangs_up(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    add_route(app, "7003", RouteTarget.EXTENSION, "1001")
    sim.register_agent("1001", AgentBehaviour(answer_delay=1.0))
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7003", "100", behaviour=CallerBehaviour(talk_time=3.0))
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.ANSWERED
    assert cdr.hangup_by is HangupBy.CALLER
    assert cdr.agent_extension == "1001"
    assert 2900 <= cdr.talk_ms < 30_000  # 3 s of talk (simulated clock; load only adds)
    assert [leg.role for leg in cdr.legs] == [LegRole.CALLER, LegRole.AGENT]
    until(lambda: settled(app))


def test_extension_busy_plays_busy_tone(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    add_route(app, "7004", RouteTarget.EXTENSION, "1002")
    sim.register_agent("1002", AgentBehaviour(busy=True))
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7004", "100")
    cdr = wait_cdr(app, uuid)
    assert cdr.agent_extension is None
    assert (cdr.disposition, cdr.hangup_cause) == (Disposition.BUSY, "USER_BUSY")
    assert any(line.startswith("playback ") and "480" in line for line in apps_sent(sim, uuid))
    until(lambda: settled(app))


def test_extension_not_registered_is_failed_subscriber_absent(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    add_route(app, "7011", RouteTarget.EXTENSION, "1099")  # no phone registered as 1099
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7011", "100")
    cdr = wait_cdr(app, uuid)
    assert (cdr.disposition, cdr.hangup_cause) == (Disposition.FAILED, "SUBSCRIBER_ABSENT")
    assert cdr.agent_extension is None and [leg.role for leg in cdr.legs] == [LegRole.CALLER]
    until(lambda: settled(app))


def test_caller_leaves_while_agent_rings(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    add_route(app, "7005", RouteTarget.EXTENSION, "1003")
    sim.register_agent("1003", AgentBehaviour(no_answer=True))
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7005", "100", behaviour=CallerBehaviour(patience=2.0))
    cdr = wait_cdr(app, uuid)
    assert cdr.hangup_by is HangupBy.CALLER
    assert cdr.disposition is Disposition.ABANDONED
    until(lambda: settled(app))
    until(lambda: not sim.channels)  # the ringing agent leg was cancelled too


def caller_leaves_before_the_bridge(sim: Simulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every bridge from now on finds the caller gone: its BYE read by the engine after the
    other leg answered, just before the ``uuid_bridge``."""
    bridge = CallControl.bridge

    def late_bridge(control: CallControl, other: str) -> None:
        sim.hangup(control.uuid)
        control.wait_until(lambda: control.call.caller_gone, 5.0)
        bridge(control, other)

    monkeypatch.setattr(CallControl, "bridge", late_bridge)


def test_caller_leaving_as_the_agent_answers_frees_the_agents_phone(
    sim: Simulator, engine: EngineFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the caller's BYE read between the agent's answer and the bridge: the agent's leg,
    # answered and parked, was left up (the actor waiting for it to end, the agent in a call
    # and offered nothing until they hung up on the silence)
    app = engine()
    add_route(app, "7012", RouteTarget.EXTENSION, "1004")
    sim.register_agent("1004", AgentBehaviour(answer_delay=0.5))
    until(lambda: app.connections["fs1"].connected)
    caller_leaves_before_the_bridge(sim, monkeypatch)
    uuid = sim.place_call("7012", "100", behaviour=CallerBehaviour(talk_time=600.0))
    cdr = wait_cdr(app, uuid)
    assert (cdr.hangup_by, cdr.disposition) == (HangupBy.CALLER, Disposition.ABANDONED)
    assert [leg.role for leg in cdr.legs] == [LegRole.CALLER, LegRole.AGENT]
    until(lambda: not sim.channels)  # the agent's answered leg hung up too
    until(lambda: settled(app))


def test_hostile_caller_id_is_stored_verbatim(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    add_route(app, "7006", RouteTarget.PLAYBACK, TONE)
    until(lambda: app.connections["fs1"].connected)
    names = [
        "Evil\nEvent-Name: CHANNEL_HANGUP",
        'Zoë \\"Q\\" Test \\\\ back',
        "Pct%A Plus+ Semi; Amp&",
    ]
    uuids = [sim.place_call("7006", "100", name) for name in names]
    for uuid, name in zip(uuids, names, strict=True):
        cdr = wait_cdr(app, uuid)
        assert cdr.from_name == name
        assert cdr.disposition is Disposition.PLAYED  # the forged header changed nothing


def test_digits_collected_and_used(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    seen: list[object] = []

    def target(control: CallControl, _target: Target) -> None:
        control.answer()
        digits = control.collect_digits(TONE, min_digits=1, max_digits=4, timeout=5)
        seen.append(digits)
        control.set_variable("cc_result", f"digits_{digits.value}")
        control.hangup()

    app.managers["fs1"].run_target = target
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7007", "100", behaviour=CallerBehaviour(digits=("12#",)))
    wait_cdr(app, uuid)
    [digits] = seen
    assert digits == Digits("12", "success", "#")
    assert "set cc_result=digits_12" in apps_sent(sim, uuid)


def test_hostile_values_never_reach_freeswitch(sim: Simulator, engine: EngineFactory) -> None:
    """A caller-supplied value with a newline would add a header to the sendmsg: refused."""
    app = engine()

    def target(control: CallControl, _target: Target) -> None:
        control.answer()
        control.set_variable("cc_name", control.call.from_name)  # "x\ncall-command: hangup"

    app.managers["fs1"].run_target = target
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7008", "100", "x\ncall-command: hangup\nhangup-cause: USER_BUSY")
    cdr = wait_cdr(app, uuid)
    assert cdr.hangup_cause == "NORMAL_TEMPORARY_FAILURE"  # the engine's own, not USER_BUSY
    assert not any(line.startswith("set ") for line in apps_sent(sim, uuid))
    assert all("USER_BUSY" not in repr(c.headers) for c in sim.core.commands)
    until(lambda: settled(app))


def test_recording_broadcast_and_transfer(sim: Simulator, engine: EngineFactory) -> None:
    app = engine()
    paths: list[str] = []

    def target(control: CallControl, _target: Target) -> None:
        control.call.timeline.routed("playback")
        control.answer()
        path = str(app.settings.recordings_dir / f"{control.uuid}.wav")
        paths.append(path)
        control.record_start(path)
        control.record_mask(path)
        control.record_unmask(path)
        control.broadcast("tone_stream://%(500,0,800)", "aleg")
        control.play("tone_stream://%(2000,0,440)")
        control.record_stop(path)
        control.transfer("7010")  # FreeSWITCH re-runs the dialplan and parks it again
        control.play("tone_stream://%(500,0,440)")
        control.hangup()

    app.managers["fs1"].run_target = target
    until(lambda: app.connections["fs1"].connected)
    uuid = sim.place_call("7009", "100")
    cdr = wait_cdr(app, uuid)
    assert cdr.disposition is Disposition.PLAYED
    sent = [c.line for c in sim.core.commands]
    for action in ("start", "mask", "unmask", "stop"):
        assert f"api uuid_record {uuid} {action} {paths[0]}" in sent
    assert f"api uuid_broadcast {uuid} tone_stream://%(500,0,800) aleg" in sent
    assert f"api uuid_transfer {uuid} 7010 XML callcenter" in sent
    with app.database.session_scope() as session:
        [recording] = RecordingRepository(session).for_call(uuid)
    assert recording.path == paths[0]
    assert recording.duration_ms is not None and recording.duration_ms >= 2000
    assert recording.ended_at is not None
    until(lambda: settled(app))


def test_routes_written_around_the_services_are_read_again_on_sighup(
    sim: Simulator, engine: EngineFactory
) -> None:
    # route tables are read again on a change (the feed) or every 5 min, no longer every
    # 5 s: a route written straight into the database arrives with SIGHUP (reload all)
    app = engine()
    app.routes.ttl = 300.0
    app.routes.refresh()
    add_route(app, "7999", RouteTarget.PLAYBACK, "tone_stream://%(500,0,440)")
    assert str(app.routes.resolve("7999")) == app.settings.default_route
    app.request_reload()
    until(lambda: str(app.routes.resolve("7999")) == "playback:tone_stream://%(500,0,440)")

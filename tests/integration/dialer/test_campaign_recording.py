"""A campaign's calls recorded by policy (issue 17's recording policy, which the runtime
never read): the campaign's own ``recording`` over its queue's, the queue's when it has none,
the agent's keys and the API on a campaign call as on a queue call (a preview's agent, whose
leg is the call's own, included), a broadcast recorded from the answer, a lead gone as the
bridge comes up and a ``uuid_record`` FreeSWITCH refuses. The engine, the simulator over TCP
and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from callcenter.app import App
from callcenter.dialer.compliance import Outcome
from callcenter.dialer.vocabulary import CampaignMode
from callcenter.services import calls
from callcenter.services import recordings as service
from callcenter.sim import AgentBehaviour, Simulator
from callcenter.sim import api as sim_api
from callcenter.sim.events import SimEvent
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from callcenter.store.records import StoredRecording
from callcenter.store.repos import RecordingRepository
from callcenter.vocabulary import RecordingPolicy
from tests.integration.calls.conftest import EngineFactory
from tests.integration.calls.test_calls import apps_sent, settled, wait_cdr
from tests.integration.calls.test_queues import setup_queue
from tests.integration.calls.test_recording import OPERATOR, api_lines, checked
from tests.integration.calls.test_recording_restart import _sent, restarted
from tests.integration.dialer.test_call_failures import (
    BROADCAST_FLOW,
    TALKER,
    _free,
    _lead_channel,
)
from tests.integration.dialer.test_campaign_run import (
    PERSON,
    _attempts,
    _campaign,
    _offered,
    _route,
    _start,
)
from tests.integration.ivr.test_every_node import flows_dir
from tests.support import until

SHORT = AgentBehaviour(answer_delay=1.0, talk_time=3.0, voice=PERSON)  # hangs up after 3 s


def _dialled(
    app: App, sim: Simulator, name: str, agent: str, number: str, lead: AgentBehaviour,
    queue_policy: RecordingPolicy, **fields: object,
) -> None:  # fmt: skip
    """A running campaign of one lead, whose queue (recording by ``queue_policy``) has one
    agent, auto-answered."""
    _route(app)
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={number.lstrip("+"): lead})
    sim.register_agent(agent, AgentBehaviour(answer_delay=0.5))
    setup_queue(app, f"{name}q", {agent: {}}, did=f"8{agent}", recording_policy=queue_policy)
    _campaign(app, name, f"{name}q", [number], **fields)
    _start(app, name)


def _answered(app: App, name: str, agent: str, number: str) -> str:
    """The lead's call, once given to ``agent`` (its attempt is stored after the bridge and
    the recording's start)."""
    until(lambda: number in _attempts(app, name), timeout=30)
    attempt = _attempts(app, name)[number]
    assert (attempt.outcome, attempt.agent) == (Outcome.ANSWERED, agent)
    assert attempt.call_uuid is not None
    return attempt.call_uuid


def _rows(app: App, call: str) -> list[StoredRecording]:
    app.writer.flush()
    with app.database.session_scope() as session:
        return list(RecordingRepository(session).search(call_uuid=call))


def _paused_by_the_agent_and_hung_up(
    app: App, sim: Simulator, call: str, agent_leg: str
) -> StoredRecording:
    """The agent's ``*27`` and ``*28`` on ``agent_leg`` pause and resume the call's
    recording, as on a queue call; the call hung up: its row, checked, with that span."""
    sim.send_dtmf(agent_leg, "*27", gap=0.05)
    until(lambda: _sent(sim, call, "mask") == 1)
    sim.send_dtmf(agent_leg, "*28", gap=0.05)
    until(lambda: _sent(sim, call, "unmask") == 1)
    app.writer.flush()  # the call's row: the service looks it up
    calls.hangup(app.database, OPERATOR, call)
    wait_cdr(app, call, timeout=20)
    [row] = checked(app, call)
    assert (row.status, row.channels, len(row.paused)) == ("ok", 2, 1)
    return row


def test_a_campaign_set_to_always_records_its_agents_calls_in_stereo_over_its_queues_never(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine(CALLCENTER_RECORDING_TEMPLATE="{kind}/{campaign}/{queue}/{call_uuid}.wav")
    number = "+15557910001"
    _dialled(app, sim, "rec1", "4901", number, TALKER, RecordingPolicy.NONE,
             recording_policy="always")  # fmt: skip
    call = _answered(app, "rec1", "4901", number)
    assert _sent(sim, call, "start") == 1
    lines = api_lines(sim, call)
    stereo = lines.index(f"api uuid_setvar {call} RECORD_STEREO true")
    assert stereo < next(i for i, x in enumerate(lines) if f"uuid_record {call} start " in x)
    actor = app.managers["fs1"].actors[call]
    sim.send_dtmf(call, "*27", gap=0.05)  # the lead's keys do nothing
    until(lambda: "".join(actor.call.keys).endswith("*27"))
    assert _sent(sim, call, "mask") == 0
    [leg] = [x.uuid for x in actor.call.timeline.legs.values() if x.agent_extension == "4901"]
    row = _paused_by_the_agent_and_hung_up(app, sim, call, leg)
    assert (row.queue, row.agent) == ("rec1q", "4901")
    assert Path(row.path) == tmp_path / "recordings" / "campaign" / "rec1" / "rec1q" / f"{call}.wav"
    until(lambda: settled(app))


def test_a_campaign_set_to_never_is_not_recorded_though_its_queue_records_everything(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    number = "+15557920001"
    _dialled(app, sim, "rec2", "4902", number, SHORT, RecordingPolicy.ALL,
             recording_policy="never")  # fmt: skip
    call = _answered(app, "rec2", "4902", number)
    wait_cdr(app, call, timeout=20)
    assert not any("uuid_record" in x for x in api_lines(sim, call))
    assert _rows(app, call) == []
    until(lambda: settled(app))


def test_a_campaign_without_a_policy_of_its_own_is_recorded_by_its_queues(
    sim: Simulator, engine: EngineFactory
) -> None:
    app = engine()
    number = "+15557930001"
    _dialled(app, sim, "rec3", "4903", number, SHORT, RecordingPolicy.ALL)
    call = _answered(app, "rec3", "4903", number)
    wait_cdr(app, call, timeout=20)
    [row] = checked(app, call)
    assert (row.status, row.channels, row.queue, row.agent) == ("ok", 2, "rec3q", "4903")
    assert Path(row.path).parent.name == "rec3q"  # the default template's {queue}
    until(lambda: settled(app))


def test_a_preview_on_demand_is_started_by_the_api_and_paused_by_its_agents_keys(
    sim: Simulator, engine: EngineFactory
) -> None:
    # a preview's agent leg is the call's own channel: its keys were taken for a caller's
    app = engine()
    number = "+15557940001"
    _dialled(app, sim, "rec4", "4904", number, TALKER, RecordingPolicy.ALL,
             mode=CampaignMode.PREVIEW, recording_policy="on-demand")  # fmt: skip
    agent_leg = until(lambda: _offered(sim), timeout=20)
    until(lambda: any(a.startswith("play_and_get_digits") for a in apps_sent(sim, agent_leg)))
    sim.send_dtmf(agent_leg, "1")  # the agent takes it
    assert _answered(app, "rec4", "4904", number) == agent_leg
    agents_phone = sim.channel(agent_leg)
    assert agents_phone is not None and agents_phone.partner is not None  # bridged to the lead
    assert _sent(sim, agent_leg, "start") == 0  # on demand: nothing yet
    app.writer.flush()  # the call's row: the service looks it up
    service.control(app.database, OPERATOR, agent_leg, "start")
    until(lambda: _sent(sim, agent_leg, "start") == 1)
    assert f"api uuid_setvar {agent_leg} RECORD_STEREO true" in api_lines(sim, agent_leg)
    row = _paused_by_the_agent_and_hung_up(app, sim, agent_leg, agent_leg)
    assert (row.queue, row.agent) == ("rec4q", "4904")
    until(lambda: settled(app))


def test_a_broadcast_campaign_set_to_always_is_recorded_from_the_answer_in_mono(
    sim: Simulator, engine: EngineFactory, tmp_path: Path
) -> None:
    app = engine(
        CALLCENTER_DIALPLANS_DIR=str(flows_dir(tmp_path, bcast=BROADCAST_FLOW)),
        CALLCENTER_RECORDING_TEMPLATE="{kind}/{campaign}/{flow}/{call_uuid}.wav",
    )  # fmt: skip
    _route(app)
    number = "+15557950001"
    TrafficModel(sim, TrafficProfile(), seed=1, overrides={number.lstrip("+"): TALKER})
    setup_queue(app, "rec5q", {}, did="8795")
    _campaign(app, "rec5", "rec5q", [number], mode=CampaignMode.BROADCAST, flow="bcast",
              recording_policy="always")  # fmt: skip
    _start(app, "rec5")
    call = until(lambda: _lead_channel(sim, "rec5"), timeout=30)
    until(lambda: _sent(sim, call, "start") == 1)
    until(lambda: any(c.uuid == call and c.application == "playback" for c in sim.channels))
    sim.hangup(call)
    wait_cdr(app, call, timeout=20)
    [row] = checked(app, call)
    assert (row.status, row.channels, row.queue, row.agent) == ("ok", 1, None, None)
    assert not any("RECORD_STEREO" in x for x in api_lines(sim, call))
    assert Path(row.path) == tmp_path / "recordings" / "campaign" / "rec5" / "bcast" / f"{call}.wav"
    until(lambda: settled(app))


def test_a_lead_hanging_up_as_the_bridge_comes_up_was_answered_and_frees_its_agent(
    sim: Simulator, engine: EngineFactory
) -> None:
    # the CallGone of the bridge made it an abandoned call, the agent's reservation released
    # though the agent had been bridged to the lead; and nothing may be left recording
    app = engine()
    number = "+15557960001"
    left: list[str] = []

    def leave_at_the_bridge(event: SimEvent) -> None:
        lead = event.unique_id or ""
        if event.name == "CHANNEL_BRIDGE" and not left and lead == _lead_channel(sim, "rec6"):
            left.append(lead)
            sim.core.spawn(sim.hangup, lead, name="lead-leaves")

    sim.on_event(leave_at_the_bridge)
    _dialled(app, sim, "rec6", "4906", number, TALKER, RecordingPolicy.NONE,
             recording_policy="always")  # fmt: skip
    call = _answered(app, "rec6", "4906", number)
    assert left == [call]
    cdr = wait_cdr(app, call, timeout=20)
    assert cdr.agent_extension == "4906"
    until(lambda: _free(app, "4906"), timeout=20)  # after its wrap-up
    until(lambda: all(r.status not in ("recording", "pending") for r in _rows(app, call)))
    until(lambda: settled(app))


def test_a_recording_freeswitch_refuses_leaves_the_call_going_on_unrecorded_and_said(
    sim: Simulator,
    engine: EngineFactory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = engine()
    number = "+15557970001"

    def refusing(_api: sim_api.Api, _argv: list[str], _args: str) -> str:
        return "-ERR Cannot locate session!\n"

    monkeypatch.setitem(sim_api.HANDLERS, "uuid_record", refusing)
    _dialled(app, sim, "rec7", "4907", number, TALKER, RecordingPolicy.ALL)
    call = _answered(app, "rec7", "4907", number)
    assert any(f"uuid_record {call} start " in x for x in api_lines(sim, call))
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(f"call {call}: recording not started" in e for e in errors), errors
    channel = sim.channel(call)
    assert channel is not None and channel.partner is not None  # they talk on
    assert _rows(app, call) == []
    sim.hangup(call)
    assert wait_cdr(app, call, timeout=20).agent_extension == "4907"
    until(lambda: settled(app))


def test_a_campaign_calls_recording_is_adopted_through_a_restart_with_its_row(
    sim: Simulator, engine: EngineFactory
) -> None:
    first = engine()
    number = "+15557980001"
    _dialled(first, sim, "rec8", "4908", number, TALKER, RecordingPolicy.NONE,
             recording_policy="always")  # fmt: skip
    call = _answered(first, "rec8", "4908", number)
    [row] = _rows(first, call)  # the live file's row, as a queue call's
    assert (row.status, row.queue, row.agent) == ("recording", "rec8q", "4908")
    second, current = restarted(first, engine, call)
    assert current.path == row.path
    sim.hangup(call)
    wait_cdr(second, call, timeout=20)
    [done] = checked(second, call)
    assert (done.id, done.status, done.channels) == (row.id, "ok", 2)
    assert (done.queue, done.agent) == ("rec8q", "4908")
    assert _sent(sim, call, "start") == 1  # adopted, not started again
    until(lambda: settled(second))

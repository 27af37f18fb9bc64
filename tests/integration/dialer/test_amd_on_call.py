"""Answering-machine detection on real calls: ``amd.detect`` through CallControl and a real
ESL connection to the simulator over TCP, on called parties pinned per number."""

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import uuid as uuidlib
from collections.abc import Iterator

import pytest

from callcenter.calls.call import Call
from callcenter.calls.control import CallControl
from callcenter.calls.mailbox import Mailbox
from callcenter.dialer import amd
from callcenter.dialer.amd import AmdSettings, Reason, Verdict
from callcenter.esl import ESLConnection, EventRouter, commands
from callcenter.esl.vocabulary import DEFAULT_EVENTS
from callcenter.settings import ESLNode
from callcenter.sim import AgentBehaviour, Simulator, Voice
from callcenter.sim.traffic import TrafficModel, TrafficProfile
from callcenter.vocabulary import Direction
from tests.support import until

# real time: the ESL round trips from the answer to detect_audio's start must stay a small
# part of a person's first silence (on a real switch: a few ms)
TIME_SCALE = 0.5
PEOPLE = {
    "15551001": Voice(silence=0.6, speech=0.7, patience=30.0),  # "hello?" and waits
    "15551002": Voice(silence=1.6, speech=0.6, patience=30.0),  # a pause, then "hello?"
    "15551003": Voice(silence=0.2, speech=3.5, patience=30.0),  # a talker: no pause
    "15551004": Voice(silence=9.0, speech=0.5, patience=30.0),  # says nothing at first
}
MACHINES = {
    "15552001": Voice(machine=True, silence=0.6, speech=6.0, beep_gap=0.5, patience=None),
    "15552002": Voice(machine=True, silence=0.6, speech=1.0, beep_gap=0.4, patience=None),
    "15552003": Voice(machine=True, silence=0.6, speech=5.0, beep_gap=None, patience=None),
}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(password="amd-test", time_scale=TIME_SCALE, seed=3).start()
    overrides = {
        number: AgentBehaviour(answer_delay=0.5, machine=voice.machine, voice=voice)
        for number, voice in {**PEOPLE, **MACHINES}.items()
    }
    TrafficModel(simulator, TrafficProfile(), seed=1, overrides=overrides)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture
def esl(sim: Simulator) -> Iterator[tuple[ESLConnection, EventRouter]]:
    router = EventRouter()
    connection = ESLConnection(
        ESLNode("fs1", "127.0.0.1", sim.port, "amd-test"),
        on_event=router,
        events=(*DEFAULT_EVENTS, "CUSTOM", *amd.SUBSCRIPTION),
        command_timeout=5.0,
    )
    connection.start()
    until(lambda: connection.connected)
    try:
        yield connection, router
    finally:
        connection.stop()


def answered(esl: tuple[ESLConnection, EventRouter], number: str) -> CallControl:
    connection, router = esl
    uuid = str(uuidlib.uuid4())
    call = Call(uuid, "fs1", Direction.OUTBOUND, to_number=number)
    mailbox = Mailbox(uuid)
    router.attach_call(uuid, mailbox)
    control = CallControl(call, connection, mailbox, attach_leg=lambda _leg: None)
    connection.api(commands.originate(f"sofia/gateway/carrier/{number}", {}, uuid=uuid), 10.0)
    return control


@pytest.mark.parametrize(
    ("number", "verdict", "reason"),
    [
        ("15551001", Verdict.HUMAN, Reason.SHORT_GREETING),
        ("15551002", Verdict.HUMAN, Reason.SHORT_GREETING),
        ("15551003", Verdict.MACHINE, Reason.LONG_GREETING),  # the false positive AMD makes
        ("15551004", Verdict.HUMAN, Reason.SILENCE),
        ("15552001", Verdict.MACHINE, Reason.LONG_GREETING),
        ("15552002", Verdict.MACHINE, Reason.BEEP),  # short greeting, but avmd heard the beep
        ("15552003", Verdict.MACHINE, Reason.LONG_GREETING),
    ],
)
def test_detect_tells_people_from_machines(
    esl: tuple[ESLConnection, EventRouter], number: str, verdict: Verdict, reason: Reason
) -> None:
    control = answered(esl, number)
    assert amd.avmd_loaded(esl[0])
    found = amd.detect(control, AmdSettings())
    assert (found.verdict, found.reason) == (verdict, reason)
    voice = {**PEOPLE, **MACHINES}[number]
    if reason is Reason.SHORT_GREETING:  # the safe harbor's 2 s start at the greeting's end
        assert 0.5 < found.seconds - voice.greeting_end < 1.3


def test_a_machine_beep_is_awaited_before_a_message(
    esl: tuple[ESLConnection, EventRouter],
) -> None:
    control = answered(esl, "15552001")
    found = amd.detect(control, AmdSettings())
    assert found.reason is Reason.LONG_GREETING and control.call.beep_us == 0
    assert amd.wait_for_beep(control, timeout=10.0)
    beep = amd.beep_seconds(control)
    assert beep is not None and 7.1 < beep < 7.6  # 0.6 + 6.0 + 0.5, heard in 160 ms
    amd.stop(control, AmdSettings())


def test_without_mod_avmd_the_engine_never_runs_it(
    sim: Simulator, esl: tuple[ESLConnection, EventRouter]
) -> None:
    sim.core.modules.discard("mod_avmd")
    assert not amd.avmd_loaded(esl[0])
    control = answered(esl, "15552002")
    found = amd.detect(control, AmdSettings(avmd=False))
    # no beep heard: a short machine greeting passes for a person (a false negative)
    assert (found.verdict, found.reason) == (Verdict.HUMAN, Reason.SHORT_GREETING)
    apps = [value for c in sim.commands for name, value in c.headers if name == "execute-app-name"]
    assert "detect_audio" in apps and "avmd_start" not in apps

"""The simulator costs what FreeSWITCH costs: its events against the recorded ones, per leg.

Each scenario replays, over real TCP, what the controller did in a recorded session, and
every event type the recorded leg has must come out of the simulator with a mean JSON
body size within 20% of the recorded one and a header-name set within 20%
(|sim ∆ rec| / |rec|). The sessions-3 scenarios (the project's freeswitch-conf, which is
what the engine runs behind) must also give the same events in the same order.

The recorded side is tests/fixtures/sim/recorded-legs.json, derived from
../shared/freeswitch by tests/fixtures/sim/summarize_recordings.py.
"""

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import json
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import gevent
import pytest

from callcenter.sim import AgentBehaviour, CallerBehaviour, Simulator
from tests.integration.sim.rawesl import RawESL, _label, parse_event
from tests.support import until
from tests.unit.sim.fixtures import FIXTURES

TOLERANCE = 0.2
# s01 was recorded on the vanilla config (profile external, context public); the simulator
# plays freeswitch-conf. These types differ by that config, and the sessions-3 scenarios
# compare them on the project's config. s01 is kept for what sessions-3 has no carrier
# caller for: playback, digit collection and DTMF on an unbridged caller.
CONFIG_DIFFERENCES: dict[str, dict[str, str]] = {
    "s01-inbound-ivr": {
        "CHANNEL_CREATE": "late negotiation on external: no codec or media variables yet",
        "CHANNEL_PARK": "same, and context public's outside_call/RFC2822_DATE, not cc_*",
        "CHANNEL_PROGRESS_MEDIA": "late negotiation only: a freeswitch-conf caller has none",
    }
}
PAGD = r"1 4 3 5000 # tone_stream://%(300,0,800) silence_stream://250 cc_digits \d+"
AGENT_DIAL = "{{origination_uuid={b},cc_role=agent,originate_timeout=15,cc_call={a}}}"


@cache
def recorded() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "recorded-legs.json").read_text())
    return data


def header_names(spec: str) -> set[str]:
    names: list[str] = recorded()["names"]
    out: set[str] = set()
    for part in spec.split(","):
        first, _, last = part.partition("-")
        out.update(names[int(first) : int(last or first) + 1])
    return out


@dataclass
class TypeStats:
    count: int
    bytes: float
    headers: set[str]


def sim_stats(esl: RawESL, uuid: str) -> tuple[list[str], dict[str, TypeStats]]:
    """The leg's labels and, per event type, count, mean body bytes and header-name union."""
    labels: list[str] = []
    sizes: dict[str, list[int]] = {}
    headers: dict[str, set[str]] = {}
    for message in esl.raw:
        if message.content_type != "text/event-json":
            continue
        event = parse_event(message)
        if event.headers.get("Unique-ID") != uuid:
            continue
        labels.append(_label(event))
        sizes.setdefault(event.name, []).append(len(message.body.encode()))
        headers.setdefault(event.name, set()).update(event.headers)
    stats = {name: TypeStats(len(v), sum(v) / len(v), headers[name]) for name, v in sizes.items()}
    return labels, stats


def compare(scenario: str, role: str, esl: RawESL, uuid: str) -> list[str]:
    """Every recorded event type of the leg against the simulator's; returns the failures
    (and prints the whole table, for ``pytest -s``)."""
    leg = recorded()["scenarios"][scenario]["legs"][role]
    excused = CONFIG_DIFFERENCES.get(scenario, {})
    _labels, sim = sim_stats(esl, uuid)
    failures: list[str] = []
    print(f"\n{scenario} / {role}")
    print(
        f"  {'event':26} {'rec B':>7} {'sim B':>7} {'size':>6} {'rec h':>5} {'sim h':>5} {'∆h':>5}"
    )
    for name, rec in leg["events"].items():
        if name in excused:
            print(f"  {name:26} {rec['bytes']:7}  (not compared: {excused[name]})")
            continue
        want = header_names(rec["headers"])
        got = sim.get(name)
        if got is None:
            failures.append(f"{role} {name}: recorded {rec['count']}x, never sent by the sim")
            continue
        size = got.bytes / rec["bytes"] - 1
        missing, extra = sorted(want - got.headers), sorted(got.headers - want)
        delta = (len(missing) + len(extra)) / len(want)
        print(
            f"  {name:26} {rec['bytes']:7} {got.bytes:7.0f} {size:+6.1%} "
            f"{len(want):5} {len(got.headers):5} {delta:5.1%}"
            + (f"  -{missing} +{extra}" if missing or extra else "")
        )
        if abs(size) > TOLERANCE:
            failures.append(
                f"{role} {name}: {got.bytes:.0f} bytes, recorded {rec['bytes']} ({size:+.1%})"
            )
        if delta > TOLERANCE:
            failures.append(
                f"{role} {name}: header set {delta:.0%} off; missing {missing}, extra {extra}"
            )
    return failures


# -- the scenarios: what the controller did in each recording -----------------------------
Legs = dict[str, str]
Scenario = Callable[[Simulator, RawESL], Legs]


def _done(esl: RawESL, app_uuid: str) -> None:
    until(lambda: esl.find("CHANNEL_EXECUTE_COMPLETE", Application_UUID=app_uuid))


def _parked_answered(sim: Simulator, esl: RawESL, did: str = "5100", **kw: Any) -> str:
    a = sim.place_call(did, "15551234567", "Alice Caller", **kw)
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=a))
    _done(esl, esl.sendmsg(a, "answer"))
    return a


def _agent_bridged(sim: Simulator, esl: RawESL) -> Legs:
    a = _parked_answered(sim, esl)
    b = str(uuidlib.uuid4())
    dial = AGENT_DIAL.format(a=a, b=b) + "user/1001@callcenter &park()"
    esl.command(f"bgapi originate {dial}")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=b))
    assert esl.api(f"uuid_bridge {a} {b}") == f"+OK {b}\n"
    until(lambda: len(esl.find("CALL_UPDATE", Unique_ID=b)) == 2)
    return {"caller": a, "agent": b}


def _gone(esl: RawESL, *uuids: str) -> None:
    """Until each leg's last event, CHANNEL_STATE CS_DESTROY, has arrived."""
    until(
        lambda: all(
            esl.find("CHANNEL_STATE", Unique_ID=u, Channel_State="CS_DESTROY") for u in uuids
        )
    )


def s17_inbound(sim: Simulator, esl: RawESL) -> Legs:
    a = _parked_answered(sim, esl)
    gevent.sleep(0.05)  # 1 s at the tests' time scale
    esl.sendmsg(a, "hangup", "NORMAL_CLEARING")
    _gone(esl, a)
    return {"caller": a}


def s17_agent_bridged(sim: Simulator, esl: RawESL) -> Legs:
    legs = _agent_bridged(sim, esl)
    gevent.sleep(0.1)
    assert esl.api(f"uuid_kill {legs['caller']}") == "+OK\n"
    _gone(esl, *legs.values())
    return legs


def s16_stereo_recording(sim: Simulator, esl: RawESL) -> Legs:
    legs = _agent_bridged(sim, esl)
    a = legs["caller"]
    path = f"/var/lib/callcenter/recordings/{a}.wav"
    assert esl.api(f"uuid_setvar {a} RECORD_STEREO true") == "+OK\n"
    assert esl.api(f"uuid_record {a} start {path}") == "+OK Success\n"
    sim.send_dtmf(a, "12#", gap=0.5)
    esl.api(f"uuid_record {a} mask {path}")
    until(lambda: len(esl.find("DTMF", Unique_ID=a)) == 3)
    esl.api(f"uuid_record {a} unmask {path}")
    esl.api(f"uuid_record {a} stop {path}")
    until(lambda: esl.find("RECORD_STOP", Unique_ID=a))
    assert esl.api(f"uuid_kill {a}") == "+OK\n"
    _gone(esl, *legs.values())
    return legs


def s12_gateway_call(sim: Simulator, esl: RawESL) -> Legs:
    g = str(uuidlib.uuid4())
    dial = f"{{origination_uuid={g},cc_entry=trunk_out,origination_caller_id_number=4930555000}}"
    esl.command(f"bgapi originate {dial}sofia/gateway/carrier1/12345 &park()")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=g))
    gevent.sleep(0.1)
    assert esl.api(f"uuid_kill {g}") == "+OK\n"
    _gone(esl, g)
    return {"gateway": g}


def s12_gateway_busy(sim: Simulator, esl: RawESL) -> Legs:
    sim.set_far_end(lambda dial: AgentBehaviour(busy=True) if "/486" in dial else None)
    g = str(uuidlib.uuid4())
    job = esl.command(
        f"bgapi originate {{origination_uuid={g},cc_entry=trunk_out}}"
        "sofia/gateway/carrier1/48612345 &park()"
    ).headers["Job-UUID"]
    bg = until(lambda: esl.find("BACKGROUND_JOB", Job_UUID=job))[0]
    assert bg.body == "-ERR USER_BUSY\n"
    _gone(esl, g)
    return {"gateway": g}


def s12_gateway_503(sim: Simulator, esl: RawESL) -> Legs:
    sim.gateways.carrier("carrier1", AgentBehaviour(fail_cause="NORMAL_TEMPORARY_FAILURE"))
    g = str(uuidlib.uuid4())
    try:
        job = esl.command(
            f"bgapi originate {{origination_uuid={g},cc_entry=trunk_out}}"
            "sofia/gateway/carrier1/50312345 &park()"
        ).headers["Job-UUID"]
        bg = until(lambda: esl.find("BACKGROUND_JOB", Job_UUID=job))[0]
        assert bg.body == "-ERR NORMAL_TEMPORARY_FAILURE\n"
        _gone(esl, g)
        hangup = esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=g)[0]
        assert hangup.get("variable_sip_term_status") == "503"
        assert hangup.get("variable_proto_specific_hangup_cause") == "sip:503"
    finally:
        sim.gateways.carrier("carrier1", None)
    return {"gateway": g}


def s01_inbound_ivr(sim: Simulator, esl: RawESL) -> Legs:
    behaviour = CallerBehaviour(digits=("12#",), first_digit_delay=1.0)
    a = _parked_answered(sim, esl, did="5000", behaviour=behaviour)
    _done(esl, esl.sendmsg(a, "playback", "tone_stream://%(2000,0,440)"))
    _done(esl, esl.sendmsg(a, "play_and_get_digits", PAGD))
    assert esl.api(f"uuid_getvar {a} cc_digits") == "12"
    _done(esl, esl.sendmsg(a, "set", "cc_result=digits_12"))
    esl.sendmsg(a, "hangup", "NORMAL_CLEARING")
    _gone(esl, a)
    return {"caller": a}


SCENARIOS: dict[str, Scenario] = {
    "s17-inbound": s17_inbound,
    "s17-agent-bridged": s17_agent_bridged,
    "s16-stereo-recording": s16_stereo_recording,
    "s12-gateway-call": s12_gateway_call,
    "s12-gateway-busy": s12_gateway_busy,
    "s12-gateway-503": s12_gateway_503,
    "s01-inbound-ivr": s01_inbound_ivr,
}


@pytest.fixture
def agent_sim(sim: Simulator) -> Simulator:
    sim.register_agent("1001", AgentBehaviour(answer_delay=0.5))
    return sim


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_event_sizes_and_headers_match_the_recording(
    agent_sim: Simulator, esl: RawESL, scenario: str
) -> None:
    legs = SCENARIOS[scenario](agent_sim, esl)
    failures = [
        failure for role, uuid in legs.items() for failure in compare(scenario, role, esl, uuid)
    ]
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "scenario",
    [s for s in SCENARIOS if recorded()["scenarios"][s]["recording"].startswith("sessions-3/")],
)
def test_events_per_leg_and_their_order_match_freeswitch_conf(
    agent_sim: Simulator, esl: RawESL, scenario: str
) -> None:
    legs = SCENARIOS[scenario](agent_sim, esl)
    for role, uuid in legs.items():
        labels, _ = sim_stats(esl, uuid)
        assert labels == without_races(recorded()["scenarios"][scenario]["legs"][role]["sequence"])


def without_races(labels: list[str]) -> list[str]:
    """A bridged B leg passes CS_CONSUME_MEDIA on its way to CS_EXCHANGE_MEDIA in some runs
    and not in others (s17 call 2 without, call 4 and s16 with): the simulator never does."""
    return [
        label
        for i, label in enumerate(labels)
        if not (
            label == "st:CS_CONSUME_MEDIA" and labels[i + 1 : i + 2] == ["st:CS_EXCHANGE_MEDIA"]
        )
    ]


def test_every_recorded_scenario_is_replayed() -> None:
    assert set(recorded()["scenarios"]) == set(SCENARIOS)

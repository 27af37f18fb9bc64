"""s13 (an agent's phone sends a blind REFER): the simulator against the recorded events.

The excerpt in tests/fixtures/sim is run 1 of sessions-3/s13-blind-transfer-refer, from the
agent leg's CHANNEL_HANGUP to its CHANNEL_STATE CS_DESTROY (Event-Sequence 703-730).
"""

# isort: off
import callcenter._gevent  # noqa: F401  (monkey-patches first)

# isort: on

import uuid as uuidlib

from callcenter.sim import Simulator
from tests.integration.sim.rawesl import EventMsg, RawESL, _label
from tests.integration.sim.recorded import recorded_events, sequence
from tests.support import until

REAL_A = "5864605c-9a92-4a5c-97ed-e5f95c760e85"
REAL_B = "03181cda-ebb5-4047-bc0d-c87f5ef5a784"
ORIGINATE = (
    "{{origination_uuid={b},cc_role=agent,originate_timeout=15,cc_call={a}}}user/1001 &park()"
)


def _bridged(sim: Simulator, esl: RawESL) -> tuple[str, str]:
    a = sim.place_call("5100", "15551234567", "Alice Caller")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=a))
    app = esl.sendmsg(a, "answer")
    until(lambda: esl.find("CHANNEL_EXECUTE_COMPLETE", Application_UUID=app))
    b = str(uuidlib.uuid4())
    assert esl.api(f"originate {ORIGINATE.format(a=a, b=b)}") == f"+OK {b}\n"
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=b))
    esl.api(f"uuid_bridge {a} {b}")
    until(lambda: esl.find("CALL_UPDATE", Unique_ID=a))
    until(lambda: len(esl.find("CALL_UPDATE", Unique_ID=b)) == 2)
    return a, b


def _labels_from(esl: RawESL, first: EventMsg, uuid: str) -> list[str]:
    """The labels of ``uuid``'s events from ``first`` (the REFER's first event) on."""
    start = next(i for i, e in enumerate(esl.events) if e is first)
    return [_label(e) for e in esl.events[start:] if e.headers.get("Unique-ID") == uuid]


def test_s13_blind_refer_parks_the_caller_again(sim: Simulator, esl: RawESL) -> None:
    a, b = _bridged(sim, esl)
    assert sim.refer(b, "1002") is True
    until(lambda: len(esl.find("CHANNEL_PARK", Unique_ID=a)) == 2)
    until(lambda: esl.find("CHANNEL_STATE", Unique_ID=b, Channel_State="CS_DESTROY"))

    recorded = recorded_events("s13-blind-transfer-refer.events.jsonl")
    hangup_b = esl.find("CHANNEL_HANGUP", Unique_ID=b)[0]
    ours_a = _labels_from(esl, hangup_b, a)
    ours_b = _labels_from(esl, hangup_b, b)
    assert ours_a == sequence(recorded, REAL_A)
    # PRESENCE_IN: recorded with ``event json ALL``, not in this subscription
    assert ours_b == [label for label in sequence(recorded, REAL_B) if label != "PRESENCE_IN"]

    # no CREATE for the caller: the same channel, parked a second time, with the target
    assert len(esl.find("CHANNEL_CREATE", Unique_ID=a)) == 1
    park = esl.find("CHANNEL_PARK", Unique_ID=a)[1]
    real_park = next(e for e in recorded if e.name == "CHANNEL_PARK")
    for header in ("Answer-State", "Caller-Context", "variable_cc_entry", "variable_cc_managed",
                   "variable_hangup_after_bridge", "variable_endpoint_disposition"):  # fmt: skip
        assert park[header] == real_park.headers[header], header
    assert park["Caller-Destination-Number"] == "1002" and park["variable_cc_did"] == "1002"
    assert park["variable_sip_refer_to"] == "<sip:1002@callcenter>"
    assert park["variable_sip_h_Referred-By"] == "<sip:1001@callcenter>"
    source = park["variable_transfer_source"]
    assert source.split(":")[2:] == ["bl_xfer", "1002/callcenter/XML"]
    assert park["Caller-Transfer-Source"] == source
    # the agent's leg: ended by FreeSWITCH for a blind transfer, as recorded
    done = esl.find("CHANNEL_HANGUP_COMPLETE", Unique_ID=b)[0]
    real_done = next(
        e
        for e in recorded
        if e.name == "CHANNEL_HANGUP_COMPLETE" and e.headers["Unique-ID"] == REAL_B
    )
    for header in ("Hangup-Cause", "variable_endpoint_disposition",
                   "variable_transfer_disposition", "variable_sip_hangup_disposition",
                   "variable_transfer_destination"):  # fmt: skip
        assert done[header] == real_done.headers[header], header


def test_refer_of_a_leg_that_is_not_bridged_is_refused(sim: Simulator, esl: RawESL) -> None:
    a = sim.place_call("5100", "15551234567", "Alice Caller")
    until(lambda: esl.find("CHANNEL_PARK", Unique_ID=a))
    assert sim.refer(a, "1002") is False
    assert sim.refer(str(uuidlib.uuid4()), "1002") is False

"""Phone transfers, pure parts: what a second park and a cross-call bridge mean (from the
recorded s13 park and mod_sofia's attended transfer record), and the CDR of a chain."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from callcenter.calls.intents import LegSnapshot, PhoneTransfer, check
from callcenter.calls.transfers import attended, referral, sip_user
from callcenter.cdr.builder import build_cdr
from callcenter.cdr.timeline import CallTimeline
from callcenter.errors import ConfigError
from callcenter.esl.events import Event
from callcenter.vocabulary import Direction, Disposition, HangupBy, LegRole

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "sim"
CALLER, AGENT, TARGET = "a-uuid", "b-uuid", "d-uuid"


def recorded_park() -> Event:
    """The caller's second CHANNEL_PARK after the REFER (sessions-3 s13, run 1)."""
    with (FIXTURE / "s13-blind-transfer-refer.events.jsonl").open() as f:
        bodies = [json.loads(line)["body"] for line in f]
    body = next(b for b in bodies if b["Event-Name"] == "CHANNEL_PARK")
    headers = {k: "ARRAY::" + "|:".join(v) if isinstance(v, list) else v for k, v in body.items()}
    return Event("CHANNEL_PARK", None, body["Unique-ID"], headers)


def event(name: str, uuid: str, **headers: str) -> Event:
    base = {"Event-Name": name, "Unique-ID": uuid, "Event-Date-Timestamp": "1000000"}
    return Event(name, None, uuid, {**base, **headers})


def test_the_recorded_second_park_is_a_blind_transfer_by_the_referrer() -> None:
    park = recorded_park()
    found = referral(park)
    assert found is not None
    assert (found.destination, found.kind, found.agent, found.by) == (
        "1002", "blind", "1001", "agent:1001",
    )  # fmt: skip
    assert found.source.endswith(":bl_xfer:1002/callcenter/XML")
    assert found.at_us == park.timestamp_us


@pytest.mark.parametrize(
    "source",
    [
        "",  # a first park
        "1796535557:89c3:uuid_br:03181cda",  # a bridge's record
        "1796535557:89c3:uuid_xfer:5000/callcenter/XML",  # the engine's own uuid_transfer
        "garbage",
    ],
)
def test_other_parks_are_not_transfers(source: str) -> None:
    assert referral(event("CHANNEL_PARK", CALLER, variable_transfer_source=source)) is None


@pytest.mark.parametrize(
    ("header", "user"),
    [
        ("<sip:1001@callcenter>", "1001"),
        ("sip:4014@10.0.0.1;transport=udp", "4014"),
        ("<sip:10 01@x>", ""),
        ("<tel:+4930>", ""),
        ("", ""),
    ],
)
def test_referred_by_user(header: str, user: str) -> None:
    assert sip_user(header) == user


def test_a_caller_bridged_to_another_calls_leg_is_an_attended_transfer() -> None:
    history = (
        "ARRAY::1:x:uuid_br:b-uuid|:2:y:att_xfer:4014@callcenter/4015@callcenter|:3:z:uuid_br:d"
    )
    bridge = event("CHANNEL_BRIDGE", CALLER, variable_transfer_history=history)
    leg = LegSnapshot(TARGET, "4015", "4015", 900_000, 950_000)
    found = attended(bridge, leg)
    assert (found.kind, found.agent, found.destination, found.leg) == (
        "attended",
        "4014",
        "4015",
        leg,
    )
    assert found.source == "2:y:att_xfer:4014@callcenter/4015@callcenter"


def test_an_attended_transfer_without_a_transfer_record_is_still_one() -> None:
    bridge = event("CHANNEL_BRIDGE", CALLER)
    found = attended(bridge, LegSnapshot(TARGET, None, "0049301234", None, None))
    assert (found.by, found.destination, found.source) == (
        "phone",
        "0049301234",
        f"bridge:{TARGET}",
    )


def test_a_phone_transfer_is_not_an_operator_intent() -> None:
    with pytest.raises(ConfigError):
        check(PhoneTransfer("1002", "agent:1001", "blind", "s", 0))


# -- the CDR of a chain -------------------------------------------------------------------


def chain(*, then: str) -> CallTimeline:
    """Answered by agent 1001, transferred; then: the target answers, or nobody does."""
    t = CallTimeline(call_uuid=CALLER, node="fs1", did="5000")
    t.add_leg(CALLER, LegRole.CALLER, Direction.INBOUND)
    caller = t.caller
    caller.created_us, caller.answered_us, caller.bridged_us = 1, 2, 3
    first = t.agent_leg(AGENT, "1001")
    first.created_us, first.answered_us, first.bridged_us = 2, 3, 3
    first.hangup_us = first.ended_us = 10
    first.hangup_disposition = "send_bye"
    t.hangup_order.append(AGENT)
    t.queue_joined("sales", 1)
    t.queue_left(3, "answered")
    t.transferred("blind", 10, agent="1001", destination="*85", source="s1")
    if then == "answered":
        t.queue_joined("billing", 11)
        target = t.agent_leg(TARGET, "1002")
        target.created_us, target.answered_us, target.bridged_us = 12, 13, 13
        t.queue_left(13, "answered")
    elif then == "abandoned":
        t.queue_joined("billing", 11)
        t.queue_left(20, "abandoned")
    elif then == "busy":
        t.dial_failed("USER_BUSY")
    caller.hangup_us = caller.ended_us = 30
    caller.hangup_disposition = "recv_bye"
    caller.hangup_cause = "NORMAL_CLEARING"
    t.hangup_order.append(CALLER)
    if then == "answered":
        t.legs[TARGET].hangup_us = t.legs[TARGET].ended_us = 30
    return t


@pytest.mark.parametrize(
    ("then", "disposition", "queue"),
    [
        ("answered", Disposition.ANSWERED, "billing"),
        ("abandoned", Disposition.ABANDONED, "billing"),
        ("busy", Disposition.BUSY, "sales"),
        ("nothing", Disposition.ABANDONED, "sales"),
    ],
)
def test_a_chain_is_disposed_of_by_its_last_hop(
    then: str, disposition: Disposition, queue: str
) -> None:
    cdr = build_cdr(chain(then=then))
    assert cdr.disposition is disposition
    assert cdr.queue == queue
    assert (cdr.transfers, cdr.transferred_by) == (1, "1001")
    # the agent leg the transfer ended is not who hung up: the caller did
    assert cdr.hangup_by is HangupBy.CALLER
    hop: dict[str, Any] = next(s for s in cdr.ivr_path if s["node"] == "@transfer")
    assert (hop["kind"], hop["by"], hop["to"]) == ("blind", "agent:1001", "*85")


def test_a_moved_leg_ends_in_the_consult_call_without_a_hang_up() -> None:
    t = CallTimeline(call_uuid="c-uuid", node="fs1")
    t.add_leg("c-uuid", LegRole.CALLER, Direction.INBOUND)
    leg = t.agent_leg(TARGET, "4015")
    t.leg_moved(TARGET, CALLER, 77)
    assert leg.ended and leg.hangup_cause == "ATTENDED_TRANSFER"
    assert leg.hangup_disposition == f"moved:{CALLER}" and t.hangup_order == []

"""Event shapes, the bus, and webhook signatures."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client import CollectorRegistry

from callcenter.dialer.calls import DialerCalls
from callcenter.dialer.runner import Dialer
from callcenter.events import types
from callcenter.events.bus import BusMetrics, EventBus
from callcenter.events.signing import signature, verify
from callcenter.events.types import (
    EVENT_TYPES,
    AgentOffered,
    CallCreated,
    CallEnded,
    Event,
    EventType,
    QueueLeft,
    for_call,
)
from callcenter.kpi.live import LiveKpis
from callcenter.wallboard.tally import Tally


@dataclasses.dataclass
class FakeCall:
    uuid: str = "c-1"
    from_number: str = "+33140000000"
    from_name: str = "Alice"


def every_event() -> list[Event]:
    required: dict[type[Event], dict[str, object]] = {
        types.IvrNode: {"flow": "main", "node": "menu"},
        types.QueueLeft: {"outcome": "answered"},
        types.AgentStatusChanged: {"status": "paused"},
        types.AgentStateChanged: {"state": "idle", "status": "available"},
        types.CallTransferred: {"target": "extension:1001"},
        types.CallEnded: {
            "disposition": "answered",
            "hangup_cause": "NORMAL_CLEARING",
            "hangup_by": "caller",
        },
        types.RecordingStored: {"path": "/r/c-1.wav"},
        types.VoicemailReceived: {"box": "sales", "path": "/r/voicemail/sales/c-1.wav"},
        types.TrunkStateChanged: {
            "trunk": "carrier1",
            "node": "fs1",
            "state": "REGED",
            "ping_status": "UP",
        },
        types.QueueCallbackRequested: {"number": "33140000000"},
        types.QueueCallbackEnded: {
            "number": "33140000000",
            "outcome": "callback_answered",
            "attempts": 1,
        },
        types.RecordingFailed: {"path": "/r/c-1.wav", "status": "missing"},
        types.CampaignCallConnected: {"campaign": "spring", "lead_id": 7},
        types.CampaignCallEnded: {"campaign": "spring", "lead_id": 7, "outcome": "answered"},
        types.CampaignPreviewOffered: {"campaign": "spring", "lead_id": 7, "ring_seconds": 20},
        types.CampaignPreviewDecided: {"campaign": "spring", "lead_id": 7, "decision": "skipped"},
        types.CampaignChanged: {"campaign": "spring", "op": "start", "state": "running"},
        types.CampaignLeadsImported: {
            "campaign": "spring",
            "source": "leads.csv",
            "rows": 3,
            "added": 2,
            "existing": 0,
            "rejected": 1,
        },
        types.DncChanged: {"op": "add", "number": "+12125550100"},
    }
    kinds = [c for c in vars(types).values()
             if isinstance(c, type) and issubclass(c, Event) and c is not Event]  # fmt: skip
    return [for_call(k, FakeCall(), **required.get(k, {})) for k in kinds]


def test_there_is_one_class_per_event_type_of_the_issue() -> None:
    assert sorted(str(e.type) for e in every_event()) == sorted(EVENT_TYPES)
    assert len(EVENT_TYPES) == 24


@pytest.mark.parametrize("event", every_event(), ids=lambda e: str(e.type))
def test_every_event_serializes_with_the_ids_a_crm_needs(event: Event) -> None:
    doc = json.loads(json.dumps(event.to_dict()))
    assert set(doc) == {"id", "type", "at", "call_uuid", "queue", "agent_extension",
                        "caller_number", "caller_name", "data"}  # fmt: skip
    assert uuid.UUID(doc["id"]).version == 4
    assert doc["type"] == str(event.type)
    assert doc["at"].endswith("Z") and datetime.fromisoformat(doc["at"]).tzinfo is not None
    assert (doc["call_uuid"], doc["caller_number"], doc["caller_name"]) == (
        "c-1", "+33140000000", "Alice",
    )  # fmt: skip


def test_type_specific_fields_go_under_data_and_events_are_frozen() -> None:
    event = for_call(AgentOffered, FakeCall(), queue="sales", agent_extension="1001", offer=2)
    doc = event.to_dict()
    assert (doc["queue"], doc["agent_extension"], doc["data"]) == ("sales", "1001", {"offer": 2})
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.queue = "other"  # type: ignore[misc]
    ended = CallEnded(disposition="answered", hangup_cause="X", hangup_by="caller",
                      cdr={"talk_ms": 1200})  # fmt: skip
    assert ended.to_dict()["data"]["cdr"] == {"talk_ms": 1200}


def test_each_event_gets_its_own_id_and_time() -> None:
    a, b = CallCreated(), CallCreated()
    assert a.id != b.id
    assert a.at.tzinfo is UTC


def test_an_empty_caller_id_is_null_not_an_empty_string() -> None:
    event = for_call(CallCreated, FakeCall(from_number="", from_name=""))
    assert (event.caller_number, event.caller_name) == (None, None)


def test_bus_hands_each_event_to_every_subscriber_in_order() -> None:
    bus = EventBus()
    seen: list[tuple[str, str]] = []
    bus.subscribe(lambda e: seen.append(("a", e.id)))
    bus.subscribe(lambda e: seen.append(("b", e.id)))
    first, second = CallCreated(), QueueLeft(outcome="timeout")
    bus.publish(first)
    bus.publish(second)
    assert seen == [("a", first.id), ("b", first.id), ("a", second.id), ("b", second.id)]


def test_a_failing_subscriber_never_reaches_the_publisher_nor_the_others() -> None:
    registry = CollectorRegistry()
    bus = EventBus(BusMetrics(registry))
    seen: list[str] = []

    def broken(event: Event) -> None:
        raise RuntimeError("bug")

    bus.subscribe(broken)
    bus.subscribe(lambda e: seen.append(e.id))
    event = CallCreated()
    bus.publish(event)  # no exception
    assert seen == [event.id]
    assert registry.get_sample_value("callcenter_events_subscriber_errors_total") == 1
    published = "callcenter_events_published_total"
    assert registry.get_sample_value(published, {"type": "call.created"}) == 1
    assert registry.get_sample_value(published, {"type": "call.ended"}) == 0


def test_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    seen: list[str] = []
    unsubscribe = bus.subscribe(lambda e: seen.append(e.id))
    unsubscribe()
    bus.publish(CallCreated())
    assert seen == []


def test_a_subscriber_of_some_types_hears_only_those_in_order_with_the_rest() -> None:
    bus = EventBus()
    seen: list[tuple[str, str]] = []
    bus.subscribe(lambda e: seen.append(("all", e.type)))
    unsubscribe = bus.subscribe(lambda e: seen.append(("ended", e.type)), {CallEnded.type})
    bus.subscribe(lambda e: seen.append(("left", e.type)), [QueueLeft.type, CallEnded.type])
    ended = CallEnded(disposition="answered", hangup_cause="NORMAL_CLEARING", hangup_by="caller")
    bus.publish(CallCreated())
    bus.publish(QueueLeft(outcome="timeout"))
    bus.publish(ended)
    assert seen == [
        ("all", "call.created"),
        ("all", "queue.left"), ("left", "queue.left"),
        ("all", "call.ended"), ("ended", "call.ended"), ("left", "call.ended"),
    ]  # fmt: skip
    seen.clear()
    unsubscribe()
    bus.subscribe(lambda e: seen.append(("late", e.type)), {CallEnded.type})
    bus.publish(ended)
    assert seen == [("all", "call.ended"), ("left", "call.ended"), ("late", "call.ended")]


def test_the_engines_narrow_subscribers_name_every_type_they_read() -> None:
    # each reads its types by isinstance (or the type's name) in on_event: the bus's filter
    # must name each of them, or the subscriber stops hearing it
    assert sorted(LiveKpis.EVENTS) == ["agent.state_changed", "agent.status_changed", "call.ended"]
    assert sorted(Dialer.EVENTS) == ["agent.state_changed"]
    assert sorted(DialerCalls.EVENTS) == ["call.ended"]
    assert sorted(Tally.EVENTS) == [
        "agent.answered", "agent.offered", "agent.state_changed", "call.ended", "queue.joined",
        "queue.left",
    ]  # fmt: skip


def test_signature_is_the_documented_hmac_and_verifies() -> None:
    import hashlib
    import hmac

    body = b'{"id":"x"}'
    header = signature("s3cret-s3cret-s3cret", body, 1700000000)
    mac = hmac.new(b"s3cret-s3cret-s3cret", b"1700000000." + body, hashlib.sha256).hexdigest()
    assert header == f"t=1700000000,v1={mac}"
    assert verify("s3cret-s3cret-s3cret", body, header, now=1700000010)


@pytest.mark.parametrize(
    ("secret", "body", "now"),
    [
        ("wrong-secret-wrong", b'{"id":"x"}', 1700000000),  # another secret
        ("s3cret-s3cret-s3cret", b'{"id":"y"}', 1700000000),  # body changed
        ("s3cret-s3cret-s3cret", b'{"id":"x"}', 1700000000 + 301),  # stale: a replay
    ],
)
def test_signature_refuses_tampering_and_stale_timestamps(
    secret: str, body: bytes, now: int
) -> None:
    header = signature("s3cret-s3cret-s3cret", b'{"id":"x"}', 1700000000)
    assert not verify(secret, body, header, now=now)


def test_event_type_values_are_the_wire_names() -> None:
    assert EventType.CALL_ENDED == "call.ended"
    assert "agent.status_changed" in EVENT_TYPES

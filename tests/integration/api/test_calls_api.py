"""/calls: live calls listed and shown with legs and timeline; hang up, transfer, bridge
are stored as changes for the engine holding the call, naming the token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from callcenter.services import agents, queues
from callcenter.store.database import Database
from callcenter.store.models import EngineChange
from callcenter.store.records import CallRecord, LegRecord
from callcenter.store.repos import CallRepository
from callcenter.vocabulary import CallState, Direction, LegRole
from tests.integration.api.conftest import ROOT, Client

T0 = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def _call(uuid: str, state: CallState, minutes: int, **fields: object) -> CallRecord:
    created = T0 + timedelta(minutes=minutes)
    return CallRecord(
        uuid=uuid, direction=Direction.INBOUND, state=state, node="fs1", from_number="+15551",
        did="5000", created_at=created, **fields,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture
def live(db: Database) -> list[str]:
    agents.add(db, ROOT, "1001", domain="callcenter")
    queues.add(db, ROOT, "support")
    leg = LegRecord(
        uuid="leg-1", role=LegRole.AGENT, direction=Direction.OUTBOUND, agent_extension="1001",
        created_at=T0 + timedelta(seconds=70), answered_at=T0 + timedelta(seconds=75),
        bridged_at=T0 + timedelta(seconds=76),
    )  # fmt: skip
    with db.session_scope() as session:
        CallRepository(session).upsert_many([
            _call("call-b", CallState.BRIDGED, 1, answered_at=T0 + timedelta(seconds=61),
                  legs=(LegRecord(uuid="call-b", role=LegRole.CALLER, direction=Direction.INBOUND,
                                  created_at=T0 + timedelta(seconds=60)), leg)),
            _call("call-a", CallState.QUEUED, 0),
            _call("call-old", CallState.ENDED, -5, ended_at=T0, hangup_cause="NORMAL_CLEARING"),
        ])  # fmt: skip
    return ["call-a", "call-b"]


def test_list_and_show(api: Client, live: list[str]) -> None:
    listed = api("GET", "/calls", token="read").json
    assert [c["uuid"] for c in listed["items"]] == live  # oldest first, ended ones left out
    assert api("GET", "/calls", query_string="node=fs2").json["items"] == []
    shown = api("GET", "/calls/call-b", token="read").json
    assert [leg["agent_extension"] for leg in shown["legs"]] == [None, "1001"]
    events = [(m["event"], m.get("leg")) for m in shown["timeline"]]
    assert events == [
        ("call.created", None), ("leg.created", "call-b"), ("call.answered", None),
        ("leg.created", "leg-1"), ("leg.answered", "leg-1"), ("leg.bridged", "leg-1"),
    ]  # fmt: skip
    times = [m["at"] for m in shown["timeline"]]
    assert times == sorted(times)
    assert api("GET", "/calls/nope").json["code"] == "call_not_found"


def _changes(db: Database) -> list[tuple[str, str, str, str]]:
    with db.session_scope() as session:
        rows = session.scalars(select(EngineChange).where(EngineChange.kind == "call"))
        return [(r.key, r.op, r.actor, str(r.details)) for r in rows]


def test_hangup_transfer_bridge_are_sent_as_changes(
    api: Client, live: list[str], db: Database
) -> None:
    hung = api("POST", "/calls/call-a/hangup", token="operate", body={"cause": "CALL_REJECTED"})
    assert hung.status_code == 202, hung.text
    assert (hung.json["call"], hung.json["op"]) == ("call-a", "hangup")
    moved = api("POST", "/calls/call-b/transfer", token="operate", body={"target": "queue:support"})
    assert moved.json["op"] == "transfer"
    bridged = api("POST", "/calls/call-a/bridge", token="operate", body={"extension": "1001"})
    assert bridged.json["op"] == "bridge_agent"
    changes = _changes(db)
    assert [(k, op, who) for k, op, who, _ in changes] == [
        ("call-a", "hangup", "api:t-operate"),
        ("call-b", "transfer", "api:t-operate"),
        ("call-a", "bridge_agent", "api:t-operate"),
    ]
    assert "CALL_REJECTED" in changes[0][3] and "queue:support" in changes[1][3]


def test_refusals(api: Client, live: list[str], db: Database) -> None:
    cause = api("POST", "/calls/call-a/hangup", token="operate", body={"cause": "BYE; kill"})
    assert (cause.status_code, cause.json["code"]) == (422, "invalid_argument")
    target = api("POST", "/calls/call-a/transfer", token="operate", body={"target": "sip:evil"})
    assert (target.status_code, target.json["code"]) == (422, "invalid_argument")
    queue = api("POST", "/calls/call-a/transfer", token="operate", body={"target": "queue:none"})
    assert (queue.status_code, queue.json["code"]) == (404, "queue_not_found")
    agent = api("POST", "/calls/call-a/bridge", token="operate", body={"extension": "9999"})
    assert (agent.status_code, agent.json["code"]) == (404, "agent_not_found")
    # it was 202: the engine rang user/9999, SUBSCRIBER_ABSENT, and dropped the caller
    nobody = {"target": "extension:9999"}
    agent = api("POST", "/calls/call-a/transfer", token="operate", body=nobody)
    assert (agent.status_code, agent.json["code"]) == (404, "agent_not_found")
    ended = api("POST", "/calls/call-old/hangup", token="operate", body={})
    assert (ended.status_code, ended.json["code"]) == (409, "call_ended")
    unknown = api("POST", "/calls/nope/hangup", token="operate", body={})
    assert (unknown.status_code, unknown.json["code"]) == (404, "call_not_found")
    assert _changes(db) == []

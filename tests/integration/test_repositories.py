"""Repositories against a real PostgreSQL: constraints, idempotent CDRs, UTC everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from callcenter.errors import AlreadyExists, NotFound
from callcenter.store.database import Database
from callcenter.store.models import Call
from callcenter.store.records import (
    CallRecord,
    CdrLegRecord,
    CdrRecord,
    LegRecord,
    QueueStayRecord,
    RecordingRecord,
)
from callcenter.store.repos import (
    AgentRepository,
    AuditLog,
    CallRepository,
    CdrRepository,
    IvrFlowRepository,
    QueueRepository,
    RecordingRepository,
    RouteRepository,
)
from callcenter.store.repos.acd_state import AcdStateRepository
from callcenter.vocabulary import (
    AgentState,
    AgentStatus,
    CallState,
    Direction,
    Disposition,
    HangupBy,
    LegRole,
    QueueOutcome,
    QueueStrategy,
    RouteTarget,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _cdr(uuid: str = "c0ffee00-0000-4000-8000-000000000001") -> CdrRecord:
    return CdrRecord(
        call_uuid=uuid,
        direction=Direction.INBOUND,
        node="fs1",
        started_at=T0,
        answered_at=T0 + timedelta(seconds=2),
        ended_at=T0 + timedelta(seconds=62),
        hangup_cause="NORMAL_CLEARING",
        hangup_by=HangupBy.CALLER,
        disposition=Disposition.ANSWERED,
        from_number="+15551234567",
        from_name='Evil\nEvent-Name: CHANNEL_HANGUP "q" \\ %41',
        did="5000",
        queue="support",
        agent_extension="1001",
        ring_ms=2000,
        talk_ms=50000,
        queue_wait_ms=10000,
        total_ms=62000,
        ivr_path=({"node": "welcome", "input": "1", "ms": 1500},),
        legs=(CdrLegRecord(leg_uuid=uuid, role=LegRole.CALLER, started_at=T0),),
    )


def test_cdr_written_exactly_once(db: Database) -> None:
    with db.session_scope() as session:
        assert CdrRepository(session).insert_once(_cdr()) is True
    with db.session_scope() as session:
        assert CdrRepository(session).insert_once(_cdr()) is False
    with db.session_scope() as session:
        repo = CdrRepository(session)
        assert repo.count() == 1
        stored = repo.get(_cdr().call_uuid)
    assert stored == _cdr()
    assert stored.started_at.tzinfo is not None


def test_negative_durations_are_rejected(db: Database) -> None:
    bad = _cdr()
    bad = CdrRecord(**{**{f: getattr(bad, f) for f in bad.__slots__}, "talk_ms": -5})
    with pytest.raises(IntegrityError), db.session_scope() as session:
        CdrRepository(session).insert_once(bad)


def test_duplicate_call_uuid_rejected(db: Database) -> None:
    with pytest.raises(IntegrityError), db.session_scope() as session:
        for _ in range(2):
            session.add(
                Call(
                    uuid="dup",
                    direction=Direction.INBOUND,
                    state=CallState.PARKED,
                    node="fs1",
                )
            )
            session.flush()


def test_naive_datetimes_are_refused(db: Database) -> None:
    naive = CdrRecord(
        **{**{f: getattr(_cdr(), f) for f in _cdr().__slots__}, "started_at": datetime(2026, 1, 1)}
    )
    with pytest.raises(Exception, match="naive datetime"), db.session_scope() as session:
        CdrRepository(session).insert_once(naive)


def test_other_time_zones_are_stored_as_utc(db: Database) -> None:
    paris = timezone(timedelta(hours=1))
    cdr = CdrRecord(
        **{
            **{f: getattr(_cdr(), f) for f in _cdr().__slots__},
            "started_at": datetime(2026, 1, 1, 10, tzinfo=paris),
        }
    )
    with db.session_scope() as session:
        CdrRepository(session).insert_once(cdr)
    with db.session_scope() as session:
        stored = CdrRepository(session).get(cdr.call_uuid)
    assert stored.started_at == datetime(2026, 1, 1, 9, tzinfo=UTC)
    assert stored.started_at.utcoffset() == timedelta(0)


def test_call_upsert_and_close(db: Database) -> None:
    call = CallRecord(
        uuid="a-1",
        direction=Direction.INBOUND,
        state=CallState.PARKED,
        node="fs1",
        from_number="100",
        did="5000",
        created_at=T0,
        legs=(
            LegRecord(uuid="a-1", role=LegRole.CALLER, direction=Direction.INBOUND, created_at=T0),
        ),
    )
    with db.session_scope() as session:
        AgentRepository(session).add("1001", "Ann")
        CallRepository(session).upsert(call)
    bridged = CallRecord(
        **{**{f: getattr(call, f) for f in call.__slots__}, "state": CallState.BRIDGED},
    )
    bridged = CallRecord(
        **{
            **{f: getattr(bridged, f) for f in bridged.__slots__},
            "legs": (
                *call.legs,
                LegRecord(
                    uuid="b-1",
                    role=LegRole.AGENT,
                    direction=Direction.OUTBOUND,
                    agent_extension="1001",
                ),
            ),
        }
    )
    with db.session_scope() as session:
        repo = CallRepository(session)
        repo.upsert(bridged)
        repo.upsert(bridged)  # a replay changes nothing
        assert [c.uuid for c in repo.live("fs1")] == ["a-1"]
        stored = repo.get("a-1")
    assert stored.state is CallState.BRIDGED
    assert [(leg.uuid, leg.agent_extension) for leg in stored.legs] == [
        ("a-1", None),
        ("b-1", "1001"),
    ]
    with db.session_scope() as session:
        repo = CallRepository(session)
        repo.close(
            "a-1",
            ended_at=T0 + timedelta(minutes=1),
            cause="NORMAL_CLEARING",
            disposition=Disposition.ANSWERED,
        )
        assert repo.live() == []
        assert repo.get("a-1").hangup_cause == "NORMAL_CLEARING"


def test_agents_skills_status_history_and_pin(db: Database) -> None:
    with db.session_scope() as session:
        repo = AgentRepository(session)
        repo.add("1001", 'Zoë "Q"', pin="4321", skills={"english": 5})
        with pytest.raises(AlreadyExists):
            repo.add("1001")
        repo.set_skill("1001", "spanish", 3)
        repo.set_status("1001", AgentStatus.AVAILABLE)
        agent = repo.set_status("1001", AgentStatus.PAUSED, reason="lunch")
        assert agent.skills == {"english": 5, "spanish": 3}
        assert agent.pause_reason == "lunch"
        assert repo.check_pin("1001", "4321") and not repo.check_pin("1001", "0000")
        assert [h.status for h in repo.history("1001")] == [
            AgentStatus.PAUSED,
            AgentStatus.AVAILABLE,
        ]
        assert repo.get("1001").state is AgentState.IDLE
        with pytest.raises(NotFound):
            repo.get("9999")


def test_queues_members_skills_entries(db: Database) -> None:
    with db.session_scope() as session:
        AgentRepository(session).add("1001")
        queues = QueueRepository(session)
        queues.add("support", strategy=QueueStrategy.RING_ALL, max_wait_seconds=120)
        queues.add_member("support", "1001", tier=2)
        queues.require_skill("support", "english", 3)
        entry = queues.join("support", "call-1", priority=5)
        queues.leave(entry, QueueOutcome.ABANDONED, reason="caller hung up")
        queue = queues.get("support")
        assert queue.strategy is QueueStrategy.RING_ALL
        assert [(m.extension, m.tier) for m in queue.members] == [("1001", 2)]
        assert queue.required_skills == {"english": 3}
        [stored] = queues.entries("support")
        assert stored.outcome is QueueOutcome.ABANDONED and stored.priority == 5
        with pytest.raises(AlreadyExists):
            queues.add_member("support", "1001")


def test_routes_flows_recordings_audit(db: Database) -> None:
    with db.session_scope() as session:
        routes = RouteRepository(session)
        routes.add("5000", RouteTarget.IVR, "main")
        routes.add("5001", RouteTarget.QUEUE, "support")
        routes.set_enabled("5001", False)
        assert routes.lookup("5000") is not None and routes.lookup("5001") is None
        flows = IvrFlowRepository(session)
        flows.record_load("repo_test", "3", "abc", "dialplans/repo_test.yaml")
        flows.record_load("repo_test", "3", "abc", "dialplans/repo_test.yaml")
        # an engine started by another test may have recorded the shipped flows
        assert [f.checksum for f in flows.latest() if f.name == "repo_test"] == ["abc"]
        recordings = RecordingRepository(session)
        rec = RecordingRecord(call_uuid="c", path="/r/c.wav", started_at=T0, sha256="0" * 64)
        assert recordings.add(rec) is True
        assert recordings.add(rec) is False
        assert recordings.for_call("c") == [rec]
        audit = AuditLog(session)
        audit.record("operator", "agent.pause", "1001", {"reason": "lunch"})
        assert audit.recent()[0].action == "agent.pause"


def test_a_resumed_stay_keeps_its_first_position_offer_time_and_offers(db: Database) -> None:
    joined = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    offered = joined + timedelta(seconds=20)
    with db.session_scope() as session:
        QueueRepository(session).add("resumed")
    first = QueueStayRecord("t-r", "resumed", "call-r", 3, 2, joined, 2, offered)
    again = QueueStayRecord("t-r", "resumed", "call-r", 3, 7, joined, 0, None)  # after a restart
    with db.session_scope() as session:
        AcdStateRepository(session).save_stays([first])
    with db.session_scope() as session:
        AcdStateRepository(session).save_stays([again])
    with db.session_scope() as session:
        [entry] = QueueRepository(session).entries("resumed")
    assert (entry.offers, entry.offered_at, entry.joined_at) == (2, offered, joined)
    with db.session_scope() as session:
        row = session.execute(text("SELECT position_at_join FROM queue_entries")).scalar_one()
    assert row == 2

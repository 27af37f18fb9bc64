"""Every operator service on PostgreSQL: its checks, its audit entry naming who did it, and
the change row every running engine applies, all in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, text

from callcenter.errors import CallCenterError, DomainError, NotFound
from callcenter.services import agents, calls, changes, flows, queues, routes
from callcenter.services.actor import Actor
from callcenter.services.checks import InvalidArgument
from callcenter.store.database import Database
from callcenter.store.models import AuditEntry, EngineChange
from callcenter.store.records import CallRecord, LegRecord
from callcenter.store.repos import CallRepository
from callcenter.vocabulary import AgentStatus, CallState, Direction, LegRole

WHO = Actor("api", "crm")
DIALPLANS = Path(__file__).parents[3] / "dialplans"


@pytest.fixture(autouse=True)
def clean(db: Database) -> None:
    """Nothing other tests committed (deleted in this test's rolled-back transaction)."""
    with db.session_scope() as session:
        for table in ("calls", "routes", "outbound_routes", "queues", "agents"):
            session.execute(text(f"DELETE FROM {table}"))
        session.execute(delete(AuditEntry))
        session.execute(delete(EngineChange))


def trail(db: Database) -> list[tuple[str, str, str]]:
    """(actor, action, target) of every audit entry, oldest first."""
    with db.session_scope() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(r.actor, r.action, r.target) for r in rows]


def changed(db: Database) -> list[tuple[str, str, str, str]]:
    """(kind, key, op, actor) of every change row, oldest first."""
    with db.session_scope() as session:
        return [(c.kind, c.key, c.op, c.actor) for c in changes.after(session, 0)]


def code_of(fn: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(CallCenterError) as caught:
        fn(*args, **kwargs)
    return caught.value.code


def test_agent_operations_are_audited_and_sent(db: Database) -> None:
    added = agents.add(db, WHO, "1001", domain="pbx", name="Ann", skills={"english": 5})
    assert added.sip_password is not None and len(added.sip_password) >= 20
    agents.update(db, WHO, "1001", name="Ann S.", pin="1234", wrapup_seconds=20)
    agents.set_password(db, WHO, "1001", "n3w-s3cret-Phone", domain="pbx")
    agents.login(db, WHO, "1001")
    paused = agents.pause(db, WHO, "1001", "lunch")
    assert paused.status is AgentStatus.PAUSED and paused.pause_reason == "lunch"
    agents.ready(db, WHO, "1001")
    agents.set_skill(db, WHO, "1001", "french", 3)
    agents.remove_skill(db, WHO, "1001", "english")
    agents.logout(db, WHO, "1001")
    agents.remove(db, WHO, "1001")
    actions = [a for _, a, _ in trail(db)]
    assert actions == [
        "agent.add", "agent.set", "agent.password", "agent.login", "agent.pause",
        "agent.ready", "agent.skill", "agent.skill.remove", "agent.logout", "agent.remove",
    ]  # fmt: skip
    assert {who for who, _, _ in trail(db)} == {"api:crm"}
    # the password changes no routing: no change row for it
    assert [op for kind, key, op, _ in changed(db)] == [
        "add", "set", "login", "pause", "ready", "skill", "skill", "logout", "remove",
    ]  # fmt: skip
    assert {(kind, key, who) for kind, key, _, who in changed(db)} == {("agent", "1001", "api:crm")}


def test_agent_preconditions(db: Database) -> None:
    agents.add(db, WHO, "1001", domain="pbx")
    assert code_of(agents.add, db, WHO, "1001", domain="pbx") == "agent_exists"
    assert code_of(agents.pause, db, WHO, "1001") == "agent_not_logged_in"
    assert code_of(agents.ready, db, WHO, "1001") == "agent_not_logged_in"
    agents.login(db, WHO, "1001")
    assert code_of(agents.login, db, WHO, "1001") == "agent_already_logged_in"
    assert code_of(agents.ready, db, WHO, "1001") == "agent_not_paused"
    agents.pause(db, WHO, "1001")
    assert code_of(agents.pause, db, WHO, "1001") == "agent_already_paused"
    assert code_of(agents.login, db, WHO, "9999") == "agent_not_found"
    assert code_of(agents.update, db, WHO, "1001") == "no_change"
    assert code_of(agents.remove_skill, db, WHO, "1001", "nope") == "agent_skill_not_found"
    before = (trail(db), changed(db))
    # bad input: refused before the database is touched
    for fn, args, kwargs in [
        (agents.add, ("10 01",), {"domain": "pbx"}),
        (agents.add, ("1002",), {"domain": "pbx", "sip_password": "short"}),
        (agents.add, ("1002",), {"domain": "pbx", "sip_password": "x1002-Abcdefgh"}),
        (agents.add, ("1002",), {"domain": "pbx", "pin": "12a4"}),
        (agents.add, ("1002",), {"domain": "pbx", "skills": {"English": 3}}),
        (agents.add, ("1002",), {"domain": "pbx", "wrapup_seconds": -1}),
        (agents.pause, ("1001", "line\nbreak"), {}),
        (agents.set_skill, ("1001", "english", 101), {}),
    ]:
        with pytest.raises(InvalidArgument):
            fn(db, WHO, *args, **kwargs)
    assert (trail(db), changed(db)) == before


def test_queue_operations_are_audited_and_sent(db: Database) -> None:
    agents.add(db, WHO, "1001", domain="pbx")
    queues.add(db, WHO, "support")  # its overflow target must exist
    settings = queues.QueueSettings(strategy="round_robin", max_wait_seconds=300)
    record = queues.add(db, WHO, "sales", settings)
    assert record.strategy == "round_robin" and record.max_wait_seconds == 300
    updated = queues.update(
        db,
        WHO,
        "sales",
        queues.QueueSettings(overflow_target="queue:support", announcement="a.wav"),
    )
    assert updated.overflow_target == "queue:support"
    assert updated.announcements == {"periodic": "a.wav"}
    updated = queues.update(db, WHO, "sales", queues.QueueSettings(position_prompt="p.wav"))
    assert updated.announcements == {"periodic": "a.wav", "position": "p.wav"}  # merged
    assert queues.add_member(db, WHO, "sales", "1001", tier=2).members[0].tier == 2
    assert queues.require_skill(db, WHO, "sales", "english", 3).required_skills == {"english": 3}
    queues.drop_skill(db, WHO, "sales", "english")
    queues.remove_member(db, WHO, "sales", "1001")
    queues.update(db, WHO, "sales", queues.QueueSettings(clear_overflow=True))
    assert queues.get(db, "sales").overflow_target is None
    queues.remove(db, WHO, "sales")
    queue_changes = [(key, op) for kind, key, op, _ in changed(db) if key == "sales"]
    assert queue_changes == [
        ("sales", "add"), ("sales", "set"), ("sales", "set"), ("sales", "member"),
        ("sales", "skill"), ("sales", "skill"), ("sales", "member"), ("sales", "set"),
        ("sales", "remove"),
    ]  # fmt: skip
    assert [a for _, a, _ in trail(db)][2:] == [
        "queue.add", "queue.set", "queue.set", "queue.member.add", "queue.skill.require",
        "queue.skill.drop", "queue.member.remove", "queue.set", "queue.remove",
    ]  # fmt: skip


def test_queue_preconditions(db: Database) -> None:
    queues.add(db, WHO, "sales")
    assert code_of(queues.add, db, WHO, "sales") == "queue_exists"
    assert code_of(queues.update, db, WHO, "sales", queues.QueueSettings()) == "no_change"
    assert code_of(queues.add_member, db, WHO, "sales", "1001") == "agent_not_found"
    assert code_of(queues.remove, db, WHO, "nope") == "queue_not_found"
    for settings in [
        queues.QueueSettings(strategy="fastest"),
        queues.QueueSettings(agent_ring_seconds=0),
        queues.QueueSettings(overflow_target="queue:sales"),  # itself
        queues.QueueSettings(overflow_target="voicemail:1"),
        queues.QueueSettings(music_on_hold="a b.wav"),
    ]:
        with pytest.raises(InvalidArgument):
            queues.update(db, WHO, "sales", settings)
    both = queues.QueueSettings(overflow_target="hangup", clear_overflow=True)
    assert code_of(queues.update, db, WHO, "sales", both) == "invalid_argument"
    assert len(changed(db)) == 1


def test_queue_number_for_phone_transfers(db: Database) -> None:
    """``*8<number>`` from an agent's phone reaches the queue with that number."""
    queues.add(db, WHO, "sales", queues.QueueSettings(number="5"))
    queues.add(db, WHO, "billing")
    assert queues.get(db, "sales").number == "5"
    taken = queues.QueueSettings(number="5")
    assert code_of(queues.update, db, WHO, "billing", taken) == "queue_number_taken"
    for bad in ("5a", "*5", "123456789"):
        with pytest.raises(InvalidArgument):
            queues.update(db, WHO, "billing", queues.QueueSettings(number=bad))
    queues.update(db, WHO, "sales", queues.QueueSettings(number=""))  # removed
    assert queues.get(db, "sales").number is None
    assert queues.update(db, WHO, "billing", taken).number == "5"


def test_route_operations_are_audited_and_sent(db: Database) -> None:
    queues.add(db, WHO, "support")
    added = routes.add(db, WHO, "5002", "queue:support", description="Support line")
    assert str(added.target) == "queue:support" and added.unverified is None
    flow = routes.add(db, WHO, "5003", "ivr:main")  # flows not given: grammar only
    assert flow.unverified == "ivr:main: flow 'main' not checked"
    assert code_of(routes.add, db, WHO, "5004", "queue:nope") == "route_queue_unknown"
    assert code_of(routes.add, db, WHO, "5005", "ivr:main", flows=["other"]) == (
        "route_flow_unknown"
    )
    assert routes.test(db, "5002", default="hangup").target == "queue:support"
    routes.set_enabled(db, WHO, "5002", False)
    assert routes.test(db, "5002", default="hangup") == routes.RouteTest(
        "5002", "hangup", "default", why="no route matches"
    )
    routes.remove(db, WHO, "5002")
    routes.add_outbound(
        db, WHO, "intl", pattern=r"^00(\d+)$", gateway="carrier", number_format="+$1"
    )
    assert routes.test_outbound(db, "0049301234").dial_string == "sofia/gateway/carrier/+49301234"
    routes.set_outbound_enabled(db, WHO, "intl", False)
    assert code_of(routes.test_outbound, db, "0049301234") == "no_outbound_route"
    routes.remove_outbound(db, WHO, "intl")
    assert [(k, key, op) for k, key, op, _ in changed(db)][1:] == [
        ("route", "5002", "add"), ("route", "5003", "add"), ("route", "5002", "disable"),
        ("route", "5002", "remove"), ("outbound_route", "intl", "add"),
        ("outbound_route", "intl", "disable"), ("outbound_route", "intl", "remove"),
    ]  # fmt: skip
    assert code_of(routes.add_outbound, db, WHO, "r1", pattern=r"(\d+)+$", gateway="g") == (
        "outbound_route_invalid"
    )


def test_flow_reload_is_checked_then_sent(db: Database, tmp_path: Path) -> None:
    done = flows.reload(db, WHO, DIALPLANS)  # no queue stored: names not checked
    assert "main" in done.flows
    assert changed(db) == [("flow", "", "reload", "api:crm")]
    queues.add(db, WHO, "sales")  # now queue names are checked: support and vip are missing
    with pytest.raises(flows.FlowsInvalid) as caught:
        flows.reload(db, WHO, DIALPLANS)
    assert any("unknown queue 'support'" in e for e in caught.value.errors)
    assert [kind for kind, *_ in changed(db)] == ["flow", "queue"]
    listed = flows.list_flows(db, DIALPLANS)
    assert "main" in {f.name for f in listed.flows} and listed.notes == ()
    assert listed.rejected == () and listed.errors == ()


def _call(uuid: str, state: CallState = CallState.QUEUED) -> CallRecord:
    now = datetime.now(UTC)
    return CallRecord(
        uuid=uuid,
        direction=Direction.INBOUND,
        state=state,
        node="fs1",
        from_number="15550001",
        did="5002",
        created_at=now,
        ended_at=now if state is CallState.ENDED else None,
        legs=(LegRecord(uuid=uuid, role=LegRole.CALLER, direction=Direction.INBOUND),),
    )


def test_call_operations_reach_the_engine_holding_the_call(db: Database) -> None:
    with db.session_scope() as session:
        CallRepository(session).upsert_many([_call("c-live"), _call("c-over", CallState.ENDED)])
    assert [c.uuid for c in calls.list_live(db)] == ["c-live"]
    assert calls.list_live(db, node="fs2") == []
    shown = calls.show(db, "c-over")
    assert shown.state is CallState.ENDED and shown.legs[0].role is LegRole.CALLER
    queues.add(db, WHO, "support")
    agents.add(db, WHO, "1001", domain="pbx")
    done = calls.hangup(db, WHO, "c-live", "CALL_REJECTED")
    assert done.op == "hangup" and done.call.node == "fs1"
    calls.transfer(db, WHO, "c-live", "queue:support")
    calls.transfer(db, WHO, "c-live", "number:+33140000000")
    calls.bridge_agent(db, WHO, "c-live", "1001")
    with db.session_scope() as session:
        rows = session.scalars(
            select(EngineChange).where(EngineChange.kind == "call").order_by(EngineChange.id)
        ).all()
    assert [(r.key, r.op, r.details) for r in rows] == [
        ("c-live", "hangup", {"cause": "CALL_REJECTED", "by": "api:crm", "node": "fs1"}),
        ("c-live", "transfer", {"target": "queue:support", "by": "api:crm", "node": "fs1"}),
        ("c-live", "transfer", {"target": "number:+33140000000", "by": "api:crm", "node": "fs1"}),
        ("c-live", "bridge_agent", {"extension": "1001", "by": "api:crm", "node": "fs1"}),
    ]
    assert [a for _, a, t in trail(db) if t == "c-live"] == [
        "call.hangup", "call.transfer", "call.transfer", "call.bridge_agent",
    ]  # fmt: skip


def test_call_preconditions(db: Database) -> None:
    with db.session_scope() as session:
        CallRepository(session).upsert_many([_call("c-live"), _call("c-over", CallState.ENDED)])
    assert code_of(calls.hangup, db, WHO, "c-over") == "call_ended"
    assert code_of(calls.hangup, db, WHO, "nope") == "call_not_found"
    assert code_of(calls.hangup, db, WHO, "c-live", "NOT_A_CAUSE") == "invalid_argument"
    assert code_of(calls.transfer, db, WHO, "c-live", "queue:nope") == "queue_not_found"
    assert code_of(calls.transfer, db, WHO, "c-live", "voicemail:1") == "invalid_argument"
    assert code_of(calls.transfer, db, WHO, "c-live", "extension:a b") == "invalid_argument"
    assert code_of(calls.transfer, db, WHO, "c-live", "number:12ab") == "number_invalid"
    assert code_of(calls.bridge_agent, db, WHO, "c-live", "1001") == "agent_not_found"
    assert code_of(calls.show, db, "../etc") == "invalid_argument"
    assert changed(db) == []


def test_a_failed_service_leaves_no_change_row(db: Database) -> None:
    """The change row is in the service's transaction: refused, nothing is sent."""
    with pytest.raises(NotFound):
        agents.set_skill(db, WHO, "9999", "english", 3)
    with pytest.raises(DomainError):
        queues.add_member(db, WHO, "nope", "9999")
    assert changed(db) == [] and trail(db) == []

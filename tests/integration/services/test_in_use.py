"""What something stored still sends calls to cannot be removed, and what is stored must
exist: a queue a route or a queue overflows to, an agent a route rings, a trunk an outbound
route dials through; overflow targets, transfer targets and members' tiers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from callcenter.errors import CallCenterError, DomainError
from callcenter.services import agents, calls, queues, routes, trunks
from callcenter.services.actor import Actor
from callcenter.services.queues import QueueSettings
from callcenter.store.database import Database
from callcenter.store.records import CallRecord, LegRecord
from callcenter.store.repos import CallRepository, QueueRepository
from callcenter.trunks.spec import TrunkSpec
from callcenter.vocabulary import CallState, Direction, LegRole
from tests.integration.services.test_services import changed, trail

WHO = Actor("cli", "ops")


def refused(fn: Any, *args: Any, **kwargs: Any) -> CallCenterError:
    with pytest.raises(CallCenterError) as caught:
        fn(*args, **kwargs)
    return caught.value


def test_a_queue_a_route_or_a_queue_sends_calls_to_is_not_removed(db: Database) -> None:
    # `queue remove support` was accepted while route 5004 pointed at queue:support: the
    # route kept pointing there and every new call to 5004 was rejected
    queues.add(db, WHO, "iu-support")
    queues.add(db, WHO, "iu-sales", QueueSettings(overflow_target="queue:iu-support"))
    queues.add(db, WHO, "iu-vip", QueueSettings(routing={"exit_target": "queue:iu-support"}))
    routes.add(db, WHO, "6450", "queue:iu-support")
    error = refused(queues.remove, db, WHO, "iu-support")
    assert error.code == "queue_in_use"
    assert type(error) is DomainError  # a precondition on what is stored: 409
    assert "queue 'iu-support' is the target of route 6450, queue iu-sales (overflow), " \
        "queue iu-vip (exit_target)" in error.message  # fmt: skip
    assert "route remove" in error.message and "--no-overflow" in error.message
    assert queues.get(db, "iu-support").name == "iu-support"  # nothing removed
    routes.remove(db, WHO, "6450")
    queues.update(db, WHO, "iu-sales", QueueSettings(clear_overflow=True))
    assert "of queue iu-vip (exit_target):" in refused(queues.remove, db, WHO, "iu-support").message
    queues.update(db, WHO, "iu-vip", QueueSettings(routing={"exit_target": None}))
    queues.remove(db, WHO, "iu-support")


def test_an_agent_a_route_or_a_queue_rings_is_not_removed(db: Database) -> None:
    agents.add(db, WHO, "6431", domain="pbx")
    routes.add(db, WHO, "6451", "extension:6431")
    queues.add(db, WHO, "iu-night", QueueSettings(overflow_target="extension:6431"))
    error = refused(agents.remove, db, WHO, "6431")
    assert error.code == "agent_in_use"
    assert "agent '6431' is the target of route 6451, queue iu-night (overflow)" in error.message
    routes.remove(db, WHO, "6451")
    queues.update(db, WHO, "iu-night", QueueSettings(overflow_target="hangup"))
    agents.remove(db, WHO, "6431")


def test_a_trunk_an_outbound_route_dials_through_is_not_removed(db: Database) -> None:
    for name in ("iu-carrier-a", "iu-carrier-b"):
        trunks.add(db, WHO, TrunkSpec(name, "sip.example.net"))
    routes.add_outbound(db, WHO, "iu-us", pattern=r"\+1\d{10}", gateway="iu-carrier-a",
                        failover=["iu-carrier-b"])  # fmt: skip
    for name in ("iu-carrier-a", "iu-carrier-b"):
        error = refused(trunks.remove, db, WHO, name)
        assert error.code == "trunk_in_use"
        assert f"trunk {name!r} carries the calls of outbound route(s) iu-us" in error.message
    routes.remove_outbound(db, WHO, "iu-us")
    trunks.remove(db, WHO, "iu-carrier-a")


def test_an_overflow_target_must_exist(db: Database) -> None:
    # `PATCH /queues/q1 {"overflow_target": "queue:nosuch"}` was stored; so were ivr:nosuch
    queues.add(db, WHO, "iu-q1")
    for settings, code in [
        (QueueSettings(overflow_target="queue:nosuch"), "route_queue_unknown"),
        (QueueSettings(routing={"exit_target": "queue:nosuch"}), "route_queue_unknown"),
    ]:
        assert refused(queues.update, db, WHO, "iu-q1", settings).code == code
        assert refused(queues.add, db, WHO, "iu-q9", settings).code == code
    itself = QueueSettings(overflow_target="queue:iu-q9")
    assert refused(queues.add, db, WHO, "iu-q9", itself).code == "invalid_argument"
    assert refused(queues.get, db, "iu-q9").code == "queue_not_found"  # nothing stored
    nosuch = QueueSettings(overflow_target="ivr:nosuch")
    error = refused(queues.add, db, WHO, "iu-q9", nosuch, flows={"main"})
    assert (error.code, error.message) == (
        "route_flow_unknown", "overflow_target: no loaded flow 'nosuch' (known: main)"
    )  # fmt: skip
    assert refused(queues.update, db, WHO, "iu-q1", nosuch, flows={"main"}).code == (
        "route_flow_unknown"
    )
    main = QueueSettings(overflow_target="ivr:main")
    assert queues.update(db, WHO, "iu-q1", main, flows={"main"}).overflow_target == "ivr:main"
    queues.update(db, WHO, "iu-q1", nosuch)  # the flows not known: the grammar only
    assert queues.add(db, WHO, "iu-q2", QueueSettings(overflow_target="queue:iu-q1"))


def _call(uuid: str) -> CallRecord:
    return CallRecord(
        uuid=uuid, direction=Direction.INBOUND, state=CallState.QUEUED, node="fs1",
        from_number="15550001", did="6452", created_at=datetime.now(UTC), ended_at=None,
        legs=(LegRecord(uuid=uuid, role=LegRole.CALLER, direction=Direction.INBOUND),),
    )  # fmt: skip


def test_a_transfer_to_an_unknown_extension_is_refused(db: Database) -> None:
    # it was sent: the engine rang user/9999, SUBSCRIBER_ABSENT, and the caller was dropped
    with db.session_scope() as session:
        CallRepository(session).upsert_many([_call("iu-call")])
    error = refused(calls.transfer, db, WHO, "iu-call", "extension:6499")
    assert error.code == "agent_not_found" and "6499" in error.message
    agents.add(db, WHO, "6432", domain="pbx")
    assert calls.transfer(db, WHO, "iu-call", "extension:6432").op == "transfer"


def test_a_members_tier_and_position_are_set(db: Database) -> None:
    # a second `PUT /queues/q1/members/1001` answered 409 already_exists
    agents.add(db, WHO, "6433", domain="pbx")
    queues.add(db, WHO, "iu-tiers")
    made = queues.set_member(db, WHO, "iu-tiers", "6433", tier=1, position=1)
    assert made.created and [(m.tier, m.position) for m in made.queue.members] == [(1, 1)]
    again = queues.set_member(db, WHO, "iu-tiers", "6433", tier=2, position=3)
    assert not again.created and [(m.tier, m.position) for m in again.queue.members] == [(2, 3)]
    kept = queues.set_member(db, WHO, "iu-tiers", "6433", position=5, create=False)
    assert [(m.tier, m.position) for m in kept.queue.members] == [(2, 5)]
    same = queues.set_member(db, WHO, "iu-tiers", "6433", tier=2, position=5)  # idempotent
    assert [(m.tier, m.position) for m in same.queue.members] == [(2, 5)]
    actions = [a for _, a, t in trail(db) if t == "iu-tiers"]
    # the same values again change nothing: no audit entry, no change sent
    assert actions == ["queue.add", "queue.member.add", "queue.member.set", "queue.member.set"]
    assert [op for kind, key, op, _ in changed(db) if key == "iu-tiers"][1:] == ["member"] * 3
    agents.add(db, WHO, "6434", domain="pbx")
    error = refused(queues.set_member, db, WHO, "iu-tiers", "6434", tier=2, create=False)
    assert error.code == "queue_member_not_found" and "queue member add" in error.message
    assert refused(queues.set_member, db, WHO, "iu-tiers", "6433", tier=100).code == (
        "invalid_argument"
    )
    with db.session_scope() as session:
        assert [m.extension for m in QueueRepository(session).get("iu-tiers").members] == ["6433"]

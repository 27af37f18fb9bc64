"""The agent operations behind feature codes, on PostgreSQL: PIN lockout, wrap-up, on demand,
phone settings; each audited with the phone as actor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, text

from callcenter.errors import CallCenterError
from callcenter.services import agents, changes
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.models import AuditEntry, EngineChange
from callcenter.store.repos import AgentRepository
from callcenter.vocabulary import AgentState, AgentStatus

PHONE = Actor("phone", "1001")
OPS = Actor("cli", "ops")
T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def agent(db: Database) -> None:
    with db.session_scope() as session:
        for table in ("agents",):
            session.execute(text(f"DELETE FROM {table}"))
        session.execute(delete(AuditEntry))
        session.execute(delete(EngineChange))
    agents.add(db, OPS, "1001", domain="callcenter", pin="1234")


def code_of(fn: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(CallCenterError) as caught:
        fn(*args, **kwargs)  # type: ignore[operator]
    return caught.value.code


def login(db: Database, pin: str, at: datetime) -> object:
    return agents.phone_login(db, PHONE, "1001", pin, max_failures=5, lockout_seconds=300, now=at)


def test_five_wrong_pins_lock_phone_login_for_the_lockout(db: Database) -> None:
    for i in range(4):
        assert code_of(login, db, "9999", T0 + timedelta(seconds=i)) == "wrong_pin"
    assert code_of(login, db, "9999", T0 + timedelta(seconds=5)) == "pin_locked"
    assert code_of(login, db, "1234", T0 + timedelta(seconds=6)) == "pin_locked"  # unchecked
    assert code_of(login, db, "1234", T0 + timedelta(seconds=304)) == "pin_locked"
    record = login(db, "1234", T0 + timedelta(seconds=306))
    assert record.status is AgentStatus.AVAILABLE  # type: ignore[attr-defined]
    with db.session_scope() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        trail = [(r.actor, r.action) for r in rows]
    assert trail.count(("phone:1001", "agent.pin_refused")) == 5
    assert trail[-1] == ("phone:1001", "agent.login")


def test_a_right_pin_starts_the_count_again(db: Database) -> None:
    for i in range(4):
        code_of(login, db, "9999", T0 + timedelta(seconds=i))
    login(db, "1234", T0 + timedelta(seconds=5))
    agents.logout(db, PHONE, "1001")
    for i in range(4):
        assert code_of(login, db, "9999", T0 + timedelta(seconds=10 + i)) == "wrong_pin"


def test_no_pin_no_phone_login(db: Database) -> None:
    agents.add(db, OPS, "1002", domain="callcenter")
    assert code_of(agents.phone_login, db, PHONE, "1002", "1234") == "no_pin"


def test_end_wrapup_needs_a_wrapup_and_reaches_the_engine(db: Database) -> None:
    assert code_of(agents.end_wrapup, db, PHONE, "1001") == "agent_not_logged_in"
    agents.login(db, PHONE, "1001")
    assert code_of(agents.end_wrapup, db, PHONE, "1001") == "agent_not_in_wrapup"
    with db.session_scope() as session:
        AgentRepository(session).set_status("1001", AgentStatus.AVAILABLE, AgentState.WRAP_UP)
    agents.end_wrapup(db, PHONE, "1001")
    with db.session_scope() as session:
        ops = [(c.kind, c.key, c.op, c.actor) for c in changes.after(session, 0)]
    assert ops[-1] == ("agent", "1001", "wrapup_end", "phone:1001")


def test_on_demand_toggles_and_readies_a_paused_agent(db: Database) -> None:
    assert code_of(agents.toggle_on_demand, db, PHONE, "1001") == "agent_not_logged_in"
    agents.login(db, PHONE, "1001")
    agents.pause(db, PHONE, "1001", "lunch")
    record = agents.toggle_on_demand(db, PHONE, "1001")
    assert (record.on_demand, record.status) == (True, AgentStatus.AVAILABLE)
    record = agents.toggle_on_demand(db, PHONE, "1001")
    assert (record.on_demand, record.status) == (False, AgentStatus.AVAILABLE)


def test_phone_settings_are_checked_stored_and_cleared(db: Database) -> None:
    record = agents.update(
        db, OPS, "1001", auto_answer=True, whisper="queue", caller_id="+33100000000"
    )
    assert (record.auto_answer, record.whisper, record.outbound_caller_id) == (
        True, "queue", "+33100000000",
    )  # fmt: skip
    record = agents.update(db, OPS, "1001", whisper="/sounds/vip.wav", caller_id="")
    assert (record.whisper, record.outbound_caller_id) == ("/sounds/vip.wav", None)
    assert code_of(agents.update, db, OPS, "1001", whisper="hello there") == "invalid_argument"
    assert code_of(agents.update, db, OPS, "1001", caller_id="12ab") == "invalid_argument"

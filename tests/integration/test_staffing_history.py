"""``callcenter plan --from-history``: a queue's stored CDRs, counted per interval and planned."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from callcenter.cli import main
from callcenter.services import queues, staffing
from callcenter.services.actor import Actor
from callcenter.store.database import Database
from callcenter.store.models import Agent, AgentStatusChange
from callcenter.store.records import CdrRecord
from callcenter.store.repos.cdrs import write_cdrs
from callcenter.vocabulary import AgentState, AgentStatus, Direction, Disposition, HangupBy
from tests.conftest import migrated_database

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A database of its own: the test commits a queue, which the session's database must
    not keep (other tests count its queues)."""
    with migrated_database("cc_staffing") as url:
        yield url


def cdr(n: int, queue: str, started: datetime, talk_s: int | None) -> CdrRecord:
    return CdrRecord(
        call_uuid=f"hist-{queue}-{n}", direction=Direction.INBOUND, node="fs1",
        started_at=started, ended_at=started + timedelta(seconds=(talk_s or 30) + 20),
        hangup_cause="NORMAL_CLEARING", hangup_by=HangupBy.CALLER,
        disposition=Disposition.ANSWERED if talk_s else Disposition.ABANDONED, queue=queue,
        agent_extension="1001" if talk_s else None, talk_ms=(talk_s or 0) * 1000,
        hold_ms=10_000 if talk_s else 0,
    )  # fmt: skip


def wrapups(database: Database, queue: str, calls: list[CdrRecord], seconds: int) -> None:
    """A wrap-up after each handled call, each by an agent of its own (the status history:
    a CDR has none)."""
    with database.session_scope() as session:
        for call in calls:
            if call.agent_extension is None or call.queue != queue:
                continue
            agent = Agent(extension=call.call_uuid[-8:])
            session.add(agent)
            session.flush()
            began = call.started_at + timedelta(seconds=200)
            for at, state, which in (
                (began, AgentState.WRAP_UP, queue),
                (began + timedelta(seconds=seconds), AgentState.IDLE, None),
            ):
                session.add(AgentStatusChange(agent_id=agent.id, status=AgentStatus.AVAILABLE,
                                              state=state, at=at, queue=which))  # fmt: skip


def test_history_plans_each_interval_from_the_queues_cdrs(pg_url: str) -> None:
    database = Database(pg_url)
    queues.add(database, Actor("cli", "test"), "hist-sales")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    busy = now - 3 * HOUR  # an hour with 60 calls of 210 s handled (180 talk + 10 hold + 20 wrap)
    calls = [cdr(n, "hist-sales", busy + n * timedelta(seconds=59), 180) for n in range(58)]
    calls += [cdr(100 + n, "hist-sales", busy + timedelta(minutes=30 + n), None) for n in (1, 2)]
    calls += [cdr(200, "hist-other", busy, 100), cdr(201, "hist-sales", now - 9 * 24 * HOUR, 50)]
    # one of the two abandons was called back: handled work of the hour, not a 61st arrival
    called_back = cdr(300, "hist-sales", busy + 45 * MINUTE, 180)
    calls.append(replace(called_back, direction=Direction.OUTBOUND))
    with database.engine.begin() as conn:
        write_cdrs(conn, calls)
    wrapups(database, "hist-sales", [c for c in calls if c.started_at >= busy], 20)

    loads = staffing.history(database, "hist-sales", now - 4 * HOUR, now, HOUR)
    assert [(x.calls, x.answered) for x in loads] == [(0, 0), (60, 59), (0, 0), (0, 0)]
    assert loads[1].aht == 210.0 and loads[1].calls_per_hour == 60.0

    env = {"CALLCENTER_DATABASE_URL": pg_url}
    result = CliRunner().invoke(main, ["plan", "--from-history", "hist-sales", "--days", "1",
                                       "--json"], env=env)  # fmt: skip
    assert result.exit_code == 0, result.output
    intervals = json.loads(result.output)["intervals"]
    assert len(intervals) == 24
    planned = [i["plan"] for i in intervals if i["plan"] is not None]
    assert len(planned) == 1 and planned[0]["traffic"] == {"calls_per_hour": 60.0, "aht": 210.0,
                                                           "patience": None}  # fmt: skip
    assert planned[0]["needed"] == 6  # 3.5 erlangs, 80/20
    text = CliRunner().invoke(main, ["plan", "--from-history", "hist-sales", "--week"], env=env)
    assert text.exit_code == 0 and len(text.output.splitlines()) == 2 + 7 * 24
    missing = CliRunner().invoke(main, ["plan", "--from-history", "nope"], env=env)
    assert missing.exit_code == 1 and "no queue 'nope'" in missing.output
    database.dispose()

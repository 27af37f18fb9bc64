"""/cdrs: filters by time, queue, agent, DID and disposition; cursor pages; one CDR."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callcenter.store.database import Database
from callcenter.store.records import CdrLegRecord, CdrRecord
from callcenter.store.repos import CdrRepository
from callcenter.vocabulary import Direction, Disposition, HangupBy, LegRole
from tests.integration.api.conftest import Client

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def _cdr(uuid: str, minutes: int, **fields: object) -> CdrRecord:
    started = T0 + timedelta(minutes=minutes)
    return CdrRecord(
        call_uuid=uuid, direction=Direction.INBOUND, node="fs1", started_at=started,
        ended_at=started + timedelta(seconds=30), hangup_cause="NORMAL_CLEARING",
        hangup_by=HangupBy.CALLER, **fields,  # type: ignore[arg-type]
    )  # fmt: skip


@pytest.fixture
def stored(db: Database) -> None:
    leg = CdrLegRecord(leg_uuid="leg-1", role=LegRole.AGENT, started_at=T0, agent_extension="1001")
    records = [
        _cdr("c1", 0, disposition=Disposition.ANSWERED, queue="sales", agent_extension="1001",
             did="5000", legs=(leg,)),
        _cdr("c2", 1, disposition=Disposition.ABANDONED, queue="sales", did="5000"),
        _cdr("c3", 2, disposition=Disposition.ANSWERED, queue="support", agent_extension="1002",
             did="5001"),
        _cdr("c4", 2, disposition=Disposition.FAILED, did="5001"),  # same start as c3
        _cdr("c5", 3, disposition=Disposition.ANSWERED, did="5000"),
    ]  # fmt: skip
    with db.session_scope() as session:
        assert CdrRepository(session).insert_many(records) == 5


def _uuids(api: Client, query: str = "") -> list[str]:
    answer = api("GET", "/cdrs", token="read", query_string=query)
    assert answer.status_code == 200, answer.text
    return [c["call_uuid"] for c in answer.json["items"]]


def test_filters(api: Client, stored: None) -> None:
    assert _uuids(api) == ["c5", "c4", "c3", "c2", "c1"]
    assert _uuids(api, "queue=sales") == ["c2", "c1"]
    assert _uuids(api, "agent=1001") == ["c1"]
    assert _uuids(api, "did=5001") == ["c4", "c3"]
    assert _uuids(api, "disposition=answered") == ["c5", "c3", "c1"]
    assert _uuids(api, "since=2026-12-06T08:01:00Z&until=2026-12-06T08:03:00Z") == [
        "c4",
        "c3",
        "c2",
    ]
    assert _uuids(api, "since=2026-12-06T08:02:00") == ["c5", "c4", "c3"]  # naive: UTC
    bad = api("GET", "/cdrs", query_string="disposition=lost")
    assert (bad.status_code, bad.json["errors"][0]["field"]) == (422, "query.disposition")
    assert api("GET", "/cdrs", query_string="since=yesterday").status_code == 422


def test_pages_split_calls_that_started_together(api: Client, stored: None) -> None:
    seen, cursor = [], None
    while True:
        query = "limit=1" + (f"&cursor={cursor}" if cursor else "")
        answer = api("GET", "/cdrs", query_string=query).json
        seen += [c["call_uuid"] for c in answer["items"]]
        cursor = answer["next"]
        if cursor is None:
            break
    assert seen == ["c5", "c4", "c3", "c2", "c1"]
    assert api("GET", "/cdrs", query_string="cursor=WyJ4Il0").json["code"] == "cursor_invalid"


def test_show(api: Client, stored: None) -> None:
    one = api("GET", "/cdrs/c1").json
    assert (one["disposition"], one["legs"][0]["agent_extension"]) == ("answered", "1001")
    assert api("GET", "/cdrs/zzz").json["code"] == "cdr_not_found"

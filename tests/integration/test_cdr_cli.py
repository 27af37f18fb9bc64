"""`cdr list`: times read as the reports read them (ISO 8601, Z or an offset, else the
engine's time_zone), and CSV with formula cells neutralised."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from callcenter.store import migrate
from callcenter.store.database import Database
from callcenter.store.records import CdrRecord
from callcenter.store.repos import CdrRepository
from callcenter.vocabulary import Direction, Disposition, HangupBy

T0 = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cdr.db'}"
    database = Database(url)
    migrate.upgrade(database)
    records = [
        CdrRecord(call_uuid=f"cdrcli-{i}", direction=Direction.INBOUND, node="fs1",
                  started_at=T0 + timedelta(minutes=i),
                  ended_at=T0 + timedelta(minutes=i, seconds=30),
                  hangup_cause="NORMAL_CLEARING", hangup_by=HangupBy.CALLER,
                  disposition=Disposition.ANSWERED, from_number="+33140000000",
                  from_name="=HYPERLINK(\"http://x\")" if i == 0 else "Ann", did="5400")
        for i in range(4)
    ]  # fmt: skip
    with database.session_scope() as session:
        CdrRepository(session).insert_many(records)
    database.dispose()
    return url


def _cdr(url: str, *args: str, zone: str = "UTC") -> Any:
    from callcenter.cli import main

    env = {"CALLCENTER_DATABASE_URL": url, "CALLCENTER_API_URL": "",
           "CALLCENTER_TIME_ZONE": zone}  # fmt: skip
    return CliRunner().invoke(main, ["cdr", "list", *args], env=env, catch_exceptions=False)


def _uuids(found: Any) -> list[str]:
    assert found.exit_code == 0, found.output
    return [r["call_uuid"] for r in csv.DictReader(io.StringIO(found.output))]


def test_since_and_until_read_zones_as_the_reports_do(url: str) -> None:
    later = ["cdrcli-3", "cdrcli-2"]
    assert _uuids(_cdr(url, "--since", "2026-12-06T08:02:00Z", "--csv")) == later
    assert _uuids(_cdr(url, "--since", "2026-12-06T09:02+01:00", "--csv")) == later
    # a bare time is in the engine's time_zone, as `report --from` reads it
    assert _uuids(_cdr(url, "--since", "2026-12-06T09:02", "--csv", zone="Europe/Paris")) == later
    assert _uuids(_cdr(url, "--since", "2026-12-06T08:02", "--csv")) == later
    assert _uuids(_cdr(url, "--until", "2026-12-06T08:01Z", "--csv")) == ["cdrcli-0"]
    bad = _cdr(url, "--since", "yesterday")
    assert bad.exit_code == 2 and "expected ISO 8601" in bad.output


def test_csv_neutralises_formulas_and_excludes_json(url: str) -> None:
    found = _cdr(url, "--csv")
    rows = list(csv.DictReader(io.StringIO(found.output)))
    first = {r["call_uuid"]: r for r in rows}["cdrcli-0"]
    assert first["from_name"] == '\'=HYPERLINK("http://x")'
    assert first["from_number"] == "'+33140000000"
    both = _cdr(url, "--csv", "--json")
    assert both.exit_code == 2 and "--json or --csv" in both.output

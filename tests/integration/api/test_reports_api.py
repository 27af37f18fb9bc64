"""``/reports/...`` and ``/kpis/...``: the read scope, the same figures as the services, and
bad periods refused with a problem naming the field; the CLI's report command prints them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from prometheus_client import CollectorRegistry

from callcenter.cli import report_cmd
from callcenter.kpi.live import LiveKpis, QueueKpiSpec
from callcenter.store.database import Database
from tests.integration.api.conftest import Client
from tests.integration.reports import fixed

WINDOW = {"from": fixed.SINCE.isoformat(), "to": fixed.UNTIL.isoformat()}


def test_reports_need_the_read_scope_and_give_the_fixed_figures(db: Database, api: Client) -> None:
    fixed.load(db)
    assert api("GET", "/reports/queues", token=None, params=WINDOW).status_code == 401
    found = api("GET", "/reports/queues", token="read", params=WINDOW)
    assert found.status_code == 200, found.text
    sales = {r["queue"]: r for r in found.json["items"]}["sales"]
    assert (sales["offered"], sales["short_abandoned"], sales["exits"]) == (9, 1, {"overflow": 1})
    assert sales["service_level"] == pytest.approx(fixed.SL["offered"])
    agents = api("GET", "/reports/agents", token="read", params={**WINDOW, "agent": "1001"})
    assert agents.json["items"][0]["pause_seconds"] == {"lunch": 100.0}
    days = api("GET", "/reports/intervals", token="read",
               params={**WINDOW, "by": "day", "queue": "sales"})  # fmt: skip
    assert [r["interval"] for r in days.json["items"]] == ["2026-07-02T00:00:00+02:00"]


@pytest.mark.parametrize(
    ("params", "status", "where"),
    [
        ({"from": WINDOW["to"], "to": WINDOW["from"]}, 422, "to: must be after the start"),
        ({**WINDOW, "by": "week"}, 422, "by"),
        ({"to": WINDOW["to"]}, 422, "from"),
        ({**WINDOW, "queue": "nope"}, 404, "no queue named 'nope'"),
        ({**WINDOW, "agent": "1001"}, 422, "agent: not an option of the queues report"),
        ({**WINDOW, "by": "day"}, 422, "by: not an option of the queues report"),
    ],
)
def test_bad_periods_are_refused_naming_the_field(
    api: Client, params: dict[str, str], status: int, where: str
) -> None:
    found = api("GET", "/reports/queues", token="read", params=params)
    assert found.status_code == status, found.text
    assert where in found.text


def test_live_kpis_come_from_the_engine(make_client: Callable[..., Client]) -> None:
    assert make_client()("GET", "/kpis/queues", token="read").status_code == 503
    kpis = LiveKpis(CollectorRegistry())
    kpis.queues_loaded({"sales": QueueKpiSpec(20, 5, "answered")})
    kpis.stay_closed("sales", "answered", 12)
    found = make_client(kpis=kpis)("GET", "/kpis/queues", token="read")
    assert found.status_code == 200, found.text
    [row] = found.json["items"]
    assert (row["queue"], row["offered"], row["service_level"]) == ("sales", 1, 1.0)
    assert make_client(kpis=kpis)("GET", "/kpis/agents", token="read").json == {"items": []}


def _cli(db_url: str, *args: str) -> Any:
    from callcenter.cli import main

    env = {"CALLCENTER_DATABASE_URL": db_url, "CALLCENTER_API_URL": ""}
    return CliRunner().invoke(main, ["report", *args], env=env, catch_exceptions=False)


def _fixed_file(tmp_path: Any) -> str:
    """The fixed tables in a SQLite file that the CLI opens itself."""
    from callcenter.store import migrate

    url = f"sqlite:///{tmp_path / 'r.db'}"
    database = Database(url)
    migrate.upgrade(database)
    fixed.load(database)
    database.dispose()
    return url


def test_the_report_command_prints_table_csv_and_json(tmp_path: Any) -> None:
    url = _fixed_file(tmp_path)
    window = ["--from", fixed.SINCE.isoformat(), "--to", fixed.UNTIL.isoformat()]
    table = _cli(url, "queues", *window)
    assert table.exit_code == 0, table.output
    assert "SERVICE_LEVEL" in table.output and "25.0%" in table.output
    rows = list(csv.DictReader(io.StringIO(_cli(url, "queues", *window, "--format", "csv").output)))
    assert [r["queue"] for r in rows] == ["sales", "support", "(all)"]
    assert rows[0]["exits"] == "overflow=1" and rows[0]["offered"] == "9"
    agents = json.loads(_cli(url, "agents", *window, "--format", "json").output)
    assert {a["agent"] for a in agents} == {"1001", "1002"}
    assert list(rows[0]) == report_cmd.QUEUE_COLUMNS
    bad = _cli(url, "intervals", *window, "--queue", "nope")
    assert bad.exit_code == 1 and "no queue named 'nope'" in bad.output


def test_each_report_command_offers_only_the_options_it_uses(tmp_path: Any) -> None:
    url = _fixed_file(tmp_path)
    window = ["--from", fixed.SINCE.isoformat(), "--to", fixed.UNTIL.isoformat()]
    for command, option in [("queues", "--agent=1003"), ("queues", "--by=15m"),
                            ("intervals", "--agent=1003"), ("intervals", "--fcr-hours=5"),
                            ("agents", "--fcr-hours=5"), ("agents", "--by=day")]:  # fmt: skip
        refused = _cli(url, command, *window, option)
        assert refused.exit_code == 2 and "No such option" in refused.output, (command, option)
    support = _cli(url, "agents", *window, "--queue", "support", "--format", "csv")
    assert [r["agent"] for r in csv.DictReader(io.StringIO(support.output))] == ["1002"]
    for command in ("queues", "intervals", "agents"):
        nosuch = _cli(url, command, *window, "--queue", "nosuch")
        assert nosuch.exit_code == 1 and "no queue named 'nosuch'" in nosuch.output, command
    header = _cli(url, "intervals", *window, "--format", "csv").output.splitlines()[0]
    assert header.split(",")[:3] == ["queue", "interval", "offered"]
    table = _cli(url, "intervals", *window).output.splitlines()[0]
    assert table.split()[:3] == ["QUEUE", "INTERVAL", "OFFERED"]


@pytest.mark.parametrize("fmt", ["table", "csv", "json"])
def test_a_remote_report_prints_as_a_local_one(
    db: Database, api: Client, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from callcenter.services import reports
    from callcenter.services.reports import Period

    fixed.load(db)
    local = [r.as_dict() for r in reports.queues_report(db, Period(fixed.SINCE, fixed.UNTIL))]
    report_cmd.emit_report(local, report_cmd.QUEUE_COLUMNS, fmt)
    printed = capsys.readouterr().out
    remote = api("GET", "/reports/queues", token="read", params=WINDOW).json["items"]
    report_cmd.emit_report(remote, report_cmd.QUEUE_COLUMNS, fmt)
    assert capsys.readouterr().out == printed
    assert "60.0" in printed  # sales' 90th percentile wait, a number of seconds as the others

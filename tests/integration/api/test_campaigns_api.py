"""/campaigns and /dnc over the API, and `callcenter campaign ...` / `callcenter dnc ...`
locally and through a running engine: the same answers, lead files sent in parts."""

from __future__ import annotations

import csv
import io
import json
from functools import partial
from pathlib import Path
from typing import Any, get_args

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from callcenter.api.campaigns import LeadField
from callcenter.app import App
from callcenter.cli import main, remote_campaigns
from callcenter.dialer.importer import LEAD_FIELDS
from callcenter.services import queues, tokens
from callcenter.services.actor import Actor
from callcenter.services.checks import InvalidArgument
from callcenter.store.database import Database
from callcenter.store.models import DncNumber, Lead, LeadImport
from tests.integration.api.conftest import Client
from tests.integration.api.test_engine_api import engine, engine_db_url  # noqa: F401  (fixtures)

ROOT = Actor("cli", "test")


def test_campaigns_api(api: Client, db: Database) -> None:
    queues.add(db, ROOT, "sales")
    body = {
        "name": "spring",
        "queue": "sales",
        "caller_id": "+12125550199",
        "hours": "09:00-20:00",
        "report_zone": "America/New_York",
        "retries": {"busy": {"times": 2, "after_seconds": 900}},
    }
    assert api("POST", "/campaigns", token="read", body=body).status_code == 403
    made = api("POST", "/campaigns", body=body)
    assert made.status_code == 201, made.text
    assert (made.json["state"], made.json["hours"], made.json["ring_seconds"]) == (
        "stopped",
        "09:00-20:00",
        20,
    )
    assert made.json["retries"]["busy"] == {"times": 2, "after_seconds": 900}
    assert made.json["retries"]["no_answer"] == {"times": 3, "after_seconds": 7200}
    assert api("POST", "/campaigns", body=body).status_code == 409
    bad = api("PATCH", "/campaigns/spring", body={"mode": "predictive"})
    assert (bad.status_code, bad.json["errors"][0]["field"]) == (422, "body.safe_harbor_message")
    bad = api("PATCH", "/campaigns/spring", body={"hours": "21:00-08:00"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "window"
    bad = api("PATCH", "/campaigns/spring", body={"ring_seconds": 5})
    assert bad.status_code == 422
    changed = api("PATCH", "/campaigns/spring", body={"abandon_target_pct": 1.0})
    assert changed.json["abandon_target_pct"] == 1.0 and changed.json["hours"] == "09:00-20:00"
    rows = {
        "source": "api.csv",
        "header": ["phone", "name"],
        "rows": [
            [2, ["2125550101", "=HYPERLINK()"]],
            [3, ["nope", "x"]],
            [4, ["+1 212 555 0101", "dup"]],
        ],
    }
    first = api("POST", "/campaigns/spring/leads", body=rows)
    assert first.status_code == 200, first.text
    assert (first.json["added"], first.json["rejected"]) == (1, 2)
    assert [r["line"] for r in first.json["rejected_rows"]] == [3, 4]
    more = {
        **rows,
        "rows": [[5, ["2125550102", "Bob"]], [6, ["2125550101", "again"]]],
        "import_id": first.json["import_id"],
    }
    second = api("POST", "/campaigns/spring/leads", body=more).json
    assert (second["rows"], second["added"], second["rejected"]) == (5, 2, 3)
    assert "duplicate of line 2" in second["rejected_rows"][0]["reason"]
    page = api("GET", "/campaigns/spring/leads", token="read", params={"limit": 1}).json
    assert page["items"][0]["name"] == "=HYPERLINK()" and page["next"]
    rest = api("GET", "/campaigns/spring/leads", params={"limit": 5, "cursor": page["next"]}).json
    assert [i["phone"] for i in rest["items"]] == ["+12125550102"] and rest["next"] is None
    shown = api("GET", "/campaigns/spring", token="read").json
    assert shown["leads"]["total"] == 2 and shown["abandon_rate"]["at_limit"] is False
    assert api("POST", "/campaigns/spring/start", token="read").status_code == 403
    assert api("POST", "/campaigns/spring/start", token="operate").json["state"] == "running"
    again = api("POST", "/campaigns/spring/start")
    assert (again.status_code, again.json["code"]) == (409, "campaign_already_running")
    assert api("POST", "/campaigns/spring/pause").json["state"] == "paused"
    audit = api("GET", "/campaigns/spring/audit", token="read").json["items"]
    assert [a["details"]["to"] for a in audit] == ["running", "paused"]
    lead_id = page["items"][0]["lead_id"]
    done = api(
        "POST", f"/campaigns/spring/leads/{lead_id}/disposition", body={"code": "do_not_call"}
    )
    assert done.json == {"lead_id": lead_id, "state": "done"}
    assert api("GET", "/dnc/2125550101", params={"campaign": "spring"}).json == {
        "number": "+12125550101",
        "blocked": True,
        "lists": ["global"],  # the built-in do_not_call: the seller's list
    }
    assert (
        api(
            "POST",
            "/campaigns/spring/leads/99999999999999999999/disposition",
            body={"code": "sale"},
        ).status_code
        == 422
    )
    added = api("POST", "/dnc", body={"numbers": ["+12125550109", "2125550109"]}).json
    assert added == {"added": ["+12125550109"]}
    listed = api("GET", "/dnc").json["entries"]  # the global list, newest first
    assert listed[0]["number"] == "+12125550109" and listed[0]["campaign"] is None
    assert listed[1]["number"] == "+12125550101"  # the do_not_call above
    api("POST", "/dnc", body={"numbers": ["2125550108"], "campaign": "spring"})
    spring = api("GET", "/dnc", params={"campaign": "spring", "limit": 1}).json["entries"]
    assert [e["campaign"] for e in spring] == ["spring"]
    assert api("GET", "/dnc", params={"campaign": "nowhere"}).status_code == 404
    assert api("DELETE", "/dnc/%2B12125550109").status_code == 204
    assert api("DELETE", "/dnc/%2B12125550109").json["code"] == "dnc_not_found"
    made = api("POST", "/campaigns/spring/dispositions", body={"code": "voicemail", "key": 6})
    assert made.status_code == 201 and made.json["feature_code"] == "*306"
    assert api("DELETE", "/campaigns/spring/dispositions/voicemail").status_code == 204
    assert api("GET", "/campaigns/nowhere").json["code"] == "campaign_not_found"


def _first_json(out: str) -> Any:
    """The JSON document a command printed (the in-process engine may log after it)."""
    return json.JSONDecoder().raw_decode(out[out.index("{") :])[0]


@pytest.mark.parametrize("where", ["local", "remote"])
def test_campaign_cli_round_trip(
    where: str,
    engine: App,  # noqa: F811
    engine_db_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(remote_campaigns, "PART_ROWS", 7)  # remote: the file goes in 5 parts
    if where == "local":
        env = {"CALLCENTER_DATABASE_URL": engine_db_url}
    else:
        secret = tokens.create(engine.database, ROOT, f"cmp-{where}", "admin").secret
        env = {
            "CALLCENTER_API_URL": f"http://127.0.0.1:{engine.metrics.port}",
            "CALLCENTER_API_TOKEN": secret,
        }
    name = f"cmp-{where}"
    queue = f"q-{where}"
    queues.add(engine.database, ROOT, queue)

    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        return result.exit_code, result.output

    code, out = cli(
        "campaign",
        "create",
        name,
        "--queue",
        queue,
        "--caller-id",
        "+12125550199",
        "--retry",
        "busy=2x15m",
        "--hours",
        "09:00-20:00",
    )
    assert code == 0, out
    code, out = cli("campaign", "create", f"{name}-x", "--queue", queue, "--ring-time", "10")
    assert code != 0 and ("--ring-time" in out or "ring_seconds" in out) and "15" in out
    leads = tmp_path / "leads.csv"
    lines = ["Telephone,name,notes"] + [f"+1212555{1000 + i},lead {i},=CMD()" for i in range(30)]
    leads.write_bytes(("\n".join(lines) + "\nnope,x,y\n2125550000,Caf\xe9,z\n").encode("latin-1"))
    rejects = tmp_path / "rejects.csv"
    code, out = cli(
        "campaign",
        "import",
        name,
        str(leads),
        "--map",
        "phone=Telephone",
        "--rejects",
        str(rejects),
        "--json",
    )
    assert code == 0, out
    report = _first_json(out)
    assert (report["rows"], report["added"], report["rejected"]) == (32, 30, 2)
    assert sorted(r["line"] for r in csv.DictReader(rejects.open())) == ["32", "33"]
    code, out = cli("campaign", "import", name, str(leads), "--map", "phone=Telephone")
    assert code == 0 and "0 added, 30 already there, 2 rejected" in out
    code, out = cli("campaign", "set", name, "--retry", "machine=1x6h", "--description", "Q4")
    assert code == 0, out
    code, out = cli("campaign", "show", name, "--json")
    shown: dict[str, Any] = _first_json(out)
    assert shown["leads"]["pending"] == 30
    assert shown["retries"]["machine"] == {"times": 1, "after_seconds": 21600}
    assert shown["retries"]["busy"] == {"times": 2, "after_seconds": 900}
    code, out = cli("campaign", "start", name)
    assert code == 0 and f"campaign {name} started" in out
    assert f"warning: campaign {name} has no --safe-harbor-message" in out  # progressive
    code, out = cli("dnc", "add", "+12125551003", "--campaign", name, "--reason", "asked")
    assert code == 0, out
    code, out = cli("dnc", "list", "--campaign", name, "--json")
    assert code == 0, out
    assert "+12125551003" in out and "asked" in out  # the campaign's list, locally or remotely
    code, out = cli("campaign", "list")
    assert code == 0 and name in out and "running" in out
    out_file = tmp_path / "results.csv"
    code, out = cli("campaign", "export-results", name, "--out", str(out_file))
    assert code == 0, out
    exported = list(csv.DictReader(out_file.open()))
    assert len(exported) == 30 and exported[0]["notes"] == "'=CMD()"
    assert exported[0]["phone"].startswith("'+1212555")
    code, out = cli("campaign", "audit", name, "--format", "csv")
    assert code == 0 and "state" in out and "running" in out
    code, out = cli(
        "campaign", "disposition", "add", name, "voicemail", "--key", "7", "--retry-after", "4h"
    )
    assert code == 0 and "*307" in out
    code, out = cli("campaign", "disposition", "list", name)
    assert code == 0 and "voicemail" in out and "*301" in out
    lead_id = exported[0]["lead_id"]
    code, out = cli(
        "campaign", "dispose", name, lead_id, "call_back", "--callback-at", "2030-01-07T15:00+01:00"
    )
    assert code == 0 and "now pending" in out
    code, out = cli("campaign", "stop", name)
    assert code == 0, out
    dnc_file = tmp_path / "dnc.txt"
    dnc_file.write_text("2125559001\n+12125559002\nbogus\n")
    code, out = cli("dnc", "import", str(dnc_file), "--campaign", name)
    assert code == 0 and "3 rows: 2 added, 0 already listed, 1 rejected" in out
    code, out = cli("dnc", "add", "2125559003", "--reason", "asked")
    assert code == 0 and "+12125559003" in out
    code, out = cli("dnc", "check", "2125559001", "--campaign", name)
    assert code == 3 and f"campaign:{name}" in out
    code, out = cli("dnc", "remove", "2125559003")
    assert code == 0, out
    code, out = cli("dnc", "check", "+12125559003")
    assert code == 0 and "not listed" in out


def test_start_checks_the_flows_this_engine_serves(make_client) -> None:  # type: ignore[no-untyped-def]
    class Flows:
        def names(self) -> list[str]:
            return ["main"]

    api = make_client(flows=Flows())
    body = {
        "name": "reminder",
        "mode": "broadcast",
        "flow": "reminder",
        "caller_id": "+12125550199",
    }
    assert api("POST", "/campaigns", body=body).status_code == 201
    refused = api("POST", "/campaigns/reminder/start")
    assert (refused.status_code, refused.json["code"]) == (409, "campaign_not_ready")
    assert "no IVR flow 'reminder' (known: main)" in refused.json["detail"]
    assert api("PATCH", "/campaigns/reminder", body={"flow": "main"}).status_code == 200
    assert api("POST", "/campaigns/reminder/start").json["state"] == "running"
    moved = api("PATCH", "/campaigns/reminder", body={"flow": "gone"})
    assert (moved.status_code, moved.json["code"]) == (409, "campaign_not_ready")


def test_clearing_the_route_over_the_api_clears_the_trunks(api: Client) -> None:
    # the CLI's `--clear route` emptied the trunks too, the API's null left them: the same
    # change meant two things depending on the door
    body = {"name": "clr-api", "agents": ["4101"], "trunks": ["carrier1", "carrier2"]}
    assert api("POST", "/campaigns", body=body).status_code == 201
    cleared = api("PATCH", "/campaigns/clr-api", body={"outbound_route": None})
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json["outbound_route"], cleared.json["trunks"]) == (None, [])
    api("PATCH", "/campaigns/clr-api", body={"trunks": ["carrier1"]})
    switched = api("PATCH", "/campaigns/clr-api", body={"outbound_route": None, "trunks": ["b"]})
    assert switched.json["trunks"] == ["b"]  # trunks named with the clear are kept


def test_clearing_the_route_with_the_cli_clears_the_trunks(engine_db_url: str) -> None:  # noqa: F811
    env = {"CALLCENTER_DATABASE_URL": engine_db_url}

    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        return result.exit_code, result.output

    code, out = cli("campaign", "create", "clr-cli", "--agent", "4102", "--trunk", "carrier1")
    assert code == 0, out
    code, out = cli("campaign", "set", "clr-cli", "--clear", "route", "--trunk", "carrier2")
    assert code == 2 and "give --trunk or --clear route, not both" in out
    code, out = cli("campaign", "set", "clr-cli", "--clear", "route")
    assert code == 0, out
    code, out = cli("campaign", "show", "clr-cli", "--json")
    shown = _first_json(out)
    assert (shown["outbound_route"], shown["trunks"]) == (None, [])


@pytest.mark.parametrize("what", ["campaign", "dnc"])
def test_an_import_checks_its_region_first_and_reports_its_own_errors_as_they_are(
    what: str,
    engine_db_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the whole streaming import sat in `except InvalidArgument`: an error of the import
    # itself came out as a bad command-line option it never was
    env = {"CALLCENTER_DATABASE_URL": engine_db_url}

    def cli(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
        return result.exit_code, result.output

    name = f"imp-{what}"
    code, out = cli("campaign", "create", name, "--agent", "4103" if what == "dnc" else "4104")
    assert code == 0, out
    data = tmp_path / "numbers.csv"
    data.write_text("phone\n07911123456\n")
    command = ["campaign", "import", name] if what == "campaign" else ["dnc", "import"]
    where = [] if what == "campaign" else ["--campaign", name]
    code, out = cli(*command, str(data), *where, "--region", "ZZ")
    assert code == 2 and "--region" in out and "not an ISO country code" in out
    deep = InvalidArgument("phone", "refused deep in the import")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise deep

    target = "callcenter.services.leads._consume" if what == "campaign" else (
        "callcenter.services.dnc.store_numbers"
    )  # fmt: skip
    with monkeypatch.context() as patched:
        patched.setattr(target, refuse)
        code, out = cli(*command, str(data), *where, "--region", "GB")
    assert code == 1 and "error: phone: refused deep in the import [invalid_argument]" in out
    code, out = cli(*command, str(data), *where, "--region", "gb")
    assert code == 0 and "1 added" in out, out


@pytest.mark.parametrize("what", ["campaign", "dnc"])
@pytest.mark.parametrize(
    ("encoding", "said"),
    [
        (
            "utf-16",
            "not utf-16 text (read as far as line 1): UTF-16 stream does not start with BOM",
        ),
        ("utf-32", "not utf-32 text (read as far as line 1)"),
        ("klingon", "--encoding 'klingon': not an encoding Python knows"),
    ],
)
def test_a_wrong_encoding_is_a_one_line_error_naming_the_file_and_nothing_is_stored(
    what: str,
    encoding: str,
    said: str,
    engine_db_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    # a BOM-less file read as utf-16, an ASCII one as utf-32: a UnicodeError's traceback
    result = partial(CliRunner().invoke, main, env={"CALLCENTER_DATABASE_URL": engine_db_url})
    name = f"enc-{what}-{encoding}"
    assert result(["campaign", "create", name, "--agent", "4105"]).exit_code == 0
    data = tmp_path / "numbers.csv"
    data.write_text("phone\n2125550123\n2125550124\n")
    command = ["campaign", "import", name] if what == "campaign" else ["dnc", "import"]
    where = [] if what == "campaign" else ["--campaign", name]
    before = _rows(engine_db_url)
    done = result([*command, str(data), *where, "--encoding", encoding], catch_exceptions=False)
    out = done.output
    assert done.exit_code == 1 and out.count("\n") == 1, out
    assert f"error: numbers.csv: {said}" in out
    assert _rows(engine_db_url) == before


def _rows(db_url: str) -> list[int | None]:
    """How many leads, lead imports and do-not-call numbers are stored."""
    database = Database(db_url)
    try:
        with database.session_scope() as session:
            return [session.scalar(select(func.count()).select_from(table))
                    for table in (Lead, LeadImport, DncNumber)]  # fmt: skip
    finally:
        database.dispose()


def test_a_missing_phone_column_names_the_way_to_map_it_api_or_cli(
    api: Client,
    engine_db_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    made = api("POST", "/campaigns", body={"name": "hint-api", "agents": ["4105"]})
    assert made.status_code == 201, made.text
    rows = {
        "source": "api.csv",
        "header": ["Telephone", "name"],
        "rows": [[2, ["2125550101", "x"]]],
    }
    answer = api("POST", "/campaigns/hint-api/leads", body=rows)
    assert (answer.status_code, answer.json["code"]) == (422, "lead_file_invalid"), answer.text
    assert "--map" not in answer.json["detail"]
    assert 'map one with "map": {"phone": "COLUMN"}' in answer.json["detail"]
    unknown = api("POST", "/campaigns/hint-api/leads", body={**rows, "map": {"fone": "Telephone"}})
    assert unknown.status_code == 422 and "--map" not in unknown.text
    assert unknown.json["errors"][0]["field"].startswith("body.map")
    assert get_args(LeadField) == LEAD_FIELDS  # the API maps the fields the importer reads
    mapped = api("POST", "/campaigns/hint-api/leads", body={**rows, "map": {"phone": "Telephone"}})
    assert (mapped.status_code, mapped.json["added"]) == (200, 1), mapped.text

    env = {"CALLCENTER_DATABASE_URL": engine_db_url}
    result = CliRunner().invoke(
        main, ["campaign", "create", "hint-cli", "--agent", "4106"], env=env
    )
    assert result.exit_code == 0, result.output
    data = tmp_path / "leads.csv"
    data.write_text("Telephone,name\n2125550101,x\n")
    result = CliRunner().invoke(main, ["campaign", "import", "hint-cli", str(data)], env=env)
    assert result.exit_code == 1 and "map one with --map phone=COLUMN" in result.output


def test_lead_files_the_cli_reads_and_writes(engine_db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """A cp1252 file read as UTF-8 rejected every row and exited 0; a UTF-16 file with its
    BOM was "cell 1: a NUL character" naming no file; the export had no form European
    Excel opens; --rejects kept no row to fix; a do_not_call from the CLI said `agent`."""
    result = partial(CliRunner().invoke, main, env={"CALLCENTER_DATABASE_URL": engine_db_url},
                     catch_exceptions=False)  # fmt: skip
    assert result(["campaign", "create", "files", "--agent", "4188"]).exit_code == 0
    latin = tmp_path / "latin.csv"
    latin.write_bytes("phone,name\n2125550301,Müller\n2125550302,Gärtner\n".encode("cp1252"))
    rejects = tmp_path / "rejects.csv"
    done = result(["campaign", "import", "files", str(latin), "--rejects", str(rejects)])
    assert done.exit_code == 1, done.output
    assert "every row (2) was rejected, none stored; 2 of them hold bytes" in done.output
    assert "--encoding cp1252" in done.output
    kept = list(csv.reader(rejects.open(encoding="utf-8")))
    assert kept[0] == ["line", "reason", "phone", "name"]
    assert kept[1][0] == "2" and kept[1][2:] == ["2125550301", "M\ufffdller"]
    wide = tmp_path / "wide.csv"
    wide.write_bytes("phone;name\r\n2125550303;Zoë\r\n=1+1;x\r\n".encode("utf-16"))
    done = result(["campaign", "import", "files", str(wide), "--rejects", str(rejects)])
    assert done.exit_code == 0 and "1 added" in done.output, done.output
    assert list(csv.reader(rejects.open()))[1][2:] == ["'=1+1", "x"]  # neutralised
    done = result(["campaign", "import", "files", str(wide), "--encoding", "cp1252"])
    assert done.exit_code == 1 and "error: wide.csv: line 1: the header" in done.output
    assert "give --encoding utf-16" in done.output
    out = tmp_path / "results.csv"
    done = result(["campaign", "export-results", "files", "--excel", "--out", str(out)])
    assert done.exit_code == 0, done.output
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbflead_id;phone;state;") and "Zoë".encode() in raw
    assert result(["campaign", "create", "files2", "--agent", "4188"]).exit_code == 0
    done = result(["campaign", "import", "files2", str(out)])
    assert done.exit_code == 0 and "1 added" in done.output, done.output
    lead_id = next(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))["lead_id"]
    done = result(["campaign", "dispose", "files", lead_id, "do_not_call"])
    assert done.exit_code == 0, done.output
    done = result(["dnc", "list", "--json"])
    [entry] = [e for e in json.loads(done.output) if e["number"] == "+12125550303"]
    assert entry["added_by"].startswith("cli:") and entry["reason"] == (
        "files: disposition do_not_call"
    )

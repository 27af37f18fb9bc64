"""Lead files into PostgreSQL: E.164, zones from the number, rejected lines and why,
re-imports that add nothing, hostile files, and the results exported safe for spreadsheets."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from callcenter.dialer.campaign import CampaignSpec
from callcenter.dialer.export import RESULT_COLUMNS, write_csv
from callcenter.dialer.importer import BadLeadFile, ColumnMap, Rejected
from callcenter.dialer.leads import NumberReader
from callcenter.dialer.vocabulary import LeadState
from callcenter.services import campaigns, dnc, leads
from callcenter.services.checks import InvalidArgument
from callcenter.store.database import Database
from callcenter.store.models import Campaign, Lead, LeadImport
from tests.integration.dialer.conftest import WHO


def _import(db: Database, campaign: str, data: bytes, **options: object):  # type: ignore[no-untyped-def]
    rejected: list[Rejected] = []
    report = leads.import_file(
        db, WHO, campaign, io.BytesIO(data), source="t.csv", on_reject=rejected.append, **options
    )  # type: ignore[arg-type]
    return report, {r.line: r.reason for r in rejected}


def _leads(db: Database) -> dict[str, Lead]:
    with db.session_scope() as session:
        rows = session.scalars(select(Lead)).all()
        session.expunge_all()
    return {r.phone: r for r in rows}


GOOD = (
    b"phone,name,priority,notes\r\n"
    b"(212) 555-0101,Ann,5,=CMD()\r\n"
    b'+1 415 555 0102,Bob,,"multi\nline"\r\n'
    b"+44 7911 123456,Cat,-3,@SUM(A1)\r\n"
)


def test_a_clean_file_stores_e164_zones_priority_and_custom_fields(
    db: Database, campaign: str
) -> None:
    report, rejected = _import(db, campaign, GOOD)
    assert (report.rows, report.added, report.existing, report.rejected) == (3, 3, 0, 0)
    assert rejected == {}
    stored = _leads(db)
    ann = stored["+12125550101"]
    assert (ann.zones, ann.priority, ann.source_line) == ("America/New_York", 5, 2)
    assert ann.fields == {"name": "Ann", "notes": "=CMD()"}  # data, stored as it came
    assert stored["+14155550102"].zones == "America/Los_Angeles"
    assert stored["+14155550102"].fields["notes"] == "multi\nline"
    assert "Europe/London" in stored["+447911123456"].zones.split()
    assert stored["+447911123456"].source_line == 5  # the quoted newline took line 4 too


def test_the_same_file_twice_adds_nothing(db: Database, campaign: str) -> None:
    _import(db, campaign, GOOD)
    report, _rejected = _import(db, campaign, GOOD)
    assert (report.added, report.existing, report.rejected) == (0, 3, 0)
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 3
        assert session.scalar(select(func.count()).select_from(LeadImport)) == 2


def test_hostile_rows_are_rejected_with_line_and_reason(db: Database, campaign: str) -> None:
    data = (
        b"phone,name,priority,timezone\n"
        b"2125550111,Ann,1,\n"  # 2: good
        b"2125550112,Caf\xe9,1,\n"  # 3: latin-1 in a UTF-8 file
        b"2125550113,N\x00L,1,\n"  # 4: a NUL
        b"not a number,X,1,\n"  # 5
        b"+1 555 123 4567,X,1,\n"  # 6: not a valid number
        b"2125550114,X,high,\n"  # 7
        b"2125550115,X,1\n"  # 8: a cell short
        b"2125550116,X,1,Mars/Base\n"  # 9
        b"(212) 555-0111,Dup,1,\n"  # 10: the number of line 2
        b'2125550117,"bad"quote,1,\n'  # 11: not CSV
        b"\n"  # 12: blank, skipped
        b"2125550118," + b"x" * 1200 + b",1,\n"  # 13: a cell too long
        b"2125550119,Zed,1,Europe/Paris\n"  # 14: good, its zone given
    )
    report, rejected = _import(db, campaign, data)
    assert set(rejected) == {3, 4, 5, 6, 7, 8, 9, 10, 11, 13}
    assert "0xE9" in rejected[3] and "--encoding" in rejected[3]
    assert "NUL" in rejected[4]
    assert "not a phone number" in rejected[5]
    assert "not a valid number" in rejected[6]
    assert "priority" in rejected[7]
    assert "3 cells, the header has 4" in rejected[8]
    assert "Mars/Base" in rejected[9]
    assert "duplicate of line 2" in rejected[10]
    assert "not CSV" in rejected[11]
    assert "at most 1000" in rejected[13]
    assert (report.added, report.rejected) == (2, 10)
    assert _leads(db)["+12125550119"].zones == "Europe/Paris"


def test_the_encoding_option_reads_a_latin1_file(db: Database, campaign: str) -> None:
    report, rejected = _import(db, campaign, b"phone,name\n2125550121,Caf\xe9\n", encoding="cp1252")
    assert (report.added, rejected) == (1, {})
    assert _leads(db)["+12125550121"].fields == {"name": "Café"}


def test_a_bom_a_mapping_a_region_and_a_delimiter(db: Database, campaign: str) -> None:
    data = "\ufeffTelefon;Prio;Name\n030 1234567;2;Max\n".encode()
    report, rejected = _import(
        db,
        campaign,
        data,
        mapping=ColumnMap.parse(["phone=Telefon", "priority=prio"]),
        region="DE",
        delimiter=";",
    )
    assert (report.added, rejected) == (1, {})
    lead = _leads(db)["+49301234567"]
    assert (lead.priority, lead.zones, lead.fields) == (2, "Europe/Berlin", {"Name": "Max"})


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"name,notes\nAnn,x\n", "no column 'phone'"),
        (b"phone,name,Phone\n1,2,3\n", "twice"),
        (b"ph\xffone\n1\n", "the header"),
    ],
)
def test_a_file_without_a_usable_header_is_refused_before_any_write(
    db: Database, campaign: str, data: bytes, message: str
) -> None:
    with pytest.raises(BadLeadFile, match=message):
        _import(db, campaign, data)
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(LeadImport)) == 0


def test_a_generated_file_goes_in_batches(db: Database, campaign: str, tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    n = 5000
    with path.open("w", newline="") as out:
        out.write("phone,name\n")
        for i in range(n):
            out.write(f"+1212{2000000 + i:07d},lead {i}\n")
    positions: list[int] = []
    with path.open("rb") as stream:
        report = leads.import_file(
            db, WHO, campaign, stream, source=str(path), progress=positions.append
        )
    assert (report.rows, report.added, report.rejected) == (n, n, 0)
    assert len(positions) >= n // leads.BATCH and positions[-1] == path.stat().st_size
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == n


def test_results_export_neutralises_formulas(db: Database, campaign: str) -> None:
    _import(db, campaign, GOOD)
    out = io.StringIO()
    count = write_csv(out, leads.result_columns(db, campaign), leads.results(db, campaign))
    assert count == 3
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    by_name = {r["name"]: r for r in rows}
    assert by_name["Ann"]["notes"] == "'=CMD()"
    assert by_name["Cat"]["notes"] == "'@SUM(A1)"
    assert by_name["Cat"]["priority"] == "'-3"
    assert by_name["Ann"]["phone"] == "'+12125550101"
    assert by_name["Ann"]["state"] == "pending"
    for row in rows:
        for cell in row.values():
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_custom_columns_named_as_results_columns_are_exported_and_read_back(
    db: Database, campaign: str
) -> None:
    # the export wrote the lead's own state, attempts and id over a file's columns of the
    # same names: a US lead file's `state` stored, shown in the screen pop, never exported
    data = b"phone,state,attempts,lead_id,city,Priority_Note\r\n2125550101,NY,7,A-17,Albany,x\r\n"
    _import(db, campaign, data)
    columns = leads.result_columns(db, campaign)
    assert columns[: len(RESULT_COLUMNS)] == RESULT_COLUMNS
    assert columns[len(RESULT_COLUMNS) :] == (
        "field:state", "field:attempts", "field:lead_id", "city", "Priority_Note",
    )  # fmt: skip
    out = io.StringIO()
    write_csv(out, columns, leads.results(db, campaign))
    [row] = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert (row["state"], row["attempts"], row["phone"]) == ("pending", "0", "'+12125550101")
    assert (row["field:state"], row["field:attempts"], row["field:lead_id"]) == ("NY", "7", "A-17")
    assert row["city"] == "Albany"
    [api_row] = leads.result_rows(db, campaign)
    assert (api_row["state"], api_row["field:state"]) == ("pending", "NY")
    # the export read back (into another campaign): its `field:` columns are the fields
    # again, its own results columns none
    campaigns.create(db, WHO, CampaignSpec(name="autumn", queue="outbound",
                                           caller_id="+12125550199"))  # fmt: skip
    report, rejected = _import(db, "autumn", out.getvalue().encode())
    assert (report.added, rejected) == (1, {})
    with db.session_scope() as session:
        [fields] = session.scalars(
            select(Lead.fields).join(Campaign).where(Campaign.name == "autumn")
        ).all()
    assert fields == {
        "state": "NY", "attempts": "7", "lead_id": "A-17", "city": "Albany", "Priority_Note": "x"
    }  # fmt: skip
    assert leads.result_columns(db, "autumn") == columns


def test_an_export_read_back_gives_every_value_as_it_was(db: Database, campaign: str) -> None:
    # the export's added `'` stayed on a re-import: a priority of -3 was refused as
    # "'-3", a note "=CMD()" came back "'=CMD()"; one that was "'=x" must not lose its `'`
    _import(db, campaign, GOOD + b"(212) 555-0104,Dee,0,'=x\r\n")
    out = io.StringIO()
    write_csv(out, leads.result_columns(db, campaign), leads.results(db, campaign))
    assert "''=x" in out.getvalue()
    campaigns.create(db, WHO, CampaignSpec(name="again", queue="outbound",
                                           caller_id="+12125550199"))  # fmt: skip
    report, rejected = _import(db, "again", out.getvalue().encode())
    assert (report.added, rejected) == (4, {})
    with db.session_scope() as session:
        back = session.execute(
            select(Lead.phone, Lead.priority, Lead.fields).join(Campaign)
            .where(Campaign.name == "again")
        ).all()  # fmt: skip
    assert {(phone, priority, f["notes"]) for phone, priority, f in back} == {
        ("+12125550101", 5, "=CMD()"),
        ("+14155550102", 0, "multi\nline"),
        ("+447911123456", -3, "@SUM(A1)"),
        ("+12125550104", 0, "'=x"),
    }


def test_a_column_named_field_colon_a_name_is_that_field(db: Database, campaign: str) -> None:
    _import(db, campaign, b"phone,field:state,field:notes\r\n2125550101,NY,hi\r\n")
    assert _leads(db)["+12125550101"].fields == {"state": "NY", "notes": "hi"}
    with pytest.raises(BadLeadFile, match=r"'field:notes'.*'notes'"):
        _import(db, campaign, b"phone,notes,field:notes\r\n2125550102,a,b\r\n")


def test_dnc_add_check_remove_and_import(db: Database, campaign: str) -> None:
    assert dnc.add(db, WHO, ["(212) 555-0131", "+12125550132"], reason="asked") == [
        "+12125550131",
        "+12125550132",
    ]
    assert dnc.add(db, WHO, ["+12125550131"]) == []
    assert dnc.check(db, "2125550131").lists == ("",)
    assert not dnc.check(db, "2125550139").blocked
    dnc.remove(db, WHO, "+12125550131")
    assert not dnc.check(db, "+12125550131").blocked
    rejected: list[Rejected] = []
    report = dnc.import_file(
        db,
        WHO,
        io.BytesIO(b"2125550141\n+12125550142\nnope\n2125550141\n"),
        campaign=campaign,
        on_reject=rejected.append,
    )
    assert (report.rows, report.added, report.existing, report.rejected) == (4, 2, 1, 1)
    assert rejected[0].line == 3
    assert dnc.check(db, "+12125550141", campaign=campaign).lists == (campaign,)
    assert dnc.check(db, "+12125550141", campaign="spring").blocked


def test_an_unknown_region_is_refused_once_not_line_by_line(db: Database, campaign: str) -> None:
    # --region ZZ was blamed on the number ("Missing or invalid default region"), and a
    # do-not-call file read in it had every line without '+' rejected, none refused
    for call in (
        lambda: dnc.add(db, WHO, ["2125550131"], region="ZZ"),
        lambda: dnc.check(db, "2125550131", region="zz"),
        lambda: dnc.remove(db, WHO, "2125550131", region="ZZ"),
        lambda: dnc.import_file(db, WHO, io.BytesIO(b"2125550141\n"), region="ZZ"),
        lambda: _import(db, campaign, GOOD, region="zz"),
    ):
        with pytest.raises(InvalidArgument) as info:
            call()
        assert info.value.field == "region"
        assert info.value.reason.endswith(": not an ISO country code, e.g. US")
    assert dnc.add(db, WHO, ["07911 123456"], region="gb") == ["+447911123456"]


def test_imports_and_dnc_changes_are_events_audit_entries_and_change_rows(
    db: Database, campaign: str
) -> None:
    from callcenter.store.models import AuditEntry, EngineChange, EventRow

    _import(db, campaign, GOOD)
    dnc.add(db, WHO, ["+12125550151"], campaign=campaign)
    with db.session_scope() as session:
        events = {r.type: r.payload["data"] for r in session.scalars(select(EventRow))}
        actions = set(session.scalars(select(AuditEntry.action)))
        changes = {(c.kind, c.op) for c in session.scalars(select(EngineChange))}
    assert events["campaign.leads_imported"] == {
        "campaign": campaign,
        "source": "t.csv",
        "rows": 3,
        "added": 3,
        "existing": 0,
        "rejected": 0,
    }
    assert events["dnc.changed"] == {
        "op": "add",
        "campaign": campaign,
        "number": "+12125550151",
        "count": 1,
    }
    assert {"campaign.import", "dnc.add"} <= actions
    assert {("campaign", "import"), ("dnc", "add")} <= changes


def test_a_re_import_parses_none_of_the_numbers_it_already_has(
    db: Database, campaign: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = (
        b"phone,name,priority\n"
        b"(212) 555-0121,Ann,1\n"  # 2
        b"+1 415 555 0122,Bob,1\n"  # 3
        b"+44 7911 123457,Cat,1\n"  # 4
        b"12125550123,Dan,1\n"  # 5: a national prefix: parsed (never guessed)
        b"2125550121,Dup,1\n"  # 6: line 2's number
        b"not a number,X,1\n"  # 7
        b"2125550124,Eve,high\n"  # 8: a bad priority, whatever its number
    )
    first, rejected = _import(db, campaign, data)
    assert (first.added, first.existing, first.rejected) == (4, 0, 3)
    assert set(rejected) == {6, 7, 8} and "a duplicate of line 2" in rejected[6]
    parsed: list[str] = []  # the numbers read (parsed, typed, zoned)
    real = NumberReader.read

    def counted(reader: NumberReader, raw: str) -> tuple[str, tuple[str, ...]]:
        parsed.append(raw)
        return real(reader, raw)

    monkeypatch.setattr(NumberReader, "read", counted)
    again, rejected = _import(db, campaign, data)
    assert (again.added, again.existing, again.rejected) == (0, 5, 2)
    assert set(rejected) == {7, 8}  # line 6's number is an earlier import's now
    assert "priority" in rejected[8]
    assert sorted(parsed) == ["12125550123", "2125550124", "not a number"]
    with db.session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Lead)) == 4


def _export(db: Database, campaign: str) -> str:
    out = io.StringIO()
    write_csv(out, leads.result_columns(db, campaign), leads.results(db, campaign))
    return out.getvalue()


def _by_phone(exported: str) -> dict[str, dict[str, str]]:
    return {r["phone"]: r for r in csv.DictReader(io.StringIO(exported))}


def test_an_export_imported_into_a_new_campaign_keeps_what_each_lead_was(
    db: Database, campaign: str
) -> None:
    """The usual recycle: export, new campaign, import. A lead's timezone override came
    back as its number's zone (London hours became New York's); a callback was lost; a
    lead closed by do-not-call was due again. Every column that is the lead's (not the last
    campaign's record of it) reads back as it was; ``Name`` after ``name`` is one field."""
    _import(db, campaign, b"phone,timezone,priority,name,note\r\n"
            b"+1 212 555 0210,Europe/London,7,Ann,=1+1\r\n"
            b"2125550211,,-2,Bob,\r\n"
            b"2125550212,,0,Cat,x\r\n"
            b"2125550213,,0,Dee,y\r\n")  # fmt: skip
    _import(db, campaign, b"phone,Name\r\n2125550214,Eve\r\n")
    ids = {phone: lead.id for phone, lead in _leads(db).items()}
    callback = datetime(2030, 1, 7, 15, 0, tzinfo=UTC)
    campaigns.dispose(db, WHO, campaign, ids["+12125550211"], "call_back",
                      callback_at=callback, callback_agent="1001")  # fmt: skip
    campaigns.dispose(db, WHO, campaign, ids["+12125550212"], "do_not_call")
    with db.session_scope() as session:  # a do-not-call hit as the dialer closes one
        hit = session.get(Lead, ids["+12125550213"])
        assert hit is not None
        hit.state, hit.last_outcome = LeadState.DONE, "dnc"
    first = _export(db, campaign)
    assert leads.result_columns(db, campaign)[len(RESULT_COLUMNS) :] == ("name", "note")
    campaigns.create(db, WHO, CampaignSpec(name="s2", queue="outbound",
                                           caller_id="+12125550199"))  # fmt: skip
    report, rejected = _import(db, "s2", first.encode())
    assert (report.added, rejected) == (5, {})
    again = _by_phone(_export(db, "s2"))
    kept = ("phone", "priority", "zones", "callback_at", "callback_agent", "name", "note")
    for phone, was in _by_phone(first).items():
        assert {c: again[phone][c] for c in kept} == {c: was[c] for c in kept}, phone
    assert again["'+12125550210"]["zones"] == "Europe/London"
    assert again["'+12125550211"]["callback_at"] == callback.isoformat()
    assert again["'+12125550214"]["name"] == "Eve"
    closed = {p: (r["state"], r["disposition"], r["last_outcome"]) for p, r in again.items()}
    assert closed["'+12125550212"] == ("done", "do_not_call", "")
    assert closed["'+12125550213"] == ("done", "", "dnc")
    assert closed["'+12125550210"][0] == closed["'+12125550211"][0] == "pending"
    with db.session_scope() as session:
        due = session.scalar(select(Lead.next_attempt_at).where(
            Lead.phone == "+12125550211", Lead.campaign_id != hit.campaign_id))  # fmt: skip
    assert due == callback


def test_a_callback_in_an_export_that_is_not_a_time_is_rejected(
    db: Database, campaign: str
) -> None:
    header = ",".join(RESULT_COLUMNS).encode()
    row = b"1,2125550220,pending,0,,,,,tomorrow,,0,America/New_York,2"
    report, rejected = _import(db, campaign, header + b"\r\n" + row + b"\r\n")
    assert report.added == 0
    assert rejected == {2: "callback_at 'tomorrow': expected a time with its offset, as exported"}


def test_dnc_numbers_of_a_campaign_are_read_in_its_region_and_files_split_as_imports_are(
    db: Database, campaign: str
) -> None:
    """``dnc add "030 1234567" --campaign de`` read the number as US ("not a valid number
    for its country"); ``dnc import`` split a semicolon file at commas and found no column
    'Telefon' in 'telefon;name;stadt;notiz'."""
    campaigns.create(db, WHO, CampaignSpec(name="de", queue="outbound", caller_id="+12125550199",
                                           region="DE"))  # fmt: skip
    assert dnc.add(db, WHO, ["030 1234567"], campaign="de") == ["+49301234567"]
    assert dnc.check(db, "030 1234567", campaign="de").lists == ("de",)
    assert dnc.add(db, WHO, ["030 1234568"], region="DE") == ["+49301234568"]
    with pytest.raises(InvalidArgument, match="not a valid number"):
        dnc.add(db, WHO, ["030 1234569"])  # the global list: US unless told
    data = "telefon;name;stadt;notiz\r\n030 1234570;Müller;Berlin;x, y\r\n".encode("cp1252")
    report = dnc.import_file(db, WHO, io.BytesIO(data), campaign="de", column="Telefon",
                             encoding="cp1252")  # fmt: skip
    assert (report.added, report.rejected) == (1, 0)
    assert dnc.check(db, "+49301234570", campaign="de").blocked
    dnc.remove(db, WHO, "030 1234567", campaign="de")
    assert not dnc.check(db, "+49301234567", campaign="de").blocked

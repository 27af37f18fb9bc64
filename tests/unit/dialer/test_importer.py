"""Lead files read without a database: records and their lines, what is rejected and why,
and cells neutralised for spreadsheets on the way out."""

from __future__ import annotations

import csv
import io

import pytest

from callcenter.dialer.compliance import CallingWindow
from callcenter.dialer.export import safe_cell, write_csv
from callcenter.dialer.importer import (
    MAX_LINE,
    BadLeadFile,
    Cells,
    ColumnMap,
    CsvRows,
    LeadRow,
    Rejected,
    RowChecker,
    read_leads,
    read_numbers,
    sniffed,
)


def _rows(data: bytes, **options: str) -> list[Cells | Rejected]:
    return list(CsvRows(io.BytesIO(data), **options))


def test_records_start_on_their_own_line() -> None:
    got = _rows(b'a,b\r\n1,"two\nlines"\r\n\r\n3,x\n')
    assert [(r.line, r.cells) for r in got if isinstance(r, Cells)] == [
        (1, ["a", "b"]),
        (2, ["1", "two\nlines"]),
        (5, ["3", "x"]),
    ]


def test_a_line_over_1_mib_is_rejected_and_the_next_one_read() -> None:
    data = b"phone\n" + b"9" * (MAX_LINE + 10) + b"\n2125550101\n"
    got = _rows(data)
    assert Rejected(2, "line longer than 1 MiB") in got
    assert Cells(3, ["2125550101"]) in got


def test_not_csv_nul_and_bad_bytes_are_rejected_by_line() -> None:
    got = _rows(b'phone,n\n"x"y,1\n1,\x00\n1,\xff\n')
    reasons = {r.line: r.reason for r in got if isinstance(r, Rejected)}
    assert "not CSV" in reasons[2] and "NUL" in reasons[3] and "0xFF" in reasons[4]


def test_a_quote_never_closed_costs_its_own_line_only() -> None:
    # a stray quote on line 4 once read the next 128 KiB of the file as one cell (about
    # 6,000 rows of this file gone, one line rejected); now line 4 is rejected, the lines
    # it swallowed are read again, and every other row comes through
    lines = [b"phone,name"] + [b"+1212555%04d,n%d" % (i, i) for i in range(2, 2001)]
    lines[3] = b'+12125550003,"Bob'
    got = _rows(b"\n".join(lines) + b"\n")
    rejected = [r for r in got if isinstance(r, Rejected)]
    assert [r.line for r in rejected] == [4]
    assert "quote opened on this line is still open" in rejected[0].reason
    assert "lines 5-" in rejected[0].reason
    assert [r.line for r in got if isinstance(r, Cells)] == [1, 2, 3, *range(5, 2001)]
    assert Cells(5, ["+12125550005", "n5"]) in got


def test_a_quote_open_at_the_end_of_the_file_gives_back_the_lines_after_it() -> None:
    got = _rows(b'phone,name\n1,"open\n2,two\n3,three\n')
    assert [(r.line, r.cells) for r in got if isinstance(r, Cells)] == [
        (1, ["phone", "name"]),
        (3, ["2", "two"]),
        (4, ["3", "three"]),
    ]
    (rejected,) = [r for r in got if isinstance(r, Rejected)]
    assert rejected.line == 2
    assert "still open at line 4 (unexpected end of data); lines 3-4" in rejected.reason


def test_a_stray_quote_closed_by_a_later_line_rejects_its_line_only() -> None:
    got = _rows(b'phone,name\n1,"open\n2,two\n3,"x"\n4,four\n')
    assert [(r.line, r.cells) for r in got if isinstance(r, Cells)] == [
        (1, ["phone", "name"]),
        (3, ["2", "two"]),
        (4, ["3", "x"]),
        (5, ["4", "four"]),
    ]
    assert [r.line for r in got if isinstance(r, Rejected)] == [2]


def test_a_quoted_cell_over_lines_up_to_the_longest_valid_is_one_cell() -> None:
    cell = '"' * 500 + "\n" + '"' * 499  # 1,000 characters, every quote doubled in the file
    quoted = '"' + cell.replace('"', '""') + '"'
    data = f"a,b\n{quoted},{quoted}\r\n2,x\n".encode()
    assert [r for r in _rows(data) if isinstance(r, Cells)] == [
        Cells(1, ["a", "b"]),
        Cells(2, [cell, cell]),
        Cells(5, ["2", "x"]),
    ]


def test_bom_encoding_and_delimiter() -> None:
    assert _rows("\ufeffphone\n".encode())[0] == Cells(1, ["phone"])
    assert _rows("a;b\n1;é\n".encode("cp1252"), encoding="cp1252", delimiter=";")[1] == Cells(
        2, ["1", "é"]
    )
    with pytest.raises(BadLeadFile, match="encoding"):
        CsvRows(io.BytesIO(b""), encoding="klingon")
    with pytest.raises(BadLeadFile, match="delimiter"):
        CsvRows(io.BytesIO(b""), delimiter="ab")


def test_read_leads_maps_columns_and_keeps_the_rest() -> None:
    data = b"Tel,Prio,TZ,name\n2125550101,3,Europe/Paris,Ann\n"
    header, items = read_leads(
        CsvRows(io.BytesIO(data)),
        region="US",
        window=CallingWindow(),
        mapping=ColumnMap.parse(["phone=tel", "priority=Prio", "timezone=TZ"]),
    )
    assert header.custom == ("name",)
    assert list(items) == [LeadRow(2, "+12125550101", ("Europe/Paris",), 3, {"name": "Ann"})]


@pytest.mark.parametrize(
    ("pairs", "message"),
    [(["phone"], "FIELD=COLUMN"), (["email=E"], "not a lead field"), (["phone="], "FIELD=COLUMN")],
)
def test_a_bad_mapping_is_refused(pairs: list[str], message: str) -> None:
    with pytest.raises(BadLeadFile, match=message):
        ColumnMap.parse(pairs)


def test_a_mapped_column_must_exist() -> None:
    with pytest.raises(BadLeadFile, match="no column 'Prio'"):
        RowChecker(
            ["phone"],
            region="US",
            window=CallingWindow(),
            mapping=ColumnMap.parse(["priority=Prio"]),
        )


def test_rows_given_as_cells_are_checked_as_text_too() -> None:
    checker = RowChecker(["phone", "n"], region="US", window=CallingWindow())
    assert "NUL" in checker.check(2, ["2125550101", "a\x00"]).reason  # type: ignore[union-attr]


def test_read_numbers_plain_or_by_column() -> None:
    plain = list(read_numbers(CsvRows(io.BytesIO(b"2125550101\nbad\n")), region="US"))
    assert plain[0].phone == "+12125550101" and plain[1] == Rejected(2, plain[1].reason)  # type: ignore[union-attr]
    by_column = list(
        read_numbers(CsvRows(io.BytesIO(b"id,tel\n1,+442071234567\n")), region="US", column="TEL")
    )
    assert by_column[0].phone == "+442071234567"  # type: ignore[union-attr]
    with pytest.raises(BadLeadFile, match="no column"):
        list(read_numbers(CsvRows(io.BytesIO(b"id\n1\n")), region="US", column="tel"))


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("=CMD()", "'=CMD()"),
        ("+1212", "'+1212"),
        ("-3", "'-3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Ann", "Ann"),
        (None, ""),
        (5, "5"),
        ("a=b", "a=b"),
    ],
)
def test_safe_cell(value: object, shown: str) -> None:
    assert safe_cell(value) == shown


def test_write_csv_neutralises_the_header_too() -> None:
    out = io.StringIO()
    assert write_csv(out, ["=h"], [["=x", "y"]]) == 1
    assert out.getvalue() == "'=h\r\n'=x,y\r\n"


@pytest.mark.parametrize(
    ("first", "delimiter"),
    [
        ("phone,name", ","),
        ("telefon;name;stadt;notiz", ";"),
        ('"a,b";c;d', ";"),
        ("phone\tname", "\t"),
        ("+12125550100", ","),
        ("a;b;c,d", ";"),
        ("a;b,c", ","),  # a tie: the comma
    ],
)
def test_the_delimiter_is_the_first_lines(first: str, delimiter: str) -> None:
    assert sniffed(first) == delimiter
    rows = list(CsvRows(io.BytesIO(f"{first}\n1{delimiter}2\n".encode()), delimiter=None))
    assert rows[0] == Cells(1, next(csv.reader([first], delimiter=delimiter)))

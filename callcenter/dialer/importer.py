"""Lead files read as a stream: CSV rows in, leads or rejected rows (line and reason) out.

Hostile input is expected: a byte that is not text in the file's encoding, a NUL, a cell
too long, a row with the wrong number of cells, a number that is not one, a time zone that
does not exist. Each such row is rejected with its line number and why; the file goes on.
A cell such as ``=CMD()`` is data: it is stored as it is, and neutralised when exported
(``export.safe_cell``). Memory stays bounded: one row at a time, lines cut at 1 MiB.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from callcenter.dialer import leads
from callcenter.dialer.compliance import CallingWindow
from callcenter.dialer.export import RESULT_COLUMNS, column_field, is_results_header, plain_cell
from callcenter.dialer.screening import DNC_HIT
from callcenter.dialer.vocabulary import LeadState
from callcenter.errors import DomainError
from callcenter.vocabulary import EXTENSION

LEAD_FIELDS = ("phone", "priority", "timezone")  # the columns the dialer reads itself
MAX_LINE = 1 << 20
MAX_CELL = 1000
MAX_COLUMNS = 100
PRIORITY_RANGE = (-1000, 1000)
DNC_OUTCOME = DNC_HIT.outcome  # a lead closed by a do-not-call hit: its last outcome


class BadLeadFile(DomainError):
    """A file that cannot be read at all (no header, a header that is not one)."""

    code = "lead_file_invalid"


@dataclass(frozen=True, slots=True)
class ColumnMap:
    """Which column holds each lead field (``--map phone=Telephone``); the others become
    custom fields, passed to the agent's screen pop."""

    columns: Mapping[str, str] = field(default_factory=dict)
    hint: str = "--map {field}=COLUMN"  # how the asker maps a field (the API: its "map")

    @classmethod
    def parse(cls, pairs: list[str] | tuple[str, ...]) -> ColumnMap:
        found: dict[str, str] = {}
        for pair in pairs:
            name, sep, column = pair.partition("=")
            if not sep or not column.strip():
                raise BadLeadFile(f"--map {pair!r}: expected FIELD=COLUMN, e.g. phone=Telephone")
            if name.strip() not in LEAD_FIELDS:
                raise BadLeadFile(
                    f"--map {pair!r}: {name!r} is not a lead field ({', '.join(LEAD_FIELDS)})"
                )
            found[name.strip()] = column.strip()
        return cls(found)

    def column(self, lead_field: str) -> str:
        return self.columns.get(lead_field, lead_field)


@dataclass(frozen=True, slots=True)
class Restored:
    """What a results export read back says of a lead that its next campaign keeps (the
    rest is the last campaign's record): a callback still to come, for its agent; or a
    close by a do-not-call hit or disposition, so that a recycled list never dials it."""

    callback_at: datetime | None = None
    callback_agent: str | None = None
    closed: bool = False
    disposition: str | None = None
    last_outcome: str | None = None


FRESH = Restored()


@dataclass(frozen=True, slots=True)
class LeadRow:
    line: int
    phone: str
    zones: tuple[str, ...]
    priority: int
    fields: dict[str, str]
    stored: bool = False  # its number is a lead of the campaign already (found unparsed)
    restored: Restored = FRESH
    cells: tuple[str, ...] = field(default=(), compare=False)  # the row as the file has it


NOT_TEXT = "not_text"  # a ``Rejected`` whose bytes are not text in the file's encoding


@dataclass(frozen=True, slots=True)
class Rejected:
    line: int
    reason: str
    # the row as read (its line, one cell, when not CSV): what --rejects writes back
    cells: tuple[str, ...] = field(default=(), compare=False)
    kind: str = field(default="", compare=False)  # ``NOT_TEXT``, else ""


@dataclass(frozen=True, slots=True)
class Header:
    names: tuple[str, ...]
    phone: int
    priority: int | None
    timezone: int | None
    fields: tuple[tuple[int, str], ...] = ()  # (column, custom field): the other columns
    exported: bool = False  # a results export read back: its cells' added ``'`` dropped
    results: Mapping[str, int] = field(default_factory=dict)  # an export's results columns

    @property
    def custom(self) -> tuple[str, ...]:
        return tuple(name for _, name in self.fields)


class Counted(io.RawIOBase):
    """A binary stream that counts (the progress bar's position) and hashes what is read."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.read_bytes = 0
        self.sha256 = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.inner.read(len(buffer))
        buffer[: len(data)] = data
        self.read_bytes += len(data)
        self.sha256.update(data)
        return len(data)


@dataclass(frozen=True, slots=True)
class Cells:
    """One CSV record, the line it starts on, its cells checked as text."""

    line: int
    cells: list[str]


class _Unclosed(Exception):
    """A record that spans lines grew past what any valid record can be: its quote is open."""


class CsvRows:
    """A CSV stream's records with the line each starts on: a record that is not CSV, not
    text in ``encoding``, holds a NUL or a line over 1 MiB comes as ``Rejected``.

    A quoted cell may span lines, but a quote that is never closed (a stray ``"``) would
    read the rest of the file as one cell. So a record spanning lines that is not CSV, or
    that grows longer than any record with the header's cells could be (each at most
    ``MAX_CELL`` characters, every one a doubled quote), or that the file ends inside, is
    rejected on its first line, and the lines it swallowed are read again, each on its own.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        encoding: str = "utf-8",
        delimiter: str | None = ",",
        source: str = "the file",
    ) -> None:
        """``delimiter`` None: the one of ``,;<tab>|`` the first line holds most of (outside
        quotes; ``,`` when none), as spreadsheets save CSV by locale. A UTF-8 file may
        start with a BOM; one that starts with a UTF-16 or UTF-32 BOM (Excel's "Unicode
        text") is read as such."""
        normalized = encoding.lower().replace("_", "-")
        codec = "utf-8-sig" if normalized in ("utf-8", "utf8") else encoding
        try:
            "".encode(codec)
        except LookupError:
            raise BadLeadFile(
                f"{source}: --encoding {encoding!r}: not an encoding Python knows"
            ) from None
        self.source = source
        if delimiter is not None and (len(delimiter) != 1 or delimiter in '"\r\n'):
            raise BadLeadFile(f"--delimiter {delimiter!r}: expected one character, e.g. ';'")
        self.counted = Counted(stream)
        buffered = io.BufferedReader(self.counted)
        if codec == "utf-8-sig" and (wide := _wide_bom(buffered.peek(4)[:4])) is not None:
            codec = encoding = wide
        self.encoding = encoding
        self.text = io.TextIOWrapper(buffered, encoding=codec, errors="surrogateescape", newline="")
        self.delimiter = delimiter or ","
        self._long_lines: list[int] = []
        self._line = 0
        lines = self._lines()
        if delimiter is None:
            first = next(lines, None)
            if first is not None:
                self.delimiter = sniffed(first[1])
                lines = itertools.chain([first], lines)
        self._feed = _Feed(lines, _record_limit(MAX_COLUMNS))
        self._columns_known = False  # the first record names the columns: its limit is theirs

    @property
    def read_bytes(self) -> int:
        return self.counted.read_bytes

    @property
    def sha256(self) -> str:
        return self.counted.sha256.hexdigest()

    def _lines(self) -> Iterator[tuple[int, str]]:
        while True:
            line = self._readline()
            if not line:
                return
            self._line += 1
            if len(line) == MAX_LINE and not line.endswith(("\n", "\r")):
                self._long_lines.append(self._line)
                while (rest := self._readline()) and not rest.endswith(("\n", "\r")):
                    pass
                continue
            yield self._line, line

    def _readline(self) -> str:
        """A line; a file its encoding cannot read at all (UTF-16 without its BOM, ASCII
        read as UTF-32: what no byte-by-byte escape can keep) refused where it stops, the
        line the one being read (the decoder reads 8 KB at a time: it may be a later one)."""
        try:
            return self.text.readline(MAX_LINE)
        except UnicodeError as exc:
            why = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc)
            raise BadLeadFile(
                f"{self.source}: not {self.encoding} text (read as far as line "
                f"{self._line + 1}): {why}; give the file's encoding with --encoding"
            ) from None

    def __iter__(self) -> Iterator[Cells | Rejected]:
        feed = self._feed
        reader = csv.reader(feed, delimiter=self.delimiter, strict=True)
        while True:
            feed.record, feed.size = [], 0
            try:
                cells = next(reader)
            except StopIteration:
                break
            except (csv.Error, _Unclosed) as exc:
                yield from self._long()
                yield from self._unclosed(exc)
                continue
            if self._long_lines:
                yield from self._long()
            if (checked := self._checked(feed.record[0][0], cells)) is not None:
                yield checked
        yield from self._long()

    def _unclosed(self, exc: Exception) -> Iterator[Cells | Rejected]:
        record = self._feed.record
        first, text = record[0][0], (record[0][1].rstrip("\r\n"),)  # the line, as one cell
        if len(record) == 1:
            yield Rejected(first, f"not CSV: {exc}", text)
            return
        why = "longer than any record can be" if isinstance(exc, _Unclosed) else str(exc)
        yield Rejected(
            first,
            f"not CSV: a quote opened on this line is still open at line {record[-1][0]} "
            f"({why}); lines {record[1][0]}-{record[-1][0]} are read again, each on its own",
            text,
        )
        for number, line in record[1:]:
            try:
                cells = next(csv.reader([line], delimiter=self.delimiter, strict=True), [])
            except csv.Error as error:
                yield Rejected(number, f"not CSV: {error}", (line.rstrip("\r\n"),))
                continue
            if (checked := self._checked(number, cells)) is not None:
                yield checked

    def _checked(self, start: int, cells: list[str]) -> Cells | Rejected | None:
        if not cells or all(not c.strip() for c in cells):
            return None  # a blank line
        if not self._columns_known:
            self._feed.limit, self._columns_known = _record_limit(len(cells)), True
        problem = next(
            ((i, p) for i, c in enumerate(cells) if (p := _cell_problem(c, self.encoding))),
            None,
        )
        if problem is not None:
            kind = NOT_TEXT if _undecoded(cells[problem[0]]) else ""
            return Rejected(start, f"cell {problem[0] + 1}: {problem[1]}", tuple(cells), kind)
        return Cells(start, cells)

    def _long(self) -> Iterator[Rejected]:
        for n in self._long_lines:
            yield Rejected(n, f"line longer than {MAX_LINE >> 20} MiB")
        self._long_lines.clear()


def _wide_bom(head: bytes) -> str | None:
    """The codec a file starting with ``head`` is in by its BOM, when UTF-16 or UTF-32."""
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):  # before UTF-16's: longer
        return "utf-32"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


DELIMITERS = ",;\t|"
_QUOTED = re.compile(r'"(?:[^"]|"")*"?')


def sniffed(line: str) -> str:
    """The delimiter a CSV file's first line uses: the one of ``DELIMITERS`` it holds most
    of outside quotes, ``,`` when it holds none."""
    bare = _QUOTED.sub("", line)
    counts = {d: bare.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


class _Feed:
    """What the CSV reader reads: the lines, each kept in the record it belongs to. Not a
    generator, so that it goes on after raising ``_Unclosed`` (the reader then drops the
    record it was reading and starts the next one from the next line)."""

    __slots__ = ("limit", "lines", "record", "size")

    def __init__(self, lines: Iterator[tuple[int, str]], limit: int) -> None:
        self.lines = lines
        self.limit = limit  # characters, past which a record spanning lines cannot be valid
        self.record: list[tuple[int, str]] = []  # the lines of the record being read
        self.size = 0  # their characters

    def __iter__(self) -> _Feed:
        return self

    def __next__(self) -> str:
        number, line = next(self.lines)
        self.record.append((number, line))
        self.size += len(line)
        if self.size > self.limit and len(self.record) > 1:
            raise _Unclosed
        return line


def _record_limit(columns: int) -> int:
    """The most characters a valid record of ``columns`` cells may take in the file."""
    return max(columns, 1) * (2 * MAX_CELL + 3) + 2


class RowChecker:
    """From a header and a row's cells to a ``LeadRow`` (or why not)."""

    def __init__(
        self,
        header_cells: list[str],
        *,
        region: str,
        window: CallingWindow,
        mapping: ColumnMap | None = None,
        line: int = 1,
        dnc_codes: Container[str] = (),
        known_fields: Iterable[str] = (),
    ) -> None:
        """``dnc_codes``: the dispositions that put a number on a do-not-call list (a
        results export's lead closed by one is imported closed); ``known_fields``: the
        campaign's custom fields so far, whose spelling a column of the same name in
        another case takes (``Name`` is the field ``name``: one column when exported)."""
        self.region = region
        self.window = window
        self.header = _respelled(_header(header_cells, mapping or ColumnMap(), line), known_fields)
        self.numbers = leads.NumberReader(region)
        self.dnc_codes = dnc_codes

    def candidate(self, cells: list[str]) -> str | None:
        """The row's number in E.164 when it can be told unparsed (``NumberReader.candidate``)."""
        if len(cells) != len(self.header.names):
            return None
        return self.numbers.candidate(self._plain(cells)[self.header.phone])

    def _plain(self, cells: list[str]) -> list[str]:
        return [plain_cell(c) for c in cells] if self.header.exported else cells

    def check(
        self,
        line: int,
        cells: list[str],
        *,
        text_checked: bool = False,
        stored: Container[str] = (),
    ) -> LeadRow | Rejected:
        """``text_checked``: the cells came through ``CsvRows``, which checked them as text.
        ``stored``: numbers already leads of the campaign; a row whose number is one of them
        (as ``candidate`` reads it) is checked but for its number, which is not parsed.
        Either way it keeps the row's cells as the file has them (a rejected row is
        written back with them)."""
        checked = self._check(line, cells, text_checked, stored)
        return replace(checked, cells=tuple(cells))

    def _check(
        self, line: int, cells: list[str], text_checked: bool, stored: Container[str]
    ) -> LeadRow | Rejected:
        header = self.header
        if len(cells) != len(header.names):
            return Rejected(line, f"{len(cells)} cells, the header has {len(header.names)}")
        for i, cell in enumerate(() if text_checked else cells):
            problem = _cell_problem(cell, "utf-8")
            if problem:
                return Rejected(line, f"column {header.names[i]!r}: {problem}")
        cells = self._plain(cells)
        raw_phone = cells[header.phone]
        known = self.numbers.candidate(raw_phone) if stored else None
        zones: tuple[str, ...] = ()
        if known is not None and known in stored:
            phone = known
        else:
            known = None
            try:
                phone, zones = self.numbers.read(raw_phone)
            except leads.BadNumber as exc:
                return Rejected(line, f"{header.names[header.phone]} {raw_phone[:30]!r}: {exc}")
        priority = 0
        if header.priority is not None and cells[header.priority].strip():
            text = cells[header.priority].strip()
            low, high = PRIORITY_RANGE
            if not text.lstrip("-").isdigit() or not low <= int(text) <= high:
                return Rejected(
                    line, f"priority {text[:20]!r}: expected a whole number {low} to {high}"
                )
            priority = int(text)
        # a timezone column overrides the number's zones; an export's zones are its own
        where = header.timezone if header.timezone is not None else header.results.get("zones")
        if where is not None and cells[where].strip():
            given = tuple(cells[where].split())
            for zone in given:
                try:
                    ZoneInfo(zone)
                except (ZoneInfoNotFoundError, ValueError):
                    name = header.names[where]
                    return Rejected(line, f"{name} {zone[:40]!r}: not an IANA time zone")
            zones = given
        restored = _restored(header.results, cells, self.dnc_codes) if header.exported else FRESH
        if isinstance(restored, str):
            return Rejected(line, restored)
        custom = {name: cells[i] for i, name in header.fields}
        if known is not None:
            return LeadRow(line, phone, zones, priority, custom, stored=True)
        if not zones:
            return Rejected(
                line, f"{phone}: its time zone is not known; give it in a timezone column"
            )
        if not leads.ever_open(self.window, zones):
            return Rejected(
                line,
                f"{phone}: the calling window is never open in all of its possible zones "
                f"({len(zones)}: {', '.join(zones[:4])}...); give its zone in a timezone column",
            )
        return LeadRow(line, phone, zones, priority, custom, restored=restored)


def _restored(
    results: Mapping[str, int], cells: list[str], dnc_codes: Container[str]
) -> Restored | str:
    """What an export's row says its lead keeps (``Restored``), or why it cannot be read."""

    def cell(column: str) -> str | None:
        return cells[results[column]].strip() or None if column in results else None

    outcome, disposition = cell("last_outcome"), cell("disposition")
    if cell("state") == LeadState.DONE and (
        outcome == DNC_OUTCOME or (disposition is not None and disposition in dnc_codes)
    ):
        return Restored(closed=True, disposition=disposition, last_outcome=outcome)
    at, agent = cell("callback_at"), cell("callback_agent")
    if at is None or cell("state") == LeadState.DONE:
        return FRESH
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        when = None
    if when is None or when.tzinfo is None:
        return f"callback_at {at[:40]!r}: expected a time with its offset, as exported"
    if agent is not None and not EXTENSION.fullmatch(agent):
        return f"callback_agent {agent[:20]!r}: not an agent's extension"
    return Restored(callback_at=when, callback_agent=agent)


def _header(cells: list[str], mapping: ColumnMap, line: int) -> Header:
    names = [c.strip() or f"column_{i + 1}" for i, c in enumerate(cells)]
    if len(names) > MAX_COLUMNS:
        raise BadLeadFile(f"line {line}: {len(names)} columns, at most {MAX_COLUMNS}")
    for name in names:
        if _not_text(name) or len(name) > 64:
            raise BadLeadFile(
                f"line {line}: column name {name[:40]!r} is not 1-64 characters of text"
            )
    lowered: dict[str, int] = {}
    for i, name in enumerate(names):
        if name.lower() in lowered:
            first = lowered[name.lower()]
            raise BadLeadFile(
                f"line {line}: column {name!r} twice (columns {first + 1} and {i + 1})"
            )
        lowered[name.lower()] = i

    def index(lead_field: str, required: bool) -> int | None:
        wanted = mapping.column(lead_field)
        found = lowered.get(wanted.lower())
        if found is None and (required or lead_field in mapping.columns):
            raise BadLeadFile(
                f"line {line}: no column {wanted!r} for the {lead_field} (columns: "
                f"{', '.join(names[:20])}); map one with {mapping.hint.format(field=lead_field)}"
            )
        return found

    phone = index("phone", True)
    assert phone is not None
    priority, timezone = index("priority", False), index("timezone", False)
    own = {phone, priority, timezone}
    fields = _fields(names, own, line)
    exported = is_results_header(names)
    results = {n: lowered[n] for n in RESULT_COLUMNS} if exported else {}
    return Header(tuple(names), phone, priority, timezone, fields, exported, results)


def _respelled(header: Header, known: Iterable[str]) -> Header:
    spelled: dict[str, str] = {}
    for name in known:
        spelled.setdefault(name.lower(), name)
    fields = tuple((i, spelled.get(name.lower(), name)) for i, name in header.fields)
    return replace(header, fields=fields)


def _fields(names: list[str], own: set[int | None], line: int) -> tuple[tuple[int, str], ...]:
    """The custom fields of a lead file's columns: every column but the lead's own, a
    ``field:NAME`` column the field NAME; in a results export (``is_results_header``), its
    results columns are the last campaign's record of the lead, not fields."""
    exported = {c.lower() for c in RESULT_COLUMNS} if is_results_header(names) else set()
    fields: dict[str, int] = {}
    for i, column in enumerate(names):
        if i in own or column.lower() in exported:
            continue
        name = column_field(column)
        if not name.strip():
            raise BadLeadFile(f"line {line}: column {column!r} names no field")
        if (first := fields.get(name.lower())) is not None:
            raise BadLeadFile(
                f"line {line}: column {column!r} is the field {name!r}, as column "
                f"{first + 1} ({names[first]!r}) is"
            )
        fields[name.lower()] = i
    return tuple((i, column_field(names[i])) for i in fields.values())


def header_refused(source: str, header: Rejected) -> BadLeadFile:
    """A file whose first line (its header) cannot be read: NULs in it are UTF-16 text (its
    BOM lost, or read in another --encoding)."""
    hint = ""
    if any("\x00" in cell for cell in header.cells):
        hint = "; NULs in text are UTF-16's: give --encoding utf-16"
    return BadLeadFile(f"{source}: line {header.line}: the header: {header.reason}{hint}")


def checked_batches(
    checker: RowChecker,
    records: Iterable[Cells | Rejected],
    stored: Callable[[set[str]], set[str]],
    size: int,
    *,
    text_checked: bool = True,
) -> Iterator[list[LeadRow | Rejected]]:
    """The records checked ``size`` at a time. Before a batch is parsed, ``stored`` is
    asked which of its numbers (as written plainly, ``candidate``) are leads of the
    campaign already: those rows skip the number's parse (a re-import parses nothing it
    already has)."""
    batch: list[Cells | Rejected] = []

    def checked() -> list[LeadRow | Rejected]:
        wanted = {c for r in batch if isinstance(r, Cells) and (c := checker.candidate(r.cells))}
        known = stored(wanted) if wanted else set()
        return [
            r if isinstance(r, Rejected) else
            checker.check(r.line, r.cells, text_checked=text_checked, stored=known)
            for r in batch
        ]  # fmt: skip

    for record in records:
        batch.append(record)
        if len(batch) >= size:
            yield checked()
            batch.clear()
    if batch:
        yield checked()


def open_leads(
    rows: CsvRows,
    *,
    region: str,
    window: CallingWindow,
    mapping: ColumnMap | None = None,
    dnc_codes: Container[str] = (),
    known_fields: Iterable[str] = (),
) -> tuple[RowChecker, Iterator[Cells | Rejected]]:
    """A lead file's checker (its first record names the columns; a bad one refuses the
    file before anything is stored) and its data records, not yet checked."""
    records = iter(rows)
    first = next(records, None)
    if first is None:
        raise BadLeadFile("the file is empty: the first line names the columns, e.g. phone,name")
    if isinstance(first, Rejected):
        raise header_refused(rows.source, first)
    checker = RowChecker(
        first.cells,
        region=region,
        window=window,
        mapping=mapping,
        line=first.line,
        dnc_codes=dnc_codes,
        known_fields=known_fields,
    )
    return checker, records


def read_leads(
    rows: CsvRows, *, region: str, window: CallingWindow, mapping: ColumnMap | None = None
) -> tuple[Header, Iterator[LeadRow | Rejected]]:
    """A lead file's header and each of its data rows, checked."""
    checker, records = open_leads(rows, region=region, window=window, mapping=mapping)

    def items() -> Iterator[LeadRow | Rejected]:
        for item in records:
            if isinstance(item, Rejected):
                yield item
            else:
                yield checker.check(item.line, item.cells, text_checked=True)

    return checker.header, items()


@dataclass(frozen=True, slots=True)
class Number:
    line: int
    phone: str


def read_numbers(
    rows: CsvRows,
    *,
    region: str,
    column: str | None = None,
    on_header: Callable[[Sequence[str]], None] = lambda names: None,
) -> Iterator[Number | Rejected]:
    """Each number of a do-not-call file: the ``column`` of a file with a header (given to
    ``on_header``), or the first cell of each line of a plain list (``column`` None)."""
    index: int | None = None if column is not None else 0
    numbers = leads.NumberReader(region)
    for item in rows:
        if isinstance(item, Rejected):
            if index is None:
                raise header_refused(rows.source, item)
            yield item
            continue
        if index is None:
            names = [c.strip().lower() for c in item.cells]
            assert column is not None
            if column.lower() not in names:
                raise BadLeadFile(
                    f"line {item.line}: no column {column!r} (columns: {', '.join(names[:20])})"
                )
            index = names.index(column.lower())
            on_header(item.cells)
            continue
        if index >= len(item.cells):
            yield Rejected(item.line, f"no cell {index + 1}", tuple(item.cells))
            continue
        try:
            yield Number(item.line, numbers.e164(item.cells[index]))
        except leads.BadNumber as exc:
            yield Rejected(item.line, f"{item.cells[index][:30]!r}: {exc}", tuple(item.cells))


def store_numbers(
    items: Iterable[Number | Rejected],
    store: Callable[[list[str]], int],
    *,
    batch: int,
    on_reject: Callable[[Rejected], None],
    stored: Callable[[], None] = lambda: None,
) -> dict[str, int]:
    """The numbers of ``items`` handed to ``store`` in batches (it says how many it added);
    the counts: rows, added, existing (already listed), rejected."""
    counts = {"rows": 0, "added": 0, "existing": 0, "rejected": 0}
    numbers: list[str] = []

    def flush() -> None:
        if numbers:
            added = store(numbers)
            counts["added"] += added
            counts["existing"] += len(numbers) - added
            numbers.clear()
            stored()

    for item in items:
        counts["rows"] += 1
        if isinstance(item, Rejected):
            counts["rejected"] += 1
            on_reject(item)
            continue
        numbers.append(item.phone)
        if len(numbers) >= batch:
            flush()
    flush()
    return counts


_UNDECODED = re.compile("[\udc80-\udcff]")  # bytes surrogateescape kept: not text


def _not_text(value: str) -> bool:
    return "\x00" in value or (not value.isascii() and _UNDECODED.search(value) is not None)


def _undecoded(cell: str) -> re.Match[str] | None:
    return None if cell.isascii() else _UNDECODED.search(cell)


def _cell_problem(cell: str, encoding: str) -> str | None:
    if len(cell) > MAX_CELL:
        return f"{len(cell)} characters, at most {MAX_CELL}"
    if "\x00" in cell:
        return "a NUL character"
    undecoded = _undecoded(cell)
    if undecoded is not None:
        byte = ord(undecoded.group()) - 0xDC00
        return (
            f"byte 0x{byte:02X} is not {encoding} text; give the file's encoding "
            "(e.g. --encoding cp1252)"
        )
    return None

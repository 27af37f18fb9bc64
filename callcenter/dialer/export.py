"""CSV written for spreadsheets: every cell that a spreadsheet would read as a formula is
neutralised (OWASP's CSV injection advice): a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return gets a leading ``'``, which spreadsheets show as text and hide.
An E.164 number therefore reads ``'+12125550100`` in the file and ``+12125550100`` on screen;
a value that begins with ``'`` and then one of those gets one more ``'``, so that a results
file imported again (``plain_cell``) gives back every value as it was, ``-5`` and ``=1+1``
included.

A campaign's results are its leads' own columns (``RESULT_COLUMNS``), then their custom
fields, each under its own name, except one named as a results column (a US lead file's
``state``), or starting with ``field:``, case aside: that one is ``field:NAME``, so no
column hides another; a lead file's column ``field:NAME`` is read back as the field NAME.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
RESULT_COLUMNS = (
    "lead_id",
    "phone",
    "state",
    "attempts",
    "last_outcome",
    "last_attempt_at",
    "disposition",
    "next_attempt_at",
    "callback_at",
    "callback_agent",
    "priority",
    "zones",
    "source_line",
)
FIELD_PREFIX = "field:"
_OWN = frozenset(RESULT_COLUMNS)


def field_column(name: str) -> str:
    """The results column of the custom field ``name``."""
    lowered = name.lower()
    return FIELD_PREFIX + name if lowered in _OWN or lowered.startswith(FIELD_PREFIX) else name


def column_field(column: str) -> str:
    """The custom field a results (or lead file) column holds: ``field_column`` undone."""
    return column[len(FIELD_PREFIX) :] if column.lower().startswith(FIELD_PREFIX) else column


def is_results_header(names: Iterable[str]) -> bool:
    """The header of a results export: every results column in it (its own, not fields)."""
    return {n.lower() for n in names} >= _OWN


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.lstrip("'").startswith(FORMULA_STARTS) else text


def plain_cell(cell: str) -> str:
    """``safe_cell`` undone, for a results export read back: its one added ``'`` dropped (a
    value that itself began ``'=`` was written ``''=``, so it comes back whole)."""
    return (
        cell[1:] if cell.startswith("'") and cell.lstrip("'").startswith(FORMULA_STARTS) else cell
    )


def write_csv(
    out: IO[str],
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> int:
    """``header`` then ``rows``, every cell neutralised; how many rows. ``bom``: the file
    starts with U+FEFF (a spreadsheet then reads it as UTF-8, not its locale's code page)."""
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        count += 1
    return count

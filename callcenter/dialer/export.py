"""CSV written for spreadsheets: every cell that a spreadsheet would read as a formula is
neutralised (OWASP's CSV injection advice): a cell that starts with ``=``, ``+``, ``-``, ``@``,
a tab or a carriage return gets a leading ``'``, which spreadsheets show as text and hide.
An E.164 number therefore reads ``'+12125550100`` in the file and ``+12125550100`` on screen.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_csv(out: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """``header`` then ``rows``, every cell neutralised; how many rows."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    count = 0
    for row in rows:
        writer.writerow([safe_cell(v) for v in row])
        count += 1
    return count

"""Files the CLI reads and writes for lead and do-not-call imports: the input (a path or
stdin), a progress bar on a terminal, rejected rows shown and kept in a CSV file."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

import click

from callcenter.dialer.export import write_csv
from callcenter.dialer.importer import NOT_TEXT, BadLeadFile, Rejected


@contextmanager
def progress_bar(
    total: int | None, label: str, rejects: Rejects | None = None
) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr when it is a terminal (the rejected rows printed above
    it meanwhile); nothing otherwise."""
    if not sys.stderr.isatty():
        yield lambda position: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=total)
        if rejects is not None:
            rejects.echo = lambda text: bar.console.print(text, markup=False, highlight=False)
        try:
            yield lambda position: bar.update(task, completed=position)
        finally:
            if rejects is not None:
                rejects.echo = _stderr


def _stderr(text: str) -> None:
    click.echo(text, err=True)


class Rejects:
    """Rejected rows: the first ones on stderr, every one in --rejects FILE (CSV): its line,
    why, then the row's own cells under the file's header (``columns``), so that the rows
    can be put right and imported again (a cell a spreadsheet would run neutralised, bytes
    that were not text in the file's encoding shown as U+FFFD)."""

    SHOWN = 20

    def __init__(self, out: IO[str] | None) -> None:
        self.out = out
        self.count = 0
        self.not_text = 0  # rejected as bytes the file's encoding does not read
        self.echo: Callable[[str], None] = _stderr  # above the progress bar while it shows
        self._header_written = False

    def columns(self, names: Sequence[str]) -> None:
        """The file's header: the rejects file's, after ``line`` and ``reason``."""
        self._header(names)

    def _header(self, names: Sequence[str] = ()) -> None:
        if self.out is not None and not self._header_written:
            self.out.write(csv_line(["line", "reason", *map(_text, names)]))
        self._header_written = True

    def __call__(self, rejected: Rejected) -> None:
        self.count += 1
        self.not_text += rejected.kind == NOT_TEXT
        if self.count <= self.SHOWN:
            self.echo(f"line {rejected.line}: {rejected.reason}")
        if self.out is not None:
            self._header()
            cells = map(_text, rejected.cells)
            self.out.write(csv_line([rejected.line, rejected.reason, *cells]))

    def close(self) -> None:
        """Says how many more were rejected than shown."""
        self._header()
        if self.count > self.SHOWN:
            more = (
                f"; all in {self.out.name}"
                if self.out is not None
                else " (--rejects FILE keeps all)"
            )
            click.echo(f"... {self.count - self.SHOWN} more rejected{more}", err=True)

    def refuse_all(self, rows: int) -> None:
        """A file of ``rows`` rows every one of which was rejected is refused: nothing was
        stored, and the exit status says so."""
        if rows and self.count >= rows:
            hint = ""
            if self.not_text:
                hint = (
                    f"; {self.not_text} of them hold bytes that are not text in the file's "
                    "encoding: give it with --encoding, e.g. --encoding cp1252"
                )
            raise BadLeadFile(f"every row ({rows}) was rejected, none stored{hint}")


def _text(cell: object) -> str:
    """A cell as text the rejects file (UTF-8) can hold: bytes kept undecoded as U+FFFD."""
    return str(cell).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def csv_line(cells: list[Any]) -> str:
    out = io.StringIO()
    write_csv(out, cells, ())
    return out.getvalue()


def source_name(path: str) -> str:
    """How a file given on the command line is named in its import and its errors."""
    return Path(path).name if path != "-" else "stdin"


@contextmanager
def opened(path: str) -> Iterator[tuple[BinaryIO, int | None]]:
    if path == "-":
        yield sys.stdin.buffer, None
        return
    file = Path(path)
    with file.open("rb") as stream:
        yield stream, file.stat().st_size


rejects_option = click.option(
    "--rejects",
    type=click.File("w", encoding="utf-8"),
    help="Write every rejected row to this CSV file: its line, why, then its own cells "
    "under the file's header (fix them, drop the first two columns, import it again).",
)
delimiter_option = click.option(
    "--delimiter",
    help="The cell separator, e.g. ';' (default: the one the first line uses: , ; tab |).",
)


def excel_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--excel``, ``--delimiter``, ``--bom``: the form of a CSV file written (``csv_form``)."""
    command = click.option(
        "--bom", is_flag=True, help="Start the file with a UTF-8 BOM (spreadsheets read UTF-8)."
    )(command)
    command = click.option("--delimiter", help="The cell separator, e.g. ';' (default: ',').")(
        command
    )
    return click.option(
        "--excel",
        is_flag=True,
        help="For Excel where the list separator is ';' (most of Europe): a UTF-8 BOM and ';'.",
    )(command)


def csv_form(excel: bool, delimiter: str | None, bom: bool) -> dict[str, Any]:
    """``write_csv``'s options from ``excel_options``."""
    delimiter = delimiter or (";" if excel else ",")
    if len(delimiter) != 1 or delimiter in '"\r\n':
        raise click.BadParameter(f"{delimiter!r}: expected one character, e.g. ';'",
                                 param_hint="--delimiter")  # fmt: skip
    return {"delimiter": delimiter, "bom": bom or excel}

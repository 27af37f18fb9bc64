"""Files the CLI reads and writes for lead and do-not-call imports: the input (a path or
stdin), a progress bar on a terminal, rejected rows shown and kept in a CSV file."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO

import click

from callcenter.dialer.export import write_csv
from callcenter.dialer.importer import Rejected


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
    """Rejected rows: the first ones on stderr, every one in --rejects FILE (CSV)."""

    SHOWN = 20

    def __init__(self, out: IO[str] | None) -> None:
        self.out = out
        self.count = 0
        self.echo: Callable[[str], None] = _stderr  # above the progress bar while it shows
        if out is not None:
            out.write(csv_line(["line", "reason"]))

    def __call__(self, rejected: Rejected) -> None:
        self.count += 1
        if self.count <= self.SHOWN:
            self.echo(f"line {rejected.line}: {rejected.reason}")
        if self.out is not None:
            self.out.write(csv_line([rejected.line, rejected.reason]))

    def close(self) -> None:
        if self.count > self.SHOWN:
            more = (
                f"; all in {self.out.name}"
                if self.out is not None
                else " (--rejects FILE keeps all)"
            )
            click.echo(f"... {self.count - self.SHOWN} more rejected{more}", err=True)


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
    help="Write every rejected line (line, reason) to this CSV file.",
)
delimiter_option = click.option(
    "--delimiter",
    help="The cell separator, e.g. ';' (default: the one the first line uses: , ; tab |).",
)

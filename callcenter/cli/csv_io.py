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
def progress_bar(total: int | None, label: str) -> Iterator[Callable[[int], None]]:
    """A rich progress bar on stderr when it is a terminal; nothing otherwise."""
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
        yield lambda position: bar.update(task, completed=position)


class Rejects:
    """Rejected rows: the first ones on stderr, every one in --rejects FILE (CSV)."""

    SHOWN = 20

    def __init__(self, out: IO[str] | None) -> None:
        self.out = out
        self.count = 0
        self.rows: list[list[Any]] = []

    def __call__(self, rejected: Rejected) -> None:
        self.count += 1
        if self.count <= self.SHOWN:
            click.echo(f"line {rejected.line}: {rejected.reason}", err=True)
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


@contextmanager
def opened(path: str) -> Iterator[tuple[BinaryIO, int | None]]:
    if path == "-":
        yield sys.stdin.buffer, None
        return
    file = Path(path)
    with file.open("rb") as stream:
        yield stream, file.stat().st_size

"""A file a command writes on the operator's disk (a recording, a voicemail): one that exists
is refused unless --force; the data goes to a temporary file beside it, renamed when whole,
so a failure (the recording missing, the disk full) leaves neither a partial file nor a
replaced one; a path that cannot be written is a one-line error naming the option."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, cast

import click

force_option = click.option(
    "--force", is_flag=True, help="Replace the file if it exists (without: an error)."
)


@contextmanager
def output_file(path: Path, force: bool, option: str) -> Iterator[BinaryIO]:
    if path.exists() and not force:
        raise click.ClickException(f"{option} {path}: the file exists (--force replaces it)")
    try:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 (renamed or removed below)
            dir=path.parent, prefix=f".{path.name}.", suffix=".part", delete=False
        )
    except OSError as exc:
        raise click.ClickException(f"{option} {path}: {exc.strerror}") from None
    done = False
    try:
        with handle:
            yield cast(BinaryIO, handle)  # a file opened wb, written as one
        os.replace(handle.name, path)
        done = True
    except OSError as exc:
        if exc.filename not in (None, handle.name, str(path)):
            raise  # not the file being written (the recording read, say)
        raise click.ClickException(f"{option} {path}: {exc.strerror}") from None
    finally:
        if not done:
            Path(handle.name).unlink(missing_ok=True)

from __future__ import annotations

from pathlib import Path

import click

from callcenter.cli import Context, pass_context
from callcenter.fsdirectory import render, write
from callcenter.store.database import Database
from callcenter.store.repos import AgentRepository


@click.group()
def fs() -> None:
    """FreeSWITCH configuration generated from the database."""


@fs.command("render")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="The agents' directory folder, e.g. /etc/freeswitch/directory/callcenter.",
)
@click.option("--dry-run", is_flag=True, help="Print what would change, write nothing.")
@pass_context
def render_cmd(ctx: Context, out: Path, dry_run: bool) -> None:
    """Write one directory entry per agent (SIP user, a1-hash, caller ID), then run
    `fs_cli -x reloadxml` so FreeSWITCH reads them. Files of deleted agents are removed;
    files not written by this command are never touched.

    \b
    Example:
      callcenter fs render --out /etc/freeswitch/directory/callcenter && fs_cli -x reloadxml
    """
    with Database(ctx.settings.database_url).session_scope() as session:
        files, skipped = render(AgentRepository(session).directory())
    for extension in skipped:
        click.echo(f"skipped {extension}: no SIP password (callcenter agent password {extension})")
    if dry_run:
        for name in sorted(files):
            click.echo(f"would write {out / name}")
        return
    written, removed = write(out, files)
    click.echo(f"{len(files)} agent(s): {len(written)} written, {len(removed)} removed in {out}")

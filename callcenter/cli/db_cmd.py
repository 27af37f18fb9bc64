from __future__ import annotations

import sys

import click

from callcenter.cli import Context, emit_table, pass_context
from callcenter.errors import MigrationError
from callcenter.settings import redact_url
from callcenter.store import migrate
from callcenter.store.database import Database


def _database(ctx: Context) -> Database:
    return Database(ctx.settings.database_url)


@click.group()
def db() -> None:
    """Database schema: migrate, inspect, check for drift.

    The database is CALLCENTER_DATABASE_URL (default: SQLite under the data directory).
    """


@db.command()
@click.argument("revision", default="head")
@pass_context
def upgrade(ctx: Context, revision: str) -> None:
    """Migrate the schema up to REVISION (default: head).

    \b
    Example:
      CALLCENTER_DATABASE_URL=postgresql+psycopg://cc@127.0.0.1/cc callcenter db upgrade
    """
    database = _database(ctx)
    before = migrate.current(database) or "base"
    migrate.upgrade(database, revision)
    _moved(database, before)


def stdin_is_a_tty() -> bool:
    return sys.stdin.isatty()


on_a_tty = stdin_is_a_tty  # the tests stand in a terminal here


@db.command()
@click.argument("revision", default="-1")
@click.option("--yes", is_flag=True, help="Do not ask: drop what the downgrade drops.")
@pass_context
def downgrade(ctx: Context, revision: str, yes: bool) -> None:
    """Migrate the schema down to REVISION (default: one step; 'base' empties it).

    A downgrade drops the tables and columns the undone migrations added, with their
    data: it says which database and what goes, then asks (on a terminal) or needs
    --yes (in a script).

    \b
    Examples:
      callcenter db downgrade          # one step
      callcenter db downgrade base --yes
    """
    database = _database(ctx)
    before = migrate.current(database) or "base"
    undone = migrate.undone(database, revision)
    if undone:
        _confirm(database, revision, undone, yes)
    migrate.downgrade(database, revision)
    _moved(database, before)


def _confirm(database: Database, revision: str, undone: list[tuple[str, str]], yes: bool) -> None:
    where = redact_url(database.url)
    if revision == "base":
        lost = f"every table and its data ({migrate.rows(database)} row(s) in all)"
        click.echo(f"{where}: downgrading to base undoes all {len(undone)} migrations", err=True)
    else:
        lost = "the tables and columns these migrations added, with their data"
        click.echo(f"{where}: downgrading to {revision} undoes:", err=True)
        for rev, message in undone:
            click.echo(f"  {rev}  {(message.splitlines() or [''])[0]}", err=True)
    click.echo(f"and drops {lost}.", err=True)
    if yes:
        return
    if not on_a_tty():
        raise MigrationError(
            f"{where}: not downgraded; give --yes to drop {lost}", code="confirmation_required"
        )
    if not click.confirm(f"Downgrade {where} to {revision}?", default=False, err=True):
        raise MigrationError(f"{where}: not downgraded", code="confirmation_required")


def _moved(database: Database, before: str) -> None:
    now = migrate.current(database) or "base"
    was = f" (was {before})" if before != now else " (unchanged)"
    click.echo(f"{redact_url(database.url)}: at {now}{was}")


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def current(ctx: Context, as_json: bool) -> None:
    """Show the revision the database is at and the one this build expects.

    \b
    Example:
      callcenter db current --json
    """
    database = _database(ctx)
    row = {
        "database": redact_url(database.url),
        "current": migrate.current(database),
        "head": migrate.head(database),
    }
    emit_table([row], ["database", "current", "head"], as_json)


@db.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def history(ctx: Context, as_json: bool) -> None:
    """List every migration, newest first.

    \b
    Example:
      callcenter db history
    """
    rows = [
        {"revision": rev, "down_revision": down, "message": doc}
        for rev, down, doc in migrate.history(_database(ctx))
    ]
    emit_table(rows, ["revision", "down_revision", "message"], as_json)


@db.command()
@pass_context
def check(ctx: Context) -> None:
    """Fail when the models and the migrations disagree (run after `db upgrade`).

    \b
    Example:
      callcenter db upgrade && callcenter db check
    """
    database = _database(ctx)
    migrate.check(database)
    click.echo(f"ok: {redact_url(database.url)} matches the models at {migrate.head(database)}")

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from callcenter.cli import Context, emit_table, pass_context
from callcenter.cli.output_file import force_option, output_file
from callcenter.recording.state import Action
from callcenter.services import recordings as service
from callcenter.store.codec import encode

COLUMNS = [
    "id", "started_at", "call_uuid", "queue", "agent", "duration_ms", "channels", "status",
    "size_bytes",
]  # fmt: skip


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@click.group()
def recording() -> None:
    """Call recordings: list, show, export; PCI pause/resume; retention."""


@recording.command("list")
@click.option("--call", "call_uuid", help="Only this call's recordings.")
@click.option("--queue", help="Only recordings of this queue's calls.")
@click.option("--status", type=click.Choice(service.STATUSES), help="Only with this check result.")
@click.option("--since", type=click.DateTime(), help="Only started at or after (UTC).")
@click.option("--until", type=click.DateTime(), help="Only started before (UTC).")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, service.LIMIT_MAX),
              help="How many, newest first.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every field).")
@pass_context
def list_recordings(
    ctx: Context,
    call_uuid: str | None,
    queue: str | None,
    status: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    as_json: bool,
) -> None:
    """List recordings, newest first, with the result of each file's check.

    \b
    Examples:
      callcenter recording list --queue sales --limit 20
      callcenter recording list --status missing --json
    """
    found = service.list_recordings(
        ctx.database, call_uuid=call_uuid, queue=queue, status=status, since=_utc(since),
        until=_utc(until), limit=limit,
    )  # fmt: skip
    if as_json:
        click.echo(json.dumps([encode(r) for r in found], indent=2, ensure_ascii=False))
        return
    emit_table([encode(r) for r in found], COLUMNS, False)


@recording.command("show")
@click.argument("recording_id", type=int)
@pass_context
def show(ctx: Context, recording_id: int) -> None:
    """Print one recording as JSON: its file, check, PCI pauses, deletion.

    \b
    Example:
      callcenter recording show 42
    """
    click.echo(json.dumps(encode(service.get(ctx.database, recording_id)), indent=2))


@recording.command("export")
@click.argument("recording_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the file here (default: standard output).")  # fmt: skip
@force_option
@pass_context
def export(ctx: Context, recording_id: int, output: Path | None, force: bool) -> None:
    """Copy a recording's audio to a file or standard output (audited). An existing file is
    not replaced without --force; a failed export leaves no file behind.

    \b
    Examples:
      callcenter recording export 42 -o call-42.wav
      callcenter recording export 42 -o call-42.wav --force
      callcenter recording export 42 | sox -t wav - -n stat
    """
    if output is None:
        service.export(ctx.database, ctx.who, recording_id, sys.stdout.buffer)
        return
    with output_file(output, force, "--output") as out:
        found = service.export(ctx.database, ctx.who, recording_id, out)
    click.echo(f"recording {found.id}: {output} ({output.stat().st_size} bytes)", err=True)


@recording.command("purge")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def purge(ctx: Context, dry_run: bool, as_json: bool) -> None:
    """Delete the files older than their queue's --keep-days (the rows stay, with deleted_at).

    Recordings of calls in no queue (IVR only, direct calls) follow the setting
    recording_keep_days (CALLCENTER_RECORDING_KEEP_DAYS; 0, the default: kept); voicemail
    is never purged. The engine does the same once a day.

    \b
    Examples:
      callcenter recording purge --dry-run
      callcenter recording purge
    """
    root = ctx.settings.recordings_dir.absolute()
    keep = ctx.settings.recording_keep_days
    done = service.purge(ctx.database, ctx.who, dry_run=dry_run, root=root, unqueued_days=keep)
    if as_json:
        rows = [encode(r) for r in done.recordings]
        click.echo(json.dumps({"dry_run": dry_run, "recordings": rows}, indent=2))
        return
    for found in done.recordings:
        click.echo(f"{found.id}\t{found.started_at:%Y-%m-%d}\t{found.queue}\t{found.path}")
    verb = "would delete" if dry_run else "deleted"
    click.echo(f"{verb} {len(done.recordings)} recording file(s)", err=True)


def _control(action: Action, doc: str) -> click.Command:
    @click.argument("call_uuid")
    @pass_context
    def command(ctx: Context, call_uuid: str) -> None:
        service.control(ctx.database, ctx.who, call_uuid, str(action))
        click.echo(f"call {call_uuid}: recording {action} requested")

    command.__doc__ = doc
    return recording.command(str(action))(command)


_control(Action.PAUSE, """Pause a live call's recording (PCI: silence in the file from now).

    \b
    Example:
      callcenter recording pause 2dd37390-bb90-434e-9327-2cd597661497
    """)  # fmt: skip
_control(Action.RESUME, """Resume a live call's paused recording.

    \b
    Example:
      callcenter recording resume 2dd37390-bb90-434e-9327-2cd597661497
    """)  # fmt: skip
_control(Action.START, """Start recording a live call (a queue or agent set to on-demand).

    \b
    Example:
      callcenter recording start 2dd37390-bb90-434e-9327-2cd597661497
    """)  # fmt: skip
_control(Action.STOP, """Stop a live call's recording.

    \b
    Example:
      callcenter recording stop 2dd37390-bb90-434e-9327-2cd597661497
    """)  # fmt: skip

"""`callcenter voicemail`: the messages callers left in the boxes of IVR voicemail nodes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from callcenter.cli import Context, emit_json, emit_table, pass_context
from callcenter.cli.output_file import force_option, output_file
from callcenter.services import voicemail as service
from callcenter.store.records import VoicemailRecord

COLUMNS = ["id", "box", "received_at", "from", "name", "seconds", "read", "call_uuid"]


@click.group()
def voicemail() -> None:
    """Voicemail: list the messages of the boxes, play one, mark it read or unread, delete it.

    A box is the `box` of an IVR `voicemail` node; each message is the recording of the
    call that left it (its CDR has the disposition voicemail). A webhook subscribed to
    `voicemail.received` hears of each new one.

    \b
    Examples:
      callcenter voicemail list --box sales --unread
      callcenter voicemail play 42 --out /tmp/42.wav
    """


def row(found: VoicemailRecord) -> dict[str, Any]:
    seconds = round(found.duration_ms / 1000) if found.duration_ms is not None else None
    return {
        "id": found.id, "box": found.box, "received_at": found.received_at.isoformat(
            timespec="seconds"), "from": found.from_number, "name": found.from_name,
        "seconds": seconds, "read": "yes" if found.read_at else "no", "call_uuid": found.call_uuid,
    }  # fmt: skip


@voicemail.command("list")
@click.option("--box", help="Only this box's messages.")
@click.option("--unread", is_flag=True, help="Only the messages not marked read.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True,
              help="At most this many messages.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every field).")
@pass_context
def list_(ctx: Context, box: str | None, unread: bool, limit: int, as_json: bool) -> None:
    """The messages not deleted, newest first.

    \b
    Examples:
      callcenter voicemail list
      callcenter voicemail list --box sales --unread --json
    """
    found = service.list_voicemails(ctx.database, box=box, unread=unread, limit=limit)
    if as_json:
        emit_json(found)
        return
    emit_table([row(v) for v in found], COLUMNS, as_json=False)


@voicemail.command("play")
@click.argument("voicemail_id", metavar="ID", type=int)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the audio to this file instead of standard output.")  # fmt: skip
@force_option
@pass_context
def play(ctx: Context, voicemail_id: int, out: Path | None, force: bool) -> None:
    """Write a message's audio (WAV) to standard output, or to a file with --out (an
    existing file is not replaced without --force).

    \b
    Examples:
      callcenter voicemail play 42 > 42.wav
      callcenter voicemail play 42 --out /tmp/42.wav
    """
    audio = service.audio(ctx.database, voicemail_id)
    write_audio(audio.data, out, force)


def write_audio(data: bytes, out: Path | None, force: bool) -> None:
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    with output_file(out, force, "--out") as file:
        file.write(data)
    click.echo(f"{out}: {len(data)} bytes", err=True)


@voicemail.command("mark")
@click.argument("voicemail_id", metavar="ID", type=int)
@click.option("--read/--unread", "read", default=True, show_default=True,
              help="Mark it read (listened to) or unread again.")  # fmt: skip
@pass_context
def mark(ctx: Context, voicemail_id: int, read: bool) -> None:
    """Mark a message read or unread.

    \b
    Examples:
      callcenter voicemail mark 42
      callcenter voicemail mark 42 --unread
    """
    service.mark(ctx.database, ctx.who, voicemail_id, read=read)
    click.echo(f"voicemail {voicemail_id}: {'read' if read else 'unread'}")


@voicemail.command("delete")
@click.argument("voicemail_id", metavar="ID", type=int)
@pass_context
def delete(ctx: Context, voicemail_id: int) -> None:
    """Delete a message: its file is removed, the call's CDR stays.

    \b
    Example:
      callcenter voicemail delete 42
    """
    found = service.delete(ctx.database, ctx.who, voicemail_id)
    click.echo(f"voicemail {voicemail_id} deleted (box {found.box}, call {found.call_uuid})")

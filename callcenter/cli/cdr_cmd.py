from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from callcenter.cli import Context, emit_table, pass_context
from callcenter.services import cdrs as service
from callcenter.services import supervision
from callcenter.services.cdrs import CdrFilter
from callcenter.store.codec import encode

COLUMNS = [
    "started_at", "call_uuid", "from_number", "did", "disposition", "hangup_by",
    "hangup_cause", "ring_ms", "talk_ms", "total_ms",
]  # fmt: skip


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@click.group()
def cdr() -> None:
    """Call detail records: one per call, written once."""


@cdr.command("list")
@click.option("--since", type=click.DateTime(), help="Only calls started at or after (UTC).")
@click.option("--until", type=click.DateTime(), help="Only calls started before (UTC).")
@click.option("--queue", help="Only calls that went through this queue.")
@click.option("--agent", help="Only calls an agent (this extension) took.")
@click.option("--did", help="Only calls to this DID.")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1, 100_000),
    help="How many CDRs to list, newest first.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every field).")
@pass_context
def list_cdrs(
    ctx: Context,
    since: datetime | None,
    until: datetime | None,
    queue: str | None,
    agent: str | None,
    did: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """List CDRs, newest first.

    \b
    Examples:
      callcenter cdr list --limit 20
      callcenter cdr list --since 2026-11-23T00:00:00 --json
      callcenter cdr list --queue sales --agent 1001
    """
    where = CdrFilter(since=_utc(since), until=_utc(until), queue=queue, agent=agent, did=did)
    records = service.list_cdrs(ctx.database, where, limit=limit)
    if as_json:
        click.echo(json.dumps([encode(r) for r in records], indent=2, ensure_ascii=False))
        return
    emit_table([encode(r) for r in records], COLUMNS, False)


@cdr.command("show")
@click.argument("call_uuid")
@pass_context
def show(ctx: Context, call_uuid: str) -> None:
    """Print one call's CDR with its legs, IVR path and supervisors' sessions as JSON.

    \b
    Example:
      callcenter cdr show 2dd37390-bb90-434e-9327-2cd597661497
    """
    record = service.get(ctx.database, call_uuid)
    shown = encode(record) | {"supervision": encode(supervision.for_call(ctx.database, call_uuid))}
    click.echo(json.dumps(shown, indent=2, ensure_ascii=False))

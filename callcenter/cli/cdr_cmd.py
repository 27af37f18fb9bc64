"""`callcenter cdr`: the call detail records, listed (table, JSON or CSV) or one shown."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import click

from callcenter.cli import Context, emit_table, pass_context
from callcenter.cli.params import TIME, ZONE_HELP
from callcenter.dialer.export import write_csv
from callcenter.services import cdrs as service
from callcenter.services import supervision
from callcenter.services.cdrs import CdrFilter
from callcenter.services.reports import aware
from callcenter.store.codec import encode

COLUMNS = [
    "started_at", "call_uuid", "from_number", "did", "disposition", "hangup_by",
    "hangup_cause", "ring_ms", "talk_ms", "total_ms",
]  # fmt: skip
# --csv: every field but the legs, the IVR path and the transfers' hops
CSV_COLUMNS = [
    "started_at", "call_uuid", "direction", "node", "from_number", "from_name", "to_number",
    "did", "queue", "agent_extension", "disposition", "hangup_by", "hangup_cause",
    "answered_at", "ended_at", "ring_ms", "ivr_ms", "queue_wait_ms", "talk_ms", "hold_ms",
    "wrapup_ms", "total_ms", "source", "transfers", "transferred_by",
]  # fmt: skip


def emit_cdrs(items: Sequence[dict[str, Any]], as_json: bool, as_csv: bool) -> None:
    """The CDRs as a table, JSON (every field) or CSV (``CSV_COLUMNS``; a cell a spreadsheet
    would run as a formula, such as a caller's name starting with =, gets a leading ')."""
    if as_json and as_csv:
        raise click.UsageError("give --json or --csv, not both")
    if as_json:
        click.echo(json.dumps(list(items), indent=2, ensure_ascii=False))
    elif as_csv:
        write_csv(sys.stdout, CSV_COLUMNS, ([item.get(c) for c in CSV_COLUMNS] for item in items))
    else:
        emit_table(list(items), COLUMNS, False)


@click.group()
def cdr() -> None:
    """Call detail records: one per call, written once."""


@cdr.command("list")
@click.option("--since", type=TIME, metavar="TIME",
              help=f"Only calls started at or after this time; {ZONE_HELP}.")  # fmt: skip
@click.option("--until", type=TIME, metavar="TIME",
              help=f"Only calls started before this time; {ZONE_HELP}.")  # fmt: skip
@click.option("--queue", help="Only calls that went through this queue.")
@click.option("--agent", help="Only calls an agent (this extension) took.")
@click.option("--did", help="Only calls to this DID.")
@click.option(
    "--limit", default=50, show_default=True, type=click.IntRange(1, 100_000),
    help="How many CDRs to list, newest first.",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every field).")
@click.option("--csv", "as_csv", is_flag=True,
              help="Print CSV for spreadsheets (every field but legs and IVR path).")  # fmt: skip
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
    as_csv: bool,
) -> None:
    """List CDRs, newest first. Times are ISO 8601 as in `callcenter report`: without Z
    or an offset, in the engine's time_zone.

    \b
    Examples:
      callcenter cdr list --limit 20
      callcenter cdr list --since 2026-11-23T00:00:00Z --json
      callcenter cdr list --since 2026-11-23T08:00+01:00 --until 2026-11-23T18:00+01:00
      callcenter cdr list --queue sales --agent 1001 --csv > sales-1001.csv
    """
    zone = ctx.settings.time_zone
    where = CdrFilter(
        since=None if since is None else aware(since, zone),
        until=None if until is None else aware(until, zone),
        queue=queue, agent=agent, did=did,
    )  # fmt: skip
    records = service.list_cdrs(ctx.database, where, limit=limit)
    emit_cdrs([encode(r) for r in records], as_json, as_csv)


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

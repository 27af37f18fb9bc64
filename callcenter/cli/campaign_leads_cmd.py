"""``callcenter campaign import|export-results|audit``: lead files in, results and the
compliance audit log out."""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import IO, Any

import click

from callcenter.cli import Context, emit_json, params, pass_context
from callcenter.cli.campaign_cmd import TIMES, utc
from callcenter.cli.csv_io import (
    Rejects,
    csv_form,
    delimiter_option,
    excel_options,
    opened,
    progress_bar,
    rejects_option,
    source_name,
)
from callcenter.dialer.export import write_csv
from callcenter.dialer.importer import ColumnMap
from callcenter.services import leads


@click.command("import")
@click.argument("name")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar="FIELD=COLUMN",
    help="The column holding a lead field: phone (required), priority, timezone "
    "(repeat). Other columns are kept as custom fields for the screen pop (a column "
    "'field:NAME' as the field NAME).",
)
@click.option(
    "--region",
    callback=params.region,
    help="Country of numbers written without '+' (default: the campaign's --region).",
)
@click.option("--encoding", default="utf-8", help="The file's encoding, e.g. cp1252.")
@delimiter_option
@rejects_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_context
def import_(
    ctx: Context,
    /,
    name: str,
    file: str,
    mapping: tuple[str, ...],
    region: str | None,
    encoding: str,
    delimiter: str | None,
    rejects: IO[str] | None,
    as_json: bool,
) -> None:
    """Import the leads of FILE (CSV with a header line; '-' reads stdin) into campaign
    NAME. Numbers become E.164 (those without '+' read in --region) and get their time
    zones from the number; a 'timezone' column overrides them. Each row that cannot be a
    lead is rejected with its line number and why; the others are stored in batches. A
    number is stored once per campaign: importing the same file again adds nothing.

    \b
    Examples:
      callcenter campaign import spring leads.csv
      callcenter campaign import spring export.csv --map phone=Telephone --map priority=Prio \\
          --delimiter ';' --encoding cp1252 --region DE --rejects rejected.csv
    """
    columns = ColumnMap.parse(mapping)
    shown = Rejects(rejects)
    with opened(file) as (stream, size), progress_bar(size, f"importing {file}", shown) as progress:
        report = leads.import_file(
            ctx.database,
            ctx.who,
            name,
            stream,
            source=source_name(file),
            mapping=columns,
            region=region,
            encoding=encoding,
            delimiter=delimiter,
            progress=progress,
            on_reject=shown,
            on_header=shown.columns,
        )
    shown.close()
    print_import(name, dataclasses.asdict(report), as_json)
    shown.refuse_all(report.rows)


def print_import(name: str, report: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        emit_json(dict(report))
        return
    click.echo(
        f"campaign {name}: {report['rows']} rows, {report['added']} added, "
        f"{report['existing']} already there, {report['rejected']} rejected "
        f"(import {report['import_id']})"
    )


@click.command("export-results")
@click.argument("name")
@click.option(
    "--out",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    help="The CSV file to write (default: stdout).",
)
@excel_options
@pass_context
def export_results(
    ctx: Context, name: str, out: IO[str], excel: bool, delimiter: str | None, bom: bool
) -> None:
    """Every lead of campaign NAME with its state, attempts, last outcome, disposition,
    callback and custom fields, as CSV. A custom field named as one of the lead's own
    columns (lead_id, phone, state, attempts, priority, ...) is the column 'field:NAME'
    (a lead file's 'state' is 'field:state'); importing the file again reads it back as
    NAME. A cell a spreadsheet would run as a formula (starting with = + - @, a tab or a
    CR) is written with a leading ' (shown as text). --excel writes what Excel opens with
    a double click where the list separator is ';' (most of Europe): a UTF-8 BOM and ';'.
    'campaign import' reads every form back.

    \b
    Examples:
      callcenter campaign export-results spring --out results.csv
      callcenter campaign export-results spring --excel --out results.csv
    """
    count = write_csv(
        out,
        leads.result_columns(ctx.database, name),
        leads.results(ctx.database, name),
        **csv_form(excel, delimiter, bom),
    )
    if getattr(out, "name", "-") not in ("-", "<stdout>"):
        click.echo(f"{count} leads written to {out.name}", err=True)


@click.command("audit")
@click.argument("name")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    help="csv: one entry a line, details as JSON; json: an array.",
)
@click.option("--since", type=TIMES, help="From this time (UTC unless it has an offset).")
@click.option("--until", type=TIMES, help="Before this time.")
@click.option(
    "--out",
    type=click.File("w", encoding="utf-8", lazy=True),
    default="-",
    help="The file to write (default: stdout).",
)
@pass_context
def audit(
    ctx: Context, name: str, fmt: str, since: datetime | None, until: datetime | None, out: IO[str]
) -> None:
    """The compliance audit log of campaign NAME, oldest first: abandoned calls, safe-harbor
    messages played, do-not-call hits, calls held back by the calling window or the hold
    after an abandoned call, falls back to progressive and back, starts, pauses and stops.

    \b
    Examples:
      callcenter campaign audit spring --format csv --out audit.csv
      callcenter campaign audit spring --format json --since 2026-12-01
    """
    entries = leads.audit_entries(ctx.database, name, since=utc(since), until=utc(until))
    write_audit(out, fmt, entries)


def write_audit(out: IO[str], fmt: str, entries: Iterable[dict[str, Any]]) -> None:
    """The audit log as a JSON array (one entry a line) or as CSV (details as JSON). The
    first entry is read before anything is written: a campaign that does not exist leaves
    no header-only file behind."""
    items = iter(entries)
    first = next(items, None)
    entries = itertools.chain([] if first is None else [first], items)
    if fmt == "json":
        out.write("[")
        for i, entry in enumerate(entries):
            out.write(("," if i else "") + "\n  " + json.dumps(entry, ensure_ascii=False))
        out.write("\n]\n")
        return
    columns = leads.AUDIT_COLUMNS
    rows = (
        [json.dumps(e[c], ensure_ascii=False) if c == "details" else e[c] for c in columns]
        for e in entries
    )
    write_csv(out, columns, rows)

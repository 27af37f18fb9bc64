"""``callcenter dnc``: do-not-call lists, the global one and one per campaign."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Mapping
from typing import IO

import click

from callcenter.cli import Context, emit_json, emit_table, params, pass_context
from callcenter.cli.csv_io import (
    Rejects,
    delimiter_option,
    opened,
    progress_bar,
    rejects_option,
    source_name,
)
from callcenter.services import dnc as service
from callcenter.services.checks import InvalidArgument

CAMPAIGN_HELP = "The campaign's own list (default: the global list, which every campaign obeys)."
REGION_HELP = "Country of numbers written without '+' (default: the --campaign's region, else US)."
region_option = click.option("--region", callback=params.region, help=REGION_HELP)


def _bad(exc: InvalidArgument) -> click.BadParameter:
    return click.BadParameter(
        exc.reason, param_hint=exc.field.upper() if exc.field == "number" else "--" + exc.field
    )


@click.group()
def dnc() -> None:
    """Do-not-call lists. The dialer checks a number against the global list and its
    campaign's before every call; a hit is not dialled and is logged in the campaign's
    audit log. Numbers are stored in E.164; those without '+' are read in --region, by
    default the --campaign's region (the global list: US).

    \b
    Examples:
      callcenter dnc add +12125550100 --reason "asked on 2026-12-06"
      callcenter dnc add "030 1234567" --campaign berlin
      callcenter dnc import national-registry.txt
      callcenter dnc check 2125550100
      callcenter dnc remove +12125550100
    """


@dnc.command("add")
@click.argument("numbers", nargs=-1, required=True)
@click.option("--campaign", help=CAMPAIGN_HELP)
@click.option("--reason", default="", help="Why (kept with the entry).")
@region_option
@pass_context
def add(
    ctx: Context,
    /,
    numbers: tuple[str, ...],
    campaign: str | None,
    reason: str,
    region: str | None,
) -> None:
    """Put NUMBERS on the list.

    \b
    Examples:
      callcenter dnc add +12125550100 +12125550101 --reason complaint
      callcenter dnc add 2125550102 --campaign spring
      callcenter dnc add "030 1234567" --region DE
    """
    try:
        added = service.add(
            ctx.database, ctx.who, list(numbers), campaign=campaign, reason=reason, region=region
        )
    except InvalidArgument as exc:
        raise _bad(exc) from exc
    where = f"campaign {campaign}'s list" if campaign else "the global list"
    click.echo(f"{len(added)} added to {where}" + (f": {', '.join(added)}" if added else ""))


@dnc.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--campaign", help=CAMPAIGN_HELP)
@click.option(
    "--column",
    help="The CSV column holding the numbers (the file has a header); "
    "without it, the first cell of each line is a number.",
)
@click.option("--reason", default="", help="Why (kept with each entry).")
@region_option
@click.option("--encoding", default="utf-8", help="The file's encoding, e.g. cp1252.")
@delimiter_option
@rejects_option
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_context
def import_(
    ctx: Context,
    /,
    file: str,
    campaign: str | None,
    column: str | None,
    reason: str,
    region: str | None,
    encoding: str,
    delimiter: str | None,
    rejects: IO[str] | None,
    as_json: bool,
) -> None:
    """Put every number of FILE on the list ('-' reads stdin); a line that is not a
    number is rejected with its line number. Numbers already listed are counted, not
    added again. --column is found as a lead import finds its columns (case aside), in
    cells split at the first line's separator unless --delimiter says.

    \b
    Examples:
      callcenter dnc import registry.txt
      callcenter dnc import complaints.csv --column phone --campaign spring --rejects bad.csv
      callcenter dnc import sperrliste.csv --column Telefon --campaign berlin --encoding cp1252
    """
    shown = Rejects(rejects)
    with opened(file) as (stream, size), progress_bar(size, f"importing {file}", shown) as progress:
        report = service.import_file(
            ctx.database,
            ctx.who,
            stream,
            campaign=campaign,
            column=column,
            reason=reason,
            region=region,
            encoding=encoding,
            delimiter=delimiter,
            source=source_name(file),
            on_reject=shown,
            on_header=shown.columns,
            progress=progress,
        )
    shown.close()
    print_dnc_import(dataclasses.asdict(report), as_json)
    shown.refuse_all(report.rows)


def print_dnc_import(counts: Mapping[str, int], as_json: bool) -> None:
    if as_json:
        emit_json(dict(counts))
        return
    click.echo(
        f"{counts['rows']} rows: {counts['added']} added, {counts['existing']} already listed, "
        f"{counts['rejected']} rejected"
    )


@dnc.command("check")
@click.argument("number")
@click.option("--campaign", help="Only the lists that apply to this campaign.")
@region_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def check(
    ctx: Context, number: str, campaign: str | None, region: str | None, as_json: bool
) -> None:
    """Whether NUMBER is on a do-not-call list, and which ones. Exit status 0 when it
    may be called, 3 when a list holds it.

    \b
    Examples:
      callcenter dnc check +12125550100
      callcenter dnc check 2125550100 --campaign spring --json
    """
    try:
        found = service.check(ctx.database, number, campaign=campaign, region=region)
    except InvalidArgument as exc:
        raise _bad(exc) from exc
    lists = found.names
    if as_json:
        emit_json({"number": found.number, "blocked": found.blocked, "lists": lists})
    else:
        click.echo(
            f"{found.number}: " + (f"do not call ({', '.join(lists)})" if lists else "not listed")
        )
    if found.blocked:
        sys.exit(3)


@dnc.command("remove")
@click.argument("number")
@click.option("--campaign", help="From the campaign's own list (default: the global list).")
@region_option
@pass_context
def remove(ctx: Context, number: str, campaign: str | None, region: str | None) -> None:
    """Take NUMBER off the list.

    \b
    Examples:
      callcenter dnc remove +12125550100
      callcenter dnc remove 2125550102 --campaign spring
    """
    try:
        phone = service.remove(ctx.database, ctx.who, number, campaign=campaign, region=region)
    except InvalidArgument as exc:
        raise _bad(exc) from exc
    click.echo(
        f"{phone} removed from "
        + (f"campaign {campaign}'s list" if campaign else "the global list")
    )


DNC_LISTED = ["number", "campaign", "reason", "added_by", "added_at"]


@dnc.command("list")
@click.option("--campaign", help="The campaign's own list (default: the global list).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=100, help="Newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_(ctx: Context, campaign: str | None, limit: int, as_json: bool) -> None:
    """The newest entries of one list.

    \b
    Example:
      callcenter dnc list --campaign spring
    """
    emit_table(service.listed(ctx.database, campaign, limit), DNC_LISTED, as_json)

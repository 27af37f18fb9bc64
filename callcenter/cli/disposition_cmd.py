"""``callcenter campaign disposition add|list|remove`` and ``campaign dispose``: what agents
say of a campaign's calls."""

from __future__ import annotations

from datetime import datetime

import click

from callcenter.cli import Context, emit_table, pass_context
from callcenter.cli.campaign_cmd import TIMES, bad_argument, duration, utc
from callcenter.dialer.campaign import DispositionSpec
from callcenter.services import campaigns as service
from callcenter.services.checks import InvalidArgument


@click.group("disposition")
def disposition() -> None:
    """The dispositions agents give a campaign's calls in wrap-up (*30N from the phone, N
    the key, or the API). A retry_after one calls the lead again after that long; a dnc
    one puts the number on the campaign's do-not-call list, a global_dnc one on the global
    list (the built-in do_not_call does: a person's request binds the seller, not one
    campaign); any other closes the lead.

    \b
    Examples:
      callcenter campaign disposition list spring
      callcenter campaign disposition add spring voicemail --key 6 --retry-after 4h
    """


DISPOSITION_COLUMNS = [
    "feature_code", "code", "label", "retry_after", "dnc", "global_dnc", "success",
]  # fmt: skip


@disposition.command("add")
@click.argument("name")
@click.argument("code")
@click.option("--key", type=int, required=True, help="N of the *30N feature code (0-99).")
@click.option("--label", default="", help="What agents and reports show.")
@click.option("--retry-after", help="Call the lead again after this long, e.g. 4h.")
@click.option("--dnc", is_flag=True, help="Put the number on the campaign's do-not-call list.")
@click.option(
    "--global-dnc",
    is_flag=True,
    help="Put the number on the global do-not-call list (every campaign's), not the campaign's.",
)
@click.option("--success", is_flag=True, help="Counts as a success in reports.")
@pass_context
def disposition_add(
    ctx: Context,
    /,
    name: str,
    code: str,
    key: int,
    label: str,
    retry_after: str | None,
    dnc: bool,
    global_dnc: bool,
    success: bool,
) -> None:
    """Add disposition CODE to campaign NAME.

    \b
    Examples:
      callcenter campaign disposition add spring voicemail --key 6 --retry-after 4h
      callcenter campaign disposition add spring seller_dnc --key 7 --global-dnc
    """
    after = (
        None if retry_after is None else int(duration(retry_after, "--retry-after").total_seconds())
    )
    try:
        spec = DispositionSpec(code, key, label, after, dnc, success, global_dnc)
        service.add_disposition(ctx.database, ctx.who, name, spec)
    except InvalidArgument as exc:
        raise bad_argument(exc) from exc
    click.echo(f"campaign {name}: disposition {code} on *30{key}")


@disposition.command("list")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def disposition_list(ctx: Context, name: str, as_json: bool) -> None:
    """The dispositions of campaign NAME.

    \b
    Example:
      callcenter campaign disposition list spring
    """
    rows = [service.disposition_view(d) for d in service.dispositions(ctx.database, name)]
    emit_table(rows, DISPOSITION_COLUMNS, as_json)


@disposition.command("remove")
@click.argument("name")
@click.argument("code")
@pass_context
def disposition_remove(ctx: Context, name: str, code: str) -> None:
    """Remove disposition CODE from campaign NAME.

    \b
    Example:
      callcenter campaign disposition remove spring wrong_number
    """
    service.remove_disposition(ctx.database, ctx.who, name, code)
    click.echo(f"campaign {name}: disposition {code} removed")


@click.command("dispose")
@click.argument("name")
@click.argument("lead_id", type=int)
@click.argument("code")
@click.option(
    "--callback-at",
    type=TIMES,
    help="Call back at this time (UTC unless it has an offset), e.g. 2026-12-07T15:00+01:00.",
)
@click.option("--callback-agent", help="Keep the callback for this agent.")
@pass_context
def dispose(
    ctx: Context,
    /,
    name: str,
    lead_id: int,
    code: str,
    callback_at: datetime | None,
    callback_agent: str | None,
) -> None:
    """Give lead LEAD_ID of campaign NAME the disposition CODE (what an agent does with
    *30N), with a callback time when the person asked to be called back.

    \b
    Examples:
      callcenter campaign dispose spring 42 sale
      callcenter campaign dispose spring 43 call_back --callback-at 2026-12-07T15:00+01:00 \\
          --callback-agent 1001
    """
    try:
        state = service.dispose(
            ctx.database,
            ctx.who,
            name,
            lead_id,
            code,
            callback_at=utc(callback_at),
            callback_agent=callback_agent,
        )
    except InvalidArgument as exc:
        raise bad_argument(exc) from exc
    click.echo(f"campaign {name}: lead {lead_id} {code}, now {state}")

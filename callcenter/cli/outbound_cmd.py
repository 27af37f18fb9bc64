"""``callcenter route outbound``: which gateway an external number leaves through."""

from __future__ import annotations

import click

from callcenter.cli import Context, emit_json, emit_table, pass_context, plain
from callcenter.errors import InvalidOutboundRoute
from callcenter.services import routes as service

OPTION_OF = {
    "name": "NAME",
    "pattern": "--match",
    "gateway": "--gateway",
    "number_format": "--format",
    "caller_id_number": "--caller-id",
    "priority": "--priority",
    "failover_causes": "--failover-on",
    "group": "--group",
}


@click.group()
def outbound() -> None:
    """Outbound routes: which SIP gateway an external number leaves through.

    An IVR `transfer` node with `number:` is dialled through the first enabled route, by
    priority (lower first) then name, whose --match regex matches the whole number. The
    number is rewritten by --format ($0 the whole match, $1..$9 the groups) and dialled as
    sofia/gateway/<gateway>/<number>. A number no route matches is hung up with
    NO_ROUTE_DESTINATION. Every running engine sees a change within a second.

    \b
    --match refuses what could backtrack for long (the engine matches in the
    process that serves every call):
      nested repeats           (\\d+)+  (\\d?)*  (?:\\d{1,3})+  (\\d+){2}
      alternatives that begin alike, or match nothing, inside a repeat
                               (1|12)+  (\\d|\\d\\d)*  (0|)+
      backreferences, lookarounds, conditionals
                               (\\d)\\1  (?=1)\\d+  (?<!0)\\d+
      more than 3 of * + {m,}  \\d*\\d*\\d*\\d*
    A stored route that fails this (added before the check) is left out by the
    engine, with a logged error, and never matched.

    \b
    Examples:
      callcenter route outbound add intl --match '^00(\\d+)$' --gateway carrier --format '+$1'
      callcenter route outbound test 0049301234
    """


@outbound.command("add")
@click.argument("name")
@click.option(
    "--match",
    "pattern",
    required=True,
    help="Regex the whole number must match; no nested repeats like (\\d+)+ (see "
    "`route outbound --help`).",
)
@click.option("--gateway", help="The sofia gateway (trunk) to dial through.")
@click.option(
    "--group",
    help="A trunk group instead of --gateway/--failover: its members, in its strategy's order.",
)
@click.option(
    "--format",
    "number_format",
    default="$0",
    show_default=True,
    help="The number to dial: $0 the whole match, $1..$9 the groups, + 0-9 * # A-Z a-z.",
)
@click.option("--caller-id", "caller_id_number", help="Caller ID number to present instead.")
@click.option("--priority", type=int, default=100, show_default=True, help="Lower is tried first.")
@click.option(
    "--failover",
    multiple=True,
    help="A trunk tried next when the previous one could not place the call (repeat, in order).",
)
@click.option(
    "--failover-on",
    "failover_causes",
    multiple=True,
    help="A hangup cause (or sip:5xx) that tries the next trunk (repeat); default "
    "NORMAL_TEMPORARY_FAILURE NETWORK_OUT_OF_ORDER GATEWAY_DOWN NO_ROUTE_DESTINATION "
    "RECOVERY_ON_TIMER_EXPIRE sip:5xx. USER_BUSY, NO_ANSWER, CALL_REJECTED never do.",
)
@pass_context
def add(
    ctx: Context,
    name: str,
    pattern: str,
    gateway: str | None,
    group: str | None,
    number_format: str,
    caller_id_number: str | None,
    priority: int,
    failover: tuple[str, ...],
    failover_causes: tuple[str, ...],
) -> None:
    """Add the outbound route NAME.

    \b
    Examples:
      callcenter route outbound add intl --match '^00(\\d+)$' --gateway carrier --format '+$1'
      callcenter route outbound add us --match '^1?(\\d{10})$' --gateway us-trunk \\
          --format '+1$1' --caller-id +15550100 --priority 10
      callcenter route outbound add any --match '^\\+\\d+$' --gateway carrier --priority 1000
      callcenter route outbound add de --match '^\\+49\\d+$' --gateway carrier-a \\
          --failover carrier-b --failover carrier-c --failover-on GATEWAY_DOWN
      callcenter route outbound add fr --match '^\\+33\\d+$' --group fr-out

    \b
    Refused (could backtrack for minutes on 1111111111111111111111111111111#):
      callcenter route outbound add r1 --match '(\\d+)+$' --gateway carrier
    """
    if (gateway is None) == (group is None):
        raise click.UsageError("give --gateway (and --failover) or --group, one of them")
    if group is not None and failover:
        raise click.UsageError("--failover goes with --gateway: a group fails over by itself")
    try:
        service.add_outbound(
            ctx.database,
            ctx.who,
            name,
            pattern=pattern,
            gateway=gateway or "",
            group=group,
            number_format=number_format,
            caller_id_number=caller_id_number,
            priority=priority,
            failover=failover,
            failover_causes=failover_causes,
        )
    except InvalidOutboundRoute as exc:
        raise click.BadParameter(exc.reason, param_hint=OPTION_OF[exc.field]) from exc
    where = f"trunk group {group}" if group else f"sofia/gateway/{gateway}/{number_format}"
    click.echo(f"outbound route {name}: {pattern} -> {where}")


@outbound.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_routes(ctx: Context, as_json: bool) -> None:
    """List every outbound route, in the order they are tried.

    \b
    Example:
      callcenter route outbound list --json
    """
    rows = [
        {
            "name": r.name,
            "priority": r.priority,
            "match": r.pattern,
            "gateway": f"group:{r.trunk_group}"
            if r.trunk_group
            else ",".join((r.gateway, *filter(None, r.failover_gateways.split(",")))),
            "format": r.number_format,
            "caller_id": r.caller_id_number,
            "enabled": r.enabled,
        }
        for r in service.list_outbound(ctx.database)
    ]
    columns = ["name", "priority", "match", "gateway", "format", "caller_id", "enabled"]
    emit_table(rows, columns, as_json)


@outbound.command("remove")
@click.argument("name")
@pass_context
def remove(ctx: Context, name: str) -> None:
    """Delete the outbound route NAME.

    \b
    Example:
      callcenter route outbound remove intl
    """
    service.remove_outbound(ctx.database, ctx.who, name)
    click.echo(f"outbound route {name} removed")


@outbound.command("disable")
@click.argument("name")
@click.option("--enable", is_flag=True, help="Enable it again instead.")
@pass_context
def disable(ctx: Context, name: str, enable: bool) -> None:
    """Stop (or with --enable, resume) using the outbound route NAME without deleting it.

    \b
    Example:
      callcenter route outbound disable intl && callcenter route outbound disable intl --enable
    """
    service.set_outbound_enabled(ctx.database, ctx.who, name, enable)
    click.echo(f"outbound route {name} {'enabled' if enable else 'disabled'}")


@outbound.command("test")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def test(ctx: Context, number: str, as_json: bool) -> None:
    """Show which route and dial string NUMBER would get; exit 1 when none.

    \b
    Examples:
      callcenter route outbound test 0049301234
      callcenter route outbound test 0049301234 --json
    """
    dialout = service.test_outbound(ctx.database, number)
    if as_json:
        causes = sorted(dialout.failover_causes)
        emit_json({**plain(dialout), "failover_causes": causes, "dial_string": dialout.dial_string})
        return
    shown = f" (caller ID {dialout.caller_id_number})" if dialout.caller_id_number else ""
    then = f", then {', '.join(dialout.failover)}" if dialout.failover else ""
    if dialout.group:
        then += f" (trunk group {dialout.group}, this call's order)"
    click.echo(f"{dialout.route}: {dialout.dial_string}{shown}{then}")

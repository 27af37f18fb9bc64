from __future__ import annotations

import getpass

import click

from callcenter.calls.routing import parse_target
from callcenter.cli import Context, emit_table, pass_context
from callcenter.store.database import Database
from callcenter.store.repos import AuditLog, RouteRepository


def operator() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


@click.group()
def route() -> None:
    """DID routes: which target a dialled number goes to.

    Targets: playback:<file or tone_stream://...>, hangup[:CAUSE], extension:<ext>,
    ivr:<flow>, queue:<queue>. A DID without a route goes to the default target.
    """


@route.command("add")
@click.argument("did")
@click.argument("target")
@click.option("--description", default="", help="Free text shown in `route list`.")
@pass_context
def add(ctx: Context, did: str, target: str, description: str) -> None:
    """Route DID to TARGET.

    \b
    Examples:
      callcenter route add 5000 'playback:tone_stream://%(2000,0,440)'
      callcenter route add 5001 extension:1001
      callcenter route add 5999 hangup:CALL_REJECTED
    """
    parsed = parse_target(target, "TARGET")
    if not did or any(c.isspace() for c in did):
        raise click.BadParameter("a DID is a non-empty string without spaces", param_hint="DID")
    with Database(ctx.settings.database_url).session_scope() as session:
        RouteRepository(session).add(did, parsed.kind, parsed.arg, description)
        AuditLog(session).record(operator(), "route.add", did, {"target": str(parsed)})
    click.echo(f"route {did} -> {parsed}")


@route.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_routes(ctx: Context, as_json: bool) -> None:
    """List every route.

    \b
    Example:
      callcenter route list --json
    """
    with Database(ctx.settings.database_url).session_scope() as session:
        rows = [
            {
                "did": r.did,
                "target": f"{r.target_type}:{r.target}" if r.target else str(r.target_type),
                "enabled": r.enabled,
                "description": r.description,
            }
            for r in RouteRepository(session).all()
        ]
    emit_table(rows, ["did", "target", "enabled", "description"], as_json)


@route.command("remove")
@click.argument("did")
@pass_context
def remove(ctx: Context, did: str) -> None:
    """Delete the route of DID (its calls then go to the default target).

    \b
    Example:
      callcenter route remove 5000
    """
    with Database(ctx.settings.database_url).session_scope() as session:
        RouteRepository(session).delete(did)
        AuditLog(session).record(operator(), "route.remove", did)
    click.echo(f"route {did} removed")


@route.command("disable")
@click.argument("did")
@click.option("--enable", is_flag=True, help="Enable it again instead.")
@pass_context
def disable(ctx: Context, did: str, enable: bool) -> None:
    """Stop (or with --enable, resume) routing DID without deleting it.

    \b
    Example:
      callcenter route disable 5000 && callcenter route disable 5000 --enable
    """
    with Database(ctx.settings.database_url).session_scope() as session:
        RouteRepository(session).set_enabled(did, enable)
        AuditLog(session).record(operator(), "route.enable" if enable else "route.disable", did)
    click.echo(f"route {did} {'enabled' if enable else 'disabled'}")

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

import click

from callcenter.cli import Context, emit_json, emit_table, pass_context
from callcenter.errors import CallCenterError
from callcenter.ivr.validate import flow_files, load_flows
from callcenter.services import queues as queues_service
from callcenter.services import routes as service
from callcenter.trunks.targets import (
    Target,
    check_description,
    check_did,
    check_target,
    unverified,
)
from callcenter.vocabulary import RouteTarget


def known_flows(dialplans_dir: Path) -> tuple[Collection[str] | None, str]:
    """The flows an engine with this dialplans_dir would serve, or None and why not."""
    try:
        files = flow_files(dialplans_dir)
    except OSError as exc:
        return None, f"dialplans_dir {dialplans_dir} cannot be read: {exc.strerror or exc}"
    if not files:
        return None, f"no flow files in dialplans_dir {dialplans_dir}"
    return set(load_flows(files).flows), ""


def known_queues(ctx: Context) -> tuple[Collection[str] | None, str]:
    """The queues stored, or None and why they could not be read."""
    try:
        return {q.name for q in queues_service.list_queues(ctx.database)}, ""
    except CallCenterError as exc:
        return None, f"queues unknown: {exc.message}"


def warn_unverified(target: Target, queues: Collection[str] | None,
                    flows: Collection[str] | None, why: str) -> None:  # fmt: skip
    note = unverified(target, queues=queues, flows=flows, why=why)
    if note is not None:
        click.echo(f"warning: {note}", err=True)


@click.group()
def route() -> None:
    """DID routes: which target a dialled number goes to.

    \b
    Targets:
      playback:<file>   an absolute path, a path under FreeSWITCH's sounds, or a
                        tone_stream://, silence_stream://, local_stream://,
                        file_string:// source
      hangup[:CAUSE]    a FreeSWITCH hangup cause (default CALL_REJECTED)
      extension:<ext>   an agent's or internal extension (1-32 of A-Z a-z 0-9 . _ -)
      queue:<queue>     a queue that exists (callcenter queue list)
      ivr:<flow>        a flow of dialplans_dir without errors (callcenter ivr list)

    No target may hold ${, whitespace, quotes, backslashes, braces or control
    characters. A DID is 1-128 of A-Z a-z 0-9 + * # _ . -. A DID without a route
    goes to the default target (default_route).
    """


@route.command("add")
@click.argument("did")
@click.argument("target")
@click.option("--description", default="", help="Free text shown in `route list` (at most 500).")
@click.option(
    "--match",
    default="exact",
    show_default=True,
    help="exact, range (FIRST-LAST), prefix or regex; numbers compared in E.164.",
)
@click.option(
    "--priority", type=int, default=100, show_default=True, help="Lower wins within a kind."
)
@pass_context
def add(ctx: Context, did: str, target: str, description: str, match: str, priority: int) -> None:
    """Route DID to TARGET, checked first: a bad one is refused with the reason, and
    nothing is stored.

    \b
    Examples:
      callcenter route add 5000 'playback:tone_stream://%(2000,0,440)'
      callcenter route add 5001 extension:1001
      callcenter route add 5002 queue:support --description 'Support line'
      callcenter route add +33140000000 ivr:main
      callcenter route add 5999 hangup:CALL_REJECTED
      callcenter route add +4930123400-+4930123499 queue:berlin --match range
      callcenter route add +4989 queue:munich --match prefix
      callcenter route add '\\+49800\\d{7}' ivr:freephone --match regex

    An exact, range, prefix or regex DID is matched in that order (the longest prefix
    first), then by --priority; with default_country DE, 0301234, 0049301234 and
    +49301234 are the same number.
    """
    if match == "exact":
        check_did(did)
    check_description(description)
    parsed = check_target(target)
    flows, flows_why = (None, "")
    if parsed.kind is RouteTarget.IVR:
        flows, flows_why = known_flows(ctx.settings.dialplans_dir)
    added = service.add(
        ctx.database, ctx.who, did, target, description=description, flows=flows,
        flows_why=flows_why, match=match, priority=priority,
        country=ctx.settings.default_country or None,
    )  # fmt: skip
    if added.unverified is not None:
        click.echo(f"warning: {added.unverified}", err=True)
    click.echo(f"route {did} -> {added.target}")


@route.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_routes(ctx: Context, as_json: bool) -> None:
    """List every route.

    \b
    Example:
      callcenter route list --json
    """
    rows = [
        {
            "did": r.did,
            "target": f"{r.target_type}:{r.target}" if r.target else str(r.target_type),
            "enabled": r.enabled,
            "description": r.description,
            "match": r.match_kind,
            "priority": r.priority,
        }
        for r in service.list_routes(ctx.database)
    ]
    columns = ["did", "match", "priority", "target", "enabled", "description"]
    emit_table(rows, columns, as_json)


@route.command("remove")
@click.argument("did")
@pass_context
def remove(ctx: Context, did: str) -> None:
    """Delete the route of DID (its calls then go to the default target).

    \b
    Example:
      callcenter route remove 5000
    """
    service.remove(ctx.database, ctx.who, did)
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
    service.set_enabled(ctx.database, ctx.who, did, enable)
    click.echo(f"route {did} {'enabled' if enable else 'disabled'}")


@route.command("test")
@click.argument("did")
@click.option("--trunk", help="As a call arriving on this trunk: DID read in its country.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def test(ctx: Context, did: str, trunk: str | None, as_json: bool) -> None:
    """Show where a call to DID would go and why: the route it matches (exact, range,
    prefix, regex, after normalizing in default_country, or in the country of the trunk the
    call arrives on), or the default target.

    \b
    Examples:
      callcenter route test 5001
      callcenter route test 030123450     # -> queue:berlin (in range +4930123400-...)
      callcenter route test 0140000000 --trunk fr-a    # read as +33140000000
    """
    found = service.test(
        ctx.database, did, default=ctx.settings.default_route,
        country=ctx.settings.default_country or None, trunk=trunk,
    )  # fmt: skip
    if as_json:
        emit_json(found)
        return
    if found.by == "default":
        click.echo(f"{found.did} -> {found.target} (default: {found.why})")
    else:
        click.echo(f"{found.did} -> {found.target} ({found.why})")

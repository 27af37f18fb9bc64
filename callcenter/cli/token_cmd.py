"""`callcenter token`: bearer tokens of the HTTP API."""

from __future__ import annotations

import click

from callcenter.cli import Context, emit_json, emit_table, pass_context
from callcenter.services import tokens
from callcenter.store.models.tokens import TokenScope

COLUMNS = ["name", "scope", "created_at", "created_by", "revoked_at"]


@click.group()
def token() -> None:
    """Bearer tokens of the HTTP API (/api/v1), each with one scope.

    \b
    Scopes (each includes the ones before it):
      read     every GET, and flow validation
      operate  agent login/logout/pause/ready, hang up/transfer/bridge calls, flow reload
      admin    create, change and delete agents, queues, routes, outbound routes

    A token is shown once, when made; only its SHA-256 hash is stored. No token exists
    until one is made. Tokens are managed here only, on a host with the database.
    """


@token.command("create")
@click.argument("name")
@click.option(
    "--scope",
    required=True,
    type=click.Choice([s.value for s in TokenScope]),
    help="What the token may do.",
)
@pass_context
def create(ctx: Context, name: str, scope: str) -> None:
    """Make a token NAME and print it, once (the audit log names its calls api:NAME).

    \b
    Examples:
      callcenter token create crm --scope read
      callcenter token create supervisor-desk --scope operate
    """
    made = tokens.create(ctx.database, ctx.who, name, scope)
    click.echo(f"token {name} ({scope}) created; it is shown once, keep it now:")
    click.echo(made.secret)


@token.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_tokens(ctx: Context, as_json: bool) -> None:
    """List tokens (never their secret), revoked ones with when.

    \b
    Example:
      callcenter token list
    """
    found = tokens.list_tokens(ctx.database)
    if as_json:
        emit_json(found)
        return
    rows = [
        {
            "name": t.name,
            "scope": str(t.scope),
            "created_at": t.created_at.isoformat(timespec="seconds"),
            "created_by": t.created_by,
            "revoked_at": t.revoked_at.isoformat(timespec="seconds") if t.revoked_at else None,
        }
        for t in found
    ]
    emit_table(rows, COLUMNS, False)


@token.command("revoke")
@click.argument("name")
@pass_context
def revoke(ctx: Context, name: str) -> None:
    """Revoke token NAME: refused from its next request on, by every engine.

    \b
    Example:
      callcenter token revoke crm
    """
    tokens.revoke(ctx.database, ctx.who, name)
    click.echo(f"token {name} revoked")

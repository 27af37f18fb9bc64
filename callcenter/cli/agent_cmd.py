from __future__ import annotations

import click

from callcenter.cli import Context, emit_table, pass_context
from callcenter.cli.route_cmd import operator
from callcenter.store.database import Database
from callcenter.store.repos import AgentRepository, AuditLog
from callcenter.store.repos.sip import a1_hash
from callcenter.vocabulary import EXTENSION


def _extension(value: str) -> str:
    if not EXTENSION.fullmatch(value):
        raise click.BadParameter("1-32 letters, digits, '.', '_' or '-'", param_hint="EXTENSION")
    return value


def _skills(values: tuple[str, ...]) -> dict[str, int]:
    skills: dict[str, int] = {}
    for item in values:
        name, _, level = item.partition("=")
        if not name or not level.isdigit() or not 0 <= int(level) <= 100:
            raise click.BadParameter(f"{item!r}: expected NAME=LEVEL (0-100)", param_hint="--skill")
        skills[name] = int(level)
    return skills


@click.group()
def agent() -> None:
    """Agents: their extension (SIP user), name, PIN and skills."""


@agent.command("add")
@click.argument("extension")
@click.option("--name", default="", help="Display name (shown as the agent's caller ID).")
@click.option("--sip-password", help="SIP password of the agent's phone (stored as a1-hash).")
@click.option("--pin", help="4-12 digit PIN for feature-code login.")
@click.option("--wrapup", default=10, show_default=True, type=click.IntRange(0, 3600))
@click.option("--skill", "skills", multiple=True, help="NAME=LEVEL, repeatable.")
@pass_context
def add(
    ctx: Context,
    extension: str,
    name: str,
    sip_password: str | None,
    pin: str | None,
    wrapup: int,
    skills: tuple[str, ...],
) -> None:
    """Create an agent.

    \b
    Example:
      callcenter agent add 1001 --name "Ann Smith" --sip-password 'k8#Qz...' --skill english=5
    """
    settings = ctx.settings
    _extension(extension)
    a1 = a1_hash(extension, settings.agents_domain, sip_password) if sip_password else None
    with Database(settings.database_url).session_scope() as session:
        AgentRepository(session).add(
            extension, name, pin=pin, wrapup_seconds=wrapup, skills=_skills(skills), sip_a1_hash=a1
        )
        AuditLog(session).record(operator(), "agent.add", extension, {"name": name})
    click.echo(f"agent {extension} added")


@agent.command("password")
@click.argument("extension")
@click.password_option("--sip-password", help="The new SIP password (asked when omitted).")
@pass_context
def password(ctx: Context, extension: str, sip_password: str) -> None:
    """Set the SIP password of an agent's phone, then `callcenter fs render` again.

    \b
    Example:
      callcenter agent password 1001 --sip-password 'n3w-s3cret'
    """
    settings = ctx.settings
    with Database(settings.database_url).session_scope() as session:
        AgentRepository(session).set_sip_a1_hash(
            extension, a1_hash(extension, settings.agents_domain, sip_password)
        )
        AuditLog(session).record(operator(), "agent.password", extension)
    click.echo(f"agent {extension}: SIP password set")


@agent.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_context
def list_agents(ctx: Context, as_json: bool) -> None:
    """List agents with their status, state and skills.

    \b
    Example:
      callcenter agent list --json
    """
    with Database(ctx.settings.database_url).session_scope() as session:
        rows = [
            {
                "extension": a.extension,
                "name": a.display_name,
                "status": str(a.status),
                "state": str(a.state),
                "skills": ",".join(f"{k}={v}" for k, v in a.skills.items()),
                "sip": "yes" if a1 else "no",
            }
            for a, a1 in AgentRepository(session).directory()
        ]
    emit_table(rows, ["extension", "name", "status", "state", "skills", "sip"], as_json)


@agent.command("remove")
@click.argument("extension")
@pass_context
def remove(ctx: Context, extension: str) -> None:
    """Delete an agent (its history goes with it), then `callcenter fs render` again.

    \b
    Example:
      callcenter agent remove 1001
    """
    with Database(ctx.settings.database_url).session_scope() as session:
        AgentRepository(session).delete(extension)
        AuditLog(session).record(operator(), "agent.remove", extension)
    click.echo(f"agent {extension} removed")

from __future__ import annotations

import json
from typing import Any

import click

from callcenter.cli import Context, emit_table, params, pass_context
from callcenter.cli.engine import notify_engine
from callcenter.cli.route_cmd import operator
from callcenter.errors import DomainError
from callcenter.store.database import Database
from callcenter.store.records import AgentRecord
from callcenter.store.repos import AgentRepository, AuditLog, QueueRepository
from callcenter.store.repos.sip import a1_hash
from callcenter.vocabulary import AgentStatus


def _skills(values: tuple[str, ...]) -> dict[str, int]:
    skills: dict[str, int] = {}
    for item in values:
        name, _, level = item.partition("=")
        if not params.SKILL.fullmatch(name) or not level.isdigit() or not 0 <= int(level) <= 100:
            raise click.BadParameter(
                f"{item[:80]!r}: expected NAME=LEVEL (NAME: [a-z0-9_-], LEVEL: 0-100)",
                param_hint="--skill",
            )
        skills[name] = int(level)
    return skills


@click.group()
def agent() -> None:
    """Agents: their extension (SIP user), name, PIN, skills and status.

    Status changes (login, logout, pause, ready) and skills are written to the database
    and the running engine is told to reload (SIGHUP); the engine owns the agent's state
    (idle, offering, in_call, wrap_up).
    """


@agent.command("add")
@click.argument("extension", callback=params.extension)
@click.option(
    "--name",
    default="",
    callback=params.agent_name,
    help="Display name, shown as the agent's caller ID (at most 64 characters).",
)
@click.option(
    "--sip-password",
    callback=params.sip_password,
    help="SIP password of the agent's phone, stored as an a1-hash: 10-128 characters, "
    "mixed; omitted: one is generated and printed once.",
)
@click.option("--pin", help="4-12 digit PIN for feature-code login.")
@click.option(
    "--wrapup",
    default=10,
    show_default=True,
    type=click.IntRange(0, 3600),
    help="Seconds of wrap-up after each call before the next is offered.",
)
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
    """Create an agent and its phone's SIP account (then `callcenter fs render`).

    Without --sip-password a strong one is generated and printed once: give it to the
    phone now, it is stored only as a hash.

    \b
    Examples:
      callcenter agent add 1001 --name "Ann Smith" --skill english=5
      callcenter agent add 1002 --name "Bo Li" --sip-password 'k8#Qz-w3Lp9v'
    """
    settings = ctx.settings
    generated = sip_password is None
    if sip_password is None:
        sip_password = params.new_sip_password()
    params.sip_password_for(extension, sip_password)
    a1 = a1_hash(extension, settings.agents_domain, sip_password)
    with Database(settings.database_url).session_scope() as session:
        AgentRepository(session).add(
            extension, name, pin=pin, wrapup_seconds=wrapup, skills=_skills(skills), sip_a1_hash=a1
        )
        AuditLog(session).record(operator(), "agent.add", extension, {"name": name})
    click.echo(f"agent {extension} added")
    if generated:
        click.echo(f"SIP password of {extension} (shown once): {sip_password}")
    notify_engine(settings.data_dir)


@agent.command("password")
@click.argument("extension", callback=params.extension)
@click.password_option(
    "--sip-password",
    callback=params.sip_password,
    help="The new SIP password, 10-128 characters, mixed (asked when omitted).",
)
@pass_context
def password(ctx: Context, extension: str, sip_password: str) -> None:
    """Set the SIP password of an agent's phone, then `callcenter fs render` again.

    \b
    Example:
      callcenter agent password 1001 --sip-password 'n3w-s3cret-Phone'
    """
    params.sip_password_for(extension, sip_password)
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
@click.argument("extension", callback=params.extension)
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
    notify_engine(ctx.settings.data_dir)


# what an operator may do from which status; the engine owns `state` (a call is never cut)
_CHANGES: dict[str, tuple[frozenset[AgentStatus], AgentStatus]] = {
    "login": (frozenset({AgentStatus.LOGGED_OUT}), AgentStatus.AVAILABLE),
    "logout": (frozenset({AgentStatus.AVAILABLE, AgentStatus.PAUSED}), AgentStatus.LOGGED_OUT),
    "pause": (frozenset({AgentStatus.AVAILABLE}), AgentStatus.PAUSED),
    "ready": (frozenset({AgentStatus.PAUSED}), AgentStatus.AVAILABLE),
}


def _refused(extension: str, action: str, status: AgentStatus) -> DomainError:
    if status is AgentStatus.LOGGED_OUT:
        return DomainError(f"agent {extension} is not logged in", code="agent_not_logged_in")
    if action == "login":
        return DomainError(
            f"agent {extension} is already logged in ({status})", code="agent_already_logged_in"
        )
    if action == "pause":
        return DomainError(f"agent {extension} is already paused", code="agent_already_paused")
    return DomainError(f"agent {extension} is not paused", code="agent_not_paused")


def _change_status(ctx: Context, extension: str, action: str, reason: str | None = None) -> None:
    allowed, status = _CHANGES[action]
    with Database(ctx.settings.database_url).session_scope() as session:
        agents = AgentRepository(session)
        before = agents.get(extension)
        if before.status not in allowed:
            raise _refused(extension, action, before.status)
        after = agents.set_status(extension, status, reason=reason)
        details = {"from": before.status, "to": status, "reason": reason}
        AuditLog(session).record(operator(), f"agent.{action}", extension, details)
    suffix = f" ({reason})" if reason else ""
    click.echo(f"agent {extension}: {after.status}{suffix}, state {after.state}")
    notify_engine(ctx.settings.data_dir)


@agent.command("login")
@click.argument("extension", callback=params.extension)
@pass_context
def login(ctx: Context, extension: str) -> None:
    """Log an agent in: available for the queues it is a member of.

    \b
    Example:
      callcenter agent login 1001
    """
    _change_status(ctx, extension, "login")


@agent.command("logout")
@click.argument("extension", callback=params.extension)
@pass_context
def logout(ctx: Context, extension: str) -> None:
    """Log an agent out: no more calls offered (a call in progress goes on).

    \b
    Example:
      callcenter agent logout 1001
    """
    _change_status(ctx, extension, "logout")


@agent.command("pause")
@click.argument("extension", callback=params.extension)
@click.option("--reason", callback=params.pause_reason, help="Shown in reports, e.g. lunch.")
@pass_context
def pause(ctx: Context, extension: str, reason: str | None) -> None:
    """Pause a logged-in agent: no calls offered until `agent ready`.

    \b
    Example:
      callcenter agent pause 1001 --reason lunch
    """
    _change_status(ctx, extension, "pause", reason)


@agent.command("ready")
@click.argument("extension", callback=params.extension)
@pass_context
def ready(ctx: Context, extension: str) -> None:
    """End an agent's pause: available again.

    \b
    Example:
      callcenter agent ready 1001
    """
    _change_status(ctx, extension, "ready")


@agent.command("skill")
@click.argument("extension", callback=params.extension)
@click.argument("skill", callback=params.skill)
@click.argument("level", required=False, type=click.IntRange(0, 100))
@click.option("--remove", is_flag=True, help="Remove SKILL from the agent instead.")
@pass_context
def skill(ctx: Context, extension: str, skill: str, level: int | None, remove: bool) -> None:
    """Give an agent SKILL at LEVEL (0-100; again: changes the level), or --remove it.

    \b
    Examples:
      callcenter agent skill 1001 english 80
      callcenter agent skill 1001 english --remove
    """
    if remove == (level is not None):
        raise click.BadParameter("give either LEVEL (0-100) or --remove", param_hint="LEVEL")
    with Database(ctx.settings.database_url).session_scope() as session:
        agents = AgentRepository(session)
        if remove:
            agents.remove_skill(extension, skill)
            AuditLog(session).record(operator(), "agent.skill.remove", extension, {"skill": skill})
        else:
            agents.set_skill(extension, skill, level or 0)
            details = {"skill": skill, "level": level}
            AuditLog(session).record(operator(), "agent.skill", extension, details)
    click.echo(
        f"agent {extension}: {skill} removed" if remove else f"agent {extension}: {skill}={level}"
    )
    notify_engine(ctx.settings.data_dir)


@agent.command("show")
@click.argument("extension", callback=params.extension)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def show(ctx: Context, extension: str, as_json: bool) -> None:
    """An agent's status, state, skills, queues and last 10 status changes.

    \b
    Examples:
      callcenter agent show 1001
      callcenter agent show 1001 --json
    """
    with Database(ctx.settings.database_url).session_scope() as session:
        record = AgentRepository(session).get(extension)
        history = [
            {"at": h.at, "status": h.status, "state": h.state, "reason": h.reason}
            for h in AgentRepository(session).history(extension, limit=10)
        ]
        queues = [
            {"queue": q.name, "tier": m.tier, "position": m.position}
            for q in QueueRepository(session).all()
            for m in q.members
            if m.extension == extension
        ]
    detail = {**_summary(record), "skills": record.skills, "queues": queues, "history": history}
    if as_json:
        click.echo(json.dumps(detail, indent=2, default=str, ensure_ascii=False))
        return
    rows = [{"field": k, "value": v} for k, v in _summary(record).items()]
    emit_table(rows, ["field", "value"], as_json=False)
    click.echo("\nskills:")
    skills = [{"skill": k, "level": v} for k, v in record.skills.items()]
    emit_table(skills, ["skill", "level"], as_json=False)
    click.echo("\nqueues:")
    emit_table(queues, ["queue", "tier", "position"], as_json=False)
    click.echo("\nlast status changes:")
    emit_table(history, ["at", "status", "state", "reason"], as_json=False)


def _summary(record: AgentRecord) -> dict[str, Any]:
    return {
        "extension": record.extension,
        "name": record.display_name,
        "status": record.status,
        "state": record.state,
        "pause_reason": record.pause_reason,
        "status_changed_at": record.status_changed_at,
        "wrapup_seconds": record.wrapup_seconds,
        "pin": record.has_pin,
    }

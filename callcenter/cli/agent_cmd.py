"""`callcenter agent`: agents, their phone's SIP account, skills and status."""

from __future__ import annotations

from typing import Any

import click

from callcenter.cli import Context, emit_json, emit_table, params, pass_context, plain
from callcenter.services import agents as service
from callcenter.store.records import AgentRecord


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

    Every change is stored, audited and reaches every running engine within a second
    (PostgreSQL LISTEN/NOTIFY, or a short poll on SQLite); the engine owns the agent's
    state (idle, offering, in_call, wrap_up).

    \b
    Example:
      callcenter agent add 1001 --name "Ann Smith" --skill english=5
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
    if sip_password is not None:
        params.sip_password_for(extension, sip_password)
    added = service.add(
        ctx.database,
        ctx.who,
        extension,
        domain=ctx.settings.agents_domain,
        name=name,
        sip_password=sip_password,
        pin=pin,
        wrapup_seconds=wrapup,
        skills=_skills(skills),
    )
    click.echo(f"agent {extension} added")
    if added.sip_password is not None:
        click.echo(f"SIP password of {extension} (shown once): {added.sip_password}")


@agent.command("set")
@click.argument("extension", callback=params.extension)
@click.option("--name", callback=params.agent_name, help="Display name (caller ID).")
@click.option("--pin", help="New 4-12 digit PIN for feature-code login (*21).")
@click.option("--wrapup", type=click.IntRange(0, 3600), help="Seconds of wrap-up after a call.")
@click.option(
    "--auto-answer/--no-auto-answer",
    default=None,
    help="Offers ask the phone to answer by itself (Call-Info: answer-after=0).",
)
@click.option(
    "--whisper",
    help="Heard before a queue caller is bridged: 'queue' (its name, spoken), an absolute "
    "file path or a scheme:// prompt; '' for nothing.",
)
@click.option("--caller-id", help="Number the agent's external calls show ('' : the route's).")
@click.option(
    "--role",
    type=click.Choice(["agent", "supervisor"]),
    help="supervisor: may listen to, whisper to and barge into agents' calls (*33, call listen).",
)
@click.option(
    "--record",
    "record_policy",
    metavar="POLICY",
    help="Overrides its queues' recording policy: always, never, sample:N, on-demand "
    "('' : the queue's again).",
)
@pass_context
def set_(
    ctx: Context,
    extension: str,
    name: str | None,
    pin: str | None,
    wrapup: int | None,
    auto_answer: bool | None,
    whisper: str | None,
    caller_id: str | None,
    role: str | None,
    record_policy: str | None,
) -> None:
    """Change an agent's name, PIN, wrap-up, role or phone settings; what is not given is kept.

    \b
    Examples:
      callcenter agent set 1001 --name "Ann Smith-Jones" --wrapup 20
      callcenter agent set 1001 --auto-answer --whisper queue
      callcenter agent set 1001 --caller-id +33180000000
      callcenter agent set 1001 --no-auto-answer --whisper ''
      callcenter agent set 1009 --role supervisor
      callcenter agent set 1001 --record always     # whatever its queues say
    """
    record = service.update(
        ctx.database, ctx.who, extension, name=name, pin=pin, wrapup_seconds=wrapup,
        auto_answer=auto_answer, whisper=whisper, caller_id=caller_id, role=role,
        recording=record_policy,
    )  # fmt: skip
    click.echo(
        f"agent {extension}: name {record.display_name!r}, wrap-up {record.wrapup_seconds}s"
        + (", PIN set" if pin is not None else "")
        + f", auto-answer {'on' if record.auto_answer else 'off'}"
        + f", whisper {record.whisper or 'none'}"
        + f", caller ID {record.outbound_caller_id or 'the route' + chr(39) + 's'}"
        + f", role {record.role}"
    )


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
    service.set_password(
        ctx.database, ctx.who, extension, sip_password, domain=ctx.settings.agents_domain
    )
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
    rows = [
        {
            "extension": e.agent.extension,
            "name": e.agent.display_name,
            "status": str(e.agent.status),
            "state": str(e.agent.state),
            "skills": ",".join(f"{k}={v}" for k, v in e.agent.skills.items()),
            "sip": "yes" if e.has_sip_account else "no",
        }
        for e in service.list_agents(ctx.database)
    ]
    emit_table(rows, ["extension", "name", "status", "state", "skills", "sip"], as_json)


@agent.command("remove")
@click.argument("extension", callback=params.extension)
@pass_context
def remove(ctx: Context, extension: str) -> None:
    """Delete an agent (its history goes with it), then `callcenter fs render` again.
    Refused (agent_in_use) while a DID route or a queue's overflow sends calls to
    extension:EXT, or a running campaign dials for it: the error names them.

    \b
    Example:
      callcenter agent remove 1001
    """
    service.remove(ctx.database, ctx.who, extension)
    click.echo(f"agent {extension} removed")


def _changed(record: AgentRecord) -> None:
    suffix = f" ({record.pause_reason})" if record.pause_reason else ""
    click.echo(f"agent {record.extension}: {record.status}{suffix}, state {record.state}")


@agent.command("login")
@click.argument("extension", callback=params.extension)
@pass_context
def login(ctx: Context, extension: str) -> None:
    """Log an agent in: available for the queues it is a member of.

    \b
    Example:
      callcenter agent login 1001
    """
    _changed(service.login(ctx.database, ctx.who, extension))


@agent.command("logout")
@click.argument("extension", callback=params.extension)
@pass_context
def logout(ctx: Context, extension: str) -> None:
    """Log an agent out: no more calls offered (a call in progress goes on).

    \b
    Example:
      callcenter agent logout 1001
    """
    _changed(service.logout(ctx.database, ctx.who, extension))


@agent.command("pause")
@click.argument("extension", callback=params.extension)
@click.option("--reason", callback=params.pause_reason,
              help="A configured pause reason (settings pause_reasons), by name or code: "
                   "lunch or 2; stored and reported by name.")  # fmt: skip
@pass_context
def pause(ctx: Context, extension: str, reason: str | None) -> None:
    """Pause a logged-in agent: no calls offered until `agent ready`. A reason not
    configured in pause_reasons (nor pause_default_reason) is refused, with the list.

    \b
    Examples:
      callcenter agent pause 1001 --reason lunch
      callcenter agent pause 1001 --reason 2      # the phone's code for lunch: the same
    """
    settings = ctx.settings
    reasons = service.PauseReasons(settings.pause_reasons, settings.pause_default_reason)
    _changed(service.pause(ctx.database, ctx.who, extension, reason, reasons=reasons))


@agent.command("ready")
@click.argument("extension", callback=params.extension)
@pass_context
def ready(ctx: Context, extension: str) -> None:
    """End an agent's pause: available again.

    \b
    Example:
      callcenter agent ready 1001
    """
    _changed(service.ready(ctx.database, ctx.who, extension))


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
    if remove:
        service.remove_skill(ctx.database, ctx.who, extension, skill)
        click.echo(f"agent {extension}: {skill} removed")
    else:
        service.set_skill(ctx.database, ctx.who, extension, skill, level or 0)
        click.echo(f"agent {extension}: {skill}={level}")


_POLICY_KEYS = ("no_answer_delay", "busy_delay", "reject_delay", "unregistered_delay",
                "max_no_answer", "pause_reason")  # fmt: skip


def policy_given(given: dict[str, Any]) -> dict[str, Any]:
    """The failure policy keys given (``--reset`` ones set to None: the queue's again)."""
    out = {k: given[k] for k in _POLICY_KEYS if given.get(k) is not None}
    out.update({k: None for k in given.get("reset") or ()})
    return out


@agent.command("failure-policy")
@click.argument("extension", callback=params.extension)
@click.option(
    "--no-answer-delay", type=click.IntRange(0, 3600), help="Seconds of rest after not answering."
)
@click.option("--busy-delay", type=click.IntRange(0, 3600), help="... after a busy phone.")
@click.option("--reject-delay", type=click.IntRange(0, 3600), help="... after a rejection.")
@click.option(
    "--unregistered-delay",
    type=click.IntRange(0, 3600),
    help="... when the phone is not registered.",
)
@click.option(
    "--max-no-answer",
    type=click.IntRange(0, 100),
    help="No-answers in a row that pause the agent (0: never).",
)
@click.option("--pause-reason", help="The reason of that pause.")
@click.option("--reset", multiple=True, type=click.Choice(_POLICY_KEYS),
              help="Take the queue's value again (repeatable).")  # fmt: skip
@pass_context
def failure_policy(ctx: Context, /, extension: str, **given: Any) -> None:
    """Override, for this agent, the failure policy of the queues it takes calls from.

    \b
    Examples:
      callcenter agent failure-policy 1001 --no-answer-delay 5 --max-no-answer 5
      callcenter agent failure-policy 1001 --reset max_no_answer
    """
    policy = policy_given(given)
    if not policy:
        raise click.UsageError("nothing to change: give at least one setting")
    record = service.set_failure_policy(ctx.database, ctx.who, extension, policy)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(record.routing.items())) or "the queues'"
    click.echo(f"agent {extension}: failure policy {shown}")


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
    detail = service.show(ctx.database, extension)
    queues = [plain(m) for m in detail.queues]
    history = [plain(h) for h in detail.history]
    if as_json:
        emit_json(
            {
                **_summary(detail.agent),
                "skills": detail.agent.skills,
                "queues": queues,
                "history": history,
            }
        )
        return
    rows = [{"field": k, "value": v} for k, v in _summary(detail.agent).items()]
    emit_table(rows, ["field", "value"], as_json=False)
    click.echo("\nskills:")
    skills = [{"skill": k, "level": v} for k, v in detail.agent.skills.items()]
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
        "on_demand": record.on_demand,
        "auto_answer": record.auto_answer,
        "whisper": record.whisper,
        "caller_id": record.outbound_caller_id,
    }

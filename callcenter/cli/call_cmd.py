"""`callcenter call`: live calls, and hanging up, transferring or bridging one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click

from callcenter.cli import Context, emit_json, emit_table, params, pass_context, plain
from callcenter.services import calls as service
from callcenter.services import supervision
from callcenter.services.calls import CallRequested
from callcenter.store.records import CallRecord

LIST_COLUMNS = ["uuid", "state", "direction", "from", "did", "node", "age_s", "agent", "legs"]
LEG_COLUMNS = ["uuid", "role", "direction", "agent", "created_at", "answered_at", "ended_at",
               "hangup_cause"]  # fmt: skip


@click.group()
def call() -> None:
    """Live calls: list and inspect them, hang up, transfer, bridge one to an agent, or
    listen, whisper to and barge into one (supervisors).

    Calls are read from the database the engines keep up to date. An operation on a call
    is stored, audited and sent to every running engine (within a second); the engine
    holding the call carries it out and its CDR names who did it.

    \b
    Example:
      callcenter call list
    """


def _agent(record: CallRecord) -> str | None:
    return next((leg.agent_extension for leg in record.legs if leg.agent_extension), None)


def _row(record: CallRecord, now: datetime) -> dict[str, Any]:
    age = (now - record.created_at).total_seconds() if record.created_at else None
    return {
        "uuid": record.uuid,
        "state": str(record.state),
        "direction": str(record.direction),
        "from": record.from_number,
        "did": record.did,
        "node": record.node,
        "age_s": round(age) if age is not None else None,
        "agent": _agent(record),
        "legs": len(record.legs),
    }


@call.command("list")
@click.option("--node", help="Only the calls of this FreeSWITCH node.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (every field, with legs).")
@pass_context
def list_calls(ctx: Context, node: str | None, as_json: bool) -> None:
    """List the calls not ended, oldest first.

    \b
    Examples:
      callcenter call list
      callcenter call list --node fs1 --json
    """
    records = service.list_live(ctx.database, node)
    if as_json:
        emit_json(records)
        return
    now = datetime.now(UTC)
    emit_table([_row(r, now) for r in records], LIST_COLUMNS, as_json=False)


@call.command("show")
@click.argument("uuid", callback=params.call_uuid)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def show(ctx: Context, uuid: str, as_json: bool) -> None:
    """One call (live or ended) with its legs.

    \b
    Examples:
      callcenter call show 2dd37390-bb90-434e-9327-2cd597661497
      callcenter call show 2dd37390-bb90-434e-9327-2cd597661497 --json
    """
    record = service.show(ctx.database, uuid)
    if as_json:
        emit_json(record)
        return
    fields = {k: v for k, v in plain(record).items() if k != "legs"}
    emit_table([{"field": k, "value": v} for k, v in fields.items()], ["field", "value"], False)
    click.echo("\nlegs:")
    legs = [{**plain(leg), "agent": leg.agent_extension} for leg in record.legs]
    emit_table(legs, LEG_COLUMNS, as_json=False)


def _sent(done: CallRequested, what: str, as_json: bool) -> None:
    if as_json:
        emit_json({"uuid": done.call.uuid, "op": done.op, "change": done.change_id,
                   "node": done.call.node})  # fmt: skip
        return
    click.echo(f"call {done.call.uuid}: {what} sent to the engines (change {done.change_id})")


@call.command("hangup")
@click.argument("uuid", callback=params.call_uuid)
@click.option("--cause", default="NORMAL_CLEARING", show_default=True,
              help="The FreeSWITCH hangup cause, e.g. CALL_REJECTED.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def hangup(ctx: Context, uuid: str, cause: str, as_json: bool) -> None:
    """Hang up a live call.

    \b
    Examples:
      callcenter call hangup 2dd37390-bb90-434e-9327-2cd597661497
      callcenter call hangup 2dd37390-bb90-434e-9327-2cd597661497 --cause CALL_REJECTED
    """
    _sent(service.hangup(ctx.database, ctx.who, uuid, cause), f"hangup ({cause})", as_json)


@call.command("transfer")
@click.argument("uuid", callback=params.call_uuid)
@click.argument("target")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def transfer(ctx: Context, uuid: str, target: str, as_json: bool) -> None:
    """Send a live call to TARGET: queue:NAME, ivr:FLOW, extension:EXT or number:NUMBER
    (dialled through the outbound routes).

    \b
    Examples:
      callcenter call transfer 2dd37390-bb90-434e-9327-2cd597661497 queue:support
      callcenter call transfer 2dd37390-bb90-434e-9327-2cd597661497 number:+33140000000
    """
    _sent(service.transfer(ctx.database, ctx.who, uuid, target), f"transfer to {target}", as_json)


@call.command("bridge")
@click.argument("uuid", callback=params.call_uuid)
@click.argument("extension", callback=params.extension)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@pass_context
def bridge(ctx: Context, uuid: str, extension: str, as_json: bool) -> None:
    """Ring agent EXTENSION and bridge the call to it when it answers.

    \b
    Example:
      callcenter call bridge 2dd37390-bb90-434e-9327-2cd597661497 1001
    """
    done = service.bridge_agent(ctx.database, ctx.who, uuid, extension)
    _sent(done, f"bridge to agent {extension}", as_json)


SUPERVISE_HELP = """{what}

    The supervisor's phone rings; on answer it joins the agent's leg with FreeSWITCH's
    eavesdrop. Its keys switch the mode: 2 whisper (the agent hears it), 1 speak to the
    caller only, 3 barge (both hear it), 0 listen again. Only an agent with the role
    supervisor may (callcenter agent set EXT --role supervisor); the session is audited and
    listed with the call's CDR (callcenter cdr show CALL).

    \b
    Example:
      callcenter call {mode} 2dd37390-bb90-434e-9327-2cd597661497 --from 1009
    """


def _supervise(mode: str, what: str) -> None:
    @call.command(mode, help=SUPERVISE_HELP.format(what=what, mode=mode))
    @click.argument("uuid", callback=params.call_uuid)
    @click.option("--from", "supervisor", required=True, callback=params.extension,
                  help="The supervisor extension (role supervisor): it rings.")  # fmt: skip
    @click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
    @pass_context
    def command(ctx: Context, uuid: str, supervisor: str, as_json: bool) -> None:
        done = supervision.request(ctx.database, ctx.who, uuid, mode, supervisor, source="cli")
        session = done.session
        if as_json:
            emit_json({"call": uuid, "session": session.id, "mode": mode,
                       "supervisor": supervisor, "agent": session.agent,
                       "change": done.change_id})  # fmt: skip
            return
        click.echo(f"call {uuid}: {supervisor}'s phone rings to {mode} to agent "
                   f"{session.agent} (session {session.id}, change {done.change_id})")  # fmt: skip


_supervise("listen", "Listen to a live call's agent leg, unheard.")
_supervise("whisper", "Speak to the agent of a live call; the caller does not hear it.")
_supervise("barge", "Join a live call: the agent and the caller both hear the supervisor.")

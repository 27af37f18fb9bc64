"""``/calls``: live calls (list, show with legs and timeline) and what an operator does to
one (hang up, transfer, bridge to an agent): the services send the engine holding the call
an intent; its actor carries it out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from pydantic import BaseModel, Field

from callcenter.api.env import ApiEnv
from callcenter.api.pages import Page, PageQuery, paginate
from callcenter.api.routing import Ask, Body, Operation
from callcenter.services import calls, supervision
from callcenter.services.calls import CallRequested
from callcenter.store.models.tokens import TokenScope
from callcenter.store.records import CallRecord, LegRecord
from callcenter.vocabulary import CallState, Direction, Disposition, LegRole

READ, OPERATE = TokenScope.READ, TokenScope.OPERATE
TAG = "calls"


class Leg(BaseModel):
    uuid: str
    role: LegRole
    direction: Direction
    from_number: str
    to_number: str
    agent_extension: str | None
    created_at: datetime | None
    answered_at: datetime | None
    bridged_at: datetime | None
    ended_at: datetime | None
    hangup_cause: str | None


class Call(BaseModel):
    uuid: str
    direction: Direction
    state: CallState
    node: str
    from_number: str
    from_name: str
    to_number: str
    did: str
    created_at: datetime | None
    answered_at: datetime | None
    bridged_at: datetime | None
    ended_at: datetime | None
    hangup_cause: str | None
    disposition: Disposition | None
    legs: list[Leg]


class Moment(BaseModel):
    at: datetime
    event: str = Field(examples=["call.answered", "leg.bridged"])
    leg: str | None = None
    detail: str | None = None


class CallDetail(Call):
    timeline: list[Moment] = Field(description="What happened to the call and its legs, in order.")


class CallsQuery(PageQuery):
    node: str | None = Field(None, max_length=64, description="Only this FreeSWITCH node's calls.")


class HangupIn(Body):
    cause: str = Field("NORMAL_CLEARING", max_length=64, description="A FreeSWITCH hangup cause.")


class TransferIn(Body):
    target: str = Field(
        max_length=256,
        description="queue:NAME, ivr:FLOW, extension:EXT or number:NUM",
        examples=["queue:support"],
    )


class BridgeIn(Body):
    extension: str = Field(max_length=64, examples=["1001"])


class Requested(BaseModel):
    """Accepted: the engine holding the call carries it out (the CDR names who asked)."""

    call: str
    op: str
    change_id: int


class SuperviseIn(Body):
    supervisor: str = Field(
        max_length=64, examples=["1009"], description="An agent with the role supervisor."
    )


class SupervisionStarted(BaseModel):
    """Accepted: the supervisor's phone rings; on answer it joins the agent's leg."""

    call: str
    session: int
    mode: str
    supervisor: str
    agent: str
    change_id: int


def _leg(leg: LegRecord) -> Leg:
    return Leg(
        uuid=leg.uuid, role=leg.role, direction=leg.direction, from_number=leg.from_number,
        to_number=leg.to_number, agent_extension=leg.agent_extension, created_at=leg.created_at,
        answered_at=leg.answered_at, bridged_at=leg.bridged_at, ended_at=leg.ended_at,
        hangup_cause=leg.hangup_cause,
    )  # fmt: skip


def call_out(record: CallRecord) -> Call:
    return Call(
        uuid=record.uuid, direction=record.direction, state=record.state, node=record.node,
        from_number=record.from_number, from_name=record.from_name, to_number=record.to_number,
        did=record.did, created_at=record.created_at, answered_at=record.answered_at,
        bridged_at=record.bridged_at, ended_at=record.ended_at, hangup_cause=record.hangup_cause,
        disposition=record.disposition, legs=[_leg(leg) for leg in record.legs],
    )  # fmt: skip


def timeline(record: CallRecord) -> list[Moment]:
    moments = [
        Moment(at=at, event=f"call.{name}")
        for name, at in (
            ("created", record.created_at),
            ("answered", record.answered_at),
            ("bridged", record.bridged_at),
        )
        if at is not None
    ]
    for leg in record.legs:
        for name, at in (
            ("created", leg.created_at),
            ("answered", leg.answered_at),
            ("bridged", leg.bridged_at),
            ("ended", leg.ended_at),
        ):
            if at is not None:
                detail = leg.agent_extension if name == "created" else None
                if name == "ended":
                    detail = leg.hangup_cause
                moments.append(Moment(at=at, event=f"leg.{name}", leg=leg.uuid, detail=detail))
    if record.ended_at is not None:
        moments.append(Moment(at=record.ended_at, event="call.ended", detail=record.hangup_cause))
    return sorted(moments, key=lambda m: m.at)


def _requested(done: CallRequested) -> Requested:
    return Requested(call=done.call.uuid, op=done.op, change_id=done.change_id)


def operations(env: ApiEnv) -> list[Operation]:
    db = env.database

    def list_calls(ask: Ask) -> Page[Call]:
        query: CallsQuery = ask.query
        live = calls.list_live(db, query.node)
        page, more = paginate(live, lambda c: [str(c.created_at), c.uuid], query)
        return Page[Call](items=[call_out(c) for c in page], next=more)

    def show_call(ask: Ask) -> CallDetail:
        record = calls.show(db, ask.path["uuid"])
        return CallDetail(**call_out(record).model_dump(), timeline=timeline(record))

    def hangup_call(ask: Ask) -> Requested:
        body: HangupIn = ask.body
        return _requested(calls.hangup(db, ask.who, ask.path["uuid"], body.cause))

    def transfer_call(ask: Ask) -> Requested:
        body: TransferIn = ask.body
        return _requested(calls.transfer(db, ask.who, ask.path["uuid"], body.target))

    def bridge_call(ask: Ask) -> Requested:
        body: BridgeIn = ask.body
        return _requested(calls.bridge_agent(db, ask.who, ask.path["uuid"], body.extension))

    def supervise(mode: str) -> Callable[[Ask], SupervisionStarted]:
        def run(ask: Ask) -> SupervisionStarted:
            body: SuperviseIn = ask.body
            done = supervision.request(db, ask.who, ask.path["uuid"], mode, body.supervisor)
            row = done.session
            return SupervisionStarted(call=row.call_uuid, session=row.id, mode=row.mode,
                                      supervisor=row.supervisor, agent=row.agent,
                                      change_id=done.change_id)  # fmt: skip

        run.__name__ = f"{mode}_call"  # the OpenAPI operation id
        return run

    item = "/calls/{uuid}"
    watch = [
        Operation("POST", f"{item}/{mode}", OPERATE, supervise(mode), summary, TAG,
                  SupervisionStarted, body=SuperviseIn, status=202)
        for mode, summary in (
            ("listen", "A supervisor listens to the call's agent leg (its phone rings)"),
            ("whisper", "A supervisor speaks to the call's agent, unheard by the caller"),
            ("barge", "A supervisor joins the call: agent and caller hear it"),
        )
    ]  # fmt: skip
    return [
        *watch,
        Operation("GET", "/calls", READ, list_calls, "The live calls, oldest first", TAG,
                  Page[Call], query=CallsQuery, errors=(400, 422)),
        Operation("GET", item, READ, show_call, "A call with its legs and timeline", TAG,
                  CallDetail, errors=(404, 422)),
        Operation("POST", item + "/hangup", OPERATE, hangup_call, "Hang up a live call", TAG,
                  Requested, body=HangupIn, status=202),
        Operation("POST", item + "/transfer", OPERATE, transfer_call,
                  "Send a live call to a queue, flow, extension or number", TAG, Requested,
                  body=TransferIn, status=202),
        Operation("POST", item + "/bridge", OPERATE, bridge_call,
                  "Ring an agent and bridge the call to it", TAG, Requested, body=BridgeIn,
                  status=202),
    ]  # fmt: skip
